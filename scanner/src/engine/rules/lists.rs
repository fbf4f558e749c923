//! Data the rules consult: host lists (`rules/lists/<name>.txt`), term lists for `at_least`
//! rules (`rules/lists/terms/<name>.txt`), indicators of compromise (`rules/indicators.toml`,
//! replaceable with `--ioc FILE`) and the services secrets belong to (`rules/services.toml`).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::RuleError;

/// Named lists of hosts (and optional path prefixes: `raw.githubusercontent.com/Homebrew/`).
#[derive(Debug, Default, Clone)]
pub struct HostLists {
    lists: BTreeMap<String, Vec<HostEntry>>,
    /// The same entries as written (lowercase), for lists of names rather than hosts.
    raw: BTreeMap<String, Vec<String>>,
    /// List → host → the path prefixes it is listed with (`None`: any path). A lookup walks the
    /// parent domains of the asked host, so its cost does not grow with the list: every URL of a
    /// skill is checked against several lists.
    by_host: BTreeMap<String, HashMap<String, Vec<Option<String>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub host: String,
    pub path_prefix: Option<String>,
}

impl HostLists {
    /// Parses list files: one entry per line, `#` starts a comment.
    pub fn parse<'a>(files: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> Result<Self, RuleError> {
        let mut lists = BTreeMap::new();
        let mut raw = BTreeMap::new();
        let mut by_host = BTreeMap::new();
        for (name, origin, text) in files {
            let mut entries = Vec::new();
            let mut names = Vec::new();
            for (number, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let (host, path) = match line.split_once('/') {
                    Some((host, path)) => (host, Some(format!("/{path}"))),
                    None => (line, None),
                };
                if host.is_empty() || host.contains(char::is_whitespace) {
                    return Err(RuleError::Invalid {
                        file: origin.to_string(),
                        message: format!("line {}: `{line}` is not a host", number + 1),
                    });
                }
                entries.push(HostEntry { host: host.to_ascii_lowercase(), path_prefix: path });
                names.push(line.to_ascii_lowercase());
            }
            let mut hosts: HashMap<String, Vec<Option<String>>> = HashMap::new();
            for entry in &entries {
                let prefix = entry.path_prefix.as_ref().map(|p| p.to_ascii_lowercase());
                hosts.entry(entry.host.clone()).or_default().push(prefix);
            }
            by_host.insert(name.to_string(), hosts);
            lists.insert(name.to_string(), entries);
            raw.insert(name.to_string(), names);
        }
        Ok(HostLists { lists, raw, by_host })
    }

    /// The entries of a list as written (lowercase): for name lists.
    pub fn entries(&self, list: &str) -> &[String] {
        self.raw.get(list).map_or(&[], Vec::as_slice)
    }

    /// The hosts of a list (without path prefixes).
    pub fn hosts(&self, list: &str) -> impl Iterator<Item = &str> {
        self.lists.get(list).into_iter().flatten().map(|entry| entry.host.as_str())
    }

    pub fn has(&self, list: &str) -> bool {
        self.lists.contains_key(list)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    /// Whether `host` (or a parent domain of it) with `path` is in `list`.
    pub fn contains(&self, list: &str, host: &str, path: &str) -> bool {
        let Some(hosts) = self.by_host.get(list) else { return false };
        let host = host.trim_end_matches('.');
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = host.to_ascii_lowercase();
            lowered.as_str()
        } else {
            host
        };
        let path_starts_with = |prefix: &str| {
            path.len() >= prefix.len() && path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        };
        // The host itself, then each parent domain: `a.b.example.com`, `b.example.com`, ...
        let mut candidate = host;
        loop {
            if let Some(prefixes) = hosts.get(candidate)
                && prefixes.iter().any(|prefix| prefix.as_deref().is_none_or(path_starts_with))
            {
                return true;
            }
            match candidate.split_once('.') {
                Some((_, parent)) => candidate = parent,
                None => return false,
            }
        }
    }

    /// The first list (of `lists`) containing the host, if any.
    pub fn which<'l>(&self, lists: &'l [&'l str], host: &str, path: &str) -> Option<&'l str> {
        lists.iter().copied().find(|list| self.contains(list, host, path))
    }
}

/// Named lists of terms (`rules/lists/terms/<name>.txt`) that `at_least` rules count distinct
/// members of: one member per line, `#` starts a comment (see [`Member::parse`]).
#[derive(Debug, Default, Clone)]
pub struct TermLists {
    lists: BTreeMap<String, Vec<Member>>,
}

