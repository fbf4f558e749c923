//! What a skill says about itself in SKILL.md front matter: name, description, homepage, and
//! the runtime metadata block — a YAML mapping or a JSON/JSON5 string under `openclaw`,
//! `clawdbot` or `clawdis` (clawhub-protocol.md §4) — with its install specs and requirements.

use serde_json::Value;

use crate::engine::analysis::FileAnalysis;

/// One `install` entry of the metadata block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallSpec {
    pub kind: String,
    /// package / formula / module / url, whichever the kind uses.
    pub target: String,
    pub sha256: Option<String>,
}

impl InstallSpec {
    /// `brew:jq`, `node:clawhub`, `download:https://…` — the capability manifest's form.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind, self.target)
    }
}

#[derive(Debug, Default, Clone)]
pub struct SkillMeta {
    pub name: Option<String>,
    pub description: String,
    pub homepage: Option<String>,
    /// The runtime block (`metadata.openclaw` etc.), parsed.
    pub runtime: Option<Value>,
    /// The metadata string could not be parsed (a finding of its own).
    pub runtime_error: Option<String>,
    pub install: Vec<InstallSpec>,
    pub env: Vec<String>,
    pub bins: Vec<String>,
    pub always: bool,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        _ => Vec::new(),
    }
}

/// Parses a metadata string the way ClawHub (JSON with trailing commas stripped) and OpenClaw
/// (JSON5) do; nesting deeper than 64 is refused before parsing (the JSON5 parser recurses).
fn parse_metadata_string(text: &str) -> Result<Value, String> {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' | '[' => {
                depth += 1;
                if depth > 64 {
                    return Err("metadata nests more than 64 levels".to_string());
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    serde_json::from_str(text)
        .or_else(|_| json5::from_str(text).map_err(|e| format!("metadata is not JSON or JSON5: {e}")))
}

impl SkillMeta {
    pub fn of(manifest: &FileAnalysis) -> SkillMeta {
        let mut meta = SkillMeta::default();
        let Some(Ok(front)) = manifest.markdown.as_ref().and_then(|d| d.frontmatter_value.as_ref()) else {
            return meta;
        };
        meta.name = front.get("name").and_then(Value::as_str).map(String::from);
        meta.description = front.get("description").and_then(Value::as_str).unwrap_or("").to_string();
        meta.homepage = front.get("homepage").and_then(Value::as_str).map(String::from);
        let metadata = match front.get("metadata") {
            Some(Value::String(text)) => match parse_metadata_string(text) {
                Ok(value) => Some(value),
                Err(error) => {
                    meta.runtime_error = Some(error);
                    None
                }
            },
            other => other.cloned(),
        };
        // ClawHub's lookup order; top-level `clawdis` and bare keys are the legacy forms.
        let runtime = metadata
            .as_ref()
            .and_then(|m| ["clawdbot", "clawdis", "openclaw"].iter().find_map(|k| m.get(*k)).cloned())
            .or_else(|| front.get("clawdis").cloned())
            .or_else(|| front.get("openclaw").cloned());
        let source = runtime.as_ref().unwrap_or(front);
        if let Some(description) = metadata.as_ref().and_then(|m| m.get("description")).and_then(Value::as_str)
            && meta.description.is_empty()
        {
            meta.description = description.to_string();
        }
        let requires = source.get("requires");
        meta.env = strings(requires.and_then(|r| r.get("env")));
        meta.bins = strings(requires.and_then(|r| r.get("bins")));
        meta.bins.extend(strings(requires.and_then(|r| r.get("anyBins"))));
        if let Some(primary) = source.get("primaryEnv").and_then(Value::as_str) {
            meta.env.push(primary.to_string());
        }
        meta.always = source.get("always").and_then(Value::as_bool).unwrap_or(false);
        if let Some(Value::Array(specs)) = source.get("install") {
            for spec in specs {
                let kind =
                    spec.get("kind").or_else(|| spec.get("type")).and_then(Value::as_str).unwrap_or("").to_string();
                let target = ["package", "formula", "cask", "module", "url", "command"]
                    .iter()
                    .find_map(|k| spec.get(*k).and_then(Value::as_str))
                    .unwrap_or("")
                    .to_string();
                let sha256 = spec.get("sha256").and_then(Value::as_str).map(String::from);
                if !kind.is_empty() || !target.is_empty() {
                    meta.install.push(InstallSpec { kind, target, sha256 });
                }
            }
        }
        meta.runtime = runtime;
        meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::package::LoadedFile;

    fn meta_of(text: &str) -> SkillMeta {
        let file = LoadedFile {
            path: "SKILL.md".into(),
            bytes: text.as_bytes().into(),
            size: text.len() as u64,
            truncated: false,
        };
        SkillMeta::of(&crate::engine::analysis::analyze(&file, &Default::default()))
    }

    #[test]
    fn json_string_and_yaml_mapping_metadata_are_both_read() {
        let json = meta_of(
            "---\nname: w\nmetadata: {\"clawdbot\":{\"requires\":{\"env\":[\"W_KEY\"],\"bins\":[\"curl\"]},\"install\":[{\"kind\":\"download\",\"url\":\"https://x.example/t.tgz\",}],}}\n---\n",
        );
        assert_eq!(json.env, ["W_KEY"]);
        assert_eq!(json.install[0].label(), "download:https://x.example/t.tgz");
        let yaml = meta_of(
            "---\nname: w\nmetadata:\n  openclaw:\n    always: true\n    install:\n      - kind: brew\n        formula: jq\n---\n",
        );
        assert!(yaml.always);
        assert_eq!(yaml.install[0].label(), "brew:jq");
    }

    #[test]
    fn unparseable_metadata_is_reported_not_fatal() {
        let meta = meta_of("---\nname: w\nmetadata: '{\"openclaw\": {'\n---\n");
        assert!(meta.runtime_error.is_some());
        let deep = format!("---\nname: w\nmetadata: '{}'\n---\n", "[".repeat(100));
        assert!(meta_of(&deep).runtime_error.unwrap().contains("64"));
    }
}
