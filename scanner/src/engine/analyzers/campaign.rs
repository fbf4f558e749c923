//! The dropper campaign's shape, read as facts rather than phrases: SKILL.md delivers a
//! "required helper" as an archive or executable from a place nobody vouches for (a release
//! asset of an account the skill never names, a file host, a paste page, a raw IP address), and
//! tells the reader to open it with a password, to run the executable, or to run in a terminal
//! what a page says. Any wording, emphasis, table layout, line wrapping or line ending carries
//! the same facts, so the text is read after prose normalisation and the facts are looked for
//! near the delivery link, each with a small vocabulary.

use std::sync::OnceLock;

use regex::Regex;

use super::{Emitter, SkillInput};
use crate::engine::corroborate::Corroboration;
use crate::engine::finding::RelatedLocation;
use crate::engine::hit::HitLocation;
use crate::engine::normalize;
use crate::engine::text::{builtin_regex, escape_snippet, floor_char_boundary};
use crate::engine::urls;

pub const RULES: &[&str] = &["required-helper-dropper"];

/// How far around the delivery link its instructions are looked for (bytes of normalised
/// text): the steps of a setup section, not the whole document.
const WINDOW: usize = 700;

fn is_archive(path: &str) -> bool {
    const ARCHIVES: &[&str] = &[".zip", ".rar", ".7z", ".tar.gz", ".tgz", ".tar.xz", ".iso", ".dmg"];
    let path = path.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    let path = path.trim_end_matches("/file").trim_end_matches("/download");
    ARCHIVES.iter().any(|e| path.ends_with(e))
}

fn archive_or_executable(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".exe",
        ".msi",
        ".dmg",
        ".pkg",
        ".zip",
        ".rar",
        ".7z",
        ".scr",
        ".bat",
        ".cmd",
        ".ps1",
        ".app",
        ".jar",
        ".appimage",
        ".deb",
        ".rpm",
        ".iso",
        ".tar.gz",
        ".tgz",
        ".tar.xz",
        ".vbs",
        ".hta",
        ".lnk",
        ".command",
    ];
    let path = path.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    let path = path.trim_end_matches("/file").trim_end_matches("/download");
    EXTENSIONS.iter().any(|e| path.ends_with(e))
}

fn password_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        builtin_regex(
            r#"(?i)\b(?:pass(?:word|phrase|code|wd)?|pwd|pw|zip\s+key|archive\s+key|unlock\s+code)\b\s*(?:is|:|=|\||-|\()?\s*[`'"“]?[^\s`'"”|)]{2,}|\b(?:7z|7za|unrar|unzip)\b[^\n]*\s-p\s?\S{2,}"#,
        )
    })
}

fn run_step_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:run|execute|launch|open|start|double[- ]?click|install|allow)\b[^.\n]{0,80}?(?:\.(?:exe|msi|scr|bat|cmd|app|pkg|dmg|jar|appimage|command|vbs|hta)\b|\b(?:installer|setup\s+file|the\s+(?:exe|executable|binary|helper|program|application|app))\b)",
        )
    })
}

fn terminal_step_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:paste|run|execute|enter|type|copy)\b[^.\n]{0,80}\b(?:terminal|command\s+prompt|powershell|shell|console|run\s+dialog)\b|\b(?:terminal|command\s+prompt|powershell|console)\b[^.\n]{0,80}\b(?:paste|run|execute|enter|type)\b",
        )
    })
}

fn required_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:requires?|required|prerequisites?|must\s+(?:first\s+)?(?:be\s+)?(?:install|download)|needs?\s+to\s+(?:be\s+)?install|(?:won'?t|will\s+not|does\s+not|doesn'?t|cannot|can'?t)\s+(?:work|run|function|start)\s+without|to\s+function|only\s+works\s+(?:once|after|with|if)|before\s+(?:first\s+use|using|anything\s+else)|mandatory|install(?:ed)?\s+(?:it\s+)?(?:first|once))\b",
        )
    })
}

/// What makes a delivery link a place nobody vouches for.
fn unvouched_delivery(url: &str, vouched: &Corroboration, input: &SkillInput<'_>) -> Option<&'static str> {
    let (host, path) = urls::host_and_path(url)?;
    let lists = &input.rules.lists;
    // Only what the skill documents excuses a download; a host or account merely named like the
    // skill (`notionbridge-dev` for a Notion skill) is what droppers register.
    if lists.contains("trusted-installers", &host, &path) || vouched.documents(url, lists) {
        return None;
    }
    if urls::is_ip(&host) {
        // The user's own machine or network (a local server) delivers nothing.
        let local = match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
            Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback(),
            Err(_) => false,
        };
        return (!local).then_some("a raw IP address");
    }
    // An API endpoint of a paste service is where a client posts, not a page a reader opens.
    let api = path.contains("/api") || host.starts_with("api.");
    if lists.contains("paste-sites", &host, &path) && !api {
        return Some("a paste page");
    }
    let file_host = lists.contains("file-sharing", &host, &path) || lists.contains("url-shorteners", &host, &path);
    if file_host && (archive_or_executable(&path) || lists.contains("url-shorteners", &host, &path)) {
        return Some("a file host");
    }
    let release = path.contains("/releases/download/") || path.contains("/-/releases/") || path.contains("/raw/");
    if release && archive_or_executable(&path) {
        return Some("a release asset of an account the skill does not name");
    }
    // Elsewhere a domain named like the skill's vendor (`proton.me` for a Proton skill) is the
    // vendor's.
    if archive_or_executable(&path) && !file_host && !vouched.vouches_for(url, lists) {
        return Some("a download the skill does not vouch for");
    }
    None
}

