//! Upstream sync: pull metadata and archives from a ClawHub-compatible registry.
//!
//! Hostile-upstream posture: every request has a timeout; 408/429/5xx and network errors
//! are retried with exponential backoff, honouring `Retry-After` (seconds or HTTP date) up
//! to a cap (a longer wait fails the item rather than stalling the sync); bodies are
//! size-capped while streaming and checked against `Content-Length` (a truncated or lying
//! body is a failure); JSON is parsed strictly for the keys the mirror needs. Every failure
//! is recorded (`sync_failures`) and reported; nothing unvetted is ever served because
//! everything fetched still goes through `Mirror::ingest`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use thiserror::Error;

use crate::model::{SyncFailure, now_ms};
use crate::service::{IngestInput, IngestOutcome, Mirror};
use crate::validate;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SyncError {
    #[error("network error: {0}")]
    Network(String),
    #[error("upstream answered HTTP {0}: {1}")]
    Http(u16, String),
    #[error("upstream asked to retry after {0:?}, longer than the configured maximum")]
    RetryAfterTooLong(Duration),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("truncated body: Content-Length {declared}, received {received}")]
    Truncated { declared: u64, received: u64 },
    #[error("malformed upstream JSON: {0}")]
    Malformed(String),
    #[error("invalid upstream data: {0}")]
    Invalid(String),
}

pub struct Upstream {
    base: String,
    client: reqwest::Client,
    retries: u32,
    max_retry_after: Duration,
    /// Base backoff; tests shrink it.
    pub backoff: Duration,
}

/// An error with its causes ("error sending request: connection refused"), without URLs.
fn chain(e: &dyn std::error::Error) -> String {
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

/// `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let t = httpdate::parse_http_date(v).ok()?;
    Some(t.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

impl Upstream {
    pub fn new(base: &str, timeout: Duration, retries: u32, max_retry_after: Duration) -> Result<Upstream, SyncError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() > 2048 {
            return Err(SyncError::Invalid("upstream must be an http(s) URL".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("skillscan-mirror/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(Upstream {
            base: base.trim_end_matches('/').to_string(),
            client,
            retries,
            max_retry_after,
            backoff: Duration::from_millis(500),
        })
    }

    /// GET `path` (with query), retried per the module policy; body capped at `cap`.
    pub async fn get(&self, path: &str, cap: u64) -> Result<Vec<u8>, SyncError> {
        let url = format!("{}{}", self.base, path);
        let mut attempt = 0u32;
        loop {
            let delay = match self.try_once(&url, cap).await {
                Ok(b) => return Ok(b),
                Err((e, retry_after)) => {
                    let retryable = matches!(&e, SyncError::Network(_) | SyncError::Truncated { .. })
                        || matches!(&e, SyncError::Http(s, _) if *s == 408 || *s == 429 || *s >= 500);
                    if !retryable || attempt >= self.retries {
                        return Err(e);
                    }
                    match retry_after {
                        Some(d) if d > self.max_retry_after => {
                            return Err(SyncError::RetryAfterTooLong(d));
                        }
                        Some(d) => d,
                        None => self.backoff * 2u32.saturating_pow(attempt),
                    }
                }
            };
            attempt += 1;
            tracing::debug!(%url, attempt, ?delay, "retrying upstream request");
            tokio::time::sleep(delay).await;
        }
    }

    async fn try_once(&self, url: &str, cap: u64) -> Result<Vec<u8>, (SyncError, Option<Duration>)> {
        let mut resp = self
            .client
            .get(url)
            .header("accept", "application/json, application/zip;q=0.9, */*;q=0.1")
            .send()
            .await
            .map_err(|e| (SyncError::Network(chain(&e.without_url())), None))?;
        let status = resp.status();
        if !status.is_success() {
            let ra = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            let mut text = Vec::new();
            while let Ok(Some(c)) = resp.chunk().await {
                text.extend_from_slice(&c);
                if text.len() > 512 {
                    break;
                }
            }
            let msg: String = String::from_utf8_lossy(&text).chars().take(200).collect();
            let ra = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() { ra } else { None };
            return Err((SyncError::Http(status.as_u16(), msg.trim().to_string()), ra));
        }
        let declared = resp.content_length();
        if declared.is_some_and(|d| d > cap) {
            return Err((SyncError::TooLarge(cap), None));
        }
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(cap) as usize);
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    body.extend_from_slice(&c);
                    if body.len() as u64 > cap {
                        return Err((SyncError::TooLarge(cap), None));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // hyper reports a body shorter than Content-Length as an error here.
                    let received = body.len() as u64;
                    return Err(match declared {
                        Some(d) if d != received => (SyncError::Truncated { declared: d, received }, None),
                        _ => (SyncError::Network(chain(&e.without_url())), None),
                    });
                }
            }
        }
        if let Some(d) = declared
            && d != body.len() as u64
        {
            return Err((SyncError::Truncated { declared: d, received: body.len() as u64 }, None));
        }
        Ok(body)
    }

    pub async fn get_json(&self, path: &str) -> Result<Value, SyncError> {
        let b = self.get(path, 8 * 1024 * 1024).await?;
        serde_json::from_slice(&b).map_err(|e| SyncError::Malformed(e.to_string()))
    }
}

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub upstream: String,
    pub slugs: Vec<String>,
    pub all: bool,
}

