//! The server's shared state: the curator, the current read snapshot and the metrics.
//!
//! Routes and middleware take it as `State<AppState>`; it knows nothing about routing.
//! The snapshot is rebuilt here (off the request path) and swapped atomically.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::http::HeaderMap;

use crate::auth;
use crate::metrics::Metrics;
use crate::model::now_ms;
use crate::pull_through::PullThrough;
use crate::routes::ui::session::Sessions;
use crate::run_log::RunLog;
use crate::service::{Mirror, MirrorError};
use crate::snapshot::Snapshot;

/// Shared server state.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub mirror: Arc<Mirror>,
    pub snapshot: ArcSwap<Snapshot>,
    pub metrics: Metrics,
    generation: AtomicU64,
    /// Which store revision the served snapshot was built from, and since when the store has
    /// been ahead of it (replication state, for `/status` and `/readyz`).
    served: std::sync::Mutex<Served>,
    /// Held across a whole rebuild (build, swap, `served`).
    rebuilding: std::sync::Mutex<()>,
    /// The last rebuild failed: the snapshot being served is stale (`/readyz` says so).
    stale: AtomicBool,
    /// `[upstream] on_demand`: fetch unseen skills on request.
    pub pull_through: Option<PullThrough>,
    /// The last scheduled runs (in memory), for the review UI.
    pub schedule_runs: RunLog,
    /// The review UI's sign-in sessions (in memory: a restart signs everyone out).
    pub ui_sessions: Sessions,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What this replica serves, relative to the shared store.
#[derive(Debug, Clone, Copy)]
pub struct Served {
    /// The store revision the served snapshot was built from.
    pub revision: u64,
    /// When that snapshot was built (ms since the epoch).
    pub built_at_ms: i64,
    /// Since when this replica cannot confirm that it serves the store's current state: it saw
    /// the store at a newer revision and has not caught up, or the store did not answer (None:
    /// current at the last check).
    pub behind_since: Option<std::time::Instant>,
}

/// Every route the router serves: the fixed label set of the per-route metrics.
pub const ROUTES: &[&str] = &[
    "/.well-known/clawhub.json",
    "/.well-known/clawdhub.json",
    "/.well-known/skillscan.pub",
    "/api/v1/search",
    "/api/v1/skills",
    "/api/v1/skills/{slug}",
    "/api/v1/skills/{slug}/versions",
    "/api/v1/skills/{slug}/versions/{version}",
    "/api/v1/skills/{slug}/file",
    "/api/v1/skills/{slug}/install",
    "/api/v1/skills/{slug}/verify",
    "/api/v1/skills/{slug}/moderation",
    "/api/v1/skills/{slug}/card",
    "/api/v1/skills/-/security-verdicts",
    "/api/v1/resolve",
    "/api/v1/skills/resolve",
    "/api/v1/download",
    "/api/v1/download/signature",
    "/api/v1/skillscan/index.json",
    "/api/v1/skillscan/index.json.minisig",
    "/api/cli/telemetry/install",
    "/api/v1/admin/versions",
    "/api/v1/admin/versions/{slug}/{version}",
    "/api/v1/admin/versions/{slug}/{version}/{action}",
    "/api/v1/admin/audit",
    "/api/v1/admin/alerts",
    "/api/v1/admin/sync-failures",
    "/healthz",
    "/readyz",
    "/metrics",
    "/status",
    "/ui/",
    "/ui/style.css",
    "/ui/login",
    "/ui/logout",
    "/ui/versions/{slug}/{version}",
    "/ui/versions/{slug}/{version}/files/{*path}",
    "/ui/versions/{slug}/{version}/{action}",
    "/ui/audit",
    "/ui/alerts",
    "/ui/schedule",
];

