//! `skillscan ci` output: the scan through the existing renderers, integrity problems added in
//! the same shape. Paths are relative to the checked path (the repository root in a workflow),
//! which is what GitHub code scanning and workflow annotations expect.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{CiReport, Problem, ProblemKind};
use crate::engine::config::FailOn;
use crate::engine::finding::Severity;
use crate::engine::report::paint::{self as styles, Paint};
use crate::engine::report::{github, html, human, markdown, sarif};
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
        "The skill's version or slug differs from what skills.lock pins for it.",
    ),
    (
        "signature",
        "Skill signature missing or invalid",
        "A signature by a trusted key is required (or was present) and does not verify for these files: unknown, \
         revoked or expired key, modified trusted comment, a statement for another skill, version or tree, or \
         another signing key or archive than skills.lock pins.",
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
    let p = Paint::new(style.color);
    let paint = |style, text: &str| p.paint(style, text);
    writeln!(
        out,
        "{}",
        paint(
            styles::BOLD,
            &format!("Integrity ({} skill(s) under {})", report.skills.len(), report.searched.join(", "))
        )
    )?;
    for skill in &report.skills {
        let identity = match (&skill.slug, &skill.version) {
            (Some(slug), Some(version)) => format!("{slug} {version}"),
            (Some(slug), None) => slug.clone(),
            _ => "(unknown)".to_owned(),
        };
        let status = if skill.problems.is_empty() { paint(styles::OK, "ok") } else { paint(styles::FAIL, "FAIL") };
        writeln!(
            out,
            "  {status} {}  {identity}  pin: {}  signature: {}{}",
            skill.root,
            skill.pin,
            skill.signature,
            if skill.installed { "  (installed from a registry)" } else { "" }
        )?;
        for problem in &skill.problems {
            writeln!(out, "      {} {}: {}", paint(styles::ERROR, "-"), problem.code, problem.message)?;
        }
        for note in &skill.notes {
            writeln!(out, "      note: {note}")?;
        }
    }
    for problem in &report.problems {
        writeln!(out, "  {} {}: {}", paint(styles::FAIL, "FAIL"), problem.code, problem.message)?;
    }
    for warning in &report.warnings {
        writeln!(out, "  {} {warning}", paint(styles::WARNING, "warning:"))?;
    }
    writeln!(out)?;
    human::render(&report.scan, style, out)?;
    let integrity =
        report.skills.iter().filter(|s| s.problems.iter().any(|p| p.kind == ProblemKind::Integrity)).count()
            + report.problems.iter().filter(|p| p.kind == ProblemKind::Integrity).count();
    let code = report.exit_code(fail_on);
    writeln!(out, "ci: {} ({integrity} integrity failure(s); exit {code})", outcome(code))
}

/// What an exit code of `ci` means.
fn outcome(code: u8) -> &'static str {
    match code {
        3 => "integrity check failed",
        2 => "could not check everything",
        1 => "scan fails policy",
        _ => "passed",
    }
}

fn identity(skill: &super::SkillCheck) -> String {
    match (&skill.slug, &skill.version) {
        (Some(slug), Some(version)) => format!("{slug} {version}"),
        (Some(slug), None) => slug.clone(),
        _ => "(unknown)".to_owned(),
    }
}

/// Markdown: the outcome, a table of the integrity checks, then the scan's report
/// ([`markdown::to_string`], one heading level down).
pub fn markdown(report: &CiReport, fail_on: FailOn, min_severity: Option<Severity>) -> String {
    use markdown::{code, text};
    let exit = report.exit_code(fail_on);
    let mut md = format!("## skillscan ci: {} (exit {exit})\n\n### Integrity\n\n", outcome(exit));
    md.push_str(&format!("{} skill(s) under {}.\n", report.skills.len(), text(&report.searched.join(", "))));
    if !report.skills.is_empty() {
        md.push_str("\n| Skill | Identity | Pin | Signature | Problems |\n| :-- | :-- | :-- | :-- | :-- |\n");
        for skill in &report.skills {
            let mut problems: Vec<String> =
                skill.problems.iter().map(|p| format!("{}: {}", code(p.code, 40, true), text(&p.message))).collect();
            problems.extend(skill.notes.iter().map(|n| format!("note: {}", text(n))));
            let problems = if problems.is_empty() { "none".to_owned() } else { problems.join("; ") };
            md.push_str(&format!(
                "| {}{} | {} | {} | {} | {problems} |\n",
                code(&skill.root, 200, true),
                if skill.installed { " (installed from a registry)" } else { "" },
                code(&identity(skill), 200, true),
                skill.pin,
                skill.signature,
            ));
        }
    }
    if !report.problems.is_empty() || !report.warnings.is_empty() {
        md.push('\n');
        for problem in &report.problems {
            md.push_str(&format!("- **FAIL** {}: {}\n", code(problem.code, 40, false), text(&problem.message)));
        }
        for warning in &report.warnings {
            md.push_str(&format!("- Warning: {}\n", text(warning)));
        }
    }
    md.push('\n');
    let options = markdown::Options { min_severity, heading_level: 3, title: "Scan" };
    md.push_str(&markdown::to_string(&report.scan, options));
    md
}

/// One HTML page: the integrity checks above the scan's report.
pub fn html(report: &CiReport, fail_on: FailOn, min_severity: Option<Severity>) -> String {
    let exit = report.exit_code(fail_on);
    let integrity = html::Integrity {
        outcome: format!("{} (exit {exit})", outcome(exit)),
        failed: report.has_integrity_failure() || report.has_error(),
        skills: report
            .skills
            .iter()
            .map(|skill| html::IntegritySkill {
                root: skill.root.clone(),
                identity: identity(skill),
                pin: skill.pin.to_owned(),
                signature: skill.signature.to_owned(),
                installed: skill.installed,
                problems: skill.problems.iter().map(|p| (p.code.to_owned(), p.message.clone())).collect(),
                notes: skill.notes.clone(),
            })
            .collect(),
        problems: report.problems.iter().map(|p| (p.code.to_owned(), p.message.clone())).collect(),
        warnings: report.warnings.clone(),
    };
    let options = html::Options { min_severity, title: Some("skillscan ci".to_owned()) };
    html::render(&report.scan, &options, Some(&integrity))
}
