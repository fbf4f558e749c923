//! Hosts a skill vouches for: the vendor behind the skill. A `curl https://vendor.dev/install.sh
//! | bash` is the documented installer when the skill's own metadata or documentation points at
//! vendor.dev; it is a dropper when the host appears out of nowhere. Rules opt in with
//! `unless.corroborated` (not a finding for such hosts) or `match.corroborated` (only for them).
//!
//! A host is corroborated when its registrable domain is
//! - the domain of the skill's `homepage`, `repository`, `links.*` or `metadata.*.homepage`
//!   (for GitHub: the same account, so `raw.githubusercontent.com/acme/…` is corroborated by a
//!   homepage `github.com/acme/…`);
//! - linked from the skill's Markdown at least twice besides the installer line (for code
//!   hosts: the same account); or
//! - named after the skill (`pinchwork.dev` for a skill named `pinchwork`).
//!
//! Never corroborated, whatever the skill says: raw IP addresses, plain `http://`, and hosts on
//! the paste-site, URL-shortener, file-sharing, tunnel and request-collector lists.

use std::collections::{HashMap, HashSet};

use crate::engine::analysis::FileAnalysis;
use crate::engine::rules::HostLists;
use crate::engine::urls;

const UNTRUSTWORTHY_LISTS: &[&str] =
    &["paste-sites", "url-shorteners", "file-sharing", "tunnels", "webhook-collectors"];
const CODE_HOSTS: &[&str] = &["github.com", "raw.githubusercontent.com", "gitlab.com", "codeberg.org", "bitbucket.org"];

/// Suffixes under which different people own different names (the "private" part of the public
/// suffix list that matters for skills), plus the reserved names of RFC 2606/6761, which nobody
/// owns: `a.github.io` and `b.github.io`, or `a.example.invalid` and `b.example.invalid`, are not
/// the same vendor.
const SHARED_SUFFIXES: &[&str] = &[
    "github.io",
    "gitlab.io",
    "vercel.app",
    "netlify.app",
    "pages.dev",
    "workers.dev",
    "herokuapp.com",
    "onrender.com",
    "fly.dev",
    "railway.app",
    "glitch.me",
    "repl.co",
    "replit.dev",
    "replit.app",
    "web.app",
    "firebaseapp.com",
    "appspot.com",
    "azurewebsites.net",
    "cloudfront.net",
    "amazonaws.com",
    "surge.sh",
    "deno.dev",
    "blogspot.com",
    "wordpress.com",
    "substack.com",
    "notion.site",
    "gitbook.io",
    "readthedocs.io",
    "example.com",
    "example.net",
    "example.org",
    "example.invalid",
    "example.test",
    "invalid",
    "example",
    "test",
    "localhost",
];

/// The registrable part of a host name (`a.b.example.co.uk` → `example.co.uk`), approximated
/// without the public-suffix list: two labels, three when the second-level label is a generic
/// one under a two-letter country code, and one more than any shared suffix.
pub fn registrable(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let shared = SHARED_SUFFIXES
        .iter()
        .filter(|suffix| host.strip_suffix(**suffix).is_some_and(|head| head.is_empty() || head.ends_with('.')))
        .map(|suffix| suffix.split('.').count())
        .max();
    let keep = match shared {
        Some(labels_in_suffix) => labels_in_suffix + 1,
        None if labels.len() >= 3
            && labels[labels.len() - 1].len() == 2
            && matches!(labels[labels.len() - 2], "co" | "com" | "org" | "net" | "gov" | "ac" | "edu") =>
        {
            3
        }
        None => 2,
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

/// The account of a code-hosting URL (`github.com/acme/repo` and
/// `raw.githubusercontent.com/acme/repo/…` → `acme`).
fn code_account(host: &str, path: &str) -> Option<String> {
    CODE_HOSTS
        .contains(&host)
        .then(|| path.trim_start_matches('/').split('/').next().unwrap_or("").to_ascii_lowercase())
        .filter(|account| !account.is_empty())
}

#[derive(Debug, Default)]
pub struct Corroboration {
    domains: HashSet<String>,
    accounts: HashSet<String>,
    /// Domains and code-hosting accounts of the front matter alone (homepage, repository,
    /// metadata): what the skill declares as its own, as opposed to what its prose repeats.
    declared: HashSet<String>,
    name_tokens: HashSet<String>,
    /// Every distinctive word of the skill's name and of the binaries it declares
    /// (`requires.bins`): `hf` for `hf-cli`, `omni` for `omni-admin`.
    brand_words: HashSet<String>,
    /// Accounts holding a repository named like the skill or its binary. Named after the skill,
    /// like `brand_words`: enough for an installer's provenance, never documentation.
    branded_accounts: HashSet<String>,
}

fn collect_urls(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.extend(urls::find_urls(s).map(|(_, u)| u.to_string())),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_urls(v, out)),
        // Install specs are what is being vetted; they cannot vouch for themselves.
        serde_json::Value::Object(map) => {
            map.iter().filter(|(k, _)| k.as_str() != "install").for_each(|(_, v)| collect_urls(v, out))
        }
        _ => {}
    }
}

