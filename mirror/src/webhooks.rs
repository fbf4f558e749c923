//! Webhook delivery from the transactional outbox: JSON POST, retried with exponential
//! backoff (up to [`MAX_ATTEMPTS`]), by the server's background task and at the end of
//! every CLI command that changed state.
//!
//! A webhook URL can be its own secret (Slack, Discord), so it is never stored or logged:
//! the outbox holds [`redact::webhook_ref`], resolved against the configuration at delivery;
//! logs and recorded errors name the target by scheme and host only.

use std::time::Duration;

use crate::model::now_ms;
use crate::redact;
use crate::service::Mirror;

pub const MAX_ATTEMPTS: u32 = 8;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
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
                let r = client
                    .post(&w.url)
                    .header("content-type", "application/json")
                    .header("x-skillscan-event", &item.event)
                    .body(item.payload.clone())
                    .send()
                    .await;
                match r {
                    Ok(resp) if resp.status().is_success() => Ok(()),
                    Ok(resp) => Err(format!("HTTP {}", resp.status())),
                    // Without the URL: reqwest's text embeds it.
                    Err(e) => Err(redact::error_chain(&e.without_url())),
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

/// For CLI commands: keep delivering until nothing is due or `budget` elapses.
pub async fn flush(mirror: &Mirror, budget: Duration) -> (u64, u64) {
    let client = client();
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
