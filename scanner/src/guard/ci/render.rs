//! `skillscan ci` output: the scan through the existing renderers, integrity problems added in
//! the same shape. Paths are relative to the checked path (the repository root in a workflow),
//! which is what GitHub code scanning and workflow annotations expect.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{CiReport, Problem, ProblemKind};
use crate::engine::config::FailOn;
use crate::engine::report::{github, human, sarif};
use crate::engine::rules::RuleSet;

/// The SARIF rule (and annotation title) for each problem code, with its help text.
const RULES: &[(&str, &str, &str)] = &[
    (
        "not-pinned",
        "Skill not pinned",
        "The skill is not pinned in skills.lock, so nothing proves it is the version that was reviewed. Pin it \
         with `skillscan install` (which records the pin) or `skillscan pin`, after reviewing it.",
    ),
    (
        "files-changed",
        "Skill files differ from the pin",
        "Files of the skill were changed, added or removed since it was pinned in skills.lock (or since the \
         signed manifest was made). Either the change is intended and must be reviewed and re-pinned, or \
         someone tampered with an installed skill.",
    ),
    (
        "pin-mismatch",
        "Skill identity differs from the pin",
        "The skill's version, slug, archive digest or signing key differs from what skills.lock pins for it.",
    ),
    (
        "signature",
        "Skill signature missing or invalid",
        "A signature by a trusted key is required (or was present) and does not verify for these files: unknown, \
         revoked or expired key, modified trusted comment, or a statement for another skill, version or tree.",
    ),
    (
        "origin",
        "Skill modified since install",
        "The ClawHub fingerprint recorded in .clawhub/origin.json when the skill was installed does not match \
         its files: they were modified after installation (or origin.json is corrupt).",
    ),
    (
        "unsafe-content",
        "Skill folder cannot be pinned safely",
        "The skill folder (or a skills folder) is a symbolic link, or contains links, special files or unsafe \
         names. No pin can vouch for what a link points to; replace links with real files.",
    ),
    ("unreadable", "Skill could not be read", "A file or folder could not be read, so it could not be checked."),
    (
        "lock-file",
        "ClawHub lock file unreadable",
        "The ClawHub lock file (.clawhub/lock.json) is not valid; the CLI and skillscan cannot trust what it says.",
    ),
];

fn rule_id(code: &str) -> String {
    format!("skillscan-integrity/{code}")
}

