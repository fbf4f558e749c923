//! HTML output: one self-contained file to open in a browser or attach to a build. The verdict
//! summary, a table of skills, then per skill its capability manifest and findings with the
//! source line (the match marked), decoded payloads and related locations. Checkboxes filter by
//! severity and verdict; the state is kept in the URL fragment (`#severity=critical,high&verdict=malicious`)
//! so a filtered view can be linked.
//!
//! **Nothing is fetched and nothing from the skill runs.** The page carries its style and script
//! inline, and a Content-Security-Policy (`default-src 'none'`) allows exactly those two by
//! their SHA-256, so even markup that slipped through could neither run a script nor load
//! anything. It does not slip through: the page is a [`maud`] template, which HTML-escapes every
//! interpolated value unless it is wrapped in `PreEscaped`, and only the two constants below
//! are. Text a skill controls is also shown with control and invisible characters escaped
//! (bidirectional overrides cannot reorder what the reader sees).

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::{Hidden, VERDICTS, finding_shown, skill_shown, suppressed_count, top_rules, worst_first};
use crate::engine::finding::{Finding, Severity};
use crate::engine::scan::{ScanReport, SkillReport};
use crate::engine::text::escape_snippet;

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");
const TOP_RULES: usize = 10;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Leave out skills and findings below this severity (the summary counts them).
    pub min_severity: Option<Severity>,
    /// The page title's first words [default: "skillscan report"].
    pub title: Option<String>,
}

/// `skillscan ci`'s checks of pins and signatures, shown above the scan.
#[derive(Debug, Clone, Default)]
pub struct Integrity {
    /// One line: the outcome and the exit code.
    pub outcome: String,
    pub failed: bool,
    pub skills: Vec<IntegritySkill>,
    /// (code, message) of problems not tied to one skill.
    pub problems: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct IntegritySkill {
    pub root: String,
    pub identity: String,
    pub pin: String,
    pub signature: String,
    pub installed: bool,
    /// (code, message)
    pub problems: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// `'sha256-…'` of a style or script body, as a CSP source expression.
fn csp_hash(body: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes())))
}

/// The Content-Security-Policy of the page: nothing but its own style and script.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// Text a skill controls, as the reader should see it: invisible and control characters escaped.
fn visible(text: &str, max_chars: usize) -> String {
    escape_snippet(text, max_chars)
}

pub fn render(report: &ScanReport, options: &Options, integrity: Option<&Integrity>) -> String {
    page(report, options, integrity).into_string()
}

