//! The threat, evasion and hostile-skill fixtures against the expectations of
//! `tests/fixtures/README.md`, scanned with an empty indicator list (no family may be caught by
//! an indicator alone).
//!
//! `tests/fixtures/known-gaps.txt` lists fixtures the scanner does not handle yet, each with a
//! reason. The test fails on any other miss, and also when a listed fixture starts passing, so
//! the list can only shrink.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use skillscan::engine::rules::RuleSources;
use skillscan::{Category, Config, ScanOptions, Scanner, Severity, SkillReport};

use crate::util::fixtures;

pub(crate) fn scanner() -> Scanner {
    let mut sources = RuleSources::builtin();
    sources.set_indicators_text("empty", "");
    let rules = sources.compile().expect("built-in rules compile");
    assert!(rules.indicators.is_empty());
    Scanner::new(rules, &Config::default())
}

pub(crate) fn scan(scanner: &Scanner, dir: &Path) -> Vec<SkillReport> {
    let options = ScanOptions { inline_ignores: false, ..ScanOptions::default() };
    scanner.scan_paths(&[dir.to_path_buf()], &options, &|_, _| {}).expect("fixture scans").skills
}

pub(crate) fn high(skills: &[SkillReport]) -> Vec<(&str, Severity, Category)> {
    skills
        .iter()
        .flat_map(|s| &s.findings)
        .filter(|f| f.is_active() && f.severity >= Severity::High)
        .map(|f| (f.rule_id.as_str(), f.severity, f.category))
        .collect()
}

pub(crate) fn dirs(parent: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

pub(crate) fn known_gaps() -> BTreeSet<String> {
    let text = std::fs::read_to_string(fixtures().join("known-gaps.txt")).unwrap_or_default();
    text.lines().map(|l| l.split('#').next().unwrap_or("").trim().to_string()).filter(|l| !l.is_empty()).collect()
}

/// The category of a `threats/B<NN>` directory.
pub(crate) fn category(code: &str) -> Category {
    code.trim_start_matches('B')
        .trim_start_matches('0')
        .parse::<u8>()
        .ok()
        .and_then(|n| format!("B{n}").parse().ok())
        .unwrap_or_else(|| panic!("category directory {code}"))
}

#[test]
fn every_fixture_meets_its_expectation() {
    let scanner = scanner();
    let root = fixtures();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut checked = 0;
    for category_dir in dirs(&root.join("threats")) {
        let code = category_dir.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        let category = category(&code);
        for fixture in dirs(&category_dir.join("positive")) {
            checked += 1;
            let skills = scan(&scanner, &fixture);
            let findings = high(&skills);
            if !findings.iter().any(|(_, _, c)| *c == category) {
                failures.push((rel(&root, &fixture), format!("no high/critical {category} finding; got {findings:?}")));
            }
        }
        for fixture in dirs(&category_dir.join("negative")) {
            checked += 1;
            let findings_owned = scan(&scanner, &fixture);
            let findings = high(&findings_owned);
            if !findings.is_empty() {
                failures.push((rel(&root, &fixture), format!("benign skill got {findings:?}")));
            }
        }
    }
    for fixture in dirs(&root.join("evasion")) {
        checked += 1;
        let skills = scan(&scanner, &fixture);
        if high(&skills).is_empty() {
            let all: Vec<_> = skills.iter().flat_map(|s| &s.findings).map(|f| (&f.rule_id, f.severity)).collect();
            failures.push((rel(&root, &fixture), format!("evasion not caught; findings {all:?}")));
        }
    }
    assert!(checked > 200, "only {checked} fixtures found");

    let gaps = known_gaps();
    let failed: BTreeSet<String> = failures.iter().map(|(f, _)| f.clone()).collect();
    let unexpected: Vec<String> =
        failures.iter().filter(|(f, _)| !gaps.contains(f)).map(|(f, why)| format!("{f}: {why}")).collect();
    let fixed: Vec<&String> = gaps.iter().filter(|g| !failed.contains(*g)).collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} fixture(s) fail their expectation:\n  {}\n{} fixture(s) in known-gaps.txt now pass (remove them):\n  {}",
        unexpected.len(),
        unexpected.join("\n  "),
        fixed.len(),
        fixed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  ")
    );
}

pub(crate) fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Hard negatives that are clean for one stated reason, each with that reason removed by a text
/// edit of one file: (fixture, file, text to replace, replacement). The edited copy must reach
/// high, so the negative proves the exemption and not a blind spot.
const ONE_FACT_AWAY: &[(&str, &str, &str, &str)] = &[
    // Google's own API takes the key in the query string; any other host is a send elsewhere.
    (
        "threats/B14/negative/gemini-quota-check",
        "SKILL.md",
        "https://generativelanguage.googleapis.com/v1beta/models",
        "https://quota-lens.example.invalid/v1/models",
    ),
    // The collected deploy settings (with the token) go to the vendor the skill names.
    (
        "threats/B08/negative/deploy-settings-handoff",
        "SKILL.md",
        "https://api.brightpath-deploy.example/v2/settings",
        "https://settings-relay.example.invalid/v2/in",
    ),
    // The Python installer comes from python.org's release downloads (a known official
    // installer); from another host, the PowerShell download-then-run is flagged.
    (
        "threats/B02/negative/scoop-dev-tools",
        "scripts/setup.ps1",
        "https://www.python.org/ftp/python/",
        "https://py-mirror.example.invalid/ftp/python/",
    ),
    // The workspace upload goes to the host the front matter declares.
    ("threats/B05/negative/static-site-publisher", "SKILL.md", "homepage: https://pagedrop.example\n", ""),
];

#[test]
fn hard_negatives_flip_when_their_one_exempting_fact_is_removed() {
    let scanner = scanner();
    let root = fixtures();
    for (fixture, file, from, to) in ONE_FACT_AWAY {
        let source = root.join(fixture);
        assert!(high(&scan(&scanner, &source)).is_empty(), "{fixture} is not clean as committed");
        let copy = tempfile::tempdir().expect("temp dir");
        let dest = copy.path().join(source.file_name().expect("fixture name"));
        copy_tree(&source, &dest);
        let path = dest.join(file);
        let text = std::fs::read_to_string(&path).expect("fixture file");
        assert!(text.contains(from), "{fixture}/{file} no longer contains {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("edited copy");
        let findings = scan(&scanner, &dest);
        assert!(!high(&findings).is_empty(), "{fixture} without its exemption got no high finding");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("copy dir");
    for entry in std::fs::read_dir(from).expect("read fixture").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}
