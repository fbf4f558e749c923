//! Server and curator configuration: an optional TOML file plus environment overrides.
//!
//! Lookup: `--config FILE` (or `SKILLSCAN_MIRROR_CONFIG`), else `<data>/config.toml` if it
//! exists, else built-in defaults, so `skillscan-mirror serve` runs with no configuration
//! at all. The policy is looked up the same way (`policy = "…"` in the config, else
//! `<data>/policy.toml`, else the default policy).
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! public_url = "https://skills.example.invalid"   # apiBase in /.well-known/clawhub.json
//! policy = "policy.toml"                          # relative to the data directory
//! require_read_token = false                      # true: reads need a `read` or `admin` token
//! ca_cert = "private-ca.pem"   # extra CA trusted for the upstream and webhooks (relative to the data
//!                              # directory); or --ca-cert / SKILLSCAN_MIRROR_CA_CERT
//!
//! [limits]
//! max_body_bytes = 65536        # request bodies (admin API, telemetry)
//! request_timeout = "30s"
//! header_timeout = "10s"        # a client must send its request headers within this time
//! max_connections = 1024        # open connections at once; more wait to be accepted
//! max_connections_per_ip = 64   # open connections per client address; more are closed (0: no cap)
//! first_byte_timeout = "2s"     # a connection that sends nothing by then is closed
//! scan_timeout = "120s"         # a slower scan is a scanner error: the version stays quarantined
//! hot_cache_bytes = 268435456   # approved zips kept in memory for the download route
//! max_archive_bytes = 52428800  # larger upstream archives are refused
//!
//! [upstream]
//! url = "https://clawhub.ai"    # what `serve`'s scheduled sync and pull-through pull from
//! on_demand = false             # true: a request for an unseen skill fetches, pins and vets it first
//! on_demand_miss_ttl = "5m"     # a skill upstream does not have is not asked for again this long
//! token = "…"                   # sent as `Authorization: Bearer`; or SKILLSCAN_MIRROR_UPSTREAM_TOKEN
//! timeout = "30s"
//! retries = 3
//! max_retry_after = "120s"      # a longer Retry-After fails the item instead of sleeping
//! max_versions = 5              # newest versions fetched per skill
//! max_skills = 10000            # cap for `sync --all`
//! redirect_hosts = []           # redirects stay within the upstream's origin unless listed here
//! allow_private_targets = false # true: redirects may lead to loopback/private/link-local addresses
//! sync_deadline = "1h"          # a whole `sync` (listing included) stops after this; the rest is a failure
//!
//! [schedule]                    # jobs `serve` runs by itself; one at a time, never overlapping
//! sync = "1h"                   # sync every this long (unset: never); needs upstream.url
//! sync_all = false              # true: every skill upstream lists; false: the skills the mirror knows
//! rescan_on_rules_change = true # a new rules version rescans the approved versions (retro-hunt)
//! rules_check = "1m"            # how often the rules version is compared
//!
//! [ui]                          # the review UI under /ui/ (see `crate::routes::ui`)
//! secure_cookies = false        # true: the session cookie is `Secure` (set it when clients reach the
//!                               # mirror over HTTPS through a TLS-terminating proxy); or
//!                               # SKILLSCAN_MIRROR_UI_SECURE_COOKIES=1
//!
//! [storage]                     # unset: SQLite and files in the data directory (one machine)
//! database = "postgres://skillscan@db.internal/skillscan"   # or sqlite:PATH; or SKILLSCAN_MIRROR_DATABASE
//!                               # / --database (a password belongs in the environment, not here)
//! blobs = "s3://skillscan-blobs/mirror"   # or a directory; or SKILLSCAN_MIRROR_BLOBS / --blobs
//! s3_endpoint = "http://127.0.0.1:3900"   # S3-compatible server; else AWS_ENDPOINT_URL, else AWS
//! s3_allow_http = false         # true: plain HTTP to the endpoint (loopback/private network only)
//! replica = "mirror-a"          # this replica's name in /status (default: the listen address)
//! max_lag = "5s"                # unable to confirm it serves the store's current state for longer:
//!                               # the read API answers 503 (clients retry elsewhere), /readyz fails
//!
//! [[webhooks]]
//! url = "https://hooks.example.invalid/skillscan"
//! events = ["quarantine", "reject", "revoke", "integrity_alert", "security_event"]   # the default
//! secret = "…"                  # HMAC-SHA256 key for X-Skillscan-Signature; or SKILLSCAN_MIRROR_WEBHOOK_SECRET
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use skillscan::clawhub::client::{CaCertError, TlsRoots};
use thiserror::Error;

