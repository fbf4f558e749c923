//! Markdown output (GitHub-flavoured), for a pull request comment or `$GITHUB_STEP_SUMMARY`:
//! the verdict counts, a table of the skills (worst first) with their counts, the rules that
//! fired most, then one table of findings per skill with the matched and decoded text.
//!
//! Everything a skill controls (names, paths, messages quoting it, matched and decoded text) is
//! escaped so that it stays text: no HTML, no links, no emphasis, no broken table. Code spans get
//! a backtick fence longer than any run inside them; other text has every ASCII punctuation
//! character backslash-escaped (CommonMark allows it for all of them, and it also keeps `|` from
//! ending a table cell); line breaks, control and invisible characters are written as escapes.
//! The output contains no HTML of its own, so a renderer that drops or keeps raw HTML shows the
//! same thing.
//!
//! GitHub caps a comment at 65,536 characters and a step summary at 1 MiB: the skills table
//! and the findings are cut after [`MAX_SKILL_ROWS`] and [`MAX_FINDING_ROWS`] rows, saying so.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Hidden, VERDICTS, finding_shown, skill_shown, suppressed_count, top_rules, worst_first};
use crate::engine::finding::{Finding, Severity};
use crate::engine::scan::{ScanReport, SkillReport};
use crate::engine::text::escape_snippet;
use crate::engine::verdict::Verdict;

/// Rows of the skills table before it is cut.
pub const MAX_SKILL_ROWS: usize = 100;
/// Finding rows, over all skills, before the rest is only counted.
pub const MAX_FINDING_ROWS: usize = 150;
/// Characters of matched or decoded text kept in a cell.
const MAX_CELL_CHARS: usize = 160;
/// Characters of other text (messages, warnings) kept.
const MAX_TEXT_CHARS: usize = 2000;
const TOP_RULES: usize = 10;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Leave out skills and findings below this severity (the summary counts them).
    pub min_severity: Option<Severity>,
    /// Level of the report's own heading (`2` is `##`); sections are one level below.
    pub heading_level: usize,
    /// The heading's first words, before the verdict counts.
    pub title: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options { min_severity: None, heading_level: 2, title: "skillscan" }
    }
}

