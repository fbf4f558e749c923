//! The one place where errors become HTTP responses.
//!
//! ClawHub answers errors with `text/plain; charset=utf-8` bodies, and the CLI prints them
//! verbatim, so every error here is plain text. Policy refusals are 403 (rejected or
//! revoked) and 423 (pending review), never 5xx: clients retry 5xx. Internal errors are
//! logged server-side with detail and answered with a generic body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::service::MirrorError;
use crate::store::StoreError;
use crate::validate::InvalidInput;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized,
    Forbidden(String),
    NotFound(&'static str),
    Conflict(String),
    Locked(String),
    MethodNotAllowed,
    Timeout,
    PayloadTooLarge,
    UnsupportedMediaType(String),
    Internal(String),
    Unavailable(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Locked(_) => StatusCode::LOCKED,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn body(&self) -> String {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Locked(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Unavailable(m) => m.clone(),
            ApiError::NotFound(m) => (*m).to_string(),
            ApiError::Unauthorized => {
                "Unauthorized: a valid mirror token is required (Authorization: Bearer <token>)".into()
            }
            ApiError::MethodNotAllowed => "Method not allowed".into(),
            ApiError::Timeout => "Request timed out".into(),
            ApiError::PayloadTooLarge => "Request body too large".into(),
            ApiError::Internal(_) => "Internal error".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!("internal error: {detail}");
        }
        let mut r = (self.status(), self.body()).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self, ApiError::Unauthorized) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::NotFound("Not found"),
            StoreError::Conflict { .. } => ApiError::Conflict(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<MirrorError> for ApiError {
    fn from(e: MirrorError) -> Self {
        match e {
            MirrorError::Invalid(m) => ApiError::BadRequest(m),
            MirrorError::NotFound(_) => ApiError::NotFound("Version not found"),
            MirrorError::Conflict(m) => ApiError::Conflict(m),
            MirrorError::Sign(m) => ApiError::Unavailable(m),
            MirrorError::Upstream(m) => ApiError::Internal(m),
            MirrorError::Store(s) => s.into(),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("Invalid JSON body: {}", e.body_text().chars().take(200).collect::<String>()))
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        ApiError::BadRequest("Invalid path".into())
    }
}
