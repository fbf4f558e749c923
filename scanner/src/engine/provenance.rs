//! Installer provenance, decided once per download URL and applied to every download-and-run
//! form (`curl | sh`, `bash -c "$(curl …)"`, `bash <(curl …)`, `irm … | iex`, download then run).
//!
//! A download that is run is judged by where it comes from:
//! - **trusted**: a host (and path) on the `trusted-installers` list — the official installers
//!   of well-known tools — is reported at low;
//! - **vendor**: a host the skill itself vouches for (its homepage or repository, its GitHub
//!   organisation, a domain its documentation links repeatedly, a domain named after the skill;
//!   see [`Corroboration`]) is reported at medium: it is the documented installer of the tool the
//!   skill wraps;
//! - **hostile**: a raw public IP address, a paste site, file host, URL shortener, tunnel or
//!   request collector is reported critical: nobody ships an installer from there;
//! - **unknown**: anything else keeps the rule's severity (high).
//!
//! Hosts that only look like documentation placeholders get no exemption here: in code they are
//! code. Quoted examples in documents are the job of context classification.

use std::sync::OnceLock;

use regex::Regex;

use crate::engine::corroborate::Corroboration;
use crate::engine::finding::Severity;
use crate::engine::hit::Hit;
use crate::engine::rules::{HostLists, Provenance, RuleSet};
use crate::engine::text::builtin_regex;
use crate::engine::urls;

const HOSTILE_LISTS: &[&str] = &["paste-sites", "file-sharing", "url-shorteners", "tunnels", "webhook-collectors"];

/// Where a download comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Trusted,
    Vendor,
    Unknown,
    Hostile(&'static str),
}

pub fn standing(url: &str, vouched: &Corroboration, lists: &HostLists) -> Standing {
    let Some((host, path)) = urls::host_and_path(url) else { return Standing::Unknown };
    if urls::is_ip(&host) {
        return if is_local(&host) { Standing::Unknown } else { Standing::Hostile("a raw IP address") };
    }
    if let Some(list) = lists.which(HOSTILE_LISTS, &host, &path) {
        return Standing::Hostile(match list {
            "paste-sites" => "a paste site",
            "file-sharing" => "a file-sharing host",
            "url-shorteners" => "a URL shortener",
            "tunnels" => "a tunnel",
            _ => "a request collector",
        });
    }
    if lists.contains("trusted-installers", &host, &path) {
        return Standing::Trusted;
    }
    let https = if url.contains("://") { url.to_string() } else { format!("https://{url}") };
    if vouched.vouches_for(&https, lists) {
        return Standing::Vendor;
    }
    Standing::Unknown
}

fn is_local(host: &str) -> bool {
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => false,
    }
}

/// A download written without a scheme (`curl -sL cli.example.dev | bash`).
fn bare_download(text: &str) -> Option<String> {
    static BARE: OnceLock<Regex> = OnceLock::new();
    let re = BARE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|\n]*?\s['\x22]?((?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s'\x22|)]*)?)",
        )
    });
    re.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().to_string())
}

/// Re-rates the hits of `provenance: installer` rules by where their download comes from.
/// `matched` gives a hit's matched text (for downloads without a URL capture).
pub fn apply(hits: &mut [Hit], rules: &RuleSet, vouched: &Corroboration, matched: impl Fn(&Hit) -> String) {
    for hit in hits.iter_mut() {
        let rule = &rules.rules[hit.rule];
        if rule.provenance != Some(Provenance::Installer) || rule.severity.is_none() {
            continue;
        }
        // The URL as the shell reads it: quotes only join pieces (`"https://""sh.rustup.rs"`).
        let text = matched(hit).replace(['"', '\''], "");
        let from_text = urls::find_urls(&text).next().map(|(_, u)| u.to_string()).or_else(|| bare_download(&text));
        let Some(url) = from_text.or_else(|| hit.capture("url").map(str::to_string)) else { continue };
        let (severity, why) = match standing(&url, vouched, &rules.lists) {
            Standing::Trusted => (Severity::Low, "a known official installer".to_string()),
            Standing::Vendor => (Severity::Medium, "the installer of the vendor this skill documents".to_string()),
            Standing::Hostile(what) => (Severity::Critical, format!("served from {what}")),
            Standing::Unknown => continue,
        };
        hit.severity = Some(severity);
        let detail = match hit.detail.take() {
            Some(detail) => format!("{detail} ({why})"),
            None => why,
        };
        hit.detail = Some(detail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_hosts_after_a_download_command() {
        assert_eq!(bare_download("curl -sL cli.example.dev | bash").as_deref(), Some("cli.example.dev"));
        assert_eq!(bare_download("curl -fsSL https://x.example/i.sh | sh"), None);
        assert!(bare_download("echo hi | bash").is_none());
    }
}
