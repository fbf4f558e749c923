//! Admin API (bearer token with role `admin`): the same decisions as the CLI.
//!
//! `POST /api/v1/admin/versions/{slug}/{version}/{approve|reject|revoke}` with
//! `{"reason": "…"}` (and `"override": true` to approve what the policy refuses); the actor recorded in the audit log is `token:<name>`, so a token
//! holder cannot impersonate someone else.
//!
//! Answers carry stored records as they are, written with [`SortedKeys`].

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::params::Params;
use super::{SortedKeys, json_body};
use crate::error::ApiError;
use crate::model::{State as VState, VersionRecord};
use crate::service::VersionShow;
use crate::state::AppState;
use crate::validate;
use crate::vetting::Verdict;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/versions", get(list))
        .route("/api/v1/admin/versions/{slug}/{version}", get(show))
        .route("/api/v1/admin/versions/{slug}/{version}/{action}", post(decide))
        .route("/api/v1/admin/audit", get(audit))
        .route("/api/v1/admin/alerts", get(alerts))
        .route("/api/v1/admin/sync-failures", get(sync_failures))
}

/// An authenticated admin; the token's name becomes the audit actor.
pub struct Admin(pub String);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let caller = st.caller(&parts.headers).ok_or(ApiError::Unauthorized)?;
        if caller.role != "admin" {
            return Err(ApiError::Forbidden("This token does not have the admin role".into()));
        }
        // Names are resolved from the store (not on the hot path).
        let name = st
            .mirror
            .meta
            .find_token(&caller.token_hash)
            .ok()
            .flatten()
            .filter(|t| !t.revoked)
            .map(|t| t.name)
            .ok_or(ApiError::Unauthorized)?;
        Ok(Admin(format!("token:{name}")))
    }
}

/// Store and curator work off the async threads; a task that panicked is an internal error.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

async fn list(_: Admin, State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let state = p.get("state").map(|s| s.parse::<VState>()).transpose().map_err(ApiError::BadRequest)?;
    let m = st.mirror.clone();
    let rows = blocking(move || Ok(m.meta.versions(state)?)).await?;
    let items: Vec<VersionItem> = rows.iter().map(VersionItem::of).collect();
    Ok(json_body(&SortedKeys(Items { items })))
}

/// A list of records: `{"items": […]}`.
#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// A version in `GET /api/v1/admin/versions`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionItem<'a> {
    slug: &'a str,
    version: &'a str,
    owner: Option<&'a str>,
    state: VState,
    reason: &'a str,
    verdict: Option<Verdict>,
    rules_version: Option<&'a str>,
    archive_sha256: &'a str,
}

impl<'a> VersionItem<'a> {
    fn of(v: &'a VersionRecord) -> Self {
        VersionItem {
            slug: &v.slug,
            version: &v.version,
            owner: v.owner.as_deref(),
            state: v.state,
            reason: &v.state_reason,
            verdict: v.verdict,
            rules_version: v.rules_version.as_deref(),
            archive_sha256: &v.archive_sha256,
        }
    }
}

/// The answer to a decision: the version's new state.
#[derive(Serialize)]
struct Decided {
    slug: String,
    version: String,
    state: VState,
    reason: String,
}

async fn show(
    _: Admin,
    State(st): State<AppState>,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    validate::slug(&slug)?;
    validate::version(&version)?;
    let m = st.mirror.clone();
    let (rec, review) = blocking(move || {
        let rec = m.get(&slug, &version)?;
        let review = m.review(&slug, &version)?;
        Ok((rec, review))
    })
    .await?;
    Ok(json_body(&SortedKeys(VersionShow::new(&rec, Some(&review)))))
}

#[derive(Deserialize)]
struct DecisionBody {
    reason: String,
    /// Approve a version the policy refuses (deny entry, verdict mapped to reject).
    #[serde(default, rename = "override")]
    override_policy: bool,
}

async fn decide(
    Admin(actor): Admin,
    State(st): State<AppState>,
    Path((slug, version, action)): Path<(String, String, String)>,
    body: Result<axum::Json<DecisionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let axum::Json(body) = body?;
    let rec = apply_decision(&st, slug, version, &action, body.reason, actor, body.override_policy).await?;
    Ok(json_body(&SortedKeys(Decided {
        slug: rec.slug,
        version: rec.version,
        state: rec.state,
        reason: rec.state_reason,
    })))
}

/// The longest decision reason accepted.
pub const MAX_REASON_LEN: usize = 2000;

/// A decision (`approve`, `reject`, `revoke`) as the admin API and the review UI take it: the
/// same checks, the curator's [`crate::Mirror::decide`] (override rules included), then the
/// served snapshot rebuilt at once, so the next request (a client's install) already sees it.
pub async fn apply_decision(
    st: &AppState,
    slug: String,
    version: String,
    action: &str,
    reason: String,
    actor: String,
    override_policy: bool,
) -> Result<VersionRecord, ApiError> {
    validate::slug(&slug)?;
    validate::version(&version)?;
    let to = match action {
        "approve" => VState::Approved,
        "reject" => VState::Rejected,
        "revoke" => VState::Revoked,
        _ => return Err(ApiError::NotFound("Not found")),
    };
    if reason.trim().is_empty() || reason.len() > MAX_REASON_LEN {
        return Err(ApiError::BadRequest(format!("reason must be 1..{MAX_REASON_LEN} characters")));
    }
    let s2 = st.clone();
    blocking(move || {
        let rec = s2.mirror.decide(&slug, &version, to, &reason, &actor, override_policy)?;
        // Read-your-writes: the next request already sees the decision.
        s2.rebuild()?;
        Ok(rec)
    })
    .await
}

/// The most audit entries one answer carries (also the default): the newest ones.
pub const MAX_AUDIT_ITEMS: usize = 1000;

async fn audit(_: Admin, State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let limit = Some(p.limit(MAX_AUDIT_ITEMS, MAX_AUDIT_ITEMS)?);
    let m = st.mirror.clone();
    let items = blocking(move || Ok(m.meta.audit(limit)?)).await?;
    Ok(json_body(&SortedKeys(Items { items })))
}

async fn alerts(_: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let m = st.mirror.clone();
    let items = blocking(move || Ok(m.meta.alerts()?)).await?;
    Ok(json_body(&SortedKeys(Items { items })))
}

async fn sync_failures(_: Admin, State(st): State<AppState>) -> Result<Response, ApiError> {
    let m = st.mirror.clone();
    let items = blocking(move || Ok(m.meta.sync_failures(1000)?)).await?;
    Ok(json_body(&SortedKeys(Items { items })))
}
