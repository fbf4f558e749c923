//! Bearer tokens for the admin API and optional read tokens.
//!
//! Tokens are random (32 bytes, `ssm_` + hex), shown once at creation and stored only as
//! their sha256. They are never logged: the HTTP trace span records method and path only.

use sha2::{Digest, Sha256};

use crate::store::{MetaStore, StoreError};

pub const ROLES: [&str; 2] = ["admin", "read"];

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
