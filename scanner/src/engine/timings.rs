//! Where a scan's time goes (`skillscan scan --timings`): time per phase of the pipeline, per
//! text rule (regex runs, bytes searched) and per analyzer, summed over the worker threads.
//! Each piece of work is timed by the clock while its thread runs it: that is its CPU time
//! while the machine has a core free for each worker, more when other processes take the cores.
//!
//! It answers the questions speed work and rule authors ask first (which phase, which rule),
//! without a profiler. Off by default: the scan then reads no clock for it. Counters are
//! atomics, so every worker adds to the same totals without a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The phases of a skill's scan, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum Phase {
    /// Reading a skill's files or archive into memory (`package::load`).
    Load,
    /// Each file into views: Markdown structure, decoding, normalising, emulation.
    Views,
    /// The literal automaton over each file (the prefilter of every text rule).
    Literals,
    /// tree-sitter syntax trees of the scripts and code blocks that need one.
    Trees,
    /// Text rules over the views (regex and `at_least`), with their exceptions.
    Rules,
    /// The analyzers written in Rust (dataflow, intent, identity…).
    Analyzers,
    /// Provenance, correlation, context, capabilities, verdict: the report of the skill.
    Verdict,
}

const PHASES: usize = 7;

#[derive(Debug, Default)]
struct Cost {
    nanos: AtomicU64,
    runs: AtomicU64,
    bytes: AtomicU64,
}