/// The host and path of a URL that anything can vouch for: HTTPS, a name (not an address), on
/// no list of hosts that serve anybody's content.
fn vouchable(url: &str, lists: &HostLists) -> Option<(String, String)> {
    if !url.starts_with("https://") {
        return None;
    }
    let (host, path) = urls::host_and_path(url)?;
    if urls::is_ip(&host) || UNTRUSTWORTHY_LISTS.iter().any(|l| lists.contains(l, &host, &path)) {
        return None;
    }
    Some((host, path))
}

impl Corroboration {
    pub fn of(files: &[FileAnalysis], lists: &HostLists) -> Corroboration {
        let mut c = Corroboration::default();
        let untrustworthy = |host: &str, path: &str| UNTRUSTWORTHY_LISTS.iter().any(|l| lists.contains(l, host, path));
        let vouch = |c: &mut Corroboration, url: &str| {
            if !url.starts_with("https://") {
                return;
            }
            let Some((host, path)) = urls::host_and_path(url) else { return };
            if urls::is_ip(&host) || untrustworthy(&host, &path) {
                return;
            }
            match code_account(&host, &path) {
                Some(account) => {
                    c.declared.insert(account.clone());
                    c.accounts.insert(account);
                }
                None => {
                    c.declared.insert(registrable(&host));
                    c.domains.insert(registrable(&host));
                }
            }
        };
        if let Some(manifest) = files.iter().find(|f| f.is_manifest())
            && let Some(Ok(front)) = manifest.markdown.as_ref().and_then(|d| d.frontmatter_value.as_ref())
        {
            // Metadata may be a mapping or a JSON string; both are scanned for URLs.
            let mut found = Vec::new();
            for key in ["homepage", "repository", "repo", "url", "links", "metadata", "source", "website", "docs"] {
                if let Some(value) = front.get(key) {
                    collect_urls(value, &mut found);
                }
            }
            for url in found {
                vouch(&mut c, &url);
            }
            if let Some(name) = front.get("name").and_then(|n| n.as_str()) {
                c.name_tokens.extend(name_tokens(name));
                c.brand_words.extend(brand_words(name));
            }
            // The product a description opens with ("Lumen Grid CLI …" for a skill named
            // `lg-cli`) names the vendor as much as the skill's name does.
            if let Some(product) = front.get("description").and_then(|d| d.as_str()).and_then(leading_product) {
                c.brand_words.insert(product);
            }
            let mut bins = Vec::new();
            collect_bins(front, &mut bins, 0);
            for bin in bins {
                c.brand_words.extend(brand_words(&bin));
            }
        }
        // Domains the skill's documents link at least twice. Only documentation links count: an
        // installer line repeated three times vouches for nothing. Code hosts count per account:
        // `github.com/acme/…` vouches for acme, not for every GitHub user.
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut account_counts: HashMap<String, usize> = HashMap::new();
        for file in files.iter().filter(|f| f.markdown.is_some()) {
            let text = file.text();
            // Whether a line fetches, once per line: a line of a thousand links is read once.
            let mut fetch_lines: HashMap<usize, bool> = HashMap::new();
            for (at, url) in urls::find_urls(text) {
                if !url.starts_with("https://") {
                    continue;
                }
                // A repository named exactly like the skill or its binary (`acme/kiro` for a
                // skill `kiro-wallet`) is the vendor's, and so is its account: the same standard
                // as a domain or an organisation named after the skill (anybody can pick a
                // name, so this never makes the account documented).
                if let Some((host, path)) = urls::host_and_path(url)
                    && let Some(account) = code_account(&host, &path)
                    && let Some(repo) = path.trim_start_matches('/').split('/').nth(1)
                {
                    let repo = repo.trim_end_matches(".git").to_ascii_lowercase();
                    if c.brand_words.contains(&repo) || c.name_tokens.contains(&repo) {
                        c.branded_accounts.insert(account);
                    }
                }
                let line = file.lines.line_of(at);
                let fetch = *fetch_lines
                    .entry(line)
                    .or_insert_with(|| is_fetch_line(line_around(text, file.lines.line_start(line))));
                if fetch {
                    continue;
                }
                if let Some((host, path)) = urls::host_and_path(url) {
                    if urls::is_ip(&host) || untrustworthy(&host, &path) {
                        continue;
                    }
                    match code_account(&host, &path) {
                        Some(account) => *account_counts.entry(account).or_insert(0) += 1,
                        None if CODE_HOSTS.contains(&host.as_str()) => {}
                        None => *counts.entry(registrable(&host)).or_insert(0) += 1,
                    }
                }
            }
        }
        c.domains.extend(counts.into_iter().filter(|(_, n)| *n >= 2).map(|(domain, _)| domain));
        c.accounts.extend(account_counts.into_iter().filter(|(_, n)| *n >= 2).map(|(account, _)| account));
        c
    }

