//! Query-string parameters as every route reads them.

use std::collections::HashMap;

use crate::error::ApiError;

/// Query parameters, decoded leniently: unknown keys are ignored (as ClawHub does), the
/// first occurrence of a key wins, and malformed percent-encoding or invalid UTF-8 is a
/// 400 rather than a guess.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        let mut m = HashMap::new();
        let Some(q) = query else { return Ok(Params(m)) };
        if q.len() > 16 * 1024 {
            return Err(ApiError::BadRequest("Query string too long".into()));
        }
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| -> Result<String, ApiError> {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .map_err(|_| ApiError::BadRequest("Malformed query string".into()))
            };
            let (k, v) = (dec(k)?, dec(v)?);
            if k.contains('\0') || v.contains('\0') {
                return Err(ApiError::BadRequest("Malformed query string".into()));
            }
            m.entry(k).or_insert(v);
        }
        Ok(Params(m))
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// `limit`: `default` when absent, else a number in `1..=max` (anything else is a 400,
    /// so no route ever runs an unbounded query).
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(default),
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::BadRequest(format!("Invalid limit (1..{max})"))),
            },
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query())
    }
}
