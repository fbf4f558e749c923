//! Health, metrics and the CLI's best-effort telemetry endpoint.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use skillscan::clawhub::api;

use super::{SortedKeys, json_body, json_with_status};
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
    /// Approved versions whose stored archive is missing or corrupt (blob faults); present
    /// only when degraded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blob_faults: Vec<String>,
}

/// `ok` with 200, or degraded (`ok: false`, 503) while an approved version's blob is
/// missing or corrupt, so probes and load balancers notice.
pub async fn healthz(State(st): State<AppState>) -> Response {
    let snap = st.snapshot.load();
    let degraded = !snap.blob_faults.is_empty();
    let health = SortedKeys(Health {
        ok: !degraded,
        generation: snap.generation,
        approved_versions: snap.counts.get(&VState::Approved).copied().unwrap_or(0),
        signing: !snap.pubkey.is_empty(),
        rules_version: st.mirror.vetter.rules_version(),
        blob_faults: snap.blob_faults.clone(),
    });
    if degraded { json_with_status(StatusCode::SERVICE_UNAVAILABLE, &health) } else { json_body(&health) }
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
        "skillscan_mirror_blob_faults".into(),
        "Approved versions whose stored archive is missing or corrupt (integrity alert blob-corrupt).",
        snap.blob_faults.len() as f64,
    ));
    gauges.push((
        "skillscan_mirror_served_skills".into(),
        "Skills with at least one approved version.",
        snap.skills.len() as f64,
    ));
    gauges.push((
        "skillscan_mirror_security_events".into(),
        "Security events recorded (hostile archives refused at ingest), all time.",
        snap.alerts.get(crate::model::HOSTILE_ARCHIVE).copied().unwrap_or(0) as f64,
    ));
    let mut kinds: Vec<(&String, &u64)> = snap.alerts.iter().collect();
    kinds.sort();
    for (kind, n) in kinds {
        gauges.push((
            format!("skillscan_mirror_alerts{{kind=\"{kind}\"}}"),
            "Integrity and security alerts recorded, by kind, all time.",
            *n as f64,
        ));
    }
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
