//! Webhook delivery from the transactional outbox: JSON POST, retried with exponential
//! backoff (up to [`MAX_ATTEMPTS`]) by the server's background task. CLI commands only queue:
//! they leave their events in the outbox for `serve` (a down receiver must not hold a command
//! for seconds of retries).
//!
//! The contract with receivers (at-least-once):
//! - `X-Skillscan-Event`: the event name (`reject`, `security_event`, …);
//! - `X-Skillscan-Event-Id`: the same on every retry of one event; deduplicate on it;
//! - `X-Skillscan-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body bytes, keyed with
//!   the webhook's `secret` (absent when none is configured). Receivers recompute it over the
//!   raw body and compare in constant time before parsing.
//!
//! A webhook URL can be its own secret (Slack, Discord), so it is never stored or logged:
//! the outbox holds [`redact::webhook_ref`], resolved against the configuration at delivery;
//! logs and recorded errors name the target by scheme and host only.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use skillscan::clawhub::client::{TlsRoots, explain_tls_failure};

use crate::model::now_ms;
use crate::redact;
use crate::service::Mirror;
use crate::sync::CA_HINT;

pub const MAX_ATTEMPTS: u32 = 8;

/// Header with the event id, stable across retries.
pub const EVENT_ID_HEADER: &str = "x-skillscan-event-id";
/// Header with `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-skillscan-signature";

/// The `X-Skillscan-Signature` value of `body` under `secret`: `sha256=<hex>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery client trusting the bundled and the system's roots.
pub fn client() -> reqwest::Client {
    client_with(&TlsRoots::default())
}

/// A delivery client trusting the mirror's roots: the bundled and system ones plus its
/// `ca_cert` (a receiver behind a private CA). An unusable CA file was refused when the
/// mirror opened; should it have gone since, delivery falls back to the built-in roots.
pub fn client_for(mirror: &Mirror) -> reqwest::Client {
    match mirror.config.tls_roots(&mirror.data_dir) {
        Ok(roots) => client_with(&roots),
        Err(e) => {
            tracing::error!("webhooks: {e}; delivering with the built-in roots only");
            client()
        }
    }
}

/// A delivery client trusting `roots`.
pub fn client_with(roots: &TlsRoots) -> reqwest::Client {
    roots
        .apply(reqwest::Client::builder())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Deliver everything due now. Returns (delivered, failed attempts).
pub async fn deliver_due(mirror: &Mirror, client: &reqwest::Client) -> (u64, u64) {
    let now = now_ms();
    let due = match mirror.meta.due_webhooks(now, MAX_ATTEMPTS) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("webhook outbox unreadable: {e}");
            return (0, 0);
        }
    };
    let (mut ok, mut failed) = (0, 0);
    for item in due {
        let configured = mirror.config.webhooks.iter().find(|w| redact::webhook_ref(&w.url) == item.target);
        let outcome = match configured {
            // Removed from the configuration since it was queued: nowhere to send it.
            None => Err("this webhook is no longer configured".to_string()),
            Some(w) => {
                let mut req = client
                    .post(&w.url)
                    .header("content-type", "application/json")
                    .header("x-skillscan-event", &item.event)
                    .header(EVENT_ID_HEADER, &item.event_id);
                if let Some(secret) = &w.secret {
                    req = req.header(SIGNATURE_HEADER, signature(secret.expose().as_bytes(), item.payload.as_bytes()));
                }
                let r = req.body(item.payload.clone()).send().await;
                match r {
                    Ok(resp) if resp.status().is_success() => Ok(()),
                    Ok(resp) => Err(format!("HTTP {}", resp.status())),
                    // Without the URL: reqwest's text embeds it.
                    Err(e) => Err(explain_tls_failure(&redact::error_chain(&e.without_url()), CA_HINT)),
                }
            }
        };
        match outcome {
            Ok(()) => {
                ok += 1;
                let _ = mirror.meta.webhook_delivered(item.id, now_ms());
            }
            Err(e) => {
                failed += 1;
                // 1 s, 2 s, 4 s … capped at 10 min.
                let backoff = 1000i64 << item.attempts.min(10);
                let _ = mirror.meta.webhook_failed(item.id, now_ms() + backoff.min(600_000), &e);
                let target = item.target.split(" #").next().unwrap_or_default();
                tracing::warn!(event = %item.event, %target, attempt = item.attempts + 1, "webhook delivery failed: {e}");
            }
        }
    }
    (ok, failed)
}

/// Keep delivering until nothing is due or `budget` elapses (tests and tools; CLI commands
/// leave delivery to `serve`, see [`pending`]).
pub async fn flush(mirror: &Mirror, budget: Duration) -> (u64, u64) {
    let client = client_for(mirror);
    let deadline = tokio::time::Instant::now() + budget;
    let (mut ok, mut failed) = (0, 0);
    loop {
        let (o, f) = deliver_due(mirror, &client).await;
        ok += o;
        failed += f;
        let pending = mirror.meta.due_webhooks(i64::MAX, MAX_ATTEMPTS).map(|v| v.len()).unwrap_or(0);
        if pending == 0 || tokio::time::Instant::now() >= deadline {
            return (ok, failed);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Events queued and not yet delivered (nor given up on): what `serve` will deliver.
pub fn pending(mirror: &Mirror) -> usize {
    mirror.meta.due_webhooks(i64::MAX, MAX_ATTEMPTS).map(|v| v.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2: receivers in any language get the same digest.
    #[test]
    fn signature_is_hmac_sha256_of_the_body() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
