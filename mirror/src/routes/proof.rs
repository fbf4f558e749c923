//! Proof for clients: the mirror's public key, per-version minisign signatures, and the
//! signed index of approved versions (so a client can verify without trusting any JSON
//! the server sends).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::json_bytes;
use super::params::Params;
use crate::error::ApiError;
use crate::state::AppState;
use crate::validate;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/skillscan.pub", get(pubkey))
        .route("/api/v1/download/signature", get(signature))
        .route("/api/v1/skillscan/index.json", get(index))
        .route("/api/v1/skillscan/index.json.minisig", get(index_sig))
}

fn text(body: bytes::Bytes) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn pubkey(State(st): State<AppState>) -> Result<Response, ApiError> {
    let snap = st.snapshot.load();
    if snap.pubkey.is_empty() {
        return Err(ApiError::NotFound("No signing key configured"));
    }
    Ok(text(snap.pubkey.clone()))
}

async fn signature(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let slug = p.get("slug").ok_or_else(|| ApiError::BadRequest("Missing slug".into()))?;
    validate::slug(slug)?;
    let snap = st.snapshot.load();
    let skill = snap.skills.get(slug);
    let v = match p.get("version") {
        Some(v) => {
            validate::version(v)?;
            skill.and_then(|s| s.version(v))
        }
        None => skill.map(|s| s.latest()),
    };
    match v {
        Some(v) => v.signature.clone().map(text).ok_or(ApiError::NotFound("Signature not found")),
        None => {
            // Same refusal semantics as the download route.
            let ver = p
                .get("version")
                .map(str::to_string)
                .or_else(|| snap.blocked.get(slug).map(|b| b.newest_version.clone()));
            match ver.as_deref().and_then(|v| snap.gate(slug, v).map(|g| (v, g))) {
                Some((v, g)) if g.state.is_refused() => Err(ApiError::Forbidden(g.message(slug, v))),
                Some((v, g)) => Err(ApiError::Locked(g.message(slug, v))),
                None => Err(ApiError::NotFound("Version not found")),
            }
        }
    }
}

async fn index(State(st): State<AppState>) -> Response {
    json_bytes(st.snapshot.load().index_json.clone())
}

async fn index_sig(State(st): State<AppState>) -> Result<Response, ApiError> {
    st.snapshot.load().index_sig.clone().map(text).ok_or(ApiError::NotFound("Index signature not available"))
}