#[derive(Debug, Default)]
pub struct SyncReport {
    pub results: Vec<(String, IngestOutcome)>,
    pub failures: Vec<SyncFailure>,
}

/// Upstream detail, reduced to what the mirror keeps.
#[derive(Debug, Clone)]
struct Detail {
    owner: Option<String>,
    display_name: Option<String>,
    summary: Option<String>,
    latest: Option<String>,
    metadata_json: Option<String>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_str)
}

fn parse_detail(slug: &str, v: &Value) -> Result<Detail, SyncError> {
    if !v.is_object() || v.get("skill").is_none() {
        return Err(SyncError::Malformed("detail response has no `skill`".into()));
    }
    if let Some(canonical) = str_at(v, &["skill", "slug"])
        && canonical != slug
    {
        return Err(SyncError::Invalid(format!("upstream canonical slug {canonical:?} differs from {slug:?}")));
    }
    let owner = match str_at(v, &["owner", "handle"]) {
        Some(h) => Some(validate::owner(h).map_err(|e| SyncError::Invalid(e.to_string()))?),
        None => None,
    };
    let metadata_json = v.get("metadata").filter(|m| m.get("setup").is_some_and(Value::is_array)).map(Value::to_string);
    Ok(Detail {
        owner,
        display_name: str_at(v, &["skill", "displayName"]).map(str::to_string),
        summary: str_at(v, &["skill", "summary"]).map(str::to_string),
        latest: str_at(v, &["latestVersion", "version"]).map(str::to_string),
        metadata_json,
    })
}

#[derive(Debug, Clone)]
struct UpVersion {
    version: String,
    created_at: i64,
    changelog: String,
}

fn parse_versions(v: &Value) -> Result<Vec<UpVersion>, SyncError> {
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| SyncError::Malformed("versions response has no `items` array".into()))?;
    items
        .iter()
        .map(|it| {
            let version = it
                .get("version")
                .and_then(Value::as_str)
                .ok_or_else(|| SyncError::Malformed("version item without `version`".into()))?;
            Ok(UpVersion {
                version: version.to_string(),
                created_at: it.get("createdAt").and_then(Value::as_i64).unwrap_or_else(now_ms),
                changelog: it.get("changelog").and_then(Value::as_str).unwrap_or("").to_string(),
            })
        })
        .collect()
}

async fn list_all(up: &Upstream, max: usize) -> Result<Vec<String>, SyncError> {
    let mut slugs = Vec::new();
    let mut cursor: Option<String> = None;
    for _page in 0..1000 {
        let q = match &cursor {
            Some(c) => format!("/api/v1/skills?limit=200&cursor={}", urlencoding::encode(c)),
            None => "/api/v1/skills?limit=200".to_string(),
        };
        let v = up.get_json(&q).await?;
        let items = v
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| SyncError::Malformed("list has no `items`".into()))?;
        for it in items {
            if let Some(s) = it.get("slug").and_then(Value::as_str) {
                slugs.push(s.to_string());
            }
        }
        match v.get("nextCursor").and_then(Value::as_str) {
            Some(c) if slugs.len() < max && !items.is_empty() && cursor.as_deref() != Some(c) => {
                cursor = Some(c.to_string())
            }
            _ => break,
        }
    }
    slugs.truncate(max);
    Ok(slugs)
}

/// Run a sync. Never fails as a whole for one bad skill: per-item failures are recorded.
pub async fn run(mirror: Arc<Mirror>, opts: SyncOptions) -> Result<SyncReport, SyncError> {
    let cfg = &mirror.config;
    let up = Upstream::new(&opts.upstream, cfg.upstream_timeout(), cfg.upstream.retries, cfg.max_retry_after())?;
    run_with(mirror, &up, opts).await
}