/// Each problem with the repository-relative files it points at (at least one).
fn located(report: &CiReport) -> Vec<(&Problem, Vec<String>)> {
    let mut out = Vec::new();
    for problem in &report.problems {
        let files = if problem.files.is_empty() { vec![".".to_owned()] } else { problem.files.clone() };
        out.push((problem, files));
    }
    for skill in &report.skills {
        for problem in &skill.problems {
            let files = if problem.files.is_empty() {
                vec![github::full_path(&skill.root, &skill.manifest)]
            } else {
                problem.files.iter().map(|f| github::full_path(&skill.root, f)).collect()
            };
            out.push((problem, files));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    report: &'a CiReport,
    exit_code: u8,
}

pub fn json(report: &CiReport, fail_on: FailOn) -> String {
    let mut text = serde_json::to_string_pretty(&JsonOut { report, exit_code: report.exit_code(fail_on) })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}

/// SARIF 2.1.0: the scan's run (its paths are relative to the checked repository already), plus
/// one rule per problem code and one result per problem and file.
pub fn sarif(report: &CiReport, rules: &RuleSet) -> Value {
    let mut document = sarif::render(&report.scan, rules, None);
    let run = &mut document["runs"][0];
    let mut index_of = std::collections::HashMap::new();
    if let Some(rules) = run["tool"]["driver"]["rules"].as_array_mut() {
        for (code, name, help) in RULES {
            index_of.insert(*code, rules.len());
            rules.push(json!({
                "id": rule_id(code),
                "name": name,
                "shortDescription": { "text": name },
                "fullDescription": { "text": help },
                "help": { "text": help, "markdown": help },
                "defaultConfiguration": { "level": "error" },
                "properties": { "category": "integrity", "security-severity": "8.0", "tags": ["security", "integrity"] },
            }));
        }
    }
    if let Some(results) = run["results"].as_array_mut() {
        for (problem, files) in located(report) {
            for file in files {
                let key = format!("{}\0{}\0{}", problem.code, file, problem.message);
                let fingerprint = hex::encode(&Sha256::digest(key.as_bytes())[..16]);
                let mut result = json!({
                    "ruleId": rule_id(problem.code),
                    "level": if problem.kind == ProblemKind::Integrity { "error" } else { "warning" },
                    "message": { "text": problem.message },
                    "locations": [{ "physicalLocation": { "artifactLocation": { "uri": sarif::uri_reference(&file) } } }],
                    "partialFingerprints": { "skillscan/v1": fingerprint },
                    "properties": { "kind": problem.kind },
                });
                if let Some(index) = index_of.get(problem.code) {
                    result["ruleIndex"] = json!(index);
                }
                results.push(result);
            }
        }
    }
    document
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow annotations: one `::error` per problem and file, then the scan's.
pub fn github(report: &CiReport, out: &mut dyn Write) -> io::Result<()> {
    for (problem, files) in located(report) {
        for file in files {
            let level = if problem.kind == ProblemKind::Integrity { "error" } else { "warning" };
            let title = format!("skillscan integrity ({})", problem.code);
            writeln!(
                out,
                "::{level} file={},title={}::{}",
                escape_property(&file),
                escape_property(&title),
                escape_data(&problem.message)
            )?;
        }
    }
    for warning in &report.warnings {
        writeln!(out, "::warning title=skillscan::{}", escape_data(warning))?;
    }
    github::render(&report.scan, out)
}

/// Human output: one block per skill with its pin and signature status and every problem, the
/// scan's own output, then a summary line.
pub fn human(report: &CiReport, style: human::Style, fail_on: FailOn, out: &mut dyn Write) -> io::Result<()> {
    let paint =
        |code: &str, text: &str| if style.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() };
    writeln!(
        out,
        "{}",
        paint("1", &format!("Integrity ({} skill(s) under {})", report.skills.len(), report.searched.join(", ")))
    )?;
    for skill in &report.skills {
        let identity = match (&skill.slug, &skill.version) {
            (Some(slug), Some(version)) => format!("{slug} {version}"),
            (Some(slug), None) => slug.clone(),
            _ => "(unknown)".to_owned(),
        };
        let status = if skill.problems.is_empty() { paint("1;32", "ok") } else { paint("1;31", "FAIL") };
        writeln!(
            out,
            "  {status} {}  {identity}  pin: {}  signature: {}{}",
            skill.root,
            skill.pin,
            skill.signature,
            if skill.installed { "  (installed from a registry)" } else { "" }
        )?;
        for problem in &skill.problems {
            writeln!(out, "      {} {}: {}", paint("31", "-"), problem.code, problem.message)?;
        }
        for note in &skill.notes {
            writeln!(out, "      note: {note}")?;
        }
    }
    for problem in &report.problems {
        writeln!(out, "  {} {}: {}", paint("1;31", "FAIL"), problem.code, problem.message)?;
    }
    for warning in &report.warnings {
        writeln!(out, "  {} {warning}", paint("33", "warning:"))?;
    }
    writeln!(out)?;
    human::render(&report.scan, style, out)?;
    let integrity =
        report.skills.iter().filter(|s| s.problems.iter().any(|p| p.kind == ProblemKind::Integrity)).count()
            + report.problems.iter().filter(|p| p.kind == ProblemKind::Integrity).count();
    let code = report.exit_code(fail_on);
    let outcome = match code {
        3 => "integrity check failed",
        2 => "could not check everything",
        1 => "scan fails policy",
        _ => "passed",
    };
    writeln!(out, "ci: {outcome} ({integrity} integrity failure(s); exit {code})")
}