/// One member of a term list: the spellings that all name the same thing (`.config/gcloud |
/// application_default_credentials.json` are both the gcloud credential store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// How findings name the member: its first spelling as written.
    pub name: String,
    /// Every spelling, braces expanded, ASCII-lowercased, without duplicates.
    pub spellings: Vec<String>,
}

/// A member with more spellings than this is a list of its own, or a brace typo.
const MAX_SPELLINGS: usize = 64;

impl Member {
    /// Parses one entry: spellings separated by `|`, each with optional `{a,b,…}` alternatives
    /// (not nested; an empty alternative is allowed, `seed{,s}.txt`).
    pub fn parse(entry: &str) -> Result<Member, String> {
        let mut written = Vec::new();
        for spelling in entry.split('|') {
            let spelling = spelling.trim();
            if spelling.is_empty() {
                return Err(format!("`{entry}` has an empty spelling"));
            }
            expand_braces(spelling, &mut written).map_err(|why| format!("`{spelling}`: {why}"))?;
            if written.len() > MAX_SPELLINGS {
                return Err(format!("`{entry}` expands to more than {MAX_SPELLINGS} spellings"));
            }
        }
        if let Some(bad) = written.iter().find(|s| s.trim().is_empty() || s.contains(['\n', '\r'])) {
            return Err(format!("`{entry}`: `{bad}` is not a spelling (empty, or it spans lines)"));
        }
        let mut spellings: Vec<String> = Vec::with_capacity(written.len());
        for spelling in &written {
            let lower = spelling.to_ascii_lowercase();
            if !spellings.contains(&lower) {
                spellings.push(lower);
            }
        }
        Ok(Member { name: written[0].clone(), spellings })
    }

    /// Parses a whole list, rejecting a spelling that names two members.
    pub fn parse_all<'a>(entries: impl IntoIterator<Item = (usize, &'a str)>) -> Result<Vec<Member>, String> {
        let mut members: Vec<Member> = Vec::new();
        let mut owner: HashMap<String, usize> = HashMap::new();
        for (number, entry) in entries {
            let member = Member::parse(entry).map_err(|why| format!("line {number}: {why}"))?;
            for spelling in &member.spellings {
                if let Some(&first) = owner.get(spelling) {
                    return Err(format!("line {number}: `{spelling}` is also a spelling of `{}`", members[first].name));
                }
                owner.insert(spelling.clone(), members.len());
            }
            members.push(member);
        }
        Ok(members)
    }
}

fn expand_braces(pattern: &str, out: &mut Vec<String>) -> Result<(), String> {
    let Some(open) = pattern.find('{') else {
        if pattern.contains('}') {
            return Err("a `}` without its `{`".to_string());
        }
        out.push(pattern.to_string());
        return Ok(());
    };
    let (head, rest) = (&pattern[..open], &pattern[open + 1..]);
    if head.contains('}') {
        return Err("a `}` without its `{`".to_string());
    }
    let close = rest.find('}').ok_or("a `{` without its `}`")?;
    let (inner, tail) = (&rest[..close], &rest[close + 1..]);
    if inner.contains('{') {
        return Err("braces do not nest".to_string());
    }
    for option in inner.split(',') {
        expand_braces(&format!("{head}{option}{tail}"), out)?;
        if out.len() > MAX_SPELLINGS {
            return Ok(());
        }
    }
    Ok(())
}

impl TermLists {
    /// Parses term list files: (name, origin, text).
    pub fn parse<'a>(files: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> Result<Self, RuleError> {
        let mut lists = BTreeMap::new();
        for (name, origin, text) in files {
            let entries = text
                .lines()
                .enumerate()
                .map(|(number, line)| (number + 1, line.split('#').next().unwrap_or("").trim()))
                .filter(|(_, line)| !line.is_empty());
            let members = Member::parse_all(entries)
                .map_err(|message| RuleError::Invalid { file: origin.to_string(), message })?;
            if members.len() < 2 {
                return Err(RuleError::Invalid {
                    file: origin.to_string(),
                    message: "a term list needs at least two members".to_string(),
                });
            }
            lists.insert(name.to_string(), members);
        }
        Ok(TermLists { lists })
    }

    pub fn get(&self, list: &str) -> Option<&[Member]> {
        self.lists.get(list).map(Vec::as_slice)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }
}

