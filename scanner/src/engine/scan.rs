//! The scanner: load, analyse, match, correlate, suppress, judge — for one skill or many in
//! parallel — and the versioned report it produces.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::analysis::{self, CoverageNote, Deadline, FileAnalysis, ParseLimits};
use crate::engine::analyzers::{self, SkillInput};
use crate::engine::capabilities::{self, Capabilities};
use crate::engine::config::{Config, FailOn};
use crate::engine::context;
use crate::engine::correlate;
use crate::engine::finding::{Finding, Severity};
use crate::engine::hit::Hit;
use crate::engine::matching::{self, Matching};
use crate::engine::package::{self, Limits, LoadError, LoadedSkill, SkillSource, Source};
use crate::engine::provenance;
use crate::engine::rules::{Matcher, RuleError, RuleSet};
use crate::engine::suppress::{self, Ignores};
use crate::engine::timings::{Phase, Stopwatch, Timings, timed};
use crate::engine::verdict::{self, Verdict};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub limits: Limits,
    pub parse: ParseLimits,
    /// Honour `skillscan-ignore` comments in scanned files. Off whenever the skill's author is
    /// not the one asking for the scan (mirror ingest, `skillscan install`).
    pub inline_ignores: bool,
    /// Where the CPU time goes (`skillscan scan --timings`); `None` reads no clock for it.
    pub timings: Option<Arc<Timings>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { limits: Limits::default(), parse: ParseLimits::default(), inline_ignores: true, timings: None }
    }
}

/// One skill's result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SkillReport {
    /// The skill root as found under the scanned path.
    pub root: String,
    /// `name` from the front matter, or the root folder's name.
    pub name: Option<String>,
    pub verdict: Verdict,
    pub max_severity: Option<Severity>,
    pub score: u32,
    pub counts: BTreeMap<Severity, usize>,
    pub files: usize,
    pub bytes: u64,
    pub findings: Vec<Finding>,
    pub capabilities: Capabilities,
}

impl SkillReport {
    /// Recomputes verdict, highest severity, score and counts from the findings.
    pub fn reassess(&mut self) {
        let (verdict, max_severity, score) = verdict::assess(&self.findings);
        self.verdict = verdict;
        self.max_severity = max_severity;
        self.score = score;
        self.counts = active_counts(&self.findings);
    }
}

/// Active findings per severity.
fn active_counts(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f.is_active()) {
        *counts.entry(finding.severity).or_insert(0) += 1;
    }
    counts
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
    pub rules_version: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub skills: usize,
    pub files: usize,
    pub bytes: u64,
    pub findings_by_severity: BTreeMap<Severity, usize>,
    pub verdicts: BTreeMap<Verdict, usize>,
    pub elapsed_ms: u64,
}

/// The versioned report (`--format json` is this, serialised).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScanReport {
    pub version: u32,
    pub tool: Tool,
    pub skills: Vec<SkillReport>,
    pub summary: Summary,
    /// Configuration problems worth a look: expired or unused ignores, unknown rule ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Present when the scan was compared with an earlier report (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
}

/// What `--baseline` set aside.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BaselineSummary {
    /// The earlier report, as named on the command line.
    pub file: String,
    /// Active findings the earlier report already had. They stay in `findings`, suppressed with
    /// kind `baseline`, and count neither for verdicts nor for the exit code.
    pub baselined: usize,
}

impl ScanReport {
    /// The highest active severity across all skills.
    pub fn max_severity(&self) -> Option<Severity> {
        self.skills.iter().filter_map(|s| s.max_severity).max()
    }