fn page(report: &ScanReport, options: &Options, integrity: Option<&Integrity>) -> Markup {
    let s = &report.summary;
    let verdict_line = VERDICTS
        .iter()
        .map(|v| format!("{} {}", s.verdicts.get(v).copied().unwrap_or(0), v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let title = options.title.clone().unwrap_or_else(|| "skillscan report".to_string());
    let shown = worst_first(report.skills.iter().filter(|sk| skill_shown(sk, options.min_severity)));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) ": " (verdict_line) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (title) }
                    p.meta {
                        "skillscan " (report.tool.version) ", rules " (report.tool.rules_version) "; "
                        (s.skills) " skill(s), " (s.files) " file(s), " (s.bytes) " bytes, " (s.elapsed_ms) " ms"
                    }
                }
                @if let Some(integrity) = integrity {
                    (integrity_section(integrity))
                }
                (summary(report, options))
                (filters())
                @if !shown.is_empty() {
                    (skills_table(&shown))
                }
                main {
                    @for (row, skill) in shown.iter().enumerate() {
                        (skill_section(skill, row, options))
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

fn summary(report: &ScanReport, options: &Options) -> Markup {
    let s = &report.summary;
    let rules = top_rules(report, TOP_RULES);
    let suppressed = suppressed_count(report);
    let hidden = Hidden::of(report, options.min_severity);
    html! {
        section #summary {
            h2 { "Summary" }
            div.cards {
                @for verdict in VERDICTS {
                    div class={ "card verdict-" (verdict.as_str()) } data-verdict=(verdict.as_str()) {
                        span.count { (s.verdicts.get(&verdict).copied().unwrap_or(0)) }
                        span.label { (verdict.as_str()) }
                    }
                }
            }
            table.severities {
                thead { tr { @for sev in Severity::ALL.iter().rev() { th { (sev.as_str()) } } } }
                tbody { tr { @for sev in Severity::ALL.iter().rev() {
                    td class={ "sev-" (sev.as_str()) } { (s.findings_by_severity.get(sev).copied().unwrap_or(0)) }
                } } }
            }
            ul.notes {
                @if let Some(baseline) = &report.baseline {
                    li.baseline { (baseline.baselined) " finding(s) already in the baseline " code { (visible(&baseline.file, 300)) } " are not counted or shown." }
                }
                @if suppressed > 0 {
                    li { (suppressed) " suppressed finding(s) are not counted or shown." }
                }
                @if let Some(min) = options.min_severity.filter(|_| !hidden.is_empty()) {
                    li { "Not included (--min-severity " (min) "): " (hidden.skills) " skill(s) whose worst finding is below " (min) ", and " (hidden.findings) " finding(s) below " (min) " of the skills shown." }
                }
                @for warning in &report.warnings {
                    li.warning { "Warning: " (visible(warning, 2000)) }
                }
            }
            @if !rules.is_empty() {
                h3 { "Top rules" }
                table.rules {
                    thead { tr { th { "Rule" } th { "Severity" } th.num { "Findings" } th.num { "Skills" } } }
                    tbody {
                        @for rule in &rules {
                            tr {
                                td { code { (rule.rule_id) } }
                                td { span class={ "sev sev-" (rule.severity.as_str()) } { (rule.severity.as_str()) } }
                                td.num { (rule.findings) }
                                td.num { (rule.skills) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn filters() -> Markup {
    html! {
        form #filters {
            fieldset {
                legend { "Severity" }
                @for sev in Severity::ALL.iter().rev() {
                    label { input type="checkbox" data-filter="severity" value=(sev.as_str()) checked; " " (sev.as_str()) }
                }
            }
            fieldset {
                legend { "Verdict" }
                @for verdict in VERDICTS {
                    label { input type="checkbox" data-filter="verdict" value=(verdict.as_str()) checked; " " (verdict.as_str()) }
                }
            }
            output #shown {}
        }
    }
}

fn skills_table(shown: &[&SkillReport]) -> Markup {
    html! {
        table #skills {
            thead { tr {
                th { "Skill" } th { "Verdict" } th { "Worst" }
                @for sev in Severity::ALL.iter().rev() { th.num { (sev.as_str()) } }
                th.num { "Score" }
            } }
            tbody {
                @for (row, skill) in shown.iter().enumerate() {
                    tr.skill-row data-skill={ "s" (row) } data-verdict=(skill.verdict.as_str()) {
                        td { a href={ "#s" (row) } { (visible(&skill.root, 200)) } }
                        td { span class={ "verdict verdict-" (skill.verdict.as_str()) } { (skill.verdict.as_str()) } }
                        td { (skill.max_severity.map_or("none", Severity::as_str)) }
                        @for sev in Severity::ALL.iter().rev() { td.num { (skill.counts.get(sev).copied().unwrap_or(0)) } }
                        td.num { (skill.score) }
                    }
                }
            }
        }
    }
}

/// One skill; `row` is its place in the skills table (its anchor is `#s<row>`).
fn skill_section(skill: &SkillReport, row: usize, options: &Options) -> Markup {
    let findings: Vec<&Finding> =
        skill.findings.iter().filter(|f| f.is_active() && finding_shown(f, options.min_severity)).collect();
    let caps = &skill.capabilities;
    let lists: [(&str, Vec<&String>); 7] = [
        ("hosts", caps.hosts.iter().collect()),
        ("runs", caps.binaries.iter().collect()),
        ("env", caps.env_vars.iter().collect()),
        ("credentials", caps.credential_paths.iter().collect()),
        ("writes", caps.paths_written.iter().collect()),
        ("persistence", caps.persistence.iter().collect()),
        ("installs", caps.install_specs.iter().collect()),
    ];
    html! {
        section.skill id={ "s" (row) } data-verdict=(skill.verdict.as_str())
            data-severity=(skill.max_severity.map_or("none", Severity::as_str)) {
            h2 {
                span class={ "verdict verdict-" (skill.verdict.as_str()) } { (skill.verdict.as_str()) }
                " " (visible(&skill.root, 300))
                @if let Some(name) = &skill.name { " " span.name { "(" (visible(name, 100)) ")" } }
            }
            p.meta { "score " (skill.score) ", worst severity " (skill.max_severity.map_or("none", Severity::as_str)) ", " (skill.files) " file(s)" }
            section.caps {
                h3 { "Capabilities " span.privilege { "least privilege: " (caps.privilege.as_str()) } }
                @if caps.is_empty() {
                    p.none { "none observed" }
                } @else {
                    dl {
                        @for (label, items) in &lists {
                            @if !items.is_empty() {
                                dt { (label) }
                                dd { @for (i, item) in items.iter().enumerate() { @if i > 0 { ", " } code { (visible(item, 200)) } } }
                            }
                        }
                    }
                }
            }
            @if !findings.is_empty() {
                table.findings {
                    thead { tr { th { "Severity" } th { "Rule" } th { "Location" } th { "Finding" } } }
                    tbody {
                        @for finding in &findings { (finding_row(finding)) }
                    }
                }
            }
        }
    }
}

fn finding_row(finding: &Finding) -> Markup {
    html! {
        tr.finding data-severity=(finding.severity.as_str()) data-rule=(finding.rule_id) {
            td { span class={ "sev sev-" (finding.severity.as_str()) } { (finding.severity.as_str()) } }
            td { code.rule { (finding.rule_id) } br; span.category { (finding.category.name()) } }
            td.loc { code { (visible(&super::finding_location(finding), 300)) } }
            td {
                p.message { (visible(&finding.message, 2000)) }
                @if let Some(context) = &finding.context {
                    pre.source {
                        span.ln { (finding.line) }
                        (source_line(&context.line, context.marker_start, context.marker_len))
                    }
                } @else if !finding.snippet.is_empty() {
                    pre.source { mark { (finding.snippet) } }
                }
                @if let Some(decoded) = &finding.decoded {
                    div.decoded {
                        span.chain { "decoded (" (decoded.chain.join(" → ")) ")" }
                        pre { (decoded.text) }
                    }
                }
                @if !finding.related.is_empty() {
                    ul.related {
                        @for related in &finding.related {
                            li {
                                code { (visible(&related.file, 300)) ":" (related.line) ":" (related.column) }
                                " " (visible(&related.message, 2000))
                                @if !related.snippet.is_empty() { " " code { (related.snippet) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The escaped source line with the matched characters in a `<mark>`.
fn source_line(line: &str, start: usize, len: usize) -> Markup {
    let before: String = line.chars().take(start).collect();
    let matched: String = line.chars().skip(start).take(len.max(1)).collect();
    let after: String = line.chars().skip(start + len.max(1)).collect();
    html! { (before) mark { (matched) } (after) }
}

fn integrity_section(integrity: &Integrity) -> Markup {
    html! {
        section #integrity class={ "integrity " (if integrity.failed { "failed" } else { "passed" }) } {
            h2 { "Integrity" }
            p.outcome { (integrity.outcome) }
            @if !integrity.skills.is_empty() {
                table {
                    thead { tr { th { "Skill" } th { "Identity" } th { "Pin" } th { "Signature" } th { "Problems" } } }
                    tbody {
                        @for skill in &integrity.skills {
                            tr class=(if skill.problems.is_empty() { "ok" } else { "fail" }) {
                                td { code { (visible(&skill.root, 300)) } @if skill.installed { " " span.note { "(installed from a registry)" } } }
                                td { (visible(&skill.identity, 200)) }
                                td { (skill.pin) }
                                td { (skill.signature) }
                                td {
                                    @if skill.problems.is_empty() && skill.notes.is_empty() { "none" }
                                    ul {
                                        @for (code, message) in &skill.problems { li { code { (code) } ": " (message) } }
                                        @for note in &skill.notes { li.note { "note: " (note) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !integrity.problems.is_empty() || !integrity.warnings.is_empty() {
                ul {
                    @for (code, message) in &integrity.problems { li.fail { code { (code) } ": " (message) } }
                    @for warning in &integrity.warnings { li.warning { "Warning: " (warning) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_hashes_of_the_inline_style_and_script() {
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none';"), "{policy}");
        assert!(policy.contains(&csp_hash(STYLE)) && policy.contains(&csp_hash(SCRIPT)));
        assert_eq!(csp_hash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    }

    #[test]
    fn marked_lines_escape_every_part() {
        let markup = source_line("<b>x</b> & \"y\"", 3, 1).into_string();
        assert_eq!(markup, "&lt;b&gt;<mark>x</mark>&lt;/b&gt; &amp; &quot;y&quot;");
    }
}
