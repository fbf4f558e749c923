//! Jobs `serve` runs by itself (`[schedule]` in the config): a periodic sync from
//! `upstream.url`, and the retro-hunt (`rescan`) when the scanner's rules version changes.
//!
//! One task runs them one after the other, so a run never overlaps another (a slow sync
//! delays the next check instead of stacking up). Each run is logged, counted in `/metrics`
//! (`skillscan_mirror_scheduled_*`) and leaves its decisions in the audit log under the actor
//! `schedule`, like the CLI's runs do under theirs. The last runs are kept in memory
//! ([`RunLog`], lost on restart: the audit log and the metrics are the durable record) for the
//! review UI's schedule page.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::model::{State, now_ms};
use crate::policy::parse_duration;
use crate::service::Mirror;
use crate::state::AppState;
use crate::sync::{self, SyncOptions};

/// The audit actor of scheduled runs.
pub const ACTOR: &str = "schedule";

pub use crate::run_log::{Job, KEPT_RUNS, Run, RunLog};

/// What to run and how often, from the validated config.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sync_every: Option<Duration>,
    pub upstream: Option<String>,
    pub sync_all: bool,
    pub rescan_on_rules_change: bool,
    pub rules_check: Duration,
}

impl Plan {
    pub fn of(config: &crate::config::Config) -> Plan {
        let s = &config.schedule;
        Plan {
            // Validated when the config was loaded; an unparsable value turns the job off.
            sync_every: s.sync.as_deref().and_then(|d| parse_duration(d).ok()),
            upstream: config.upstream.url.clone(),
            sync_all: s.sync_all,
            rescan_on_rules_change: s.rescan_on_rules_change,
            rules_check: parse_duration(&s.rules_check).unwrap_or(Duration::from_secs(60)),
        }
    }

    /// Whether there is anything to run.
    pub fn is_empty(&self) -> bool {
        self.sync_every.is_none() && !self.rescan_on_rules_change
    }
}

/// Run the plan until `shutdown` turns true. The rules check runs at once (a new binary with new
/// rules rescans on its first start); the first sync runs one period after start.
pub async fn run(state: AppState, plan: Plan, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    if plan.is_empty() {
        return;
    }
    let mut next_rules = Instant::now();
    let mut next_sync = plan.sync_every.map(|every| Instant::now() + every);
    let mut rescanned_for: Option<String> = None;
    loop {
        let next = match next_sync {
            Some(s) if plan.rescan_on_rules_change => s.min(next_rules),
            Some(s) => s,
            None => next_rules,
        };
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let now = Instant::now();
        if plan.rescan_on_rules_change && now >= next_rules {
            rescan_if_rules_changed(&state, &mut rescanned_for).await;
            next_rules = Instant::now() + plan.rules_check;
        }
        if let (Some(at), Some(every)) = (next_sync, plan.sync_every)
            && now >= at
        {
            scheduled_sync(&state, &plan).await;
            next_sync = Some(Instant::now() + every);
        }
    }
}

fn finished(state: &AppState) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    state.metrics.scheduled_last_run.store(secs, Ordering::Relaxed);
}