    /// Whether an active finding is at or above the threshold.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        match fail_on.threshold() {
            None => false,
            Some(threshold) => self.max_severity().is_some_and(|s| s >= threshold),
        }
    }

    /// Recomputes every skill's verdict, score and counts, and the summary's counts, from the
    /// findings (after findings were suppressed, e.g. by a baseline).
    pub fn reassess(&mut self) {
        let mut findings_by_severity: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
        for skill in &mut self.skills {
            skill.reassess();
            for (severity, count) in &skill.counts {
                *findings_by_severity.entry(*severity).or_insert(0) += count;
            }
            *verdicts.entry(skill.verdict).or_insert(0) += 1;
        }
        self.summary.findings_by_severity = findings_by_severity;
        self.summary.verdicts = verdicts;
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Rules(#[from] RuleError),
}

/// Compiled rules plus the configuration that switches them.
pub struct Scanner {
    rules: RuleSet,
    enabled: Vec<bool>,
    severity_overrides: Vec<Option<Severity>>,
    ignores: Ignores,
    pub config_warnings: Vec<String>,
}

impl Scanner {
    pub fn with_builtin_rules() -> Result<Scanner, RuleError> {
        Ok(Scanner::new(RuleSet::builtin()?, &Config::default()))
    }

    pub fn new(rules: RuleSet, config: &Config) -> Scanner {
        let mut warnings = Vec::new();
        let mut enabled: Vec<bool> = rules.rules.iter().map(|r| !r.disabled_by_default).collect();
        let mut set = |ids: &[String], on: bool, warnings: &mut Vec<String>, what: &str| {
            for id in ids {
                match rules.index_of(id) {
                    Some(i) => enabled[i] = on,
                    None => warnings.push(format!("config: rules.{what} names unknown rule `{id}`")),
                }
            }
        };
        set(&config.rules.disable, false, &mut warnings, "disable");
        set(&config.rules.enable, true, &mut warnings, "enable");
        let mut severity_overrides = vec![None; rules.rules.len()];
        for (id, severity) in &config.rules.severity {
            match rules.index_of(id) {
                Some(i) => severity_overrides[i] = Some(*severity),
                None => warnings.push(format!("config: rules.severity names unknown rule `{id}`")),
            }
        }
        for entry in &config.ignore {
            if entry.rule != "*" && rules.index_of(&entry.rule).is_none() {
                warnings.push(format!("config: ignore names unknown rule `{}`", entry.rule));
            }
        }
        let ignores = Ignores::new(&config.ignore);
        Scanner { rules, enabled, severity_overrides, ignores, config_warnings: warnings }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Enables every rule (for rule self-tests).
    pub fn enable_all(&mut self) {
        self.enabled.iter_mut().for_each(|e| *e = true);
    }

    fn analyzer_wanted(&self, name: &str) -> bool {
        self.rules
            .rules
            .iter()
            .zip(&self.enabled)
            .any(|(rule, &on)| on && matches!(&rule.matcher, Matcher::Analyzer(a) if a == name))
    }

    /// Scans the paths given on the command line (directories, files, archives, `-`).
    pub fn scan_paths(
        &self,
        paths: &[PathBuf],
        options: &ScanOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ScanReport, ScanError> {
        let started = Instant::now();
        let mut sources: Vec<SkillSource> = Vec::new();
        for path in paths {
            sources.extend(package::discover(path)?);
        }
        let total = sources.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Vec<Result<Vec<SkillReport>, LoadError>> = sources
            .par_iter()
            .map(|source| {
                if failed.load(Ordering::Relaxed) {
                    return Ok(Vec::new());
                }
                let watch = Stopwatch::start(options.timings.as_deref());
                let loaded = package::load(source, &options.limits);
                watch.stop(|timings, took| {
                    let bytes = loaded.as_ref().map_or(0, |skills| skills.iter().map(|s| s.bytes()).sum::<u64>());
                    timings.phase(Phase::Load, took, usize::try_from(bytes).unwrap_or(usize::MAX));
                });
                let reports = loaded.map(|skills| skills.into_iter().map(|s| self.scan_loaded(s, options)).collect());
                if reports.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                reports
            })
            .collect();
        let mut skills = Vec::new();
        for result in results {
            skills.extend(result?);
        }
        Ok(self.report(skills, started))
    }

    /// Scans an archive held in memory (the mirror and the installer use this).
    pub fn scan_archive_bytes(&self, display_name: &str, bytes: &[u8], options: &ScanOptions) -> ScanReport {
        let started = Instant::now();
        let source = SkillSource {
            display: display_name.to_string(),
            source: Source::Bytes { name: display_name.to_string(), bytes: Arc::from(bytes) },
        };
        let skills = match package::load(&source, &options.limits) {
            Ok(skills) => skills.into_iter().map(|s| self.scan_loaded(s, options)).collect(),
            // Loading bytes cannot fail with an I/O error; keep the type honest anyway.
            Err(_) => Vec::new(),
        };
        self.report(skills, started)
    }

    fn report(&self, mut skills: Vec<SkillReport>, started: Instant) -> ScanReport {
        skills.sort_by(|a, b| a.root.cmp(&b.root));
        let mut findings_by_severity: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
        let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
        for skill in &skills {
            for (severity, count) in &skill.counts {
                *findings_by_severity.entry(*severity).or_insert(0) += count;
            }
            *verdicts.entry(skill.verdict).or_insert(0) += 1;
        }
        let mut warnings = self.config_warnings.clone();
        warnings.extend(self.ignores.warnings());
        ScanReport {
            version: 1,
            tool: Tool {
                name: "skillscan",
                version: env!("CARGO_PKG_VERSION"),
                rules_version: self.rules.version.clone(),
            },
            summary: Summary {
                skills: skills.len(),
                files: skills.iter().map(|s| s.files).sum(),
                bytes: skills.iter().map(|s| s.bytes).sum(),
                findings_by_severity,
                verdicts,
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            },
            skills,
            warnings,
            baseline: None,
        }
    }

    /// Scans one loaded skill.
    pub fn scan_loaded(&self, skill: LoadedSkill, options: &ScanOptions) -> SkillReport {
        self.scan_loaded_with_hits(skill, options).0
    }

    /// Scans one loaded skill; also returns the ids of every rule that hit, including
    /// capability-only rules that produce no finding (the rule self-tests need them).
    pub fn scan_loaded_with_hits(&self, skill: LoadedSkill, options: &ScanOptions) -> (SkillReport, Vec<String>) {
        let timings = options.timings.as_deref();
        let matching = Matching { rules: &self.rules, enabled: &self.enabled, timings };
        let deadline = Deadline::after(options.parse.analysis_time);
        let analysed: Vec<(FileAnalysis, Vec<Hit>)> = skill
            .files
            .par_iter()
            .enumerate()
            .map(|(index, file)| {
                let bytes = file.bytes.len();
                let record = |phase| move |t: &Timings, took| t.phase(phase, took, bytes);
                let mut analysis = timed(timings, record(Phase::Views), || analysis::analyze(file, &options.parse));
                let literals = timed(timings, record(Phase::Literals), || matching.file_literals(analysis.text()));
                timed(timings, record(Phase::Trees), || {
                    matching.parse_wanted_trees(&mut analysis, &literals, &options.parse);
                });
                let mut hits = Vec::new();
                let matched = timed(timings, record(Phase::Rules), || {
                    matching.match_file(index, &analysis, &literals, &deadline, &mut hits)
                });
                if matched.is_err() {
                    // What matched before the deadline stays; the note says the rest did not run.
                    analysis.notes.push(CoverageNote {
                        rule_id: "analysis-incomplete",
                        range: None,
                        detail: format!(
                            "the skill's {:?} analysis deadline passed before every rule had run on this file",
                            deadline.budget()
                        ),
                    });
                }
                (analysis, hits)
            })
            .collect();
        let mut files = Vec::with_capacity(analysed.len());
        let mut hits = Vec::new();
        for (analysis, file_hits) in analysed {
            files.push(analysis);
            hits.extend(file_hits);
        }
        let input = SkillInput::new(&skill.root, &files, &skill.issues, &self.rules);
        let by_analyzers = timed(
            timings,
            |t, took| t.phase(Phase::Analyzers, took, 0),
            || analyzers::run(&input, &|name| self.analyzer_wanted(name), &deadline, timings),
        );
        let verdict_watch = Stopwatch::start(timings);
        hits.extend(by_analyzers);
        hits.retain(|h| self.enabled.get(h.rule).copied().unwrap_or(false));
        let vouched = input.vouched();
        // Kept unless the host's standing contradicts the rule's condition on it. Hits set
        // aside still describe what the skill does, so they feed the capability manifest.
        let (kept, set_aside): (Vec<Hit>, Vec<Hit>) = hits.into_iter().partition(|hit| {
            let unless = &self.rules.rules[hit.rule].unless;
            if !unless.corroborated && !unless.require_corroborated {
                return true;
            }
            let vouched = hit.capture("url").is_some_and(|url| vouched.vouches_for(url, &self.rules.lists));
            if vouched { !unless.corroborated } else { !unless.require_corroborated }
        });
        let mut hits = kept;
        provenance::apply(&mut hits, &self.rules, vouched, |hit| capabilities::matched_text(&files, hit));

        let facts = capabilities::facts(&self.rules, &files, &hits);
        let correlated = correlate::correlate(&self.rules, &self.enabled, &files, &facts);
        let install_specs = files
            .iter()
            .find(|f| f.is_manifest())
            .map(|m| analyzers::meta::SkillMeta::of(m).install.iter().map(|spec| spec.label()).collect())
            .unwrap_or_default();
        let mut capability_facts = facts.clone();
        capability_facts.extend(capabilities::facts(&self.rules, &files, &set_aside));
        let capabilities = capabilities::build(&capability_facts, install_specs);
        drop(capability_facts);
        drop(facts);
        hits.extend(correlated);
        context::apply(&mut hits, &files, &self.rules);
        let mut hit_rules: Vec<String> = hits.iter().map(|h| self.rules.rules[h.rule].id.clone()).collect();
        hit_rules.sort();
        hit_rules.dedup();

        let mut findings = matching::findings_of(&self.rules, &files, &hits);
        for finding in &mut findings {
            if let Some(Some(severity)) = self.rules.index_of(&finding.rule_id).map(|i| self.severity_overrides[i]) {
                finding.severity = severity;
            }
        }
        self.ignores.apply(&skill.root, &mut findings);
        if options.inline_ignores {
            suppress::apply_inline(&files, &mut findings);
        }
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.column.cmp(&b.column))
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        let (verdict, max_severity, score) = verdict::assess(&findings);
        let counts = active_counts(&findings);
        let name = files
            .iter()
            .find(|f| f.is_manifest())
            .and_then(|f| f.markdown.as_ref())
            .and_then(|doc| doc.frontmatter_value.as_ref())
            .and_then(|v| v.as_ref().ok())
            .and_then(|v| v.get("name"))
            .and_then(|v| v.as_str())
            .map(|s| crate::engine::text::escape_snippet(s, 100))
            .or_else(|| {
                let last = skill.root.rsplit(['/', '!']).find(|s| !s.is_empty())?;
                Some(last.to_string())
            });
        verdict_watch.stop(|t, took| t.phase(Phase::Verdict, took, 0));
        let report = SkillReport {
            root: skill.root.clone(),
            name,
            verdict,
            max_severity,
            score,
            counts,
            files: skill.files.len(),
            bytes: skill.bytes(),
            findings,
            capabilities,
        };
        (report, hit_rules)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn scan_example(name: &str, analysis_time: Duration) -> SkillReport {
        let scanner = Scanner::with_builtin_rules().expect("built-in rules");
        let options = ScanOptions { parse: ParseLimits { analysis_time, ..Default::default() }, ..Default::default() };
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/skills").join(name);
        let mut report = scanner.scan_paths(&[path], &options, &|_, _| {}).expect("scan");
        assert_eq!(report.skills.len(), 1);
        report.skills.remove(0)
    }

    #[test]
    fn a_passed_deadline_is_a_high_finding_per_file_and_names_the_skipped_analyzers() {
        let report = scan_example("notes-sync", Duration::ZERO);
        let incomplete: Vec<&Finding> = report.findings.iter().filter(|f| f.rule_id == "analysis-incomplete").collect();
        // One per file whose matching stopped; the manifest's also names the analyzers that never started.
        assert_eq!(incomplete.len(), report.files, "{incomplete:#?}");
        assert!(incomplete.iter().all(|f| f.severity == Severity::High));
        assert!(incomplete.iter().any(|f| f.message.contains("dataflow") && f.message.contains("intent")));
        assert!(
            report.max_severity >= Some(Severity::High),
            "a scan that did not finish must fail a gate at the default threshold"
        );
    }

    #[test]
    fn a_message_never_shows_a_placeholder_its_match_did_not_fill() {
        let dir = std::env::temp_dir().join(format!("skillscan-placeholder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // A fetch piped into a shell with no URL in it: the message has no host to name.
        std::fs::write(
            dir.join("SKILL.md"),
            "---\nname: p\ndescription: d\n---\n```bash\nwget -O- \"$SRC\" | sh\n```\n",
        )
        .expect("write");
        let scanner = Scanner::with_builtin_rules().expect("built-in rules");
        let report = scanner.scan_paths(std::slice::from_ref(&dir), &ScanOptions::default(), &|_, _| {}).expect("scan");
        std::fs::remove_dir_all(&dir).ok();
        let findings = &report.skills[0].findings;
        assert!(findings.iter().any(|f| f.rule_id == "fetch-pipe-shell"), "{findings:#?}");
        assert!(findings.iter().all(|f| !f.message.contains('{')), "{findings:#?}");
    }

    #[test]
    fn the_default_deadline_leaves_an_honest_skill_alone() {
        let report = scan_example("markdown-tidy", ParseLimits::default().analysis_time);
        assert!(report.findings.iter().all(|f| f.rule_id != "analysis-incomplete"), "{:#?}", report.findings);
        assert!(report.max_severity < Some(Severity::High), "{:?}", report.max_severity);
    }
}