/// Known-bad hosts, IP addresses and file digests.
#[derive(Debug, Default, Clone)]
pub struct Indicators {
    pub hosts: HashMap<String, String>,
    pub ips: HashMap<String, String>,
    pub sha256: HashMap<String, String>,
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    #[serde(default)]
    indicator: Vec<IndicatorEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorEntry {
    kind: String,
    value: String,
    #[serde(default)]
    note: String,
}

impl Indicators {
    pub fn parse(origin: &str, text: &str) -> Result<Self, RuleError> {
        let file: IndicatorFile = toml::from_str(text).map_err(|e| RuleError::Invalid {
            file: origin.to_string(),
            message: format!("invalid indicator file: {e}"),
        })?;
        let mut indicators = Indicators { source: origin.to_string(), ..Default::default() };
        let mut seen = HashSet::new();
        for entry in file.indicator {
            let value = entry.value.trim().to_ascii_lowercase();
            let bad = |why: &str| RuleError::Invalid {
                file: origin.to_string(),
                message: format!("indicator `{}`: {why}", entry.value),
            };
            if !seen.insert((entry.kind.clone(), value.clone())) {
                return Err(bad("listed twice"));
            }
            let note = if entry.note.is_empty() { "listed indicator".to_string() } else { entry.note };
            match entry.kind.as_str() {
                "host" => {
                    if value.is_empty() || value.contains(['/', ' ', ':']) {
                        return Err(bad("a host is a bare domain name"));
                    }
                    indicators.hosts.insert(value, note);
                }
                "ip" => {
                    if value.parse::<std::net::IpAddr>().is_err() {
                        return Err(bad("not an IP address"));
                    }
                    indicators.ips.insert(value, note);
                }
                "sha256" => {
                    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(bad("a sha256 is 64 hex digits"));
                    }
                    indicators.sha256.insert(value, note);
                }
                other => return Err(bad(&format!("unknown kind `{other}` (host, ip or sha256)"))),
            }
        }
        Ok(indicators)
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ips.is_empty() && self.sha256.is_empty()
    }

    /// The note of the indicator matching `host` (or a parent domain), if any.
    pub fn host(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(note) = self.ips.get(&host) {
            return Some(note);
        }
        let mut candidate = host.as_str();
        loop {
            if let Some(note) = self.hosts.get(candidate) {
                return Some(note);
            }
            match candidate.split_once('.') {
                Some((_, parent)) if parent.contains('.') => candidate = parent,
                _ => return None,
            }
        }
    }
}

/// The services secrets belong to (`rules/services.toml`): which environment-variable words and
/// credential files name a service, and which hosts legitimately receive its secrets.
#[derive(Debug, Default, Clone)]
pub struct Services {
    pub services: Vec<Service>,
    /// Upper-case env word (or `WORD_WORD`) → index into `services`.
    by_env: HashMap<String, usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    #[serde(default)]
    service: Vec<Service>,
}