pub async fn run_with(mirror: Arc<Mirror>, up: &Upstream, opts: SyncOptions) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let slugs = if opts.all {
        match list_all(up, mirror.config.upstream.max_skills).await {
            Ok(slugs) => slugs,
            Err(e) => {
                // A broken listing is a sync failure like any other: recorded, then reported.
                fail(&mirror, &opts.upstream, "*", None, &format!("listing skills: {e}"), &mut report);
                return Err(e);
            }
        }
    } else {
        opts.slugs.clone()
    };
    for slug in slugs {
        if let Err(e) = sync_skill(&mirror, up, &opts.upstream, &slug, &mut report).await {
            fail(&mirror, &opts.upstream, &slug, None, &e.to_string(), &mut report);
        }
    }
    Ok(report)
}

fn fail(mirror: &Mirror, upstream: &str, slug: &str, version: Option<&str>, error: &str, report: &mut SyncReport) {
    let f = SyncFailure {
        id: 0,
        at: now_ms(),
        upstream: upstream.to_string(),
        slug: slug.chars().take(100).collect(),
        version: version.map(|v| v.chars().take(64).collect()),
        error: error.chars().take(500).collect(),
    };
    tracing::warn!(slug = %f.slug, version = ?f.version, "sync failure: {}", f.error);
    if let Err(e) = mirror.meta.record_sync_failure(&f) {
        tracing::error!("cannot record sync failure: {e}");
    }
    report.failures.push(f);
}

async fn sync_skill(
    mirror: &Arc<Mirror>,
    up: &Upstream,
    upstream: &str,
    slug: &str,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    validate::slug(slug).map_err(|e| SyncError::Invalid(e.to_string()))?;
    let detail = parse_detail(slug, &up.get_json(&format!("/api/v1/skills/{slug}")).await?)?;
    let max = mirror.config.upstream.max_versions.max(1);
    let mut versions = match up.get_json(&format!("/api/v1/skills/{slug}/versions?limit={}", max.min(200))).await {
        Ok(v) => parse_versions(&v)?,
        // Older registries may lack the list; fall back to the latest version only.
        Err(SyncError::Http(404, _)) => vec![],
        Err(e) => return Err(e),
    };
    if versions.is_empty()
        && let Some(l) = &detail.latest
    {
        versions.push(UpVersion { version: l.clone(), created_at: now_ms(), changelog: String::new() });
    }
    let mut parsed: Vec<(semver::Version, UpVersion)> = Vec::new();
    for v in versions {
        match validate::version(&v.version) {
            Ok(s) => parsed.push((s, v)),
            Err(e) => fail(mirror, upstream, slug, Some(&v.version), &format!("{e}"), report),
        }
    }
    parsed.sort_by(|a, b| b.0.cmp(&a.0));
    parsed.truncate(max);
    // Oldest first, so an update is reviewed against an already-decided base version.
    parsed.reverse();
    for (_, v) in parsed {
        let mut path = format!("/api/v1/download?slug={slug}&version={}", urlencoding::encode(&v.version));
        if let Some(o) = &detail.owner {
            path.push_str(&format!("&ownerHandle={o}"));
        }
        let zip = match up.get(&path, mirror.config.limits.max_archive_bytes).await {
            Ok(z) => z,
            Err(e) => {
                fail(mirror, upstream, slug, Some(&v.version), &e.to_string(), report);
                continue;
            }
        };
        let input = IngestInput {
            slug: slug.to_string(),
            version: v.version.clone(),
            owner: detail.owner.clone(),
            display_name: detail.display_name.clone(),
            summary: detail.summary.clone(),
            changelog: v.changelog.clone(),
            published_at: v.created_at,
            source: format!("upstream:{upstream}"),
            metadata_json: detail.metadata_json.clone(),
            license: Some("MIT-0".into()),
            zip,
        };
        let m = mirror.clone();
        let r = tokio::task::spawn_blocking(move || m.ingest(input, "sync")).await;
        match r {
            Ok(Ok(outcome)) => report.results.push((format!("{slug}@{}", v.version), outcome)),
            Ok(Err(e)) => fail(mirror, upstream, slug, Some(&v.version), &e.to_string(), report),
            Err(e) => fail(mirror, upstream, slug, Some(&v.version), &format!("ingest task failed: {e}"), report),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