pub fn campaign(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    let Some((index, manifest)) = input.manifest() else { return };
    let original = manifest.text();
    if original.is_empty() {
        return;
    }
    // The front matter is metadata (install specs are the front-matter analyzer's): read the
    // document after it.
    let body_start = manifest
        .markdown
        .as_ref()
        .and_then(|d| d.frontmatter.as_ref())
        .map_or(0, |r| original[r.end..].find('\n').map_or(original.len(), |i| r.end + i + 1));
    let body = &original[body_start..];
    let rewrite = normalize::prose(body);
    let (text, map): (&str, Option<&[u32]>) = match &rewrite {
        Some(r) => (&r.text, Some(&r.map)),
        None => (body, None),
    };
    let to_file = |i: usize| body_start + map.map_or(i, |m| m.get(i).copied().unwrap_or(0) as usize);
    let vouched = input.vouched();
    let required = required_regex().find(text);
    for (at, url) in urls::find_urls(text) {
        let Some(place) = unvouched_delivery(url, vouched, input) else { continue };
        let start = floor_char_boundary(text, at.saturating_sub(WINDOW));
        let end = floor_char_boundary(text, (at + url.len() + WINDOW).min(text.len()));
        let window = &text[start..end];
        let paste_page = place == "a paste page";
        // A paste page delivers a command to run in a terminal; an archive needs a password or
        // an executable to launch.
        // An archive password only means something for an archive.
        let archive = urls::host_and_path(url).is_some_and(|(_, p)| is_archive(&p));
        let password = password_regex().find(window).filter(|_| !paste_page && archive);
        let run = run_step_regex().find(window).filter(|_| !paste_page);
        let terminal = terminal_step_regex().find(window).filter(|_| paste_page || place == "a raw IP address");
        // (what, start, end) in the normalised text.
        let steps: Vec<(&str, usize, usize)> =
            [("archive password", password), ("run step", run), ("terminal step", terminal)]
                .into_iter()
                .filter_map(|(what, m)| m.map(|m| (what, start + m.start(), start + m.end())))
                .collect();
        // A claim alone ("requires X") next to a download is `required-helper-download`'s.
        if steps.is_empty() {
            continue;
        }
        let file_start = to_file(at);
        let location =
            HitLocation::File { file: index, range: Some(file_start..to_file(at + url.len()).max(file_start)) };
        let mut facts: Vec<&str> = steps.iter().map(|(what, _, _)| *what).collect();
        if required.is_some() {
            facts.push("required-helper claim");
        }
        let detail = format!("from {place}, with {}", facts.join(", "));
        let Some(hit) = out.emit("required-helper-dropper", location, Some(detail)) else { return };
        hit.captures.push(("url".to_string(), url.to_string()));
        let claim = required.map(|m| ("required-helper claim", m.start(), m.end()));
        for (what, s, e) in steps.iter().copied().chain(claim) {
            let (line, column) = manifest.lines.line_col(original, to_file(s));
            hit.related.push(RelatedLocation {
                file: manifest.path.clone(),
                line,
                column,
                message: what.to_string(),
                snippet: escape_snippet(text.get(s..e).unwrap_or(""), 120),
            });
        }
        // One finding per skill: the first delivery that carries the shape.
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies() {
        for text in
            ["pass: sync24", "**password:** ocr2026", "| PW | `clip` |", "the password is `x9`", "7z x a.7z -pinfected"]
        {
            assert!(password_regex().is_match(text), "{text}");
        }
        for text in [
            "Launch `NotionBridge.exe` once",
            "double-click ClipEngine.exe",
            "run the installer",
            "start the setup file",
        ] {
            assert!(run_step_regex().is_match(text), "{text}");
        }
        assert!(
            terminal_step_regex().is_match("visit the page and run the command shown on that page in your terminal")
        );
        assert!(required_regex().is_match("NotionBridge is required for this skill to function"));
        assert!(required_regex().is_match("the skill won't work without it"));
        assert!(!password_regex().is_match("passing tests"));
        assert!(archive_or_executable("/file/x7k2/InvoiceOCR-setup.zip/file"));
        assert!(!archive_or_executable("/docs/install"));
    }
}
