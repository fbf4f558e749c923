//! Package manifests shipped in a skill: npm lifecycle scripts run on `npm install` without
//! anybody typing them, and dependencies that bypass the registry.

use super::{Emitter, SkillInput};
use crate::engine::hit::HitLocation;

pub const RULES: &[&str] = &["npm-install-hook", "npm-install-hook-exec", "dependency-from-url"];

/// Scripts npm runs by itself during install or uninstall.
pub const LIFECYCLE: &[&str] =
    &["preinstall", "install", "postinstall", "prepare", "prepublish", "preuninstall", "postuninstall"];

fn runs_code(command: &str) -> bool {
    use std::sync::OnceLock;
    static RISKY: OnceLock<regex::Regex> = OnceLock::new();
    RISKY
        .get_or_init(|| {
            crate::engine::text::builtin_regex(r"(?i)\b(?:curl|wget|https?://|https?\.get|fetch\(|eval|node\s+-e|python3?\s+-c|bash\s+-c|sh\s+-c|require\(|powershell|iex)\b|\|\s*(?:ba)?sh\b")
        })
        .is_match(command)
}

pub fn manifests(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    for (index, file) in input.files.iter().enumerate() {
        if file.path.rsplit('/').next() != Some("package.json") {
            continue;
        }
        let text = file.text();
        let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else { continue };
        let locate = |needle: &str| text.find(&format!("\"{needle}\"")).map(|i| i..i + needle.len() + 2);
        if let Some(scripts) = json.get("scripts").and_then(|s| s.as_object()) {
            for hook in LIFECYCLE {
                let Some(command) = scripts.get(*hook).and_then(|c| c.as_str()) else { continue };
                let rule = if runs_code(command) { "npm-install-hook-exec" } else { "npm-install-hook" };
                let detail = format!("`{hook}`: {}", crate::engine::text::escape_snippet(command, 160));
                out.emit(rule, HitLocation::File { file: index, range: locate(hook) }, Some(detail));
            }
        }
        for section in ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"] {
            let Some(deps) = json.get(section).and_then(|d| d.as_object()) else { continue };
            for (name, spec) in deps {
                let spec = spec.as_str().unwrap_or("");
                let remote = ["git+", "git://", "github:", "gitlab:", "bitbucket:", "http://", "https://"]
                    .iter()
                    .any(|p| spec.starts_with(p))
                    || (spec.contains('/')
                        && !spec.starts_with("file:")
                        && !spec.starts_with("npm:")
                        && !spec.starts_with("workspace:")
                        && !spec.starts_with('@'));
                if remote {
                    let detail = format!("`{name}` comes from `{}`", crate::engine::text::escape_snippet(spec, 160));
                    out.emit(
                        "dependency-from-url",
                        HitLocation::File { file: index, range: locate(name) },
                        Some(detail),
                    );
                }
            }
        }
    }
}
