//! HTTP routes, one file per area, plus the helpers they share: JSON bodies with
//! ClawHub's headers, and the one mapping of a [`Resolution`] to the plain-text answers
//! of the routes that serve a version.
//!
//! Every JSON body is a type: the ClawHub answers are `skillscan::clawhub::api`'s, the
//! mirror's own (health, admin) are declared beside their routes and written with
//! [`SortedKeys`], the key order these answers have always had.

pub mod admin;
pub mod ops;
pub mod params;
pub mod proof;
pub mod registry;
pub mod ui;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
pub use skillscan::clawhub::api::SortedKeys;

use crate::error::ApiError;
use crate::snapshot::{Resolution, SkillView, Unknown, VersionView};
use crate::state::AppState;

pub const SKILL_NOT_FOUND: &str = "Skill not found";
pub const VERSION_NOT_FOUND: &str = "Version not found";

/// A pre-serialised JSON body with ClawHub's headers.
pub fn json_bytes(b: Bytes) -> Response {
    let mut r = b.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON body with ClawHub's headers.
pub fn json_body(v: &impl Serialize) -> Response {
    json_bytes(Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
}

pub fn json_with_status(status: axum::http::StatusCode, v: &impl Serialize) -> Response {
    let mut r = json_body(v);
    *r.status_mut() = status;
    r
}

/// The version a route serves, or its refusal as the plain-text error every such route
/// answers: 403 rejected or revoked, 423 pending review (both counted), 404 unknown, 503
/// while a blob fault makes the skill unavailable.
pub fn served(st: &AppState, resolution: Resolution) -> Result<(Arc<SkillView>, Arc<VersionView>), ApiError> {
    match resolution {
        Resolution::Served(skill, version) => Ok((skill, version)),
        Resolution::Refused(reason) => {
            count_refused(st);
            Err(ApiError::Forbidden(reason))
        }
        Resolution::Pending(reason) => {
            count_pending(st);
            Err(ApiError::Locked(reason))
        }
        Resolution::Unavailable(reason) => Err(ApiError::Unavailable(reason)),
        Resolution::Unknown(unknown) => Err(not_found(unknown)),
    }
}

/// A served skill, unless a blob fault makes it unavailable (503 with the plain reason).
pub fn available(skill: &Arc<SkillView>) -> Result<&Arc<SkillView>, ApiError> {
    match &skill.unavailable {
        Some(why) => Err(ApiError::Unavailable(why.clone())),
        None => Ok(skill),
    }
}

/// With `[upstream] on_demand`, fetch a skill (or version) the mirror has never seen before the
/// route answers (see `crate::pull_through`); without it, nothing.
pub async fn pull_through(st: &AppState, slug: &str, version: Option<&str>) {
    let Some(pt) = st.pull_through.as_ref() else { return };
    let known = || {
        let snap = st.snapshot.load();
        match version {
            None => snap.skills.contains_key(slug) || snap.blocked.contains_key(slug),
            Some(v) => snap.skills.get(slug).is_some_and(|s| s.version(v).is_some()) || snap.gate(slug, v).is_some(),
        }
    };
    let state = st.clone();
    let refresh = std::sync::Arc::new(move || {
        if let Err(e) = state.rebuild() {
            tracing::error!("snapshot rebuild after a pull-through fetch failed: {e}");
        }
    });
    pt.ensure(&st.mirror, slug, version, &known, refresh).await;
}

pub fn not_found(unknown: Unknown) -> ApiError {
    ApiError::NotFound(unknown_text(unknown))
}

pub fn unknown_text(unknown: Unknown) -> &'static str {
    match unknown {
        Unknown::Skill => SKILL_NOT_FOUND,
        Unknown::Version => VERSION_NOT_FOUND,
    }
}

/// The refusal metrics count answers that are refusals (403, 423), not refusals reported
/// inside a 200 answer (`verify`, security verdicts).
pub fn count_refused(st: &AppState) {
    st.metrics.refused_403.fetch_add(1, Ordering::Relaxed);
}

/// See [`count_refused`].
pub fn count_pending(st: &AppState) {
    st.metrics.refused_423.fetch_add(1, Ordering::Relaxed);
}