    /// Whether the skill's own metadata or documentation points at this URL's host (its
    /// homepage, repository, or a domain or account it links repeatedly) — not merely a host
    /// named like the skill, which anybody can register.
    pub fn documents(&self, url: &str, lists: &HostLists) -> bool {
        let Some((host, path)) = vouchable(url, lists) else { return false };
        match code_account(&host, &path) {
            Some(account) => self.accounts.contains(&account),
            None => self.domains.contains(&registrable(&host)),
        }
    }

    /// Whether the skill's front matter names this URL's host (or code-hosting account) as its
    /// own: the standard for what only the skill's own service should receive (the user's
    /// files), where a domain the prose repeats or one named like the skill is not enough —
    /// whoever wrote the skill wrote those too, and the front matter is what a reviewer checks.
    pub fn declares(&self, url: &str, lists: &HostLists) -> bool {
        let Some((host, path)) = vouchable(url, lists) else { return false };
        match code_account(&host, &path) {
            Some(account) => self.declared.contains(&account),
            None => self.declared.contains(&registrable(&host)),
        }
    }

    /// Whether the skill vouches for this URL's host.
    pub fn vouches_for(&self, url: &str, lists: &HostLists) -> bool {
        let Some((host, path)) = vouchable(url, lists) else { return false };
        if let Some(account) = code_account(&host, &path) {
            // The vendor's organisation: named like the skill or its binary (`exploreomni` for
            // `omni-admin`, `acme` for `acme-cli`).
            let branded = self.branded_accounts.contains(&account)
                || self.brand_words.iter().any(|w| *w == account || (w.len() >= 4 && account.contains(w.as_str())));
            return self.accounts.contains(&account)
                || self.name_tokens.contains(&account)
                || branded
                || self.domains.iter().any(|d| d.split('.').next() == Some(account.as_str()));
        }
        let domain = registrable(&host);
        let first_label = domain.split('.').next().unwrap_or("");
        // A short brand domain (`hf.co` for `hf-cli`) is named exactly like the skill or its binary.
        self.domains.contains(&domain)
            || (first_label.len() >= 4 && self.name_tokens.contains(first_label))
            || self.brand_words.contains(first_label)
    }
}

