//! SARIF 2.1.0 (validated against the OASIS schema in the tests): one run, every rule with its
//! help text, stable `partialFingerprints`, suppressions kept with their justification.
//!
//! **Locations** are plain relative URIs from the repository root (no `uriBaseId`), which is what
//! GitHub code scanning resolves: `skills/x/SKILL.md`. `skillscan ci` reports paths relative to
//! the repository it checks; `skillscan scan` gives [`render`] the repository (the nearest folder
//! at or above the current one holding `.git`, else the current folder) and paths are made
//! relative to it. A path outside it becomes an absolute `file://` URI (the upload action
//! relativises those against its checkout). A finding inside an archive is located at the archive
//! file, with the member and its line in the result's `archiveMember` property: a line number of
//! a zip file would mean nothing to a code viewer.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

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

/// Where the file of a finding is: the file on disk (as a path under the scanned path), and the
/// member inside it when that file is an archive: the skill root is one (`archive_root`, for
/// `x.zip` whose files are its members), or the path says so (`x.zip!/a/SKILL.md`, a nested
/// `a.zip!/b.sh`).
fn split_archive(root: &str, file: &str, archive_root: bool) -> (String, Option<String>) {
    if archive_root {
        return (root.to_owned(), (!file.is_empty()).then(|| file.to_owned()));
    }
    let joined = if file.is_empty() {
        root.to_owned()
    } else if root.is_empty() || root == "." {
        file.to_owned()
    } else {
        format!("{}/{}", root.trim_end_matches('/'), file)
    };
    match joined.split_once("!/") {
        Some((disk, member)) => (disk.to_owned(), Some(member.to_owned())),
        None => (joined, None),
    }
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

/// `path` with `.` and `..` resolved without looking at the disk (the scanned path may be gone,
/// and links must not change what a report says).
fn lexical_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Where the scanned paths were given from, and the repository URIs are relative to.
#[derive(Debug, Clone)]
pub struct UriBase {
    /// The folder relative paths in the report are relative to (the current folder of `scan`).
    pub cwd: PathBuf,
    /// The folder URIs are made relative to.
    pub repository: PathBuf,
}

impl UriBase {
    /// `cwd` and the repository around it: the nearest folder at or above `cwd` holding `.git`
    /// (a folder, or a file in a worktree), else `cwd` itself.
    pub fn around(cwd: &Path) -> Self {
        let repository = cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(cwd).to_path_buf();
        UriBase { cwd: cwd.to_path_buf(), repository }
    }
}

/// The `uri` of a path on disk: relative to the repository when it is under it, else `file://`
/// and absolute. Without a base the path is taken as already relative to the repository.
fn artifact_uri(path: &str, base: Option<&UriBase>) -> String {
    let Some(base) = base else {
        let trimmed = path.trim_start_matches("./");
        return uri_reference(if trimmed.is_empty() { "." } else { trimmed });
    };
    let absolute = lexical_normal(&base.cwd.join(path));
    match absolute.strip_prefix(lexical_normal(&base.repository)) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => uri_reference(&slashes(relative)),
        Err(_) => {
            let path = slashes(&absolute);
            let slash = if path.starts_with('/') { "" } else { "/" };
            format!("file://{slash}{}", uri_reference(&path))
        }
    }
}

/// A path with `/` separators, as URIs use.
fn slashes(path: &Path) -> String {
    let text = path.to_string_lossy();
    if cfg!(windows) { text.replace('\\', "/") } else { text.into_owned() }
}

/// A result's artifact location and region; an archive member gets the archive as its artifact
/// and its own place in `member` (`a/SKILL.md:7`).
fn physical_location(
    root: &str,
    archive_root: bool,
    file: &str,
    line: u32,
    region: Option<Value>,
    base: Option<&UriBase>,
) -> (Value, Option<String>) {
    let (disk, member) = split_archive(root, file, archive_root);
    let mut physical = serde_json::Map::new();
    physical.insert("artifactLocation".into(), json!({ "uri": artifact_uri(&disk, base) }));
    match member {
        Some(member) => {
            let place = if line > 0 { format!("{member}:{line}") } else { member };
            (Value::Object(physical), Some(place))
        }
        None => {
            if let Some(region) = region {
                physical.insert("region".into(), region);
            }
            (Value::Object(physical), None)
        }
    }
}

/// The SARIF document of a scan. `base` says where the report's paths are relative to and what
/// the URIs are made relative to (see the module docs); `None` when the report's paths already
/// are relative to the repository (`skillscan ci`).
pub fn render(report: &ScanReport, rules: &RuleSet, base: Option<&UriBase>) -> Value {
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

    let mut results = Vec::new();
    for skill in &report.skills {
        // A skill root that is a file is an archive (`x.zip`): its files are members.
        let archive_root = base.is_some_and(|b| !skill.root.contains("!/") && b.cwd.join(&skill.root).is_file());
        let fingerprints = fingerprints(skill.name.as_deref(), &skill.findings);
        for (finding, fingerprint) in skill.findings.iter().zip(fingerprints) {
            let region = (finding.line > 0).then(|| {
                json!({
                    "startLine": finding.line,
                    "startColumn": finding.column,
                    "endLine": finding.end_line.max(finding.line),
                    "endColumn": finding.end_column.max(1),
                    "snippet": { "text": finding.snippet },
                })
            });
            let (physical, member) =
                physical_location(&skill.root, archive_root, &finding.file, finding.line, region, base);
            let mut result = json!({
                "ruleId": finding.rule_id,
                "level": level(finding.severity),
                "message": { "text": finding.message },
                "locations": [{ "physicalLocation": physical }],
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
            if let Some(member) = member {
                result["properties"]["archiveMember"] = json!(member);
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
                            let region =
                                (r.line > 0).then(|| json!({ "startLine": r.line, "startColumn": r.column.max(1) }));
                            let (physical, member) =
                                physical_location(&skill.root, archive_root, &r.file, r.line, region, base);
                            let mut location =
                                json!({ "id": id, "message": { "text": r.message }, "physicalLocation": physical });
                            if let Some(member) = member {
                                location["properties"] = json!({ "archiveMember": member });
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
