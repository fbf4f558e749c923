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

/// `GET /healthz`: liveness. The process is up and answering; what it serves is
/// described, including a degraded state, but the answer is always 200: restarting the process
/// would not mend a corrupt blob. Readiness (should traffic come here) is `/readyz`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub ok: bool,
    /// Approved versions are unavailable because their stored archive is missing or corrupt.
    pub degraded: bool,
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

pub async fn healthz(State(st): State<AppState>) -> Response {
    let snap = st.snapshot.load();
    json_body(&SortedKeys(Health {
        ok: true,
        degraded: !snap.blob_faults.is_empty(),
        generation: snap.generation,
        approved_versions: snap.counts.get(&VState::Approved).copied().unwrap_or(0),
        signing: !snap.pubkey.is_empty(),
        rules_version: st.mirror.vetter.rules_version(),
        blob_faults: snap.blob_faults.clone(),
    }))
}

/// One check of `/readyz`.
#[derive(Debug, Serialize)]
pub struct ReadyCheck {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// `GET /readyz`: 200 when the mirror can serve what it promises, else 503 with the failing
/// checks, so a load balancer takes it out of rotation.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<ReadyCheck>,
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    let snap = st.snapshot.load_full();
    let mirror = st.mirror.clone();
    // The store answers (a cheap read) and has no open blob fault the snapshot has not
    // caught up with yet.
    let store = tokio::task::spawn_blocking(move || -> Result<(u64, usize), String> {
        let revision = mirror.meta.revision().map_err(|e| e.to_string())?;
        let faults = mirror.meta.blob_faults().map(|f| f.len()).map_err(|e| e.to_string())?;
        Ok((revision, faults))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let store_check = match &store {
        Ok(_) => ReadyCheck { name: "store", ok: true, detail: "reachable".into() },
        Err(e) => {
            // The detail stays in the log: a probe's answer does not describe the host's files.
            tracing::warn!(error = %e, "readiness: the store does not answer");
            ReadyCheck { name: "store", ok: false, detail: "unreachable (see the server log)".into() }
        }
    };
    let stale = st.snapshot_stale();
    let faults = snap.blob_faults.len().max(store.as_ref().map(|s| s.1).unwrap_or(0));
    let replication = replication_check(&st, store.as_ref().ok().map(|s| s.0));
    let checks = vec![
        store_check,
        replication,
        ReadyCheck {
            name: "snapshot",
            ok: !stale,
            detail: if stale {
                format!("generation {} is stale: the last rebuild failed", snap.generation)
            } else {
                format!("generation {}", snap.generation)
            },
        },
        ReadyCheck {
            name: "signing-key",
            ok: !snap.pubkey.is_empty(),
            detail: if snap.pubkey.is_empty() { "no signing key loaded".into() } else { "loaded".into() },
        },
        ReadyCheck {
            name: "integrity",
            ok: faults == 0,
            detail: if faults == 0 {
                "no open corruption alert".into()
            } else {
                format!("{faults} approved version(s) with a missing or corrupt archive")
            },
        },
    ];
    let ready = checks.iter().all(|c| c.ok);
    let body = Readiness { ready, checks };
    if ready { json_body(&body) } else { json_with_status(StatusCode::SERVICE_UNAVAILABLE, &body) }
}

/// Whether this replica serves the store's current revision, or has been behind it for less
/// than `[storage] max_lag` (a rebuild in progress). `store` is None when the store did not
/// answer (the `store` check says so).
fn replication_check(st: &AppState, store: Option<u64>) -> ReadyCheck {
    let served = st.served();
    let max_lag = st.mirror.config.max_replication_lag();
    let Some(store) = store else {
        return ReadyCheck {
            name: "replication",
            ok: false,
            detail: format!("serving revision {}; the store's is unknown", served.revision),
        };
    };
    if store == served.revision {
        return ReadyCheck { name: "replication", ok: true, detail: format!("serving revision {store} (current)") };
    }
    let behind = served.behind_since.map(|t| t.elapsed()).unwrap_or_default();
    ReadyCheck {
        name: "replication",
        ok: behind < max_lag,
        detail: format!(
            "serving revision {}, store at {store}, behind for {} ms (at most {} ms)",
            served.revision,
            behind.as_millis(),
            max_lag.as_millis()
        ),
    }
}

/// `GET /status`: what this replica serves, for operators comparing replicas.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    /// `[storage] replica`, else the listen address.
    pub replica: String,
    /// Metadata backend (`sqlite`, `postgres`) and blob backend (`files`, `s3`).
    pub database: &'static str,
    pub blobs: &'static str,
    /// The store revision this replica's snapshot was built from.
    pub served_revision: u64,
    /// The store's revision now (None: the store did not answer).
    pub store_revision: Option<u64>,
    /// How long the store has been ahead of what is served (0: current).
    pub behind_ms: u64,
    /// When the served snapshot was built (ms since the epoch).
    pub built_at: i64,
    pub generation: u64,
    pub approved_versions: u64,
    pub rules_version: String,
}

pub async fn status(State(st): State<AppState>) -> Response {
    let mirror = st.mirror.clone();
    let store = tokio::task::spawn_blocking(move || mirror.meta.revision()).await.ok().and_then(Result::ok);
    let served = st.served();
    let snap = st.snapshot.load();
    let behind = match store {
        Some(r) if r != served.revision => served.behind_since.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0),
        _ => 0,
    };
    json_body(&SortedKeys(ReplicaStatus {
        replica: st.mirror.config.storage.replica.clone().unwrap_or_else(|| st.mirror.config.listen.clone()),
        database: st.mirror.meta.backend(),
        blobs: st.mirror.blobs.backend(),
        served_revision: served.revision,
        store_revision: store,
        behind_ms: behind,
        built_at: served.built_at_ms,
        generation: snap.generation,
        approved_versions: snap.counts.get(&VState::Approved).copied().unwrap_or(0),
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
        "skillscan_mirror_scheduled_last_run_seconds".into(),
        "Unix time of the last finished scheduled run (0: none yet).",
        st.metrics.scheduled_last_run.load(std::sync::atomic::Ordering::Relaxed) as f64,
    ));
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