fn line_around(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// A line that downloads something: an installer command, not a link to documentation.
fn is_fetch_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    ["curl ", "wget ", "iwr ", "irm ", "invoke-webrequest", "invoke-restmethod", "| bash", "|bash", "| sh", "|sh"]
        .iter()
        .any(|word| lower.contains(word))
}

/// Binaries a skill declares it needs (`metadata.*.requires.bins`, any depth, bounded).
fn collect_bins(value: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
    if depth > 6 || out.len() > 32 {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "bins" || key == "anyBins" {
                    if let serde_json::Value::Array(items) = v {
                        out.extend(items.iter().filter_map(|i| i.as_str()).map(str::to_string));
                    }
                } else if key != "install" {
                    collect_bins(v, out, depth + 1);
                }
            }
        }
        serde_json::Value::String(s) if s.trim_start().starts_with('{') => {
            if let Ok(parsed) = serde_json::from_str::<serde_json::Value>(s) {
                collect_bins(&parsed, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Every word of a name (lower case, at least two characters) but the generic ones.
fn brand_words(name: &str) -> HashSet<String> {
    const GENERIC: &[&str] = &[
        "cli",
        "api",
        "app",
        "sdk",
        "mcp",
        "bot",
        "the",
        "and",
        "for",
        "pro",
        "dev",
        "ai",
        "go",
        "js",
        "py",
        "rs",
        "example",
        "setup",
        "install",
        "installer",
        "tool",
        "tools",
        "skill",
        "skills",
        "agent",
        "agents",
        "cloud",
        "helper",
        "runtime",
        "utils",
        "utility",
        "manager",
        "client",
        "server",
        "service",
        "official",
        "update",
        "assistant",
        "admin",
        "core",
        "kit",
        "hub",
        "lab",
        "labs",
        "get",
        "my",
        "open",
        "new",
        "code",
        "data",
        "web",
        // The platform's own name is in half the skills' names: it vouches for nobody.
        "claw",
        "openclaw",
        "clawhub",
        "clawd",
        "moltbot",
    ];
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 2 && !GENERIC.contains(w))
        .map(String::from)
        .collect()
}

/// The two-word proper name a description opens with, joined (`Lumen Grid CLI (lg) for …`
/// → `lumengrid`): the vendor's name as its domain and GitHub organisation usually spell it.
/// One capitalised word is only the sentence's start ("Manage …"), so it takes two.
fn leading_product(description: &str) -> Option<String> {
    let mut words = description.trim_start_matches(['"', '\'', '`', '*', ' ']).split(' ');
    let proper = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase()) && w.len() >= 2 && chars.all(|c| c.is_ascii_lowercase())
    };
    let (first, second) = (words.next()?, words.next()?);
    if !proper(first) || !proper(second) {
        return None;
    }
    let joined = format!("{first}{second}").to_ascii_lowercase();
    (joined.len() >= 6 && brand_words(&joined).contains(&joined)).then_some(joined)
}

