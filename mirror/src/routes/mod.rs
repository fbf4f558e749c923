//! HTTP routes, one file per area.

pub mod admin;
pub mod ops;
pub mod params;
pub mod proof;
pub mod registry;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

/// A pre-serialised JSON body with ClawHub's headers.
pub fn json_bytes(b: Bytes) -> Response {
    let mut r = b.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub fn json_value(v: &serde_json::Value) -> Response {
    json_bytes(Bytes::from(serde_json::to_vec(v).unwrap_or_default()))
}

pub fn json_with_status(status: axum::http::StatusCode, v: &serde_json::Value) -> Response {
    let mut r = json_value(v);
    *r.status_mut() = status;
    r
}
