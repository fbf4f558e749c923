//! Proof for clients: the mirror's public key, per-version minisign signatures, and the
//! signed index of approved versions (so a client can verify without trusting any JSON
//! the server sends).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::params::Params;
use super::{VERSION_NOT_FOUND, json_bytes, served};
use crate::error::ApiError;
use crate::snapshot::{Lookup, Resolution};
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

/// The signature of a version the client may download: the download route's resolution,
/// asked without owner or tag, where anything unknown is a version not found.
async fn signature(State(st): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let slug = p.get("slug").ok_or_else(|| ApiError::BadRequest("Missing slug".into()))?;
    validate::slug(slug)?;
    let version = p.get("version");
    if let Some(v) = version {
        validate::version(v)?;
    }
    let lookup = Lookup { slug: slug.to_string(), owner: None, version: version.map(str::to_string) };
    let (_, v) = match st.snapshot.load().resolve(&lookup) {
        Resolution::Unknown(_) => return Err(ApiError::NotFound(VERSION_NOT_FOUND)),
        resolution => served(&st, resolution)?,
    };
    v.signature.clone().map(text).ok_or(ApiError::NotFound("Signature not found"))
}

async fn index(State(st): State<AppState>) -> Response {
    json_bytes(st.snapshot.load().index_json.clone())
}

async fn index_sig(State(st): State<AppState>) -> Result<Response, ApiError> {
    st.snapshot.load().index_sig.clone().map(text).ok_or(ApiError::NotFound("Index signature not available"))
}
