//! The JSON Schemas of `docs/schemas/` are the ones derived from the code (`skillscan schema`),
//! and real documents validate against them: reports of scans, every rule file, and
//! `skillscan.toml` files the loader accepts. A schema that rejects nothing would pass the second
//! half, so each schema must also reject a document with an unknown or mistyped key.

use skillscan::engine::config::Config;
use skillscan::engine::schemas::Document;

use crate::util::{json, repo, skillscan, skillscan_in, stdout};

pub(crate) fn validator(document: Document) -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&document.schema_text()).expect("schema is JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{} schema compiles: {e}", document.as_str()))
}

pub(crate) fn errors(validator: &jsonschema::Validator, instance: &serde_json::Value) -> Vec<String> {
    validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

#[test]
fn the_checked_in_schemas_are_the_generated_ones() {
    for document in Document::ALL {
        let path = repo().join("docs/schemas").join(document.file_name());
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        let printed = skillscan(&["schema", document.as_str()]);
        assert_eq!(printed.status.code(), Some(0), "skillscan schema {}", document.as_str());
        assert_eq!(stdout(&printed), document.schema_text());
        assert!(
            checked_in == document.schema_text(),
            "{} is stale: regenerate it with `skillscan schema {} > {}`",
            path.display(),
            document.as_str(),
            path.strip_prefix(repo()).unwrap_or(&path).display()
        );
    }
}

#[test]
fn scan_reports_validate_against_the_report_schema() {
    let validator = validator(Document::Report);
    // Every verdict, decoded payloads, related locations, suppressions, hostile archives.
    for target in
        ["examples/skills", "tests/fixtures/hostile/traversal.zip", "tests/fixtures/evasion", "tests/fixtures/threats"]
    {
        let out = skillscan_in(&repo(), &["scan", target, "--format", "json", "--fail-on", "never"]);
        assert_eq!(out.status.code(), Some(0), "{target}");
        let report = json(&out);
        assert!(report["skills"].as_array().is_some_and(|s| !s.is_empty()), "{target}");
        let found = errors(&validator, &report);
        assert!(found.is_empty(), "{target}: {} schema errors:\n{}", found.len(), found.join("\n"));
    }
    // The schema is not `true`: a finding with a severity nobody defined is refused.
    let out = skillscan_in(&repo(), &["scan", "examples/skills", "--format", "json", "--fail-on", "never"]);
    let mut report = json(&out);
    let finding = report["skills"]
        .as_array_mut()
        .and_then(|skills| skills.iter_mut().find_map(|s| s["findings"].as_array_mut().and_then(|f| f.first_mut())))
        .expect("the examples have findings");
    finding["severity"] = "catastrophic".into();
    assert!(!errors(&validator, &report).is_empty());
}

#[test]
fn every_rule_file_validates_against_the_rule_schema() {
    let validator = validator(Document::Rule);
    let mut checked = 0;
    let mut pending = vec![repo().join("rules")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
                let found = errors(&validator, &value);
                assert!(found.is_empty(), "{}: {}", path.display(), found.join("\n"));
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} rule files found");
    let typo: serde_json::Value = serde_saphyr::from_str(
        "id: x\nname: x\nseverity: high\ncategory: B2\nmessage: x\ndescription: x\nremediation: x\n\
         match: { regex: x }\nexamples: { match: [x], no_match: [] }\nunles: { line: x }\n",
    )
    .unwrap();
    assert!(!errors(&validator, &typo).is_empty(), "an unknown key (`unles`) must be refused");
}

/// TOML as JSON, with dates as the strings they are written as.
fn toml_to_json(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => s.into(),
        toml::Value::Integer(i) => i.into(),
        toml::Value::Float(f) => f.into(),
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.into_iter().map(toml_to_json).collect(),
        toml::Value::Table(table) => table.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect(),
    }
}

#[test]
fn configs_the_loader_accepts_validate_against_the_config_schema() {
    let validator = validator(Document::Config);
    // The README's example, and one with every section.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let example = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("fail_on"))
        .expect("the README shows a skillscan.toml")
        .to_string();
    let full = r#"
fail_on = "medium"
inline_ignores = false
[rules]
disable = ["syntax-tree-skipped"]
enable = ["hardcoded-secret"]
severity = { "missing-skill-manifest" = "info" }
[[ignore]]
rule = "*"
reason = "vendored test data"
path = "skills/x/tests/**"
expires = 2027-01-31
[ci]
require_signatures = true
lock = "skills.lock"
[trust]
trusted_keys = "keys.toml"
mirror = "https://mirror.example.com"
[install]
redirect_hosts = ["blobs.example.com"]
allow_private_targets = false
"#;
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("readme", example.as_str()), ("full", full)] {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        Config::load(&path).unwrap_or_else(|e| panic!("{name}: the loader refuses it: {e}"));
        let value = toml_to_json(text.parse::<toml::Table>().map(toml::Value::Table).unwrap());
        let found = errors(&validator, &value);
        assert!(found.is_empty(), "{name}: {}", found.join("\n"));
    }
    // What the loader refuses, the schema refuses.
    for bad in [
        "fail_on = \"sometimes\"\n",
        "[ci]\nrequire_signature = true\n",
        "colour = true\n",
        // The former homes of the trust settings, now [trust].
        "[ci]\ntrusted_keys = \"keys.toml\"\n",
        "[inventory]\nmirror = \"https://mirror.example.com\"\n",
        "[trust]\npublic_key = \"mirror.pub\"\nmirror = 1\n",
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, bad).unwrap();
        assert!(Config::load(&path).is_err(), "{bad}");
        let value = toml_to_json(bad.parse::<toml::Table>().map(toml::Value::Table).unwrap());
        assert!(!errors(&validator, &value).is_empty(), "the schema accepts {bad:?}");
    }
}
