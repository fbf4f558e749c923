//! Impersonation (B12): skill names, packages, npm scopes, GitHub accounts and domains that sit
//! next to well-known ones — one edit away, digits for letters (`0penclaw`, `c1awhub`), or the
//! real name with an "-official"/"-v2" tail. The lists live in `rules/lists/`
//! (`protected-names`, `popular-npm`, `popular-pypi`, `well-known-domains`).

use super::meta::SkillMeta;
use super::{Emitter, SkillInput};
use crate::engine::corroborate::registrable;
use crate::engine::hit::HitLocation;
use crate::engine::urls;

pub const RULES: &[&str] = &["name-impersonation", "dependency-typosquat", "lookalike-source"];

/// Folds the digits and symbols typosquats use for letters.
fn fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '$' => 's',
            '@' => 'a',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// One edit that typosquats favour: a swap of neighbours, a doubled or dropped letter.
fn typo_edit(a: &str, b: &str) -> bool {
    // Names are nearly always ASCII: compare bytes then, and spare the two char vectors.
    if a.is_ascii() && b.is_ascii() {
        return typo_edit_of(a.as_bytes(), b.as_bytes());
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    typo_edit_of(&a, &b)
}

fn typo_edit_of<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    if a.len() == b.len() {
        let mut diffs = (0..a.len()).filter(|&i| a[i] != b[i]);
        let (Some(first), Some(second), None) = (diffs.next(), diffs.next(), diffs.next()) else { return false };
        return second == first + 1 && a[first] == b[second] && a[second] == b[first];
    }
    let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
    if long.len() != short.len() + 1 {
        return false;
    }
    let at = (0..short.len()).find(|&i| long[i] != short[i]).unwrap_or(short.len());
    long[..at] == short[..at] && long[at + 1..] == short[at..] && at > 0 && long[at] == long[at - 1]
}

/// Whether `candidate` looks like `target` without being it.
pub fn lookalike(candidate: &str, target: &str) -> bool {
    // Folding keeps the length and every accepted edit distance is at most 2, so names whose
    // lengths differ more cannot match; this check spares the edit distance for most pairs.
    if candidate.len().abs_diff(target.len()) > 2 && candidate.chars().count().abs_diff(target.chars().count()) > 2 {
        return false;
    }
    // Package indexes treat `-`, `_` and `.` alike (`slack_sdk` is `slack-sdk` on PyPI).
    let same_name = |a: &str, b: &str| a.replace(['_', '.'], "-") == b.replace(['_', '.'], "-");
    // A capital I reads as a lower-case l in most fonts (`reqIuest`): fold it before case.
    let capital_i = candidate.contains('I').then(|| candidate.replace('I', "l").to_ascii_lowercase());
    let candidate = candidate.to_ascii_lowercase();
    if same_name(&candidate, target) || target.len() < 4 {
        return false;
    }
    if fold(&candidate) == target || capital_i.is_some_and(|c| fold(&c) == target) {
        return true;
    }
    let distance = strsim::osa_distance(&candidate, target);
    match target.chars().count() {
        0..=6 => distance == 1 && typo_edit(&candidate, target),
        7..=9 => distance == 1,
        _ => distance <= 2 && candidate.len().abs_diff(target.len()) <= 2,
    }
}

/// Tails that dress a copy up as the real thing.
const SPOOF_WORDS: &[&str] =
    &["official", "offical", "officiai", "updated", "original", "real", "fixed", "latest", "new", "next"];

fn is_spoof_tail(word: &str) -> bool {
    SPOOF_WORDS.contains(&word)
        || word.chars().all(|c| c.is_ascii_digit())
        || (word.starts_with('v') && word.len() > 1 && word[1..].chars().all(|c| c.is_ascii_digit()))
}

/// `github-official`, `clawhub1`, `web-search-pro-v2` → the protected name they dress up, if any.
fn dressed_up<'l>(name: &str, protected: &'l [String]) -> Option<&'l str> {
    let lower = name.to_ascii_lowercase();
    for target in protected {
        let Some(rest) = lower.strip_prefix(target.as_str()) else { continue };
        if rest.is_empty() {
            continue;
        }
        if rest.chars().all(|c| c.is_ascii_digit()) {
            return Some(target);
        }
        let words: Vec<&str> =
            rest.trim_start_matches(['-', '_']).split(['-', '_']).filter(|w| !w.is_empty()).collect();
        let decorative = |w: &&str| is_spoof_tail(w) || matches!(*w, "pro" | "plus" | "max" | "premium" | "ultra");
        if rest.starts_with(['-', '_'])
            && !words.is_empty()
            && words.iter().all(decorative)
            && words.iter().any(|w| is_spoof_tail(w))
        {
            return Some(target);
        }
    }
    None
}