impl Cost {
    fn add(&self, took: Duration, bytes: usize) {
        self.nanos.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn read(&self) -> (Duration, u64, u64) {
        (
            Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            self.runs.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// The totals of one scan. Shared by every worker through [`crate::ScanOptions::timings`].
#[derive(Debug)]
pub struct Timings {
    phases: [Cost; PHASES],
    rules: Vec<Cost>,
    analyzers: Vec<(&'static str, Cost)>,
}

/// One line of the report: what, time, how many runs, bytes read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub time: Duration,
    pub runs: u64,
    pub bytes: u64,
}

impl Timings {
    /// Totals for a rule set of `rules` rules and these analyzers.
    pub fn new(rules: usize, analyzers: &[&'static str]) -> Timings {
        Timings {
            phases: Default::default(),
            rules: (0..rules).map(|_| Cost::default()).collect(),
            analyzers: analyzers.iter().map(|name| (*name, Cost::default())).collect(),
        }
    }

    pub fn phase(&self, phase: Phase, took: Duration, bytes: usize) {
        self.phases[phase as usize].add(took, bytes);
    }

    /// One search of rule `rule` (by index in the rule set) over `bytes` bytes.
    pub fn rule(&self, rule: usize, took: Duration, bytes: usize) {
        if let Some(cost) = self.rules.get(rule) {
            cost.add(took, bytes);
        }
    }

    pub fn analyzer(&self, name: &str, took: Duration) {
        if let Some((_, cost)) = self.analyzers.iter().find(|(n, _)| *n == name) {
            cost.add(took, 0);
        }
    }

    /// The phases in pipeline order.
    pub fn phases(&self) -> Vec<Line> {
        use strum::IntoEnumIterator;
        Phase::iter()
            .map(|phase| {
                let (time, runs, bytes) = self.phases[phase as usize].read();
                Line { name: <&str>::from(phase).to_string(), time, runs, bytes }
            })
            .collect()
    }

    /// The rules that ran, costliest first; `names` gives a rule index its id.
    pub fn rules(&self, names: impl Fn(usize) -> String) -> Vec<Line> {
        let mut lines: Vec<Line> = self
            .rules
            .iter()
            .enumerate()
            .map(|(index, cost)| (index, cost.read()))
            .filter(|(_, (_, runs, _))| *runs > 0)
            .map(|(index, (time, runs, bytes))| Line { name: names(index), time, runs, bytes })
            .collect();
        lines.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
        lines
    }

    /// The analyzers that ran, costliest first.
    pub fn analyzers(&self) -> Vec<Line> {
        let mut lines: Vec<Line> = self
            .analyzers
            .iter()
            .map(|(name, cost)| (name, cost.read()))
            .filter(|(_, (_, runs, _))| *runs > 0)
            .map(|(name, (time, runs, bytes))| Line { name: name.to_string(), time, runs, bytes })
            .collect();
        lines.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
        lines
    }
}

impl Timings {
    /// The report `--timings` prints: phases, then the `top` costliest rules, then analyzers.
    /// Times are summed over the worker threads, so with several threads they add up to more
    /// than the wall time.
    pub fn render(&self, rule_names: impl Fn(usize) -> String, top: usize) -> String {
        use std::fmt::Write as _;
        let phases = self.phases();
        let total: Duration = phases.iter().map(|l| l.time).sum();
        let mut out = String::new();
        heading(&mut out, "phase", "runs", Some("MB"));
        for line in &phases {
            row(&mut out, line, total, true);
        }
        let _ = writeln!(out, "{:<34} {:>9.3}", "total", total.as_secs_f64());
        let rules = self.rules(rule_names);
        out.push('\n');
        let what = format!("rule (costliest {} of {} that ran)", top.min(rules.len()), rules.len());
        heading(&mut out, &what, "runs", Some("MB read"));
        for line in rules.iter().take(top) {
            row(&mut out, line, total, true);
        }
        out.push('\n');
        heading(&mut out, "analyzer", "skills", None);
        for line in self.analyzers() {
            row(&mut out, &line, total, false);
        }
        out
    }
}

/// A heading of the `--timings` report; `bytes` names the last column, if the table has one.
fn heading(out: &mut String, what: &str, runs: &str, bytes: Option<&str>) {
    use std::fmt::Write as _;
    let _ = write!(out, "{what:<34} {:>9} {:>7} {runs:>9}", "time s", "share");
    let _ = match bytes {
        Some(bytes) => writeln!(out, " {bytes:>10}"),
        None => writeln!(out),
    };
}

/// A row: time, its share of all phases, runs, and MB read when `bytes`.
fn row(out: &mut String, line: &Line, total: Duration, bytes: bool) {
    use std::fmt::Write as _;
    let share = if total.is_zero() { 0.0 } else { 100.0 * line.time.as_secs_f64() / total.as_secs_f64() };
    let _ = write!(out, "{:<34} {:>9.3} {:>6.1}% {:>9}", line.name, line.time.as_secs_f64(), share, line.runs);
    let _ = match bytes {
        true => writeln!(out, " {:>10.1}", line.bytes as f64 / 1_048_576.0),
        false => writeln!(out),
    };
}

/// A running clock for one piece of work, or nothing when there are no timings to keep.
pub struct Stopwatch<'t>(Option<(&'t Timings, Instant)>);

impl<'t> Stopwatch<'t> {
    pub fn start(timings: Option<&'t Timings>) -> Stopwatch<'t> {
        Stopwatch(timings.map(|timings| (timings, Instant::now())))
    }

    /// Records the time since `start` with `record`, when there are timings.
    pub fn stop(self, record: impl FnOnce(&Timings, Duration)) {
        if let Some((timings, started)) = self.0 {
            record(timings, started.elapsed());
        }
    }
}

/// Times `work` into `timings` when there are timings to keep; otherwise just runs it.
pub fn timed<T>(timings: Option<&Timings>, record: impl FnOnce(&Timings, Duration), work: impl FnOnce() -> T) -> T {
    let watch = Stopwatch::start(timings);
    let out = work();
    watch.stop(record);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_and_sort_costliest_first() {
        let timings = Timings::new(3, &["dataflow", "intent"]);
        timings.rule(2, Duration::from_millis(5), 100);
        timings.rule(2, Duration::from_millis(5), 50);
        timings.rule(0, Duration::from_millis(1), 10);
        timings.rule(9, Duration::from_millis(1), 10);
        timings.analyzer("intent", Duration::from_millis(3));
        timings.analyzer("unknown", Duration::from_millis(3));
        timings.phase(Phase::Trees, Duration::from_millis(7), 1000);
        let rules = timings.rules(|i| format!("r{i}"));
        assert_eq!(
            rules,
            vec![
                Line { name: "r2".into(), time: Duration::from_millis(10), runs: 2, bytes: 150 },
                Line { name: "r0".into(), time: Duration::from_millis(1), runs: 1, bytes: 10 },
            ]
        );
        assert_eq!(timings.analyzers().iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["intent"]);
        let phases = timings.phases();
        assert_eq!(phases.len(), PHASES);
        assert_eq!(phases[0].name, "load");
        let trees = phases.iter().find(|l| l.name == "trees").unwrap();
        assert_eq!((trees.time, trees.runs, trees.bytes), (Duration::from_millis(7), 1, 1000));
    }

    #[test]
    fn the_report_lists_phases_rules_and_analyzers() {
        let timings = Timings::new(2, &["dataflow"]);
        timings.phase(Phase::Rules, Duration::from_millis(300), 2 << 20);
        timings.phase(Phase::Trees, Duration::from_millis(100), 0);
        timings.rule(1, Duration::from_millis(200), 1 << 20);
        timings.rule(0, Duration::from_millis(100), 1 << 20);
        timings.analyzer("dataflow", Duration::from_millis(50));
        let text = timings.render(|i| ["first-rule", "second-rule"][i].to_string(), 1);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn timed_runs_the_work_with_or_without_timings() {
        assert_eq!(timed(None, |_, _| unreachable!(), || 4), 4);
        let timings = Timings::new(1, &[]);
        assert_eq!(timed(Some(&timings), |t, took| t.phase(Phase::Load, took, 0), || 5), 5);
        assert_eq!(timings.phases()[0].runs, 1);
        Stopwatch::start(None).stop(|_, _| unreachable!());
        Stopwatch::start(Some(&timings)).stop(|t, took| t.phase(Phase::Load, took, 7));
        assert_eq!((timings.phases()[0].runs, timings.phases()[0].bytes), (2, 7));
    }
}
