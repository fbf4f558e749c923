//! SARIF 2.1.0 (validated against the OASIS schema in the tests): one run, every rule with its
//! help text, results located relative to their skill root (`uriBaseId` per skill), stable
//! `partialFingerprints`, suppressions kept with their justification.

use std::collections::{BTreeMap, HashMap};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::engine::finding::{Finding, Severity, SuppressionKind};
use crate::engine::rules::RuleSet;
use crate::engine::scan::ScanReport;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning ranks security alerts by this property.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// What stays as it is in a SARIF `uri`: unreserved characters, `/`, and the sub-delimiters and
/// `@` that RFC 3986 allows in a path. Everything else is percent-encoded.
const URI_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');

/// Percent-encodes a path into a URI reference (SARIF `uri` must be one): everything but
/// unreserved characters, `/` and a few safe delimiters is escaped, byte by byte.
pub fn uri_reference(path: &str) -> String {
    utf8_percent_encode(path, URI_PATH).to_string()
}

/// How result locations are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paths {
    /// `uri` relative to the skill root, with a `uriBaseId` naming the root (the default).
    SkillRelative,
    /// `uri` relative to the scanned path (what GitHub code scanning expects from a repo scan).
    Full,
}

/// The stable fingerprint of each of a skill's findings (SARIF `partialFingerprints`, and what
/// `--baseline` matches on): a hash of the skill's name, the rule, the file and the matched text,
/// and how many findings of the skill had those before it. Line numbers are left out, so a
/// finding keeps its fingerprint when lines are added above it; `findings` must be in report order.
pub fn fingerprints(skill_name: Option<&str>, findings: &[Finding]) -> Vec<String> {
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|finding| {
            let key =
                format!("{}\0{}\0{}\0{}", skill_name.unwrap_or(""), finding.rule_id, finding.file, finding.snippet);
            let occurrence = occurrences.entry(key.clone()).or_insert(0);
            *occurrence += 1;
            hex::encode(&Sha256::digest(format!("{key}\0{occurrence}").as_bytes())[..16])
        })
        .collect()
}

