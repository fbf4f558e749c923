//! The last scheduled runs of `serve` (see `crate::schedule`), kept in memory for the review
//! UI's schedule page; lost on restart (the audit log and the metrics are the durable record).
//!
//! Its own module so that the shared state can hold the log without the state module and the
//! scheduler (which runs on that state) importing each other.

use std::collections::VecDeque;

/// How many scheduled runs [`RunLog`] keeps.
pub const KEPT_RUNS: usize = 50;

/// Which job a run was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Sync,
    Rescan,
}

impl Job {
    pub fn as_str(self) -> &'static str {
        match self {
            Job::Sync => "sync",
            Job::Rescan => "rescan",
        }
    }
}

/// One finished scheduled run, as the review UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub job: Job,
    /// Start and end, ms since the Unix epoch.
    pub started_at: i64,
    pub finished_at: i64,
    pub ok: bool,
    /// What it did or why it failed, in one line.
    pub summary: String,
}

/// The last [`KEPT_RUNS`] scheduled runs, newest last; in memory only.
#[derive(Debug, Default)]
pub struct RunLog(std::sync::Mutex<VecDeque<Run>>);

impl RunLog {
    pub fn record(&self, run: Run) {
        let mut runs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if runs.len() == KEPT_RUNS {
            runs.pop_front();
        }
        runs.push_back(run);
    }

    /// The kept runs, newest first.
    pub fn newest_first(&self) -> Vec<Run> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().rev().cloned().collect()
    }
}