fn find(text: &str, needle: &str) -> Option<std::ops::Range<usize>> {
    text.find(needle).map(|i| i..i + needle.len())
}

/// Package names from install commands in code: pip/uv/pipx, npm/pnpm/yarn/bun, npx/uvx.
fn installed_packages(text: &str) -> Vec<(&'static str, String, usize)> {
    use std::sync::OnceLock;
    static COMMAND: OnceLock<regex::Regex> = OnceLock::new();
    let command = COMMAND.get_or_init(|| {
        crate::engine::text::builtin_regex(r"(?m)\b(pip3?\s+install|uv\s+pip\s+install|pipx\s+install|uv\s+tool\s+install|uvx|npm\s+(?:i|install|add)|pnpm\s+(?:i|install|add)|yarn\s+add|bun\s+(?:i|install|add)|npx(?:\s+(?:-y|--yes))?)\s+([^\n;&|#`]*)")
    });
    let mut out = Vec::new();
    for caps in command.captures_iter(text) {
        let (Some(tool), Some(args)) = (caps.get(1), caps.get(2)) else { continue };
        let ecosystem = if tool.as_str().contains("pip") || tool.as_str().starts_with("uv") { "pypi" } else { "npm" };
        let mut skip_next = false;
        for word in args.as_str().split_whitespace() {
            if skip_next {
                skip_next = false;
                continue;
            }
            if word.starts_with('-') {
                skip_next =
                    matches!(word, "-r" | "--requirement" | "-i" | "--index-url" | "--extra-index-url" | "-e" | "-c");
                continue;
            }
            let name = package_name(word);
            if !name.is_empty() && !name.contains("://") {
                out.push((ecosystem, name, args.start()));
            }
            if tool.as_str().starts_with("npx") || tool.as_str() == "uvx" {
                break;
            }
        }
    }
    out
}

/// A capital I between lower-case letters (`markdown-tabIe-kit`, `reqIuests`), in a name with no other
/// capital: it reads as an l in most fonts, and an honest name has no use for it (npm names are
/// lower-case, PyPI compares names case-insensitively), so it is there for the eye alone. Needs
/// no list of popular packages: the name imitates whatever it reads as. A capital at the start
/// (`Inflector`) is ordinary capitalisation and is left to the list comparison.
fn hidden_capital_i(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut found = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'I' {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + 1).copied();
            if !(before.is_some_and(|c| c.is_ascii_lowercase()) && after.is_none_or(|c| c.is_ascii_lowercase())) {
                return false;
            }
            found = true;
        } else if b.is_ascii_uppercase() {
            return false;
        }
    }
    found
}

/// `reqeusts==2.31.0` → `reqeusts`; `@0penclaw/helper@latest` → `@0penclaw/helper` (as written:
/// the case of a letter can be the look-alike).
fn package_name(spec: &str) -> String {
    let spec = spec.trim_matches(['"', '\'', '`', ',', '(', ')']);
    let (scope, rest) = match spec.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", spec),
    };
    let end = rest.find(['=', '<', '>', '~', '!', '[', ';', ' ', '\\', '"', '\'']).unwrap_or(rest.len());
    let mut name = &rest[..end];
    if let Some(at) = name.find('@') {
        name = &name[..at];
    }
    format!("{scope}{name}")
}

