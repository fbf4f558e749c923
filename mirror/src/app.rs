//! Router assembly: `build_router(state)` is testable with `tower::ServiceExt::oneshot`,
//! without binding a port. The middleware (metrics, read tokens, the framework's own
//! errors) and the server's background task live here too; the state is in
//! [`crate::state`], the handlers in [`crate::routes`].

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::routes;
use crate::state::AppState;

async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let resp = next.run(req).await;
    st.metrics.record(route.as_deref(), resp.status().as_u16(), start.elapsed());
    resp
}

/// Reads are anonymous unless `require_read_token` is set; then a `read` or `admin`
/// token is needed, for `/metrics` too (its counters describe what is stored and served).
/// `/healthz` and `/readyz` stay open for probes; the review UI (`/ui/`) has its own sign-in.
async fn read_auth(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if st.mirror.config.require_read_token {
        let p = req.uri().path();
        let exempt = p == "/healthz"
            || p == "/readyz"
            || p.starts_with("/.well-known/")
            || p.starts_with("/api/v1/admin/")
            || p == "/ui"
            || p.starts_with("/ui/");
        if !exempt && st.caller(req.headers()).is_none() {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Fail closed: a replica that has not been able to confirm, for longer than `[storage]
/// max_lag`, that it serves the store's current state (store unreachable, rebuilds failing)
/// could be serving a version revoked since. It answers the read API with 503, which clients
/// retry (on another replica behind the load balancer, which `/readyz` has told already). The
/// admin API writes to the store itself, and the probes and the UI stay up.
async fn fresh_or_unavailable(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let p = req.uri().path();
    let reads = p.starts_with("/api/v1/") && !p.starts_with("/api/v1/admin/");
    // Asked only for reads: everything else passes without looking at the replication state.
    let behind = if reads { st.too_far_behind() } else { None };
    if let Some(behind) = behind {
        return ApiError::Unavailable(format!(
            "this skillscan mirror replica has not been able to confirm for {} s that it serves the current \
             approvals; retry on another replica",
            behind.as_secs()
        ))
        .into_response();
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
        .merge(routes::ui::router(state.clone()))
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/status", get(routes::ops::status))
        .route("/metrics", get(routes::ops::metrics))
        .route("/api/cli/telemetry/install", post(routes::ops::telemetry))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), fresh_or_unavailable))
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

/// Background task: refresh the snapshot on change, deliver webhooks.
pub async fn background(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let client = crate::webhooks::client_for(&state.mirror);
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
