//! The verdict model: from findings to clean / caution / suspicious / malicious, and a 0–100
//! score. Every verdict is explained by the findings that caused it.
//!
//! - **malicious**: an active critical finding of at least medium confidence, or active high
//!   findings in two or more different threat categories (capability plus intent: e.g. a
//!   fetch-and-execute line *and* an instruction to hide it from the user).
//! - **suspicious**: any other active high or critical finding.
//! - **caution**: active low or medium findings only.
//! - **clean**: nothing, or informational findings only.
//!
//! Suppressed findings never count. Coverage findings (a limit hit, an unparseable file) count
//! for their severity but never as a threat category.
//!
//! The score adds `severity weight × confidence` per finding (info 0, low 2, medium 8, high 25,
//! critical 60; confidence low ×0.5, medium ×0.75, high ×1), at most two findings per rule, capped
//! at 100. It orders skills for review; the verdict is what policy acts on.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::engine::finding::{Category, Confidence, Finding, Severity};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_verdict)]
pub enum Verdict {
    Clean,
    Caution,
    Suspicious,
    Malicious,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_verdict(s: &str) -> String {
    format!("unknown verdict `{s}` (clean, caution, suspicious or malicious)")
}

fn weight(severity: Severity) -> f64 {
    match severity {
        Severity::Info => 0.0,
        Severity::Low => 2.0,
        Severity::Medium => 8.0,
        Severity::High => 25.0,
        Severity::Critical => 60.0,
    }
}

fn confidence_factor(confidence: Confidence) -> f64 {
    match confidence {
        Confidence::Low => 0.5,
        Confidence::Medium => 0.75,
        Confidence::High => 1.0,
    }
}

/// Verdict, highest active severity, and score of a skill's findings.
pub fn assess(findings: &[Finding]) -> (Verdict, Option<Severity>, u32) {
    let active: Vec<&Finding> = findings.iter().filter(|f| f.is_active()).collect();
    let max_severity = active.iter().map(|f| f.severity).max();
    let mut per_rule: HashMap<&str, usize> = HashMap::new();
    let mut score = 0.0;
    for finding in &active {
        let n = per_rule.entry(finding.rule_id.as_str()).or_insert(0);
        *n += 1;
        if *n <= 2 {
            score += weight(finding.severity) * confidence_factor(finding.confidence);
        }
    }
    let high_categories: BTreeSet<Category> = active
        .iter()
        .filter(|f| f.severity >= Severity::High && f.category != Category::Coverage)
        .map(|f| f.category)
        .collect();
    let confident_critical =
        active.iter().any(|f| f.severity == Severity::Critical && f.confidence >= Confidence::Medium);
    let verdict = if confident_critical || high_categories.len() >= 2 {
        Verdict::Malicious
    } else {
        match max_severity {
            Some(Severity::High | Severity::Critical) => Verdict::Suspicious,
            Some(Severity::Low | Severity::Medium) => Verdict::Caution,
            Some(Severity::Info) | None => Verdict::Clean,
        }
    };
    (verdict, max_severity, (score.round() as u32).min(100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::finding::Suppression;

    fn finding(rule: &str, severity: Severity, category: Category, confidence: Confidence) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity,
            category,
            confidence,
            message: String::new(),
            file: "SKILL.md".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            snippet: String::new(),
            decoded: None,
            related: vec![],
            suppressed: None,
            context: None,
        }
    }

    #[test]
    fn nothing_is_clean() {
        assert_eq!(assess(&[]), (Verdict::Clean, None, 0));
    }

    #[test]
    fn severities_map_to_verdicts() {
        let low = finding("a", Severity::Low, Category::B2, Confidence::High);
        assert_eq!(assess(std::slice::from_ref(&low)).0, Verdict::Caution);
        let high = finding("b", Severity::High, Category::B2, Confidence::High);
        assert_eq!(assess(&[low.clone(), high.clone()]).0, Verdict::Suspicious);
        let critical = finding("c", Severity::Critical, Category::B5, Confidence::High);
        assert_eq!(assess(&[critical]).0, Verdict::Malicious);
        let unsure_critical = finding("c", Severity::Critical, Category::B5, Confidence::Low);
        assert_eq!(assess(&[unsure_critical]).0, Verdict::Suspicious);
    }

    #[test]
    fn two_high_threat_categories_are_malicious_but_coverage_is_not_a_category() {
        let fetch = finding("a", Severity::High, Category::B2, Confidence::Medium);
        let hide = finding("b", Severity::High, Category::B8, Confidence::Medium);
        assert_eq!(assess(&[fetch.clone(), hide]).0, Verdict::Malicious);
        let limit = finding("c", Severity::High, Category::Coverage, Confidence::High);
        assert_eq!(assess(&[fetch, limit]).0, Verdict::Suspicious);
    }

    #[test]
    fn suppressed_findings_do_not_count_and_score_caps() {
        let mut high = finding("b", Severity::High, Category::B2, Confidence::High);
        high.suppressed =
            Some(Suppression { kind: crate::engine::finding::SuppressionKind::Config, reason: "ok".into() });
        assert_eq!(assess(&[high]), (Verdict::Clean, None, 0));
        let many: Vec<_> =
            (0..10).map(|i| finding(&format!("r{i}"), Severity::Critical, Category::B5, Confidence::High)).collect();
        assert_eq!(assess(&many).2, 100);
        let repeated: Vec<_> =
            (0..10).map(|_| finding("same", Severity::Medium, Category::B5, Confidence::High)).collect();
        assert_eq!(assess(&repeated).2, 16);
    }

    /// The words reports, locks and the mirror store: derived now, byte for byte what they were.
    #[test]
    fn the_scales_read_and_write_the_same_words() {
        let words: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(words, ["info", "low", "medium", "high", "critical"]);
        assert_eq!(Severity::High.to_string(), "high");
        assert_eq!("CRITICAL".parse::<Severity>(), Ok(Severity::Critical));
        assert_eq!(
            "severe".parse::<Severity>(),
            Err("unknown severity `severe` (expected info, low, medium, high or critical)".to_owned())
        );
        let confidences: Vec<&str> =
            [Confidence::Low, Confidence::Medium, Confidence::High].map(Confidence::as_str).into();
        assert_eq!(confidences, ["low", "medium", "high"]);
        let verdicts = [Verdict::Clean, Verdict::Caution, Verdict::Suspicious, Verdict::Malicious];
        assert_eq!(verdicts.map(Verdict::as_str), ["clean", "caution", "suspicious", "malicious"]);
        assert_eq!(verdicts.map(|v| v.to_string()), ["clean", "caution", "suspicious", "malicious"]);
        assert_eq!("Malicious".parse::<Verdict>(), Ok(Verdict::Malicious));
        assert_eq!(
            "bad".parse::<Verdict>(),
            Err("unknown verdict `bad` (clean, caution, suspicious or malicious)".to_owned())
        );
    }
}