pub fn identity(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    let lists = &input.rules.lists;
    let protected = lists.entries("protected-names");
    let domains = lists.entries("well-known-domains");
    if let Some((index, manifest)) = input.manifest() {
        let meta = SkillMeta::of(manifest);
        let folder = input.root.rsplit(['/', '!']).find(|s| !s.is_empty()).unwrap_or("").to_string();
        let mut names: Vec<String> = meta.name.iter().cloned().collect();
        if !names.contains(&folder) && !folder.is_empty() && !folder.contains('.') {
            names.push(folder);
        }
        for name in names {
            if protected.iter().any(|p| p == &name.to_ascii_lowercase()) {
                continue;
            }
            let hit = dressed_up(&name, protected)
                .map(|target| format!("`{name}` dresses up `{target}`"))
                .or_else(|| {
                    protected.iter().find(|t| lookalike(&name, t)).map(|t| format!("`{name}` is a look-alike of `{t}`"))
                })
                .or_else(|| {
                    hidden_capital_i(&name).then(|| {
                        let reads = name.replace('I', "l");
                        format!("`{name}` has a capital I among lower-case letters: it reads as `{reads}`")
                    })
                });
            if let Some(detail) = hit {
                let range = find(manifest.text(), &name);
                out.emit("name-impersonation", HitLocation::File { file: index, range }, Some(detail));
                break;
            }
        }
        for spec in &meta.install {
            let ecosystem = match spec.kind.as_str() {
                "node" => "npm",
                "uv" => "pypi",
                _ => continue,
            };
            check_package(input, out, index, ecosystem, &package_name(&spec.target), protected);
        }
    }
    // The same few hosts recur in every file of a skill: judge each domain and account once.
    let mut judged: std::collections::HashMap<(String, Option<String>), Option<String>> =
        std::collections::HashMap::new();
    for (index, file) in input.files.iter().enumerate() {
        let Some(text) = file.text.as_deref() else { continue };
        let name = file.path.rsplit('/').next().unwrap_or("");
        if name == "package.json" {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                for section in ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] {
                    if let Some(deps) = json.get(section).and_then(|d| d.as_object()) {
                        for dep in deps.keys() {
                            check_package(input, out, index, "npm", dep, protected);
                        }
                    }
                }
            }
        } else if name.starts_with("requirements") && name.ends_with(".txt") {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if !line.is_empty() && !line.starts_with('-') && !line.contains("://") {
                    check_package(input, out, index, "pypi", &package_name(line), protected);
                }
            }
        }
        if file.lang.is_script() || file.markdown.is_some() {
            for (ecosystem, package, _) in installed_packages(text) {
                check_package(input, out, index, ecosystem, &package, protected);
            }
        }
        // Domains and code-hosting accounts that imitate well-known ones.
        for (offset, url) in urls::find_urls(text) {
            let Some((host, path)) = urls::host_and_path(url) else { continue };
            let domain = registrable(&host);
            let account = match host.as_str() {
                "github.com" | "raw.githubusercontent.com" | "gitlab.com" => {
                    path.trim_start_matches('/').split('/').next().map(str::to_ascii_lowercase)
                }
                _ => None,
            };
            let detail = judged.entry((domain, account)).or_insert_with_key(|(domain, account)| {
                let known_domain = domains.contains(domain);
                // A skill can name thousands of distinct hosts: prepare each one once, not once
                // per well-known domain it is compared with.
                let look = DomainLook::of(domain);
                domains
                    .iter()
                    .filter(|_| !known_domain)
                    .find(|known| look.imitates(known))
                    .map(|known| format!("`{domain}` imitates `{known}`"))
                    .or_else(|| {
                        let account = account.as_deref().filter(|a| !protected.iter().any(|p| p == a))?;
                        protected
                            .iter()
                            .find(|p| lookalike(account, p))
                            .map(|p| format!("account `{account}` imitates `{p}`"))
                    })
            });
            if let Some(detail) = detail.clone() {
                out.emit(
                    "lookalike-source",
                    HitLocation::File { file: index, range: Some(offset..offset + url.len()) },
                    Some(detail),
                );
            }
        }
    }
}

fn known_scopes_contains(scopes: &[&str], scope: &str) -> bool {
    scopes.contains(&scope)
}

/// Domains compare by their name label: `githuh.com` imitates `github.com`, `gitlab.com` does not.
#[cfg(test)]
fn domain_lookalike(domain: &str, known: &str) -> bool {
    DomainLook::of(domain).imitates(known)
}

/// A domain as the eye reads it, prepared once to be compared with every well-known domain.
struct DomainLook<'a> {
    domain: &'a str,
    label: &'a str,
    folded_label: String,
    folded_domain: String,
    rn_as_m: String,
    vv_as_w: String,
}