impl Services {
    pub fn parse(origin: &str, text: &str) -> Result<Self, RuleError> {
        let bad = |message: String| RuleError::Invalid { file: origin.to_string(), message };
        let file: ServiceFile = toml::from_str(text).map_err(|e| bad(format!("invalid services file: {e}")))?;
        let mut by_env = HashMap::new();
        let mut names = HashSet::new();
        for (index, service) in file.service.iter().enumerate() {
            if service.name.is_empty() || !names.insert(service.name.clone()) {
                return Err(bad(format!("service `{}`: names must be present and unique", service.name)));
            }
            for word in &service.env {
                let word = word.to_ascii_uppercase();
                if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(bad(format!(
                        "service `{}`: `{word}` is not an environment-variable word",
                        service.name
                    )));
                }
                if let Some(first) = by_env.insert(word.clone(), index) {
                    return Err(bad(format!(
                        "`{word}` names two services: `{}` and `{}`",
                        file.service[first].name, service.name
                    )));
                }
            }
            if let Some(host) = service.hosts.iter().find(|h| h.is_empty() || h.contains(['/', ' ', ':'])) {
                return Err(bad(format!("service `{}`: `{host}` is not a bare domain name", service.name)));
            }
        }
        let mut services = file.service;
        for service in &mut services {
            service.hosts.iter_mut().for_each(|h| *h = h.to_ascii_lowercase());
        }
        Ok(Services { services, by_env })
    }

    /// The service an environment-variable word (or run of words, `HUGGING_FACE`) names.
    pub fn by_env_word(&self, word: &str) -> Option<&Service> {
        self.by_env.get(word).map(|&i| &self.services[i])
    }

    /// The service a credential file belongs to, by a fragment of its path.
    pub fn by_file(&self, path: &str) -> Option<&Service> {
        let lower = path.to_ascii_lowercase();
        self.services.iter().find(|s| s.files.iter().any(|f| lower.contains(&f.to_ascii_lowercase())))
    }

    pub fn by_name(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The service whose own host `host` is.
    pub fn by_host(&self, host: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.owns(host))
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

impl Service {
    /// Whether `host` is one of the service's own hosts (or a subdomain of one).
    pub fn owns(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_match_subdomains_and_path_prefixes() {
        let lists = HostLists::parse(
            [("installers", "t", "# vendors\nbun.sh\nraw.githubusercontent.com/Homebrew/  # brew\n")].into_iter(),
        )
        .unwrap();
        assert!(lists.contains("installers", "bun.sh", "/install"));
        assert!(lists.contains("installers", "cdn.bun.sh", "/"));
        assert!(!lists.contains("installers", "evilbun.sh", "/"));
        assert!(lists.contains("installers", "raw.githubusercontent.com", "/Homebrew/install/HEAD/install.sh"));
        assert!(!lists.contains("installers", "raw.githubusercontent.com", "/mallory/x/main/i.sh"));
        // Hosts and path prefixes compare without ASCII case; a trailing root dot is the same host.
        assert!(lists.contains("installers", "CDN.Bun.SH.", "/"));
        assert!(lists.contains("installers", "raw.githubusercontent.com", "/homebrew/install/HEAD/install.sh"));
        assert!(!lists.contains("installers", "raw.githubusercontent.com", "/Home"));
        // A host that is not ASCII, or a list that does not exist, is simply not listed.
        assert!(!lists.contains("installers", "bün.sh", "/"));
        assert!(lists.contains("installers", "ü.bun.sh", "/"));
        assert!(!lists.contains("nope", "bun.sh", "/"));
        assert!(!lists.contains("installers", "", ""));
    }

    #[test]
    fn term_members_expand_braces_and_alternatives() {
        let member = Member::parse(".config/gcloud | Application_Default_Credentials.json").unwrap();
        assert_eq!(member.name, ".config/gcloud");
        assert_eq!(member.spellings, [".config/gcloud", "application_default_credentials.json"]);
        let member = Member::parse("{seed,mnemonic}{,-phrase}.txt").unwrap();
        assert_eq!(member.spellings, ["seed.txt", "seed-phrase.txt", "mnemonic.txt", "mnemonic-phrase.txt"]);
        assert_eq!(member.name, "seed.txt");
        for bad in ["a | ", "{a,b", "a}b", "{a,{b}}", "{,}", "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"] {
            assert!(Member::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn term_lists_reject_a_spelling_of_two_members_and_one_member_lists() {
        let lists =
            TermLists::parse([("stores", "t", "# stores\n.ssh\n.aws | .config/aws  # both\n")].into_iter()).unwrap();
        let stores = lists.get("stores").unwrap();
        assert_eq!(stores.len(), 2);
        assert_eq!(stores[1].spellings, [".aws", ".config/aws"]);
        assert!(TermLists::parse([("t", "t", ".ssh\n.aws | .SSH\n")].into_iter()).is_err());
        assert!(TermLists::parse([("t", "t", ".ssh\n")].into_iter()).is_err());
    }

    #[test]
    fn indicators_validate_and_match_parents() {
        let text =
            "[[indicator]]\nkind='host'\nvalue='bad.example.invalid'\n[[indicator]]\nkind='ip'\nvalue='203.0.113.7'\n";
        let ind = Indicators::parse("t", text).unwrap();
        assert!(ind.host("x.bad.example.invalid").is_some());
        assert!(ind.host("203.0.113.7").is_some());
        assert!(ind.host("example.invalid").is_none());
        assert!(Indicators::parse("t", "[[indicator]]\nkind='ip'\nvalue='nope'\n").is_err());
        assert!(Indicators::parse("t", "[[indicator]]\nkind='url'\nvalue='x'\n").is_err());
    }

    #[test]
    fn services_parse_and_look_up() {
        let text = "[[service]]\nname='github'\nenv=['GITHUB','GH']\nfiles=['.config/gh']\nhosts=['github.com']\n";
        let services = Services::parse("t", text).unwrap();
        assert_eq!(services.by_env_word("GH").map(|s| s.name.as_str()), Some("github"));
        assert_eq!(services.by_file("~/.config/gh/hosts.yml").map(|s| s.name.as_str()), Some("github"));
        assert!(services.by_name("github").unwrap().owns("api.github.com"));
        assert!(!services.by_name("github").unwrap().owns("github.com.example.invalid"));
        let twice = "[[service]]\nname='a'\nenv=['X']\n[[service]]\nname='b'\nenv=['X']\n";
        assert!(Services::parse("t", twice).is_err());
        assert!(Services::parse("t", "[[service]]\nname='a'\nhosts=['a.example/x']\n").is_err());
    }
}