/// Rescan approved versions once per rules version, if any was scanned with other rules.
async fn rescan_if_rules_changed(state: &AppState, rescanned_for: &mut Option<String>) {
    let m: Arc<Mirror> = state.mirror.clone();
    let current = m.vetter.rules_version();
    if rescanned_for.as_deref() == Some(current.as_str()) {
        return;
    }
    let (m2, rules) = (m.clone(), current.clone());
    let outdated = blocking(move || {
        let approved = m2.meta.versions(Some(State::Approved)).map_err(|e| e.to_string())?;
        Ok(approved.iter().filter(|v| v.rules_version.as_deref() != Some(rules.as_str())).count())
    })
    .await;
    let outdated = match outdated {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "scheduled rescan: cannot read the approved versions");
            state.metrics.scheduled_rescan_failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    *rescanned_for = Some(current.clone());
    if outdated == 0 {
        return;
    }
    tracing::info!(rules = %current, outdated, "rules version changed: rescanning the approved versions");
    let started_at = now_ms();
    let m2 = m.clone();
    let result = tokio::task::spawn_blocking(move || m2.rescan(false, ACTOR)).await;
    let (ok, summary) = match result {
        Ok(Ok(changes)) => {
            for (key, from, to, reason) in &changes {
                tracing::warn!(version = %key, %from, %to, %reason, "scheduled rescan changed a version");
            }
            tracing::info!(changed = changes.len(), "scheduled rescan finished");
            state.metrics.scheduled_rescan_ok.fetch_add(1, Ordering::Relaxed);
            (
                true,
                format!("rules {current}: {outdated} outdated approved versions rescanned, {} changed", changes.len()),
            )
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "scheduled rescan failed");
            state.metrics.scheduled_rescan_failed.fetch_add(1, Ordering::Relaxed);
            *rescanned_for = None; // try again at the next check
            (false, format!("rules {current}: failed: {e}"))
        }
        Err(e) => {
            tracing::error!(error = %e, "scheduled rescan stopped");
            state.metrics.scheduled_rescan_failed.fetch_add(1, Ordering::Relaxed);
            *rescanned_for = None;
            (false, format!("rules {current}: stopped: {e}"))
        }
    };
    refresh(state).await;
    finished(state);
    state.schedule_runs.record(Run { job: Job::Rescan, started_at, finished_at: now_ms(), ok, summary });
}

/// Sync the skills the mirror knows (or all, with `sync_all`) from `upstream.url`.
async fn scheduled_sync(state: &AppState, plan: &Plan) {
    let Some(upstream) = plan.upstream.clone() else { return };
    let m: Arc<Mirror> = state.mirror.clone();
    let slugs = if plan.sync_all {
        Vec::new()
    } else {
        let m = m.clone();
        match blocking(move || m.meta.versions(None).map_err(|e| e.to_string())).await {
            Ok(all) => all.into_iter().map(|v| v.slug).collect::<BTreeSet<_>>().into_iter().collect(),
            Err(e) => {
                tracing::error!(error = %e, "scheduled sync: cannot list the known skills");
                state.metrics.scheduled_sync_failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    };
    if slugs.is_empty() && !plan.sync_all {
        return; // nothing known yet: `sync --slug` or pull-through brings the first skills
    }
    let skills = slugs.len();
    let started_at = now_ms();
    let (ok, summary) = match sync::run(m.clone(), SyncOptions { upstream, slugs, all: plan.sync_all }).await {
        Ok(report) => {
            let new =
                report.results.iter().filter(|(_, o)| matches!(o, crate::service::IngestOutcome::New { .. })).count();
            let failures = report.failures.len();
            tracing::info!(skills, new, failures, "scheduled sync finished");
            let counter =
                if failures == 0 { &state.metrics.scheduled_sync_ok } else { &state.metrics.scheduled_sync_failed };
            counter.fetch_add(1, Ordering::Relaxed);
            let scope = if plan.sync_all { "all upstream skills".to_string() } else { format!("{skills} skills") };
            (failures == 0, format!("{scope}: {new} new versions, {failures} failures"))
        }
        Err(e) => {
            tracing::error!(error = %e, "scheduled sync failed");
            state.metrics.scheduled_sync_failed.fetch_add(1, Ordering::Relaxed);
            (false, format!("failed: {e}"))
        }
    };
    refresh(state).await;
    finished(state);
    state.schedule_runs.record(Run { job: Job::Sync, started_at, finished_at: now_ms(), ok, summary });
}

/// Runs store work off the async threads; a task that panicked is an error like any other.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| e.to_string()).and_then(|r| r)
}

/// Serve what the run changed without waiting for the background refresher (which also
/// delivers the webhooks the run queued).
async fn refresh(state: &AppState) {
    let s = state.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.refresh_if_changed()).await {
        tracing::error!("snapshot refresh after a scheduled run failed (serving the previous one): {e}");
    }
}
