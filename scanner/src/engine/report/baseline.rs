//! `--baseline FILE`: adopt the scanner on a code base with known findings. The findings an
//! earlier JSON report already had are set aside (suppressed with kind `baseline`, so JSON and
//! SARIF still carry them), verdicts and the exit code then reflect only the new ones.
//!
//! Findings are matched by the fingerprint SARIF publishes ([`super::sarif::fingerprints`]):
//! skill name, rule, file and matched text, and the occurrence among equal ones. Line numbers
//! are not part of it, so an edit above a known finding does not make it new; a second copy of
//! a known line is new.
//!
//! A file that is not a skillscan JSON report (`scan --format json`, or `ci --format json`,
//! whose `scan` member is one) is an error, never an empty baseline: a typo must not turn a
//! gate green.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::sarif;
use crate::engine::finding::{Finding, Suppression, SuppressionKind};
use crate::engine::scan::{BaselineSummary, ScanReport};

/// The fingerprints of an earlier report's findings.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The file as named on the command line.
    pub file: String,
    /// Fingerprint → how many findings of the earlier report had it.
    fingerprints: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline {file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("baseline {file}: not JSON ({source}); make one with `skillscan scan --format json -o {file} …`")]
    NotJson { file: String, source: serde_json::Error },
    #[error("baseline {file}: this is a SARIF log; the baseline must be a skillscan JSON report (`--format json`)")]
    Sarif { file: String },
    #[error("baseline {file}: not a skillscan JSON report ({reason})")]
    WrongFormat { file: String, reason: String },
}

/// The part of a report the baseline needs.
#[derive(Deserialize)]
struct SkillFindings {
    name: Option<String>,
    findings: Vec<Finding>,
}

impl Baseline {
    /// Reads a report written by `skillscan scan --format json` (or `ci --format json`).
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| BaselineError::Read { file: file.clone(), source })?;
        Baseline::parse(&file, &bytes)
    }

    pub fn parse(file: &str, bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let wrong = |reason: &str| BaselineError::WrongFormat { file: file.to_string(), reason: reason.to_string() };
        let document: Value = serde_json::from_slice(bytes)
            .map_err(|source| BaselineError::NotJson { file: file.to_string(), source })?;
        let Some(object) = document.as_object() else {
            return Err(wrong("the document is not an object"));
        };
        if object.contains_key("runs") && object.get("version").and_then(Value::as_str).is_some() {
            return Err(BaselineError::Sarif { file: file.to_string() });
        }
        // `ci --format json` wraps the scan report in `scan`.
        let report = match object.get("scan") {
            Some(scan) if object.contains_key("searched") => scan,
            _ => &document,
        };
        if report.pointer("/tool/name").and_then(Value::as_str) != Some("skillscan") {
            return Err(wrong("no `tool.name: skillscan`"));
        }
        match report.get("version").and_then(Value::as_u64) {
            Some(1) => {}
            Some(other) => return Err(wrong(&format!("report version {other}; this skillscan reads version 1"))),
            None => return Err(wrong("no report `version`")),
        }
        let Some(skills) = report.get("skills") else {
            return Err(wrong("no `skills`"));
        };
        let skills: Vec<SkillFindings> = serde_path_to_error::deserialize(skills)
            .map_err(|e| wrong(&format!("at skills{}: {}", path_suffix(&e.path().to_string()), e.inner())))?;
        let mut fingerprints: HashMap<String, usize> = HashMap::new();
        for skill in &skills {
            for fingerprint in sarif::fingerprints(skill.name.as_deref(), &skill.findings) {
                *fingerprints.entry(fingerprint).or_insert(0) += 1;
            }
        }
        Ok(Baseline { file: file.to_string(), fingerprints })
    }

    /// How many findings the earlier report had (suppressed ones included).
    pub fn len(&self) -> usize {
        self.fingerprints.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Suppresses every active finding of `report` that the baseline has, recomputes verdicts
    /// and counts, and records how many were set aside in `report.baseline`.
    pub fn apply(&self, report: &mut ScanReport) -> usize {
        let mut remaining = self.fingerprints.clone();
        let mut baselined = 0;
        for skill in &mut report.skills {
            let fingerprints = sarif::fingerprints(skill.name.as_deref(), &skill.findings);
            for (finding, fingerprint) in skill.findings.iter_mut().zip(fingerprints) {
                if !finding.is_active() {
                    continue;
                }
                if let Some(left) = remaining.get_mut(&fingerprint).filter(|left| **left > 0) {
                    *left -= 1;
                    baselined += 1;
                    finding.suppressed = Some(Suppression {
                        kind: SuppressionKind::Baseline,
                        reason: format!("in the baseline {}", self.file),
                    });
                }
            }
        }
        report.reassess();
        report.baseline = Some(BaselineSummary { file: self.file.clone(), baselined });
        baselined
    }
}

/// `serde_path_to_error` prints the root as `.`; `[0].findings` reads better after `skills`.
fn path_suffix(path: &str) -> String {
    if path == "." {
        String::new()
    } else if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_documents_are_errors_that_say_what_is_wrong() {
        let message = |text: &str| Baseline::parse("b.json", text.as_bytes()).unwrap_err().to_string();
        assert!(message("{ not json").contains("not JSON"));
        assert!(message("[]").contains("not an object"));
        assert!(message(r#"{"version":"2.1.0","runs":[]}"#).contains("SARIF"));
        assert!(message(r#"{"version":1,"skills":[]}"#).contains("tool.name"));
        assert!(message(r#"{"version":2,"tool":{"name":"skillscan"},"skills":[]}"#).contains("version 2"));
        assert!(message(r#"{"version":1,"tool":{"name":"skillscan"}}"#).contains("no `skills`"));
        let bad_finding =
            r#"{"version":1,"tool":{"name":"skillscan"},"skills":[{"name":"a","findings":[{"rule_id":"x"}]}]}"#;
        let text = message(bad_finding);
        assert!(text.contains("skills[0].findings[0]"), "{text}");
        let empty = Baseline::parse("b.json", br#"{"version":1,"tool":{"name":"skillscan"},"skills":[]}"#).unwrap();
        assert!(empty.is_empty());
    }
}
