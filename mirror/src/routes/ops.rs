//! Health, metrics and the CLI's best-effort telemetry endpoint.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use skillscan::clawhub::api;

use super::{SortedKeys, json_body};
use crate::model::State as VState;
use crate::state::AppState;

/// `GET /healthz`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub ok: bool,
    /// The read snapshot's generation.
    pub generation: u64,
    pub approved_versions: u64,
    /// Whether the mirror has a signing key.
    pub signing: bool,
    pub rules_version: String,
}

pub async fn healthz(State(st): State<AppState>) -> Response {
    let snap = st.snapshot.load();
    json_body(&SortedKeys(Health {
        ok: true,
        generation: snap.generation,
        approved_versions: snap.counts.get(&VState::Approved).copied().unwrap_or(0),
        signing: !snap.pubkey.is_empty(),
        rules_version: st.mirror.vetter.rules_version(),
    }))
}

pub async fn metrics(State(st): State<AppState>) -> Response {
    let snap = st.snapshot.load();
    let mut gauges: Vec<(String, &str, f64)> = VState::ALL
        .iter()
        .map(|s| {
            (
                format!("skillscan_mirror_versions{{state=\"{s}\"}}"),
                "Stored versions by state.",
                snap.counts.get(s).copied().unwrap_or(0) as f64,
            )
        })
        .collect();
    gauges.push((
        "skillscan_mirror_snapshot_generation".into(),
        "Current read snapshot generation.",
        snap.generation as f64,
    ));
    gauges.push((
        "skillscan_mirror_hot_cache_bytes".into(),
        "Approved archive bytes held in memory.",
        snap.hot_bytes as f64,
    ));
    gauges.push((
        "skillscan_mirror_served_skills".into(),
        "Skills with at least one approved version.",
        snap.skills.len() as f64,
    ));
    let body = st.metrics.render(&gauges);
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r
}

/// `POST /api/cli/telemetry/install`: accepted and dropped (the mirror keeps no per-user
/// install data); the body is capped by the global body limit.
pub async fn telemetry(_body: Bytes) -> Response {
    json_body(&api::Ack { ok: true })
}