pub fn render(report: &ScanReport, rules: &RuleSet, paths: Paths) -> Value {
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    let mut sarif_rules = Vec::new();
    for rule in &rules.rules {
        rule_index.insert(rule.id.as_str(), sarif_rules.len());
        let severity = rule.severity.unwrap_or(Severity::Info);
        let mut help = format!("{}\n\n## Remediation\n{}", rule.description, rule.remediation);
        if !rule.references.is_empty() {
            help.push_str("\n\n## References\n");
            for reference in &rule.references {
                help.push_str(&format!("- {reference}\n"));
            }
        }
        sarif_rules.push(json!({
            "id": rule.id,
            "name": rule.name,
            "shortDescription": { "text": rule.name },
            "fullDescription": { "text": rule.message },
            "help": { "text": help, "markdown": help },
            "defaultConfiguration": { "level": level(severity), "enabled": !rule.disabled_by_default },
            "properties": {
                "category": rule.category.code(),
                "categoryName": rule.category.name(),
                "categoryTitle": rule.category.title(),
                "confidence": rule.confidence.as_str(),
                "security-severity": security_severity(severity),
                "tags": ["security", rule.category.code()],
            }
        }));
    }

    let mut base_ids = BTreeMap::new();
    let mut results = Vec::new();
    for (skill_number, skill) in report.skills.iter().enumerate() {
        let base_id = format!("SKILL{skill_number}");
        base_ids.insert(
            base_id.clone(),
            json!({ "uri": format!("{}/", uri_reference(skill.root.replace("!/", "/").trim_end_matches('/'))), "uriBaseId": "SCANROOT",
                    "description": { "text": format!("skill root {}", skill.root) } }),
        );
        let fingerprints = fingerprints(skill.name.as_deref(), &skill.findings);
        for (finding, fingerprint) in skill.findings.iter().zip(fingerprints) {
            let mut physical = serde_json::Map::new();
            let artifact = match paths {
                Paths::SkillRelative => {
                    let uri = if finding.file.is_empty() { ".".to_string() } else { uri_reference(&finding.file) };
                    json!({ "uri": uri, "uriBaseId": base_id })
                }
                Paths::Full => json!({ "uri": uri_reference(&super::github::full_path(&skill.root, &finding.file)) }),
            };
            physical.insert("artifactLocation".into(), artifact);
            if finding.line > 0 {
                physical.insert(
                    "region".into(),
                    json!({
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line.max(finding.line),
                        "endColumn": finding.end_column.max(1),
                        "snippet": { "text": finding.snippet },
                    }),
                );
            }
            let mut result = json!({
                "ruleId": finding.rule_id,
                "level": level(finding.severity),
                "message": { "text": finding.message },
                "locations": [{ "physicalLocation": Value::Object(physical) }],
                "partialFingerprints": { "skillscan/v1": fingerprint },
                "properties": {
                    "severity": finding.severity.as_str(),
                    "category": finding.category.code(),
                    "categoryName": finding.category.name(),
                    "confidence": finding.confidence.as_str(),
                    "skillRoot": skill.root,
                    "verdict": skill.verdict.as_str(),
                },
            });
            if let Some(index) = rule_index.get(finding.rule_id.as_str()) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(decoded) = &finding.decoded {
                result["properties"]["decoded"] = json!({ "chain": decoded.chain, "text": decoded.text });
            }
            if !finding.related.is_empty() {
                result["relatedLocations"] = Value::Array(
                    finding
                        .related
                        .iter()
                        .enumerate()
                        .map(|(id, r)| {
                            let artifact = match paths {
                                Paths::SkillRelative => json!({ "uri": uri_reference(&r.file), "uriBaseId": base_id }),
                                Paths::Full => json!({ "uri": uri_reference(&super::github::full_path(&skill.root, &r.file)) }),
                            };
                            let mut location = json!({ "id": id, "message": { "text": r.message }, "physicalLocation": { "artifactLocation": artifact } });
                            if r.line > 0 {
                                location["physicalLocation"]["region"] = json!({ "startLine": r.line, "startColumn": r.column.max(1) });
                            }
                            location
                        })
                        .collect(),
                );
            }
            if let Some(suppression) = &finding.suppressed {
                let kind = match suppression.kind {
                    SuppressionKind::Config | SuppressionKind::Baseline => "external",
                    SuppressionKind::Inline => "inSource",
                };
                result["suppressions"] =
                    json!([{ "kind": kind, "status": "accepted", "justification": suppression.reason }]);
            }
            if report.baseline.is_some() {
                let known = finding.suppressed.as_ref().is_some_and(|s| s.kind == SuppressionKind::Baseline);
                result["baselineState"] = json!(if known { "unchanged" } else { "new" });
            }
            results.push(result);
        }
    }
    let mut original_uri_base_ids = serde_json::Map::new();
    original_uri_base_ids
        .insert("SCANROOT".into(), json!({ "description": { "text": "the path given to skillscan" } }));
    for (id, value) in base_ids {
        original_uri_base_ids.insert(id, value);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "skillscan",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": "https://example.invalid/skillscan",
                "rules": sarif_rules,
                "properties": { "rulesVersion": report.tool.rules_version },
            } },
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": original_uri_base_ids,
            "results": results,
            "properties": {
                "skills": report.skills.iter().map(|s| json!({ "root": s.root, "name": s.name, "verdict": s.verdict.as_str(), "score": s.score })).collect::<Vec<_>>(),
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::uri_reference;

    /// The encoder this replaced, kept as the reference: the snapshots were written with it.
    fn hand_written(path: &str) -> String {
        let mut out = String::new();
        for byte in path.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte) {
                out.push(byte as char);
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    }

    #[test]
    fn uris_encode_as_before() {
        for c in (0u32..0x250).chain([0x200b, 0xfeff, 0x1f600]).filter_map(char::from_u32) {
            let path = format!("skills/a{c}b/SKILL.md");
            assert_eq!(uri_reference(&path), hand_written(&path), "{c:?}");
        }
        assert_eq!(uri_reference("dir with space/x#1?.md"), "dir%20with%20space/x%231%3F.md");
        assert_eq!(uri_reference("é"), "%C3%A9");
    }
}