impl<'a> DomainLook<'a> {
    fn of(domain: &'a str) -> DomainLook<'a> {
        let (label, _) = domain.split_once('.').unwrap_or((domain, ""));
        DomainLook {
            domain,
            label,
            folded_label: fold(label),
            folded_domain: fold(domain),
            rn_as_m: label.replace("rn", "m"),
            vv_as_w: label.replace("vv", "w"),
        }
    }

    fn imitates(&self, known: &str) -> bool {
        if self.domain == known {
            return false;
        }
        let (known_label, known_tld) = known.split_once('.').unwrap_or((known, ""));
        if self.label == known_label || known_label.len() < 5 {
            // Same name under another TLD is a different matter (country sites, mirrors).
            return false;
        }
        // Registered look-alikes lean on what the eye skips: swapped or doubled letters, digits
        // for letters, `rn` for `m`, `vv` for `w`. Any other one-letter change is a different name.
        self.folded_label == known_label
            || typo_edit(self.label, known_label)
            || self.rn_as_m == known_label
            || self.vv_as_w == known_label
            || (self.folded_domain == known && !known_tld.is_empty())
    }
}

fn check_package(
    input: &SkillInput<'_>,
    out: &mut Emitter<'_>,
    file: usize,
    ecosystem: &str,
    written: &str,
    protected: &[String],
) {
    if written.is_empty() {
        return;
    }
    let package = &written.to_ascii_lowercase();
    let popular = input.rules.lists.entries(if ecosystem == "npm" { "popular-npm" } else { "popular-pypi" });
    if popular.iter().any(|p| p == package) || protected.iter().any(|p| p == package) {
        return;
    }
    let text = input.files[file].text();
    let location = || HitLocation::File { file, range: find(text, written) };
    let (scope, bare) = match package.strip_prefix('@').and_then(|p| p.split_once('/')) {
        Some((scope, bare)) => (Some(scope), bare),
        None => (None, package.as_str()),
    };
    // As written, for the capital I that reads as an l.
    let written_bare = written.rsplit('/').next().unwrap_or(written);
    let mut known_scopes: Vec<&str> = popular.iter().filter_map(|p| p.strip_prefix('@')?.split('/').next()).collect();
    known_scopes.extend(protected.iter().map(String::as_str));
    let detail = popular
        .iter()
        .find(|p| !p.starts_with('@') && lookalike(written_bare, p) && scope.is_none())
        .map(|p| format!("{ecosystem} package `{written}` is a look-alike of `{p}`"))
        .or_else(|| {
            hidden_capital_i(written_bare).then(|| {
                let reads = written_bare.replace('I', "l");
                format!(
                    "{ecosystem} package `{written}` has a capital I among lower-case letters: it reads as `{reads}`"
                )
            })
        })
        .or_else(|| {
            let scope = scope?;
            known_scopes
                .iter()
                .filter(|_| !known_scopes_contains(&known_scopes, scope))
                .find(|known| lookalike(scope, known) || dressed_up(scope, &[known.to_string()]).is_some())
                .map(|known| format!("npm scope `@{scope}` imitates `@{known}`"))
        })
        .or_else(|| {
            dressed_up(bare, protected).map(|target| format!("{ecosystem} package `{package}` dresses up `{target}`"))
        });
    if let Some(detail) = detail {
        out.emit("dependency-typosquat", location(), Some(detail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes() {
        assert!(lookalike("clawhud", "clawhub"));
        assert!(lookalike("0penclaw", "openclaw"));
        assert!(lookalike("openc1aw", "openclaw"));
        assert!(lookalike("reqeusts", "requests"));
        assert!(lookalike("axois", "axios"));
        assert!(lookalike("chalkk", "chalk"));
        assert!(lookalike("lodahs", "lodash"));
        assert!(!lookalike("stack", "slack"));
        assert!(!lookalike("requests", "requests"));
        assert!(!lookalike("github", "gitlab"));
        assert!(lookalike("modelcontextprotoco1", "modelcontextprotocol"));
    }

    #[test]
    fn domain_lookalikes() {
        assert!(domain_lookalike("githbu.com", "github.com"));
        assert!(!domain_lookalike("gimhub.dev", "github.com"));
        assert!(domain_lookalike("c1awhub.ai", "clawhub.ai"));
        assert!(!domain_lookalike("gitlab.com", "github.com"));
        assert!(!domain_lookalike("github.com", "github.com"));
        assert!(!domain_lookalike("stack.com", "slack.com"));
    }

    #[test]
    fn dressed_up_names() {
        let protected = vec!["clawhub".to_string(), "github".to_string(), "web-search".to_string()];
        assert_eq!(dressed_up("clawhub1", &protected), Some("clawhub"));
        assert_eq!(dressed_up("github-official", &protected), Some("github"));
        assert_eq!(dressed_up("web-search-pro-v2", &protected), Some("web-search"));
        assert_eq!(dressed_up("github-issues-digest", &protected), None);
        assert_eq!(dressed_up("clawhub-publish-checklist", &protected), None);
        assert_eq!(dressed_up("web-search-pro", &protected), None);
    }

    #[test]
    fn packages_from_commands() {
        let found =
            installed_packages("pip install reqeusts==2.31.0 pdfminner.six && npx -y @0penclaw/helper@latest x");
        let names: Vec<&str> = found.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["reqeusts", "pdfminner.six", "@0penclaw/helper"]);
        // The case is kept: a capital can be the look-alike.
        let found = installed_packages("npm i --save Left-Pad chart-toolbeIt@2");
        let names: Vec<&str> = found.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["Left-Pad", "chart-toolbeIt"]);
    }

    #[test]
    fn a_capital_i_among_lower_case_letters_reads_as_an_l() {
        for name in ["markdown-tabIe-kit", "reqIuests", "coIors", "mcp-fiIesystem", "chaIk"] {
            assert!(hidden_capital_i(name), "{name}");
        }
        // Ordinary capitals: a capitalised name, CamelCase, acronyms, none at all.
        for name in
            ["Inflector", "PyYAML", "GitPython", "pyOpenSSL", "IPython", "JSONStream", "requests", "Imath", "pyImgui-X"]
        {
            assert!(!hidden_capital_i(name), "{name}");
        }
    }
}
