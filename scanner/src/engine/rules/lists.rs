//! Data the rules consult: host lists (`rules/lists/<name>.txt`), indicators of compromise
//! (`rules/indicators.toml`, replaceable with `--ioc FILE`) and the services secrets belong to
//! (`rules/services.toml`).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::RuleError;

/// Named lists of hosts (and optional path prefixes: `raw.githubusercontent.com/Homebrew/`).
#[derive(Debug, Default, Clone)]
pub struct HostLists {
    lists: BTreeMap<String, Vec<HostEntry>>,
    /// The same entries as written (lowercase), for lists of names rather than hosts.
    raw: BTreeMap<String, Vec<String>>,
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
            lists.insert(name.to_string(), entries);
            raw.insert(name.to_string(), names);
        }
        Ok(HostLists { lists, raw })
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
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.lists.get(list).is_some_and(|entries| {
            entries.iter().any(|entry| {
                let host_matches = host == entry.host || host.ends_with(&format!(".{}", entry.host));
                host_matches
                    && entry
                        .path_prefix
                        .as_deref()
                        .is_none_or(|prefix| path.to_ascii_lowercase().starts_with(&prefix.to_ascii_lowercase()))
            })
        })
    }

    /// The first list (of `lists`) containing the host, if any.
    pub fn which<'l>(&self, lists: &'l [&'l str], host: &str, path: &str) -> Option<&'l str> {
        lists.iter().copied().find(|list| self.contains(list, host, path))
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
