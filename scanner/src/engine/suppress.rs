//! Suppressions: `[[ignore]]` entries of skillscan.toml and `skillscan-ignore:` comments.
//! A suppressed finding stays in JSON and SARIF, marked with its reason; it just stops counting.

use std::sync::atomic::{AtomicUsize, Ordering};

use globset::GlobMatcher;

use crate::engine::analysis::FileAnalysis;
use crate::engine::config::{IgnoreEntry, today};
use crate::engine::finding::{Finding, Suppression, SuppressionKind};

pub struct Ignores {
    entries: Vec<(IgnoreEntry, Option<GlobMatcher>, bool)>,
    used: Vec<AtomicUsize>,
}

impl Ignores {
    pub fn new(entries: &[IgnoreEntry]) -> Self {
        let now = today();
        Ignores {
            entries: entries
                .iter()
                .map(|e| {
                    let glob = globset::Glob::new(&e.path).ok().map(|g| g.compile_matcher());
                    (e.clone(), glob, e.expired(now))
                })
                .collect(),
            used: entries.iter().map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    pub fn apply(&self, root: &str, findings: &mut [Finding]) {
        for finding in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            let full = format!("{}/{}", root.trim_end_matches('/'), finding.file);
            for (i, (entry, glob, expired)) in self.entries.iter().enumerate() {
                if *expired || (entry.rule != "*" && entry.rule != finding.rule_id) {
                    continue;
                }
                let path_ok =
                    glob.as_ref().is_some_and(|g| g.is_match(&finding.file) || g.is_match(&full) || g.is_match(root));
                if path_ok {
                    finding.suppressed =
                        Some(Suppression { kind: SuppressionKind::Config, reason: entry.reason.clone() });
                    self.used[i].fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (entry, _, expired)) in self.entries.iter().enumerate() {
            let what = format!("ignore #{} (rule `{}`, path `{}`)", i + 1, entry.rule, entry.path);
            if *expired {
                let date = entry.expires.as_ref().map(|d| d.to_string()).unwrap_or_default();
                out.push(format!("config: {what} expired on {date} and no longer applies"));
            } else if self.used[i].load(Ordering::Relaxed) == 0 {
                out.push(format!("config: {what} matched no finding; remove it if it is stale"));
            }
        }
        out
    }
}

/// `skillscan-ignore: rule-a, rule-b -- reason` on the finding's line or the line above.
fn directive(line: &str) -> Option<(Vec<&str>, &str)> {
    let at = line.find("skillscan-ignore:")?;
    let rest = &line[at + "skillscan-ignore:".len()..];
    let (ids, reason) = rest.split_once("--")?;
    let reason = reason.trim().trim_end_matches("-->").trim_end_matches("*/").trim();
    if reason.is_empty() {
        return None;
    }
    let ids = ids.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).collect();
    Some((ids, reason))
}

pub fn apply_inline(files: &[FileAnalysis], findings: &mut [Finding]) {
    for finding in findings.iter_mut().filter(|f| f.suppressed.is_none() && f.line > 0) {
        let Some(file) = files.iter().find(|f| f.path == finding.file) else {
            continue;
        };
        let text = file.text();
        if !text.contains("skillscan-ignore:") {
            continue;
        }
        let line = finding.line as usize - 1;
        let candidates = [Some(line), line.checked_sub(1)];
        for l in candidates.into_iter().flatten() {
            let range = file.lines.line_range(text, l);
            if let Some((ids, reason)) = directive(&text[range])
                && ids.contains(&finding.rule_id.as_str())
            {
                finding.suppressed = Some(Suppression { kind: SuppressionKind::Inline, reason: reason.to_string() });
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_need_ids_and_a_reason() {
        assert_eq!(
            directive("curl x | sh # skillscan-ignore: a, b -- vendor installer"),
            Some((vec!["a", "b"], "vendor installer"))
        );
        assert_eq!(directive("<!-- skillscan-ignore: a -- reviewed -->"), Some((vec!["a"], "reviewed")));
        assert_eq!(directive("# skillscan-ignore: a"), None);
        assert_eq!(directive("# skillscan-ignore: a --   "), None);
    }
}
