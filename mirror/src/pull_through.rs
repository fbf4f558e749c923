//! Pull-through: with `[upstream] on_demand = true`, a request for a skill (or a version) the
//! mirror has never seen fetches it from `upstream.url`, pins and vets it like `sync` does, and
//! is then answered as if it had been synced: served when policy approves, `423` with the reason
//! when held, `403` when rejected.
//!
//! - Concurrent requests for the same skill wait on one fetch (a lock per slug; whoever gets it
//!   second finds the skill known and does not fetch again).
//! - A fetch that leaves the skill (or version) unknown is remembered for `on_demand_miss_ttl`,
//!   so a burst of requests for a name upstream does not have cannot hammer upstream.
//! - The fetch runs as its own task: a client that gives up (or the request timeout) does not
//!   cut an ingest short; the next request finds what it stored.
//! - At most four fetches run at once, whatever the names asked for.
//! - The fetch is bounded by `limits.scan_timeout` plus `upstream.timeout` per request; what does
//!   not finish in time is a recorded sync failure, never an approval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::policy::parse_duration;
use crate::service::Mirror;
use crate::sync::{self, SyncOptions};

/// Fetches running at once (others wait): a burst of distinct unknown names costs upstream a
/// few requests at a time, not one per request.
const MAX_CONCURRENT_FETCHES: usize = 4;

/// Remembered misses kept at most (expired ones are dropped first; then the oldest).
const MAX_MISSES: usize = 10_000;

pub struct PullThrough {
    upstream: String,
    miss_ttl: Duration,
    fetch_timeout: Duration,
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    misses: Mutex<HashMap<String, Instant>>,
    permits: Arc<tokio::sync::Semaphore>,
    /// Fetches started (for tests and metrics).
    pub fetches: AtomicU64,
}

impl PullThrough {
    /// The pull-through of a validated config, if `upstream.on_demand` is on.
    pub fn of(config: &Config) -> Option<PullThrough> {
        let up = &config.upstream;
        if !up.on_demand {
            return None;
        }
        let upstream = up.url.clone()?;
        let secs = |s: &str, default: u64| parse_duration(s).unwrap_or(Duration::from_secs(default));
        Some(PullThrough {
            upstream,
            miss_ttl: secs(&up.on_demand_miss_ttl, 300),
            fetch_timeout: secs(&config.limits.scan_timeout, 120) + secs(&up.timeout, 30) * 3,
            inflight: Mutex::new(HashMap::new()),
            misses: Mutex::new(HashMap::new()),
            permits: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_FETCHES)),
            fetches: AtomicU64::new(0),
        })
    }

    fn missed_recently(&self, key: &str) -> bool {
        let misses = self.misses.lock().unwrap_or_else(|p| p.into_inner());
        misses.get(key).is_some_and(|at| at.elapsed() < self.miss_ttl)
    }

    fn remember_miss(&self, key: &str) {
        let mut misses = self.misses.lock().unwrap_or_else(|p| p.into_inner());
        if misses.len() >= MAX_MISSES {
            let ttl = self.miss_ttl;
            misses.retain(|_, at| at.elapsed() < ttl);
            if misses.len() >= MAX_MISSES
                && let Some(oldest) = misses.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone())
            {
                misses.remove(&oldest);
            }
        }
        misses.insert(key.to_owned(), Instant::now());
    }

    /// Make sure `slug` (and `version`, if given) has been looked for upstream: returns at once
    /// when `known()` says the mirror has it or upstream recently did not; otherwise fetches the
    /// skill once (others asking meanwhile wait for that fetch), then runs `refresh` (rebuild the
    /// read snapshot, blocking) so `known()` sees the result.
    pub async fn ensure(
        &self,
        mirror: &Arc<Mirror>,
        slug: &str,
        version: Option<&str>,
        known: &(dyn Fn() -> bool + Sync),
        refresh: Arc<dyn Fn() + Send + Sync>,
    ) {
        let key = match version {
            Some(v) => format!("{slug}@{v}"),
            None => slug.to_owned(),
        };
        if known() || self.missed_recently(&key) || self.missed_recently(slug) {
            return;
        }
        let gate = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            inflight.entry(slug.to_owned()).or_default().clone()
        };
        let guard = gate.lock().await;
        if !(known() || self.missed_recently(&key) || self.missed_recently(slug)) {
            self.fetches.fetch_add(1, Ordering::Relaxed);
            let opts = SyncOptions { upstream: self.upstream.clone(), slugs: vec![slug.to_owned()], all: false };
            let (mirror, timeout, what) = (mirror.clone(), self.fetch_timeout, slug.to_owned());
            let permits = self.permits.clone();
            let fetch = tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                match tokio::time::timeout(timeout, sync::run(mirror, opts)).await {
                    Ok(Ok(report)) => {
                        tracing::info!(skill = %what, versions = report.results.len(), failures = report.failures.len(), "pull-through fetch");
                    }
                    Ok(Err(e)) => tracing::warn!(skill = %what, error = %e, "pull-through fetch failed"),
                    Err(_) => tracing::warn!(skill = %what, "pull-through fetch timed out"),
                }
                let _ = tokio::task::spawn_blocking(move || refresh()).await;
            });
            let _ = fetch.await;
            if !known() {
                self.remember_miss(&key);
            }
        }
        drop(guard);
        let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if inflight.get(slug).is_some_and(|g| Arc::ptr_eq(g, &gate)) && Arc::strong_count(&gate) <= 2 {
            inflight.remove(slug);
        }
    }
}