use crate::policy::parse_duration;
use crate::redact::{self, Secret};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid config: {0}")]
    Parse(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: String,
    pub header_timeout: String,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub first_byte_timeout: String,
    pub scan_timeout: String,
    pub hot_cache_bytes: u64,
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 * 1024,
            request_timeout: "30s".into(),
            header_timeout: "10s".into(),
            max_connections: 1024,
            max_connections_per_ip: 64,
            first_byte_timeout: "2s".into(),
            scan_timeout: "120s".into(),
            hot_cache_bytes: 256 * 1024 * 1024,
            max_archive_bytes: 50 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// The registry `serve`'s scheduled sync pulls from (`sync --upstream` names it for a
    /// one-off run).
    pub url: Option<String>,
    /// Upstream credential, sent as a bearer token (never credentials in the URL: those
    /// are stripped and ignored).
    pub token: Option<Secret>,
    pub timeout: String,
    pub retries: u32,
    pub max_retry_after: String,
    pub max_versions: usize,
    pub max_skills: usize,
    /// Hosts a redirect may lead to besides the upstream's own origin (default none).
    pub redirect_hosts: Vec<String>,
    /// Allow redirects to loopback, private and link-local addresses (default false).
    pub allow_private_targets: bool,
    /// Overall deadline of one `sync` run (`--all` included): what is left is a recorded failure.
    pub sync_deadline: String,
    /// Pull-through: a request for a skill the mirror has never seen fetches it from `url`
    /// (see `crate::pull_through`).
    pub on_demand: bool,
    /// How long a skill (or version) upstream did not have is not asked for again.
    pub on_demand_miss_ttl: String,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            url: None,
            token: None,
            timeout: "30s".into(),
            retries: 3,
            max_retry_after: "120s".into(),
            max_versions: 5,
            max_skills: 10_000,
            redirect_hosts: vec![],
            allow_private_targets: false,
            sync_deadline: "1h".into(),
            on_demand: false,
            on_demand_miss_ttl: "5m".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    #[serde(default = "default_events")]
    pub events: Vec<String>,
    /// Key of the `X-Skillscan-Signature` HMAC (else `SKILLSCAN_MIRROR_WEBHOOK_SECRET`); never logged.
    #[serde(default)]
    pub secret: Option<Secret>,
}

/// Jobs `serve` runs by itself (see `crate::schedule`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Period of the scheduled sync (`"1h"`); unset: no scheduled sync. Needs `upstream.url`.
    pub sync: Option<String>,
    /// The scheduled sync pulls every skill upstream lists (bounded by `upstream.max_skills`),
    /// not only the skills the mirror already knows.
    pub sync_all: bool,
    /// Rescan the approved versions (the retro-hunt of `rescan`) when the scanner's rules
    /// version differs from the one they were last scanned with.
    pub rescan_on_rules_change: bool,
    /// How often the rules version is compared.
    pub rules_check: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { sync: None, sync_all: false, rescan_on_rules_change: true, rules_check: "1m".into() }
    }
}

/// Where the mirror keeps its state (see `crate::storage`). Unset: the embedded default,
/// SQLite and files in the data directory. Several replicas share state by pointing at one
/// PostgreSQL database and one S3 bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `sqlite:PATH` or `postgres://…` (the URL may hold a password: prefer
    /// `SKILLSCAN_MIRROR_DATABASE` or `--database` over a config file).
    pub database: Option<Secret>,
    /// A directory, or `s3://bucket[/prefix]` (credentials from the usual `AWS_*` environment).
    pub blobs: Option<String>,
    /// S3 endpoint for S3-compatible servers (Garage, MinIO, Ceph); else `AWS_ENDPOINT_URL`,
    /// else AWS.
    pub s3_endpoint: Option<String>,
    /// Allow plain HTTP to the S3 endpoint (a loopback or private-network server).
    pub s3_allow_http: bool,
    /// This replica's name in `/status` (default: the listen address).
    pub replica: Option<String>,
    /// How long a replica may fail to confirm that it serves the store's current state (the
    /// store unreachable, a rebuild failing, the store ahead) before it stops answering the
    /// read API (503, so clients retry elsewhere) and `/readyz` fails. Default "5s".
    pub max_lag: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: None,
            blobs: None,
            s3_endpoint: None,
            s3_allow_http: false,
            replica: None,
            max_lag: "5s".into(),
        }
    }
}

/// The review UI (`/ui/`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Mark the session cookie `Secure`. The mirror has no TLS of its own, so it cannot tell
    /// whether the browser reached it over HTTPS; a forwarded-proto header could be forged by any
    /// client when no proxy strips it, so the operator states it here instead.
    pub secure_cookies: bool,
}

pub const WEBHOOK_EVENTS: [&str; 5] = ["quarantine", "reject", "revoke", "integrity_alert", "security_event"];

