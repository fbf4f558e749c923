//! Bearer tokens for the admin API and optional read tokens.
//!
//! Tokens are random (32 bytes, `ssm_` + hex), shown once at creation and stored only as
//! their sha256. They are never logged: the HTTP trace span records method and path only.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use crate::store::{MetaStore, StoreError};

pub const ROLES: [&str; 2] = ["admin", "read"];

/// The token of an `Authorization: Bearer <token>` header: the one parser every
/// authenticated route goes through. The scheme is matched case-insensitively (`Bearer`,
/// `bearer`, `BEARER`: RFC 9110 §11.1); a missing header, another scheme or an empty token
/// is `None`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a token; returns the secret (to show once).
pub fn create_token(meta: &dyn MetaStore, name: &str, role: &str) -> Result<String, StoreError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| StoreError::Malformed(format!("no randomness: {e}")))?;
    let token = format!("ssm_{}", hex::encode(raw));
    meta.insert_token(name, role, &hash_token(&token))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn token_of(value: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers).map(str::to_string)
    }

    #[test]
    fn the_bearer_scheme_is_matched_case_insensitively() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(token_of(&format!("{scheme} ssm_abc")).as_deref(), Some("ssm_abc"), "{scheme}");
        }
        assert_eq!(token_of("Bearer   ssm_abc  ").as_deref(), Some("ssm_abc"), "surrounding spaces are not the token");
    }

    #[test]
    fn anything_else_is_no_token() {
        assert_eq!(bearer_token(&HeaderMap::new()), None);
        for value in ["Basic ssm_abc", "Bearerssm_abc", "Bearer", "Bearer   ", " Bearer ssm_abc", "Token ssm_abc"] {
            assert_eq!(token_of(value), None, "{value:?}");
        }
    }
}
