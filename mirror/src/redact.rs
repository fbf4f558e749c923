//! Secrets the mirror must never store or log, and the reduced forms it keeps instead.
//!
//! An upstream URL may carry `user:password@`; a Slack or Discord webhook URL *is* its
//! secret (the path is the token). So:
//! - an upstream URL is stripped of its credentials before it reaches anything that
//!   outlives the request: the versions table, the audit log, sync failures, alerts, the
//!   admin API, log lines and error texts ([`without_credentials`]); upstream credentials
//!   come from `upstream.token` instead ([`Secret`]);
//! - a webhook URL appears only as scheme and host ([`origin`]); the outbox stores
//!   [`webhook_ref`] (origin plus a digest of the full URL) and delivery looks the URL up in
//!   the configuration again.

use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Written where a URL cannot be parsed: an unparsable URL is never echoed.
const INVALID: &str = "<invalid URL>";

/// `url` without `user:password@` (and without a fragment). An unparsable URL is
/// replaced as a whole, since it cannot be cut safely.
pub fn without_credentials(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            // Both fail only for URLs that cannot carry credentials at all.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_fragment(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => INVALID.to_string(),
    }
}

/// Whether `url` carries `user:password@`.
pub fn has_credentials(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
}

/// Scheme and host (and port) of `url`: all that logs and the outbox show of a webhook.
pub fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            (None, _) => INVALID.to_string(),
        },
        Err(_) => INVALID.to_string(),
    }
}

/// What the webhook outbox stores for a target: its origin and the first 16 hex digits of
/// the full URL's sha256, enough to find the configured URL again and nothing to call it with.
pub fn webhook_ref(url: &str) -> String {
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    format!("{} #{}", origin(url), &digest[..16])
}

/// An error with its causes ("error sending request: connection refused"). Give it
/// `reqwest::Error::without_url()`: reqwest's own text embeds the whole URL.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// A credential from the configuration or the environment: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(without_credentials("https://u:pw@up.example/base/"), "https://up.example/base");
        assert_eq!(without_credentials("http://u@up.example:8080"), "http://up.example:8080");
        assert_eq!(without_credentials("http://up.example/#frag"), "http://up.example");
        assert_eq!(without_credentials("not a url pw"), INVALID);
        assert!(has_credentials("https://u:pw@up.example") && !has_credentials("https://up.example"));
    }

    #[test]
    fn webhooks_show_scheme_and_host_only() {
        let url = "https://hooks.slack.example/services/T0/B0/SECRET";
        assert_eq!(origin(url), "https://hooks.slack.example");
        assert_eq!(origin("http://u:pw@127.0.0.1:9/x"), "http://127.0.0.1:9");
        let r = webhook_ref(url);
        assert!(r.starts_with("https://hooks.slack.example #") && !r.contains("SECRET"), "{r}");
        assert_ne!(r, webhook_ref("https://hooks.slack.example/services/T0/B0/OTHER"));
        assert_eq!(format!("{:?}", Secret::new("tok")), "Secret(…)");
    }
}