/// Distinctive words of a skill name (`opencode-acp-control` → `opencode`, `opencodeacpcontrol`):
/// generic words would let any `setup.…` or `example.…` host pass as the vendor.
fn name_tokens(name: &str) -> HashSet<String> {
    const GENERIC: &[&str] = &[
        "example",
        "setup",
        "install",
        "installer",
        "tools",
        "skill",
        "skills",
        "agent",
        "agents",
        "cloud",
        "helper",
        "runtime",
        "utils",
        "utility",
        "manager",
        "client",
        "server",
        "service",
        "official",
        "update",
        "assistant",
    ];
    let lower = name.to_ascii_lowercase();
    let mut tokens: HashSet<String> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() >= 5 && !GENERIC.contains(t))
        .map(String::from)
        .collect();
    let joined = lower.replace(['-', '_', ' '], "");
    if joined.len() >= 5 && !GENERIC.contains(&joined.as_str()) {
        tokens.insert(joined);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("get.pinchwork.dev"), "pinchwork.dev");
        assert_eq!(registrable("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registrable("bun.sh"), "bun.sh");
        assert_eq!(registrable("cdn.example.invalid"), "cdn.example.invalid");
        assert_eq!(registrable("docs.tool.example.invalid"), "tool.example.invalid");
        assert_eq!(registrable("alice.github.io"), "alice.github.io");
    }

    #[test]
    fn a_description_opening_with_a_two_word_name_names_the_vendor() {
        assert_eq!(leading_product("Lumen Grid CLI (`lg`) for clusters").as_deref(), Some("lumengrid"));
        assert_eq!(leading_product("\"Google Cloud storage helpers\"").as_deref(), Some("googlecloud"));
        // A sentence's capital, acronyms and short names are not a vendor's name.
        assert_eq!(leading_product("Manage your notes"), None);
        assert_eq!(leading_product("AWS Cost Explorer queries"), None);
        assert_eq!(leading_product("An Ok tool"), None);
    }

    #[test]
    fn only_the_front_matter_declares_a_host() {
        let lists = HostLists::default();
        // `pinchwork.dev` repeated in the prose and a brand word vouch; only `pagedrop.example`
        // and the `acme` account are declared.
        let c = Corroboration {
            domains: ["pinchwork.dev".to_string(), "pagedrop.example".to_string()].into(),
            accounts: ["acme".to_string()].into(),
            brand_words: ["omni".to_string()].into(),
            declared: ["pagedrop.example".to_string(), "acme".to_string()].into(),
            ..Corroboration::default()
        };
        assert!(c.declares("https://api.pagedrop.example/v1/deploy", &lists));
        assert!(c.declares("https://github.com/acme/site", &lists));
        assert!(c.vouches_for("https://pinchwork.dev/api", &lists) && !c.declares("https://pinchwork.dev/api", &lists));
        assert!(c.vouches_for("https://omni.example.invalid/x", &lists));
        assert!(!c.declares("https://omni.example.invalid/x", &lists));
        assert!(!c.declares("http://api.pagedrop.example/v1/deploy", &lists));
    }

    #[test]
    fn homepage_account_and_name_vouch_but_ips_and_http_never_do() {
        let lists = HostLists::default();
        let c = Corroboration {
            domains: ["pinchwork.dev".to_string()].into(),
            accounts: ["acme".to_string()].into(),
            name_tokens: ["opencode".to_string()].into(),
            brand_words: ["omni".to_string(), "hf".to_string()].into(),
            branded_accounts: ["kirolabs".to_string()].into(),
            declared: HashSet::new(),
        };
        assert!(c.vouches_for("https://raw.githubusercontent.com/KiroLabs/node/main/install.sh", &lists));
        assert!(!c.documents("https://raw.githubusercontent.com/KiroLabs/node/main/install.sh", &lists));
        assert!(c.vouches_for("https://pinchwork.dev/install.sh", &lists));
        assert!(c.vouches_for("https://raw.githubusercontent.com/Acme/tool/main/install.sh", &lists));
        assert!(c.vouches_for("https://opencode.dev/install", &lists));
        assert!(!c.vouches_for("http://pinchwork.dev/install.sh", &lists));
        assert!(!c.vouches_for("https://203.0.113.7/install.sh", &lists));
        assert!(!c.vouches_for("https://raw.githubusercontent.com/mallory/tool/main/i.sh", &lists));
        assert!(!c.vouches_for("https://setup.example.invalid/i.sh", &lists));
        // The skill's brand in the organisation, or a short brand domain.
        assert!(c.vouches_for("https://raw.githubusercontent.com/exploreomni/cli/main/install.sh", &lists));
        assert!(c.vouches_for("https://hf.co/cli/install.sh", &lists));
        assert!(!c.vouches_for("https://raw.githubusercontent.com/mallory/omnx/main/i.sh", &lists));
        assert!(name_tokens("rule-example").is_empty() || !name_tokens("rule-example").contains("example"));
    }
}
