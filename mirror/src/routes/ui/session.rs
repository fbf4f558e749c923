//! Sign-in sessions of the review UI, kept in memory.
//!
//! A session is a random id (32 bytes from the OS) in an `HttpOnly; SameSite=Strict` cookie,
//! mapped server-side to the admin token that opened it (its sha256 and its name, never the
//! token) and to a random CSRF token the forms carry. In memory because the mirror is one
//! process and a restart signing reviewers out costs a sign-in; nothing about a session is
//! written to disk or logged.
//!
//! Sessions end [`IDLE`] after their last use, [`LIFETIME`] after sign-in, on sign-out, and as
//! soon as the token that opened them is revoked (checked on every request, see
//! [`super::Reviewer`]). At most [`MAX_SESSIONS`] are kept; signing in beyond that ends the
//! least recently used one, so a flood of sign-ins cannot grow memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// A session not used for this long is over.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session is over this long after sign-in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept at once.
pub const MAX_SESSIONS: usize = 1024;

/// Name of the session cookie.
pub const COOKIE: &str = "skillscan_session";

/// What a session knows about its reviewer.
#[derive(Debug, Clone)]
pub struct Session {
    /// sha256 of the admin token that signed in (the store's key for it).
    pub token_hash: String,
    /// The token's name: the reviewer, `token:<name>` in the audit log.
    pub token_name: String,
    /// The hidden-field token every state-changing form of this session carries.
    pub csrf: String,
    created: Instant,
    last_used: Instant,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        !presented.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// The live sessions, by id.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// 32 random bytes from the OS, hex: a session id or a CSRF token.
fn random_hex() -> Option<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).ok()?;
    Some(hex::encode(raw))
}

impl Sessions {
    /// Open a session for the token; returns its id (for the cookie). `None` when the OS has no
    /// randomness to give.
    pub fn open(&self, token_hash: &str, token_name: &str) -> Option<String> {
        let id = random_hex()?;
        let now = Instant::now();
        let session = Session {
            token_hash: token_hash.to_string(),
            token_name: token_name.to_string(),
            csrf: random_hex()?,
            created: now,
            last_used: now,
        };
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| live(s, now));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session);
        Some(id)
    }

    /// The live session with this id, marked as used now; an expired one is removed.
    pub fn touch(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(id) {
            Some(s) if live(s, now) => {
                s.last_used = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// End one session (sign-out).
    pub fn close(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// End every session opened with this token (it was revoked or lost its role).
    pub fn close_token(&self, token_hash: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, s| s.token_hash != token_hash);
    }

    /// How many sessions are kept (live or not yet swept).
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_used) < IDLE && now.duration_since(s.created) < LIFETIME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_bounded_and_closable() {
        let sessions = Sessions::default();
        let a = sessions.open("h1", "alice").unwrap();
        let b = sessions.open("h1", "alice").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let s = sessions.touch(&a).unwrap();
        assert_eq!(s.token_name, "alice");
        assert!(s.csrf_matches(&s.csrf.clone()));
        assert!(!s.csrf_matches(""));
        assert!(!s.csrf_matches(&"0".repeat(64)));
        sessions.close(&a);
        assert!(sessions.touch(&a).is_none());
        sessions.close_token("h1");
        assert!(sessions.touch(&b).is_none());
        for _ in 0..MAX_SESSIONS + 10 {
            sessions.open("h2", "bob").unwrap();
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
    }
}