impl AppState {
    /// Build the state and its first snapshot (fails if storage is unreadable).
    pub fn new(mirror: Arc<Mirror>) -> Result<AppState, MirrorError> {
        // The revision first, then the build (as in `rebuild`): a commit during the build moves
        // the revision past this value and the refresher rebuilds, instead of it being taken as
        // already served.
        let revision = mirror.meta.revision()?;
        let snap = Snapshot::build(&mirror, 1, None)?;
        let pull_through = PullThrough::of(&mirror.config);
        Ok(AppState(Arc::new(Inner {
            mirror,
            snapshot: ArcSwap::from_pointee(snap),
            metrics: Metrics::new(ROUTES),
            generation: AtomicU64::new(1),
            stale: AtomicBool::new(false),
            pull_through,
            schedule_runs: RunLog::default(),
            ui_sessions: Sessions::default(),
            served: std::sync::Mutex::new(Served { revision, built_at_ms: now_ms(), behind_since: None }),
            rebuilding: std::sync::Mutex::new(()),
        })))
    }

    /// Rebuild the snapshot now (blocking; call from `spawn_blocking` in async code).
    pub fn rebuild(&self) -> Result<(), MirrorError> {
        // One rebuild at a time (the refresher, a decision, a pull-through may all ask): two
        // overlapping ones could store the older snapshot last and mark it current.
        let _one = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        // Read before building: a commit that lands during the build moves the revision past
        // this value, so the next check rebuilds again instead of missing it.
        let revision = self.mirror.meta.revision()?;
        let prev = self.snapshot.load_full();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        match Snapshot::build(&self.mirror, generation, Some(&prev)) {
            Ok(s) => {
                self.snapshot.store(Arc::new(s));
                self.metrics.snapshot_rebuilds.fetch_add(1, Ordering::Relaxed);
                *self.served.lock().unwrap_or_else(|p| p.into_inner()) =
                    Served { revision, built_at_ms: now_ms(), behind_since: None };
                self.stale.store(false, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.metrics.snapshot_rebuild_failures.fetch_add(1, Ordering::Relaxed);
                self.stale.store(true, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Whether the last snapshot rebuild failed (the served snapshot is older than the store).
    pub fn snapshot_stale(&self) -> bool {
        self.stale.load(Ordering::SeqCst)
    }

    /// Rebuild if anything changed since the last build (in this process or another).
    pub fn refresh_if_changed(&self) -> Result<bool, MirrorError> {
        let revision = match self.mirror.meta.revision() {
            Ok(r) => r,
            Err(e) => {
                // An unreachable store cannot confirm that what is served is current.
                self.served.lock().unwrap_or_else(|p| p.into_inner()).behind_since.get_or_insert_with(Instant::now);
                return Err(e.into());
            }
        };
        {
            let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
            if served.revision == revision {
                served.behind_since = None;
                return Ok(false);
            }
            served.behind_since.get_or_insert_with(Instant::now);
        }
        self.rebuild()?;
        Ok(true)
    }

    /// How long this replica has been unable to confirm it serves the store's current state,
    /// when that is past `[storage] max_lag`: it must then not answer reads (fail closed).
    pub fn too_far_behind(&self) -> Option<std::time::Duration> {
        let behind = self.served().behind_since?.elapsed();
        (behind > self.mirror.config.max_replication_lag()).then_some(behind)
    }

    /// What this replica serves: the revision its snapshot was built from.
    pub fn served(&self) -> Served {
        *self.served.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who presented the bearer token in `headers`, if the token is valid (checked
    /// against the snapshot, so no database read on the request path).
    pub fn caller(&self, headers: &HeaderMap) -> Option<Caller> {
        let token_hash = auth::hash_token(auth::bearer_token(headers)?);
        let role = self.snapshot.load().tokens.get(&token_hash).cloned()?;
        Some(Caller { token_hash, role })
    }
}

/// The holder of a valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// sha256 of the token: the key under which the store keeps it.
    pub token_hash: String,
    /// `admin` or `read`.
    pub role: String,
}