/// Text that must read as itself wherever it lands: a table cell, a heading, a paragraph.
/// Long text is cut to [`MAX_TEXT_CHARS`].
pub fn text(raw: &str) -> String {
    let raw = escape_snippet(raw, MAX_TEXT_CHARS);
    let mut out = String::with_capacity(raw.len() + raw.len() / 4);
    for c in raw.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span holding `raw` verbatim (after escaping line breaks and invisible characters and
/// cutting it to `max_chars`). In a table cell (`in_table`), `|` is written `\|`: GitHub and
/// CommonMark's table extension split cells on pipes before they look for code spans.
pub fn code(raw: &str, max_chars: usize, in_table: bool) -> String {
    let mut content = escape_snippet(raw, max_chars);
    if content.is_empty() {
        return String::new();
    }
    if in_table {
        content = content.replace('|', "\\|");
    }
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space on each side keeps a backtick at either end out of the fence, and is stripped
    // again by the parser (one each side, when both ends have one).
    let pad = content.starts_with(['`', ' ']) || content.ends_with(['`', ' ']);
    if pad { format!("{fence} {content} {fence}") } else { format!("{fence}{content}{fence}") }
}

fn heading(level: usize, text: &str) -> String {
    format!("{} {text}\n", "#".repeat(level.clamp(1, 6)))
}

fn verdict_text(verdict: Verdict) -> String {
    match verdict {
        Verdict::Malicious | Verdict::Suspicious => format!("**{}**", verdict.as_str()),
        Verdict::Caution | Verdict::Clean => verdict.as_str().to_string(),
    }
}

fn count(n: usize) -> String {
    n.to_string()
}

/// The skill as a table cell or heading: its root, and its name when that says something more.
fn skill_label(skill: &SkillReport, in_table: bool) -> String {
    let root = code(&skill.root, 200, in_table);
    match &skill.name {
        Some(name) if !skill.root.trim_end_matches('/').ends_with(name.as_str()) => {
            format!("{root} ({})", code(name, 100, in_table))
        }
        _ => root,
    }
}

pub fn render(report: &ScanReport, options: Options, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(to_string(report, options).as_bytes())
}

pub fn to_string(report: &ScanReport, options: Options) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let level = options.heading_level;
    let verdicts = VERDICTS
        .iter()
        .map(|v| format!("{} {}", s.verdicts.get(v).copied().unwrap_or(0), v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    md.push_str(&heading(level, &format!("{}: {verdicts}", options.title)));
    md.push('\n');
    let findings = Severity::ALL
        .iter()
        .rev()
        .filter_map(|sev| s.findings_by_severity.get(sev).filter(|n| **n > 0).map(|n| format!("{n} {sev}")))
        .collect::<Vec<_>>();
    let findings = if findings.is_empty() { "no findings".to_string() } else { findings.join(", ") };
    let _ = writeln!(
        md,
        "{} skill(s) scanned, {} file(s); {findings}; skillscan {}, rules {}",
        s.skills,
        s.files,
        report.tool.version,
        code(&report.tool.rules_version, 80, false)
    );

    let mut notes = Vec::new();
    if let Some(baseline) = &report.baseline {
        notes.push(format!(
            "{} finding(s) already in the baseline {} are not counted or listed.",
            baseline.baselined,
            code(&baseline.file, 200, false)
        ));
    }
    let suppressed = suppressed_count(report);
    if suppressed > 0 {
        notes.push(format!("{suppressed} suppressed finding(s) are not counted or listed."));
    }
    let hidden = Hidden::of(report, options.min_severity);
    if let Some(min) = options.min_severity.filter(|_| !hidden.is_empty()) {
        notes.push(format!(
            "Not listed (`--min-severity {min}`): {} skill(s) whose worst finding is below {min}, and {} \
             finding(s) below {min} of the skills listed.",
            hidden.skills, hidden.findings
        ));
    }
    for warning in &report.warnings {
        notes.push(format!("Warning: {}", text(warning)));
    }
    if !notes.is_empty() {
        md.push('\n');
        for note in notes {
            let _ = writeln!(md, "- {note}");
        }
    }

    let shown = worst_first(report.skills.iter().filter(|s| skill_shown(s, options.min_severity)));
    if !shown.is_empty() {
        md.push('\n');
        md.push_str("| Skill | Verdict | Worst severity | Critical | High | Medium | Low | Info | Score |\n");
        md.push_str("| :-- | :-- | :-- | --: | --: | --: | --: | --: | --: |\n");
        for skill in shown.iter().take(MAX_SKILL_ROWS) {
            let counts = Severity::ALL
                .iter()
                .rev()
                .map(|sev| count(skill.counts.get(sev).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(" | ");
            let _ = writeln!(
                md,
                "| {} | {} | {} | {counts} | {} |",
                skill_label(skill, true),
                verdict_text(skill.verdict),
                skill.max_severity.map_or("none", Severity::as_str),
                skill.score
            );
        }
        if shown.len() > MAX_SKILL_ROWS {
            let rest = &shown[MAX_SKILL_ROWS..];
            let clean = rest.iter().filter(|s| s.verdict == Verdict::Clean).count();
            let _ = writeln!(md, "\n{} more skill(s) not listed, {clean} of them clean.", rest.len());
        }
    }

    let rules = top_rules(report, TOP_RULES);
    if !rules.is_empty() {
        md.push('\n');
        md.push_str(&heading(level + 1, "Top rules"));
        md.push('\n');
        md.push_str("| Rule | Severity | Findings | Skills |\n| :-- | :-- | --: | --: |\n");
        for rule in &rules {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                code(rule.rule_id, 100, true),
                rule.severity,
                rule.findings,
                rule.skills
            );
        }
    }

    let mut rows_left = MAX_FINDING_ROWS;
    let mut not_listed = 0;
    for skill in &shown {
        let findings: Vec<&Finding> =
            skill.findings.iter().filter(|f| f.is_active() && finding_shown(f, options.min_severity)).collect();
        if findings.is_empty() {
            continue;
        }
        if rows_left == 0 {
            not_listed += findings.len();
            continue;
        }
        md.push('\n');
        md.push_str(&heading(
            level + 1,
            &format!("{} — {} (score {})", skill_label(skill, false), verdict_text(skill.verdict), skill.score),
        ));
        md.push('\n');
        let caps = &skill.capabilities;
        if !caps.is_empty() {
            let mut parts = Vec::new();
            let mut list = |label: &str, items: Vec<&String>| {
                if !items.is_empty() {
                    let shown: Vec<String> = items.iter().take(8).map(|i| code(i, 100, false)).collect();
                    let more = if items.len() > 8 { format!(" and {} more", items.len() - 8) } else { String::new() };
                    parts.push(format!("{label} {}{more}", shown.join(", ")));
                }
            };
            list("hosts", caps.hosts.iter().collect());
            list("runs", caps.binaries.iter().collect());
            list("env", caps.env_vars.iter().collect());
            list("credentials", caps.credential_paths.iter().collect());
            list("writes", caps.paths_written.iter().collect());
            list("persistence", caps.persistence.iter().collect());
            list("installs", caps.install_specs.iter().collect());
            let _ = writeln!(md, "Capabilities (least privilege: {}): {}\n", caps.privilege.as_str(), parts.join("; "));
        }
        md.push_str("| Severity | Rule | Location | Finding | Matched | Decoded |\n");
        md.push_str("| :-- | :-- | :-- | :-- | :-- | :-- |\n");
        for finding in findings.iter().take(rows_left) {
            let decoded = finding
                .decoded
                .as_ref()
                .map(|d| {
                    format!("{} {}", text(&format!("({})", d.chain.join(" → "))), code(&d.text, MAX_CELL_CHARS, true))
                })
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {decoded} |",
                finding.severity,
                code(&finding.rule_id, 100, true),
                code(&super::finding_location(finding), 200, true),
                text(&finding.message),
                code(&finding.snippet, MAX_CELL_CHARS, true),
            );
        }
        let listed = findings.len().min(rows_left);
        rows_left -= listed;
        not_listed += findings.len() - listed;
    }
    if not_listed > 0 {
        let _ = writeln!(
            md,
            "\n{not_listed} more finding(s) not listed here; `--format json` or `--format sarif` has them all."
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("a`b", 100, false), "``a`b``");
        assert_eq!(code("`x`", 100, false), "`` `x` ``");
        assert_eq!(code("a|b", 100, true), "`a\\|b`");
        assert_eq!(code("a|b", 100, false), "`a|b`");
        assert_eq!(code("l1\nl2", 100, false), "`l1\\nl2`");
        assert_eq!(code("", 100, false), "");
    }

    #[test]
    fn text_escapes_all_punctuation() {
        assert_eq!(text("<b>*x*</b> | [a](b)"), "\\<b\\>\\*x\\*\\<\\/b\\> \\| \\[a\\]\\(b\\)");
        assert_eq!(text("a\nb"), "a\\\\nb");
    }
}