fn default_events() -> Vec<String> {
    WEBHOOK_EVENTS.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: String,
    pub public_url: Option<String>,
    pub policy: Option<PathBuf>,
    pub require_read_token: bool,
    /// PEM file of an extra certificate authority trusted for HTTPS to the upstream and to
    /// webhook receivers, besides the bundled and the system's roots (relative to the data
    /// directory; `--ca-cert` / `SKILLSCAN_MIRROR_CA_CERT` override it).
    pub ca_cert: Option<PathBuf>,
    pub limits: Limits,
    pub upstream: UpstreamConfig,
    pub schedule: ScheduleConfig,
    pub ui: UiConfig,
    pub storage: StorageConfig,
    pub webhooks: Vec<WebhookConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            policy: None,
            require_read_token: false,
            ca_cert: None,
            limits: Limits::default(),
            upstream: UpstreamConfig::default(),
            schedule: ScheduleConfig::default(),
            ui: UiConfig::default(),
            storage: StorageConfig::default(),
            webhooks: vec![],
        }
    }
}

fn dur(s: &str, what: &str) -> Result<Duration, ConfigError> {
    parse_duration(s).map_err(|e| ConfigError::Parse(format!("{what}: {e}")))
}

impl Config {
    /// `[storage] max_lag` (validated when the configuration was loaded).
    pub fn max_replication_lag(&self) -> Duration {
        parse_duration(&self.storage.max_lag).unwrap_or(Duration::from_secs(5))
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Load per the lookup order above, then apply environment overrides.
    pub fn load(explicit: Option<&Path>, data_dir: &Path) -> Result<Config, ConfigError> {
        let path = explicit.map(Path::to_path_buf).or_else(|| {
            let p = data_dir.join("config.toml");
            p.is_file().then_some(p)
        });
        let mut c = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError::Read { path: p.display().to_string(), source: e })?;
                Config::parse(&text)?
            }
            None => Config::default(),
        };
        c.apply_env(|k| std::env::var(k).ok())?;
        c.validate()?;
        Ok(c)
    }

    /// `SKILLSCAN_MIRROR_LISTEN`, `SKILLSCAN_MIRROR_PUBLIC_URL`, `SKILLSCAN_MIRROR_POLICY`,
    /// `SKILLSCAN_MIRROR_REQUIRE_READ_TOKEN` (`1`/`true`), `SKILLSCAN_MIRROR_WEBHOOK_URL`,
    /// `SKILLSCAN_MIRROR_UPSTREAM_TOKEN`, `SKILLSCAN_MIRROR_WEBHOOK_SECRET` (the signing key of
    /// every webhook that has no `secret` of its own), `SKILLSCAN_MIRROR_CA_CERT` (relative to
    /// the current directory), `SKILLSCAN_MIRROR_UI_SECURE_COOKIES` (`1`/`true`),
    /// `SKILLSCAN_MIRROR_DATABASE`, `SKILLSCAN_MIRROR_BLOBS`, `SKILLSCAN_MIRROR_S3_ENDPOINT`,
    /// `SKILLSCAN_MIRROR_REPLICA` (`[storage]`).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("SKILLSCAN_MIRROR_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_POLICY") {
            self.policy = Some(PathBuf::from(v));
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_REQUIRE_READ_TOKEN") {
            self.require_read_token = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_UI_SECURE_COOKIES") {
            self.ui.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_DATABASE").filter(|v| !v.is_empty()) {
            self.storage.database = Some(Secret::new(v));
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_BLOBS").filter(|v| !v.is_empty()) {
            self.storage.blobs = Some(v);
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_S3_ENDPOINT").filter(|v| !v.is_empty()) {
            self.storage.s3_endpoint = Some(v);
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_REPLICA").filter(|v| !v.is_empty()) {
            self.storage.replica = Some(v);
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_CA_CERT").filter(|v| !v.is_empty()) {
            self.set_ca_cert(Path::new(&v));
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_UPSTREAM_TOKEN").filter(|v| !v.is_empty()) {
            self.upstream.token = Some(Secret::new(v));
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_WEBHOOK_URL") {
            self.webhooks.push(WebhookConfig { url: v, events: default_events(), secret: None });
        }
        if let Some(v) = get("SKILLSCAN_MIRROR_WEBHOOK_SECRET").filter(|v| !v.is_empty()) {
            for w in self.webhooks.iter_mut().filter(|w| w.secret.is_none()) {
                w.secret = Some(Secret::new(v.clone()));
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        dur(&self.limits.request_timeout, "limits.request_timeout")?;
        dur(&self.limits.scan_timeout, "limits.scan_timeout")?;
        dur(&self.limits.header_timeout, "limits.header_timeout")?;
        dur(&self.limits.first_byte_timeout, "limits.first_byte_timeout")?;
        if dur(&self.upstream.sync_deadline, "upstream.sync_deadline")?.is_zero() {
            return Err(ConfigError::Parse("upstream.sync_deadline must be more than 0".into()));
        }
        if self.limits.max_connections == 0 {
            return Err(ConfigError::Parse("limits.max_connections must be at least 1".into()));
        }
        dur(&self.upstream.timeout, "upstream.timeout")?;
        dur(&self.upstream.on_demand_miss_ttl, "upstream.on_demand_miss_ttl")?;
        if self.upstream.on_demand && self.upstream.url.is_none() {
            return Err(ConfigError::Parse("upstream.on_demand needs upstream.url (the registry to pull from)".into()));
        }
        if dur(&self.storage.max_lag, "storage.max_lag")?.is_zero() {
            return Err(ConfigError::Parse("storage.max_lag must be more than 0".into()));
        }
        if dur(&self.schedule.rules_check, "schedule.rules_check")?.is_zero() {
            return Err(ConfigError::Parse("schedule.rules_check must be more than 0".into()));
        }
        if let Some(every) = &self.schedule.sync {
            if dur(every, "schedule.sync")?.is_zero() {
                return Err(ConfigError::Parse("schedule.sync must be more than 0".into()));
            }
            if self.upstream.url.is_none() {
                return Err(ConfigError::Parse("schedule.sync needs upstream.url (the registry to pull from)".into()));
            }
        }
        dur(&self.upstream.max_retry_after, "upstream.max_retry_after")?;
        for w in &self.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                // The URL may be the secret: name only what is safe to show.
                let shown = redact::origin(&w.url);
                return Err(ConfigError::Parse(format!("webhook url must be http(s): {shown}")));
            }
            for e in &w.events {
                if !WEBHOOK_EVENTS.contains(&e.as_str()) {
                    return Err(ConfigError::Parse(format!("unknown webhook event `{e}`")));
                }
            }
        }
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::Parse("public_url must be an http(s) URL".into()));
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        dur(&self.limits.request_timeout, "").unwrap_or(Duration::from_secs(30))
    }
    pub fn header_timeout(&self) -> Duration {
        dur(&self.limits.header_timeout, "").unwrap_or(Duration::from_secs(10))
    }
    pub fn first_byte_timeout(&self) -> Duration {
        dur(&self.limits.first_byte_timeout, "").unwrap_or(Duration::from_secs(2))
    }
    pub fn sync_deadline(&self) -> Duration {
        dur(&self.upstream.sync_deadline, "").unwrap_or(Duration::from_secs(3600))
    }
    pub fn scan_timeout(&self) -> Duration {
        dur(&self.limits.scan_timeout, "").unwrap_or(Duration::from_secs(120))
    }
    pub fn upstream_timeout(&self) -> Duration {
        dur(&self.upstream.timeout, "").unwrap_or(Duration::from_secs(30))
    }
    pub fn max_retry_after(&self) -> Duration {
        dur(&self.upstream.max_retry_after, "").unwrap_or(Duration::from_secs(120))
    }

    /// Use the CA file at `path` (`--ca-cert`, the environment): relative to the current
    /// directory, not to the data directory as in the file.
    pub fn set_ca_cert(&mut self, path: &Path) {
        self.ca_cert = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    }

    /// The roots trusted for HTTPS: the bundled and the system's, plus `ca_cert` (relative
    /// to the data directory). An unreadable or empty CA file is an error.
    pub fn tls_roots(&self, data_dir: &Path) -> Result<TlsRoots, CaCertError> {
        let path = self.ca_cert.as_ref().map(|p| if p.is_absolute() { p.clone() } else { data_dir.join(p) });
        TlsRoots::with_ca_file(path.as_deref())
    }

    /// The policy file to use, if any (config value relative to the data dir).
    pub fn policy_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match &self.policy {
            Some(p) if p.is_absolute() => Some(p.clone()),
            Some(p) => Some(data_dir.join(p)),
            None => {
                let p = data_dir.join("policy.toml");
                p.is_file().then_some(p)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_env() {
        let mut c =
            Config::parse("listen = \"0.0.0.0:1\"\n[[webhooks]]\nurl = \"http://h.example.invalid/\"\n").unwrap();
        assert_eq!(c.webhooks[0].events.len(), 5);
        c.apply_env(|k| (k == "SKILLSCAN_MIRROR_LISTEN").then(|| "127.0.0.1:9".to_string())).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9");
        assert!(Config::parse("nope = 1").is_err());
        assert!(Config::parse("[[webhooks]]\nurl = \"ftp://x\"").is_err());
        assert!(Config::parse("[limits]\nrequest_timeout = \"soon\"").is_err());
    }
}
