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

/// Built-in rules' regexes (`match.regex`, `unless.*`) are compiled when a scan first needs
/// them; this compiles every one, so a bad pattern fails here, not in a scan.
#[test]
fn every_builtin_rule_regex_compiles() {
    let rules = RuleSet::builtin().unwrap();
    let mut compiled = 0;
    for rule in &rules.rules {
        let matcher = match &rule.matcher {
            skillscan::engine::rules::Matcher::Regex(regex) => Some(regex),
            _ => None,
        };
        let unless = &rule.unless;
        for regex in [
            matcher,
            unless.line.as_ref(),
            unless.matched.as_ref(),
            unless.lead_in.as_ref(),
            unless.steps_above.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(regex.get().as_str(), regex.as_str(), "{}", rule.id);
            compiled += 1;
        }
    }
    assert!(compiled >= 100, "only {compiled} regexes");
}

/// A rule from the user's directory is compiled when it loads: a regex that parses but is too
/// large to compile is a load error naming the file, not a failure in the middle of a scan.
#[test]
fn a_user_rule_regex_too_large_to_compile_is_a_load_error() {
    let huge = AT_LEAST_SEGMENT_RULE.replace("id: test-at-least-segment", "id: test-huge-regex").replace(
        r#"at_least: { count: 3, list: ["nmap", "hydra | thc-hydra", "john{,-the-ripper}"], within: segment }"#,
        r#"regex: '(?:\w{50}){50}'"#,
    );
    let error = with_rule(&huge).unwrap_err();
    assert!(error.contains("test-huge-regex.yaml") && error.contains("match.regex"), "{error}");
}

#[test]
fn a_broken_rule_file_is_a_clear_error() {
    let mut sources = skillscan::engine::rules::RuleSources::builtin();
    sources.add_text("b2/broken-rule.yaml", "id: other-id\nname: x\n");
    let error = sources.compile().unwrap_err().to_string();
    assert!(error.contains("broken-rule.yaml"), "{error}");
}

/// An `at_least` rule with an inline list counting across a whole segment: its examples run
/// through the same self-test as the built-in rules.
const AT_LEAST_SEGMENT_RULE: &str = r#"
id: test-at-least-segment
name: Three distinct tools in one script
severity: medium
category: destruction-and-abuse
confidence: low
message: Names {members}
description: Test rule.
remediation: None.
views: [code]
match:
  at_least: { count: 3, list: ["nmap", "hydra | thc-hydra", "john{,-the-ripper}"], within: segment }
examples:
  match:
    - file: scripts/a.sh
      code: "nmap -sS 10.0.0.0/24\nthc-hydra -l admin 10.0.0.5 ssh\njohn-the-ripper hashes.txt\n"
  no_match:
    - file: scripts/a.sh
      note: one member three times
      code: "nmap -sS a\nnmap -sV b\nnmap -O c\n"
    - file: scripts/a.sh
      note: two of three, and a longer word that only contains a member
      code: "nmap -sS a\nhydra -l x b\njohnny c\n"
"#;

fn with_rule(text: &str) -> Result<RuleSet, String> {
    let mut sources = skillscan::engine::rules::RuleSources::builtin();
    let id = text.lines().find_map(|l| l.strip_prefix("id: ")).expect("an id line");
    sources.add_text(&format!("b1/{id}.yaml"), text);
    sources.compile().map_err(|e| e.to_string())
}

#[test]
fn at_least_counts_distinct_members_across_a_segment() {
    let rules = with_rule(AT_LEAST_SEGMENT_RULE).expect("the test rule compiles");
    let mut scanner = Scanner::new(rules, &Config::default());
    scanner.enable_all();
    let only = ["test-at-least-segment".to_string()];
    let report = selftest::run(&scanner, Some(&only));
    assert_eq!(report.examples, 3);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn at_least_rejects_impossible_counts_unknown_lists_and_bad_members() {
    let base = AT_LEAST_SEGMENT_RULE;
    let cases = [
        ("count: 3", "count: 4", "between 2 and the number of members (3)"),
        ("count: 3", "count: 1", "between 2"),
        (r#"list: ["nmap", "hydra | thc-hydra", "john{,-the-ripper}"]"#, "list: no-such-list", "unknown term list"),
        (r#""john{,-the-ripper}""#, r#""john{,-the-ripper""#, "without its `}`"),
        (r#""john{,-the-ripper}""#, r#""nmap | john""#, "also a spelling of `nmap`"),
        ("within: segment", "within: file", "within"),
    ];
    for (from, to, expected) in cases {
        let text = base.replace(from, to);
        assert_ne!(text, base, "{from}");
        let error = with_rule(&text).expect_err(to);
        assert!(error.contains(expected), "{to}: {error}");
    }
}
