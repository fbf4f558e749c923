//! Named analyzers: checks written in Rust because a pattern cannot express them (archive
//! structure, file types, front-matter semantics, cross-file comparisons…). A rule file names the
//! analyzer in `match: { analyzer: NAME }`; the analyzer emits hits for the rule ids it owns, so
//! the rule file still carries the documentation, severity and examples.

mod basics;
mod campaign;
pub mod dataflow;
mod frontmatter;
mod identity;
mod intent;
mod manifests;
pub mod meta;

use crate::engine::analysis::{Deadline, FileAnalysis};
use crate::engine::corroborate::Corroboration;
use crate::engine::hit::{Hit, HitLocation};
use crate::engine::package::LoadIssue;
use crate::engine::rules::RuleSet;

/// Everything an analyzer can look at for one skill.
pub struct SkillInput<'a> {
    pub root: &'a str,
    pub files: &'a [FileAnalysis],
    pub issues: &'a [LoadIssue],
    pub rules: &'a RuleSet,
    /// What the skill vouches for, worked out on first use and shared by the analyzers and
    /// the pipeline after them (it was worked out by each of them).
    vouched: std::cell::OnceCell<Corroboration>,
}

impl<'a> SkillInput<'a> {
    pub fn new(root: &'a str, files: &'a [FileAnalysis], issues: &'a [LoadIssue], rules: &'a RuleSet) -> Self {
        SkillInput { root, files, issues, rules, vouched: std::cell::OnceCell::new() }
    }

    pub fn manifest(&self) -> Option<(usize, &FileAnalysis)> {
        self.files.iter().enumerate().find(|(_, f)| f.is_manifest())
    }

    /// The hosts, organisations and names the skill's own files vouch for.
    pub fn vouched(&self) -> &Corroboration {
        self.vouched.get_or_init(|| Corroboration::of(self.files, &self.rules.lists))
    }
}

/// Collects analyzer hits for rule ids that exist in the rule set.
pub struct Emitter<'a> {
    rules: &'a RuleSet,
    pub hits: Vec<Hit>,
}

impl<'a> Emitter<'a> {
    pub fn new(rules: &'a RuleSet) -> Self {
        Emitter { rules, hits: Vec::new() }
    }

    pub fn emit(&mut self, rule_id: &str, location: HitLocation, detail: Option<String>) -> Option<&mut Hit> {
        // A rule set without this id (replaced or removed with --rules) just does not report it.
        let rule = self.rules.index_of(rule_id)?;
        self.hits.push(Hit { rule, location, captures: Vec::new(), detail, related: Vec::new(), severity: None });
        self.hits.last_mut()
    }
}

type AnalyzerFn = fn(&SkillInput<'_>, &mut Emitter<'_>);

/// Analyzer name → (function, rule ids it emits).
const ANALYZERS: &[(&str, AnalyzerFn, &[&str])] = &[
    ("loader", basics::loader, basics::LOADER_RULES),
    ("file-type", basics::file_type, basics::FILE_TYPE_RULES),
    ("coverage", basics::coverage, basics::COVERAGE_RULES),
    ("frontmatter", frontmatter::frontmatter, frontmatter::RULES),
    ("identity", identity::identity, identity::RULES),
    ("manifests", manifests::manifests, manifests::RULES),
    ("dataflow", dataflow::dataflow, dataflow::RULES),
    ("campaign", campaign::campaign, campaign::RULES),
    ("intent", intent::intent, intent::RULES),
];

/// The analyzer names rule files may use.
pub fn names() -> Vec<&'static str> {
    ANALYZERS.iter().map(|(name, _, _)| *name).collect()
}

pub fn is_known(name: &str) -> bool {
    ANALYZERS.iter().any(|(n, _, _)| *n == name)
}

/// The rule ids an analyzer may emit (used by the rule lint to check both directions).
pub fn emitted_rules(name: &str) -> &'static [&'static str] {
    ANALYZERS.iter().find(|(n, _, _)| *n == name).map_or(&[], |(_, _, ids)| ids)
}

/// Analyzers that run even after the deadline: each is one pass over file metadata, and
/// together they report what was not analysed.
const ALWAYS_RUN: &[&str] = &["loader", "file-type", "coverage"];

/// Runs the analyzers that at least one enabled rule asks for. Once `deadline` has passed the
/// others are not started; they are named in one `analysis-incomplete` hit on the manifest (or
/// the first file).
pub fn run(
    input: &SkillInput<'_>,
    wanted: &dyn Fn(&str) -> bool,
    deadline: &Deadline,
    timings: Option<&crate::engine::timings::Timings>,
) -> Vec<Hit> {
    let mut emitter = Emitter::new(input.rules);
    let mut skipped = Vec::new();
    for (name, analyzer, _) in ANALYZERS {
        if !wanted(name) {
            continue;
        }
        if !ALWAYS_RUN.contains(name) && deadline.check().is_err() {
            skipped.push(*name);
            continue;
        }
        crate::engine::timings::timed(timings, |t, took| t.analyzer(name, took), || analyzer(input, &mut emitter));
    }
    let at = input.manifest().map(|(index, _)| index).or((!input.files.is_empty()).then_some(0));
    if let (false, Some(file)) = (skipped.is_empty(), at) {
        let what = format!("these analyzers did not run: {}", skipped.join(", "));
        let location = HitLocation::File { file, range: None };
        // The file may already carry its own note (its matching stopped too): one finding says both.
        let rule = input.rules.index_of("analysis-incomplete");
        match emitter.hits.iter_mut().find(|h| Some(h.rule) == rule && h.location == location) {
            Some(hit) => hit.detail = Some(format!("{}; {what}", hit.detail.as_deref().unwrap_or_default())),
            None => {
                let detail = format!("the skill's {:?} analysis deadline passed; {what}", deadline.budget());
                emitter.emit("analysis-incomplete", location, Some(detail));
            }
        }
    }
    emitter.hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_catalog_names_exactly_these_analyzers() {
        assert_eq!(names(), crate::engine::rules::catalog::ANALYZER_NAMES);
    }
}
