//! `skillscan inventory` output: JSON (the [`Inventory`] serialised, plus the exit code) and a
//! human listing.

use std::io::{self, Write};

use serde::Serialize;

use super::{Inventory, SkillStatus};
use crate::engine::report::paint::{self as styles, Paint};

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    inventory: &'a Inventory,
    exit_code: u8,
}

pub fn json(inventory: &Inventory) -> String {
    let mut text = serde_json::to_string_pretty(&JsonOut { inventory, exit_code: inventory.exit_code() })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    text.push('\n');
    text
}

pub fn human(inventory: &Inventory, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint::new(color);
    let paint = |style, text: &str| p.paint(style, text);
    if inventory.installations.is_empty() {
        writeln!(out, "No OpenClaw installation under {}", inventory.root)?;
    }
    for installation in &inventory.installations {
        writeln!(
            out,
            "{} {} (config: {}; workspaces: {})",
            paint(styles::BOLD, &installation.kind),
            installation.state_dir,
            installation.config.as_deref().unwrap_or("none"),
            if installation.workspaces.is_empty() { "none".to_owned() } else { installation.workspaces.join(", ") }
        )?;
    }
    writeln!(out)?;
    for location in inventory.locations.iter().filter(|l| l.exists) {
        writeln!(
            out,
            "{} ({}{}): {} skill(s)",
            paint(styles::BOLD, &location.path),
            location.kind,
            location.agent.as_ref().map(|a| format!(", agent {a}")).unwrap_or_default(),
            location.skills
        )?;
        for skill in inventory.skills.iter().filter(|s| s.location == location.path) {
            let name = skill.slug.as_deref().or(skill.name.as_deref()).unwrap_or("?");
            let version = skill.version.as_deref().unwrap_or("-");
            let registry = match (&skill.registry, skill.from_mirror) {
                (None, _) => "not from a registry".to_owned(),
                (Some(r), Some(true)) => format!("{r} (mirror)"),
                (Some(r), Some(false)) => paint(styles::WARNING, &format!("{r} (NOT the mirror)")),
                (Some(r), None) => r.clone(),
            };
            let verdict = skill.scan.as_ref().map(|s| s.verdict.clone()).unwrap_or_else(|| "not scanned".to_owned());
            let label = format!("{:<17}", skill.status.as_str());
            let status = match skill.status {
                SkillStatus::Ok => paint(styles::OK, &label),
                SkillStatus::NotScanned => label,
                SkillStatus::Error => paint(styles::WARNING, &label),
                _ => paint(styles::FAIL, &label),
            };
            writeln!(out, "  {status} {name} {version}  {registry}")?;
            writeln!(
                out,
                "       pin: {}  signature: {}  modified since install: {}  verdict: {verdict}",
                skill.pin.status,
                skill.signature,
                match skill.modified_since_install {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "unknown",
                }
            )?;
            writeln!(out, "       {}", skill.path)?;
            for problem in &skill.problems {
                writeln!(out, "       {} {problem}", paint(styles::ERROR, "-"))?;
            }
            if let Some(scan) = &skill.scan {
                for finding in &scan.top {
                    writeln!(out, "       finding: {finding}")?;
                }
            }
        }
    }
    if !inventory.problems.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint(styles::BOLD, "Problems"))?;
        for problem in &inventory.problems {
            writeln!(
                out,
                "  {} {}: {}",
                if problem.kind == "integrity" { paint(styles::FAIL, "FAIL") } else { paint(styles::WARNING, "warn") },
                problem.path,
                problem.message
            )?;
        }
    }
    let s = &inventory.summary;
    writeln!(out)?;
    writeln!(
        out,
        "Summary: {} skill(s) in {} installation(s); {} modified since install, {} differ from their pin, {} unpinned, \
         {} from another registry than the mirror, {} not from a registry, {} failing the scan; {} problem(s); exit {}",
        s.skills,
        s.installations,
        s.modified_since_install,
        s.pin_mismatch,
        s.unpinned,
        s.other_registry,
        s.unmanaged,
        s.failing_scan,
        s.problems,
        inventory.exit_code()
    )
}
