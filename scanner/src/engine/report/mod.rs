//! Output formats. JSON is [`crate::ScanReport`] serialised; the others render it.
//!
//! Human, Markdown and HTML output can leave out skills and findings below a severity
//! (`--min-severity`); their summaries still count everything.

use std::collections::BTreeMap;

use crate::engine::finding::{Finding, Severity, SuppressionKind};
use crate::engine::scan::{ScanReport, SkillReport};
use crate::engine::verdict::Verdict;

pub mod baseline;
pub mod github;
pub mod html;
pub mod human;
pub mod markdown;
pub mod paint;
pub mod sarif;

/// Verdicts, worst first (the order summaries list them in).
pub const VERDICTS: [Verdict; 4] = [Verdict::Malicious, Verdict::Suspicious, Verdict::Caution, Verdict::Clean];

/// Whether a skill is listed at all under `--min-severity`: its worst active finding is at or
/// above the level. Without a level every skill is.
pub fn skill_shown(skill: &SkillReport, min_severity: Option<Severity>) -> bool {
    min_severity.is_none_or(|min| skill.max_severity.is_some_and(|worst| worst >= min))
}

/// Whether a finding is listed under `--min-severity` (suppression is the caller's business).
pub fn finding_shown(finding: &Finding, min_severity: Option<Severity>) -> bool {
    min_severity.is_none_or(|min| finding.severity >= min)
}

/// What `--min-severity` left out: skills, and active findings of the skills still shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hidden {
    pub skills: usize,
    pub findings: usize,
}

impl Hidden {
    pub fn of(report: &ScanReport, min_severity: Option<Severity>) -> Hidden {
        let mut hidden = Hidden::default();
        for skill in &report.skills {
            if !skill_shown(skill, min_severity) {
                hidden.skills += 1;
            } else {
                hidden.findings +=
                    skill.findings.iter().filter(|f| f.is_active() && !finding_shown(f, min_severity)).count();
            }
        }
        hidden
    }

    pub fn is_empty(&self) -> bool {
        self.skills == 0 && self.findings == 0
    }
}

/// A rule and how often it fired (active findings only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount<'r> {
    pub rule_id: &'r str,
    /// The highest severity among its findings (context can lower a rule's severity per finding).
    pub severity: Severity,
    pub findings: usize,
    /// Skills with at least one of its findings.
    pub skills: usize,
}

/// The `limit` rules with the most active findings: most findings first, then the more severe,
/// then by id.
pub fn top_rules(report: &ScanReport, limit: usize) -> Vec<RuleCount<'_>> {
    let mut by_rule: BTreeMap<&str, RuleCount<'_>> = BTreeMap::new();
    for skill in &report.skills {
        let mut seen_in_skill: Vec<&str> = Vec::new();
        for finding in skill.findings.iter().filter(|f| f.is_active()) {
            let entry = by_rule.entry(&finding.rule_id).or_insert(RuleCount {
                rule_id: &finding.rule_id,
                severity: finding.severity,
                findings: 0,
                skills: 0,
            });
            entry.findings += 1;
            entry.severity = entry.severity.max(finding.severity);
            if !seen_in_skill.contains(&finding.rule_id.as_str()) {
                seen_in_skill.push(&finding.rule_id);
                entry.skills += 1;
            }
        }
    }
    let mut rules: Vec<RuleCount<'_>> = by_rule.into_values().collect();
    rules.sort_by(|a, b| {
        b.findings.cmp(&a.findings).then_with(|| b.severity.cmp(&a.severity)).then_with(|| a.rule_id.cmp(b.rule_id))
    });
    rules.truncate(limit);
    rules
}

/// Findings that are suppressed, by config or inline comments (not by the baseline).
pub fn suppressed_count(report: &ScanReport) -> usize {
    report
        .skills
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.suppressed.as_ref().is_some_and(|s| s.kind != SuppressionKind::Baseline))
        .count()
}

/// Where a finding is, as reports show it: `file:line:col`, the file alone, or `(skill)` for a
/// finding about the skill as a whole.
pub fn finding_location(finding: &Finding) -> String {
    if finding.line > 0 {
        format!("{}:{}:{}", finding.file, finding.line, finding.column)
    } else if finding.file.is_empty() {
        "(skill)".to_string()
    } else {
        finding.file.clone()
    }
}

/// Skills listed worst first: verdict, then score, then root.
pub fn worst_first<'r>(skills: impl Iterator<Item = &'r SkillReport>) -> Vec<&'r SkillReport> {
    let mut skills: Vec<&SkillReport> = skills.collect();
    skills.sort_by(|a, b| {
        b.verdict.cmp(&a.verdict).then_with(|| b.score.cmp(&a.score)).then_with(|| a.root.cmp(&b.root))
    });
    skills
}
