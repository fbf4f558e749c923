//! Every rule's examples: `match` examples must hit the rule, `no_match` examples must not.
//! All failures are reported at once (the same machinery as `skillscan rules test`).

use skillscan::engine::rules::RuleSet;
use skillscan::engine::selftest;
use skillscan::{Config, Scanner};

#[test]
fn every_rule_example_behaves() {
    let rules = RuleSet::builtin().expect("built-in rules compile");
    let count = rules.rules.len();
    assert!(count >= 25, "only {count} rules");
    let mut scanner = Scanner::new(rules, &Config::default());
    scanner.enable_all();
    let report = selftest::run(&scanner, None);
    assert_eq!(report.rules, count);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{} of {} examples fail:\n{}", failures.len(), report.examples, failures.join("\n"));
}

#[test]
fn every_analyzer_rule_is_emitted_by_its_analyzer_and_vice_versa() {
    let rules = RuleSet::builtin().unwrap();
    for rule in &rules.rules {
        if let skillscan::engine::rules::Matcher::Analyzer(name) = &rule.matcher {
            assert!(
                skillscan::engine::analyzers::emitted_rules(name).contains(&rule.id.as_str()),
                "{} names analyzer {name}, which never emits it",
                rule.id
            );
        }
    }
    for name in skillscan::engine::analyzers::names() {
        for id in skillscan::engine::analyzers::emitted_rules(name) {
            let rule = rules.get(id).unwrap_or_else(|| panic!("analyzer {name} emits {id}, which has no rule file"));
            assert!(matches!(&rule.matcher, skillscan::engine::rules::Matcher::Analyzer(n) if n == name), "{id}");
        }
    }
}

#[test]
fn a_broken_rule_file_is_a_clear_error() {
    let mut sources = skillscan::engine::rules::RuleSources::builtin();
    sources.add_text("b2/broken-rule.yaml", "id: other-id\nname: x\n");
    let error = sources.compile().unwrap_err().to_string();
    assert!(error.contains("broken-rule.yaml"), "{error}");
}
