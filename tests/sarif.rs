//! SARIF output validates against the official SARIF 2.1.0 schema (kept in tests/schemas).

use crate::util::{json, repo, skillscan_in};

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let text = std::fs::read_to_string(repo().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap();
    // The official schema's `run.language` pattern has a stray `]` that strict regex engines
    // reject when checking the schema itself; escaping it changes nothing we validate.
    let text = text.replace(r#"^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#, r#"^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    // The examples (all verdicts, decoded payloads, related locations) and a hostile archive.
    for target in ["examples/skills", "tests/fixtures/hostile/traversal.zip", "tests/fixtures/evasion"] {
        let out = skillscan_in(&repo(), &["scan", target, "--format", "sarif", "--fail-on", "never"]);
        assert_eq!(out.status.code(), Some(0), "{target}");
        let sarif = json(&out);
        let errors: Vec<String> =
            validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{target}: {} schema errors:\n{}", errors.len(), errors.join("\n"));
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty(), "{target}");
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        for result in results {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            assert!(rules[index]["help"]["text"].as_str().unwrap().len() > 40);
            assert!(result["partialFingerprints"]["skillscan/v1"].as_str().unwrap().len() == 32);
            let (code, name) = (&result["properties"]["category"], &result["properties"]["categoryName"]);
            assert_eq!(
                (&rules[index]["properties"]["category"], &rules[index]["properties"]["categoryName"]),
                (code, name)
            );
            let category: skillscan::Category = code.as_str().unwrap().parse().unwrap();
            assert_eq!(name.as_str(), Some(category.name()), "{result}");
        }
    }
}

#[test]
fn fingerprints_are_stable_across_runs_and_locations_are_skill_relative() {
    let run = || json(&skillscan_in(&repo(), &["scan", "examples/skills", "--format", "sarif"]));
    let (a, b) = (run(), run());
    let prints = |s: &serde_json::Value| -> Vec<String> {
        s["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["partialFingerprints"].to_string()).collect()
    };
    assert_eq!(prints(&a), prints(&b));
    let first = &a["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(first["uri"], "SKILL.md");
    let base = first["uriBaseId"].as_str().unwrap();
    assert_eq!(a["runs"][0]["originalUriBaseIds"][base]["uri"], "examples/skills/claw-runtime-setup/");
}
