//! Router assembly and shared state: `build_router(state)` is testable with
//! `tower::ServiceExt::oneshot`, without binding a port.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes;
use crate::service::Mirror;
use crate::snapshot::Snapshot;

/// Shared server state.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub mirror: Arc<Mirror>,
    pub snapshot: ArcSwap<Snapshot>,
    pub metrics: Metrics,
    generation: AtomicU64,
    /// Last seen (local change counter, store change counter).
    seen: std::sync::Mutex<(u64, i64)>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Every route, for the metrics label set.
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
    "/metrics",
];

impl AppState {
    /// Build the state and its first snapshot (fails if storage is unreadable).
    pub fn new(mirror: Arc<Mirror>) -> Result<AppState, crate::service::MirrorError> {
        let snap = Snapshot::build(&mirror, 1, None)?;
        let local = mirror.local_changes.load(Ordering::SeqCst);
        let store = mirror.meta.change_counter()?;
        Ok(AppState(Arc::new(Inner {
            mirror,
            snapshot: ArcSwap::from_pointee(snap),
            metrics: Metrics::new(ROUTES),
            generation: AtomicU64::new(1),
            seen: std::sync::Mutex::new((local, store)),
        })))
    }

    /// Rebuild the snapshot now (blocking; call from `spawn_blocking` in async code).
    pub fn rebuild(&self) -> Result<(), crate::service::MirrorError> {
        let local = self.mirror.local_changes.load(Ordering::SeqCst);
        let store = self.mirror.meta.change_counter()?;
        let prev = self.snapshot.load_full();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        match Snapshot::build(&self.mirror, generation, Some(&prev)) {
            Ok(s) => {
                self.snapshot.store(Arc::new(s));
                self.metrics.snapshot_rebuilds.fetch_add(1, Ordering::Relaxed);
                *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = (local, store);
                Ok(())
            }
            Err(e) => {
                self.metrics.snapshot_rebuild_failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Rebuild if anything changed since the last build (in this process or another).
    pub fn refresh_if_changed(&self) -> Result<bool, crate::service::MirrorError> {
        let local = self.mirror.local_changes.load(Ordering::SeqCst);
        let store = self.mirror.meta.change_counter()?;
        let seen = *self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen == (local, store) {
            return Ok(false);
        }
        self.rebuild()?;
        Ok(true)
    }

    /// Role of the bearer token in `headers`, if valid (checked against the snapshot).
    pub fn token_role(&self, headers: &HeaderMap) -> Option<String> {
        let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let tok = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))?.trim();
        let h = crate::auth::hash_token(tok);
        self.snapshot.load().tokens.get(&h).cloned()
    }
}

async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let resp = next.run(req).await;
    st.metrics.record(route.as_deref(), resp.status().as_u16(), start.elapsed());
    resp
}

/// Reads are anonymous unless `require_read_token` is set; then a `read` or `admin`
/// token is needed (health and metrics stay open for probes).
async fn read_auth(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if st.mirror.config.require_read_token {
        let p = req.uri().path();
        let exempt =
            p == "/healthz" || p == "/metrics" || p.starts_with("/.well-known/") || p.starts_with("/api/v1/admin/");
        if !exempt && st.token_role(req.headers()).is_none() {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The timeout and body-limit layers answer on their own (an empty 408, axum's "Failed to
/// buffer the request body" 413): their answers go through the one error mapping too.
async fn framework_errors(response: Response) -> Response {
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout.into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.into_response(),
        _ => response,
    }
}

pub fn build_router(state: AppState) -> Router {
    let cfg = &state.mirror.config;
    let body_limit = cfg.limits.max_body_bytes;
    let timeout = cfg.request_timeout();
    Router::new()
        .merge(routes::registry::router())
        .merge(routes::proof::router())
        .merge(routes::admin::router())
        .route("/healthz", get(routes::ops::healthz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/api/cli/telemetry/install", post(routes::ops::telemetry))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), read_auth))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(middleware::map_response(framework_errors))
        // Spans carry method and path only: never headers (Authorization) or query strings.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &Request| tracing::info_span!("http", method = %req.method(), path = %req.uri().path()),
        ))
        .with_state(state)
}

/// Query parameters, decoded leniently: unknown keys are ignored (as ClawHub does), the
/// first occurrence of a key wins, and malformed percent-encoding or invalid UTF-8 is a
/// 400 rather than a guess.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        let mut m = HashMap::new();
        let Some(q) = query else { return Ok(Params(m)) };
        if q.len() > 16 * 1024 {
            return Err(ApiError::BadRequest("Query string too long".into()));
        }
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| -> Result<String, ApiError> {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .map_err(|_| ApiError::BadRequest("Malformed query string".into()))
            };
            let (k, v) = (dec(k)?, dec(v)?);
            if k.contains('\0') || v.contains('\0') {
                return Err(ApiError::BadRequest("Malformed query string".into()));
            }
            m.entry(k).or_insert(v);
        }
        Ok(Params(m))
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query())
    }
}

/// Background task: refresh the snapshot on change, deliver webhooks.
pub async fn background(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let client = crate::webhooks::client();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        n += 1;
        let s = state.clone();
        let r = tokio::task::spawn_blocking(move || s.refresh_if_changed()).await;
        if let Ok(Err(e)) = r {
            tracing::error!("snapshot refresh failed (serving the previous one): {e}");
        }
        if n.is_multiple_of(8) {
            let (d, f) = crate::webhooks::deliver_due(&state.mirror, &client).await;
            state.metrics.webhook_delivered.fetch_add(d, Ordering::Relaxed);
            state.metrics.webhook_failed.fetch_add(f, Ordering::Relaxed);
        }
    }
}
