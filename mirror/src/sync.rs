//! Upstream sync: pull metadata and archives from a ClawHub-compatible registry.
//!
//! Hostile-upstream posture: every request has a timeout; retries follow the policy every
//! ClawHub client shares ([`RetryPolicy`]: 408/429/5xx and network errors — a truncated
//! body is one — retried with exponential backoff, honouring `Retry-After` up to
//! `max_retry_after`, a longer wait failing the item rather than stalling the sync); bodies
//! are size-capped while streaming and checked against `Content-Length` (a truncated or
//! lying body is a failure); JSON is decoded into the ClawHub wire types ([`api`]), so a
//! missing required key or a mistyped one is a failure naming the key. Every failure is
//! recorded (`sync_failures`) and reported; nothing unvetted is ever served because
//! everything fetched still goes through `Mirror::ingest`.
//!
//! Containment: redirects follow the policy `skillscan install` shares ([`Containment`]:
//! same origin unless listed, no internal targets). The body of an error answer is kept
//! (200 characters, in the failure text) only when it came from the URL asked for: a
//! redirect target's answer is never stored. A whole run has a deadline
//! (`upstream.sync_deadline`): what is left when it passes is a recorded failure.
//!
//! Credentials: `user:password@` in the upstream URL is stripped before the URL is used,
//! stored (version source, audit log, sync failures) or logged, and is not sent; the
//! upstream credential is `upstream.token` (or `SKILLSCAN_MIRROR_UPSTREAM_TOKEN`), sent as a
//! bearer token.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use skillscan::clawhub::api;
use skillscan::clawhub::client::{TlsRoots, explain_tls_failure, is_certificate_failure};
use skillscan::clawhub::containment::Containment;
use skillscan::clawhub::retry::{Failure, Next, RetryPolicy, Stop, parse_retry_after};
use thiserror::Error;
use tokio::time::Instant;

use crate::model::{SyncFailure, now_ms, storable};
use crate::redact::{self, Secret};
use crate::service::{IngestInput, IngestOutcome, Mirror};
use crate::validate;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SyncError {
    #[error("network error: {0}")]
    Network(String),
    /// The upstream's certificate is not trusted: not retried.
    #[error("{0}")]
    Tls(String),
    #[error("upstream answered HTTP {0}: {1}")]
    Http(u16, String),
    #[error("upstream asked to retry after {}, longer than the configured maximum", span(*.0))]
    RetryAfterTooLong(Duration),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("truncated body: Content-Length {declared}, received {received}")]
    Truncated { declared: u64, received: u64 },
    #[error("refused: {0}")]
    Redirect(String),
    #[error("malformed upstream JSON: {0}")]
    Malformed(String),
    #[error("invalid upstream data: {0}")]
    Invalid(String),
    #[error("sync deadline of {} reached", span(*.0))]
    Deadline(Duration),
}

/// A duration as people write it: `90s`, `250ms`.
fn span(d: Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

/// What the mirror suggests for an upstream or webhook receiver behind a private CA.
pub const CA_HINT: &str =
    "pass its certificate with --ca-cert FILE (or SKILLSCAN_MIRROR_CA_CERT, or ca_cert in the mirror's config)";

pub struct Upstream {
    base: String,
    client: reqwest::Client,
    /// Sent as `Authorization: Bearer` (`upstream.token`).
    token: Option<Secret>,
    /// When to retry; tests shrink its backoff.
    pub retry: RetryPolicy,
}

impl Upstream {
    /// A client with the default containment: same-origin redirects only, no internal targets.
    pub fn new(base: &str, timeout: Duration, retries: u32, max_retry_after: Duration) -> Result<Upstream, SyncError> {
        Upstream::contained(base, timeout, retries, max_retry_after, &Containment::default())
    }

    /// A client whose redirects and resolved addresses follow `containment`, the policy
    /// `skillscan install`'s client has too.
    pub fn contained(
        base: &str,
        timeout: Duration,
        retries: u32,
        max_retry_after: Duration,
        containment: &Containment,
    ) -> Result<Upstream, SyncError> {
        Upstream::contained_with_tls(base, timeout, retries, max_retry_after, containment, &TlsRoots::default())
    }

    /// [`Upstream::contained`], trusting `roots` for HTTPS (the bundled and system roots plus
    /// a configured CA file).
    pub fn contained_with_tls(
        base: &str,
        timeout: Duration,
        retries: u32,
        max_retry_after: Duration,
        containment: &Containment,
        roots: &TlsRoots,
    ) -> Result<Upstream, SyncError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() > 2048 {
            return Err(SyncError::Invalid("upstream must be an http(s) URL".into()));
        }
        if redact::has_credentials(base) {
            tracing::warn!("credentials in the upstream URL are ignored: set upstream.token instead");
        }
        let base = redact::without_credentials(base);
        let url =
            reqwest::Url::parse(&base).map_err(|_| SyncError::Invalid("upstream must be an http(s) URL".into()))?;
        let client = roots
            .apply(reqwest::Client::builder())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(containment.redirect_policy(&url))
            .dns_resolver(containment.resolver(&url))
            .user_agent(concat!("skillscan-mirror/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        Ok(Upstream {
            base: base.trim_end_matches('/').to_string(),
            client,
            token: None,
            retry: RetryPolicy { retries, max_retry_after, ..RetryPolicy::default() },
        })
    }

    /// Send `token` as `Authorization: Bearer` on every request (to the upstream only:
    /// reqwest drops it on a redirect to another host).
    pub fn with_token(mut self, token: Option<Secret>) -> Upstream {
        self.token = token;
        self
    }

    /// GET `path` (with query), retried per [`RetryPolicy`]; body capped at `cap`.
    pub async fn get(&self, path: &str, cap: u64) -> Result<Vec<u8>, SyncError> {
        let url = format!("{}{}", self.base, path);
        let mut retries_done = 0u32;
        loop {
            let (e, retry_after) = match self.try_once(&url, cap).await {
                Ok(b) => return Ok(b),
                Err(failed) => failed,
            };
            let failure = match &e {
                SyncError::Network(_) | SyncError::Truncated { .. } => Failure::Network,
                SyncError::Http(status, _) => Failure::Status(*status),
                _ => return Err(e),
            };
            let delay = match self.retry.next(retries_done, failure, retry_after) {
                Next::RetryAfter(delay) => delay,
                Next::Stop(Stop::RetryAfterTooLong(wait)) => return Err(SyncError::RetryAfterTooLong(wait)),
                Next::Stop(Stop::Final | Stop::Exhausted) => return Err(e),
            };
            retries_done += 1;
            tracing::debug!(%url, retries_done, delay_ms = delay.as_millis() as u64, "retrying upstream request");
            tokio::time::sleep(delay).await;
        }
    }

    async fn try_once(&self, url: &str, cap: u64) -> Result<Vec<u8>, (SyncError, Option<Duration>)> {
        let mut req = self.client.get(url).header("accept", "application/json, application/zip;q=0.9, */*;q=0.1");
        if let Some(token) = &self.token {
            // Marked sensitive by reqwest: never shown in debug output.
            req = req.bearer_auth(token.expose());
        }
        let mut resp = req.send().await.map_err(|e| {
            // A refused redirect is the policy's answer: not retried.
            let refused = e.is_redirect();
            let text = redact::error_chain(&e.without_url());
            if is_certificate_failure(&text) {
                return (SyncError::Tls(explain_tls_failure(&text, CA_HINT)), None);
            }
            (if refused { SyncError::Redirect(text) } else { SyncError::Network(text) }, None)
        })?;
        let status = resp.status();
        if !status.is_success() {
            let ra = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            // A redirect target's answer (possibly an internal service's) is never kept.
            let redirected = reqwest::Url::parse(url).ok().as_ref() != Some(resp.url());
            if redirected {
                return Err((SyncError::Http(status.as_u16(), "(answer of a redirect target, not kept)".into()), ra));
            }
            let mut text = Vec::new();
            while let Ok(Some(c)) = resp.chunk().await {
                text.extend_from_slice(&c);
                if text.len() > 512 {
                    break;
                }
            }
            let msg: String = String::from_utf8_lossy(&text).chars().take(200).collect();
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
                    // hyper reports a body shorter than Content-Length as an error here; a
                    // body still trickling at the deadline is a timeout, not a truncation.
                    let received = body.len() as u64;
                    return Err(match declared {
                        _ if e.is_timeout() => (SyncError::Network(redact::error_chain(&e.without_url())), None),
                        Some(d) if d != received => (SyncError::Truncated { declared: d, received }, None),
                        _ => (SyncError::Network(redact::error_chain(&e.without_url())), None),
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

    /// GET a JSON answer (at most 8 MiB) and decode it into its [`api`] type.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        let b = self.get(path, 8 * 1024 * 1024).await?;
        api::from_slice(&b).map_err(|e| SyncError::Malformed(e.to_string()))
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

impl Detail {
    /// What the mirror keeps of `slug`'s detail: an alias (another canonical slug) and an
    /// invalid owner handle are refused; metadata the CLI would refuse is dropped.
    fn of(slug: &str, detail: api::SkillDetailResponse) -> Result<Detail, SyncError> {
        let skill = detail.skill.unwrap_or_default();
        if let Some(canonical) = &skill.slug
            && canonical != slug
        {
            return Err(SyncError::Invalid(format!("upstream canonical slug {canonical:?} differs from {slug:?}")));
        }
        let owner = match detail.owner.and_then(|o| o.handle) {
            Some(h) => Some(validate::owner(&h).map_err(|e| SyncError::Invalid(e.to_string()))?.into_string()),
            None => None,
        };
        Ok(Detail {
            owner,
            display_name: skill.display_name,
            summary: skill.summary,
            latest: detail.latest_version.map(|l| l.version),
            metadata_json: detail.metadata.filter(api::valid_metadata).map(|m| m.to_string()),
        })
    }
}

#[derive(Debug, Clone)]
struct UpVersion {
    version: String,
    created_at: i64,
    changelog: String,
}

impl UpVersion {
    /// A listed version; one without a publish time is taken as published now.
    fn of(item: api::VersionListItem) -> UpVersion {
        UpVersion {
            version: item.version,
            created_at: item.created_at.unwrap_or_else(now_ms),
            changelog: item.changelog,
        }
    }
}

async fn list_all(up: &Upstream, max: usize) -> Result<Vec<String>, SyncError> {
    let mut slugs = Vec::new();
    let mut cursor: Option<String> = None;
    for _page in 0..1000 {
        let q = match &cursor {
            Some(c) => format!("/api/v1/skills?limit=200&cursor={}", urlencoding::encode(c)),
            None => "/api/v1/skills?limit=200".to_string(),
        };
        let page: api::SkillListResponse = up.get_json(&q).await?;
        let empty = page.items.is_empty();
        // An item without a slug names no skill.
        slugs.extend(page.items.into_iter().map(|it| it.slug).filter(|s| !s.is_empty()));
        match page.next_cursor {
            Some(c) if slugs.len() < max && !empty && cursor.as_deref() != Some(c.as_str()) => cursor = Some(c),
            _ => break,
        }
    }
    slugs.truncate(max);
    Ok(slugs)
}

/// How far a sync has got, for a front end's progress display (the library prints nothing).
#[derive(Debug, Clone, Copy)]
pub enum SyncProgress<'a> {
    /// The skills to sync are known (after the listing, with `--all`).
    Skills(usize),
    /// Work on a skill starts; `version` is set while one of its versions is fetched and vetted.
    Working { slug: &'a str, version: Option<&'a str> },
    /// A skill is finished, synced or failed.
    SkillDone,
}

/// Receives [`SyncProgress`] from the sync task.
pub type SyncObserver<'a> = &'a (dyn Fn(SyncProgress<'_>) + Send + Sync);

/// Run a sync. Never fails as a whole for one bad skill: per-item failures are recorded.
pub async fn run(mirror: Arc<Mirror>, opts: SyncOptions) -> Result<SyncReport, SyncError> {
    run_observed(mirror, opts, &|_| {}).await
}

/// [`run`], reporting its progress to `observer`.
pub async fn run_observed(
    mirror: Arc<Mirror>,
    opts: SyncOptions,
    observer: SyncObserver<'_>,
) -> Result<SyncReport, SyncError> {
    let cfg = &mirror.config;
    let containment = Containment {
        redirect_hosts: cfg.upstream.redirect_hosts.clone(),
        allow_private_targets: cfg.upstream.allow_private_targets,
    };
    let roots = cfg.tls_roots(&mirror.data_dir).map_err(|e| SyncError::Invalid(e.to_string()))?;
    let up = Upstream::contained_with_tls(
        &opts.upstream,
        cfg.upstream_timeout(),
        cfg.upstream.retries,
        cfg.max_retry_after(),
        &containment,
        &roots,
    )?
    .with_token(cfg.upstream.token.clone());
    run_with_observed(mirror, &up, opts, observer).await
}

pub async fn run_with(mirror: Arc<Mirror>, up: &Upstream, opts: SyncOptions) -> Result<SyncReport, SyncError> {
    run_with_observed(mirror, up, opts, &|_| {}).await
}

/// [`run_with`], reporting its progress to `observer`.
pub async fn run_with_observed(
    mirror: Arc<Mirror>,
    up: &Upstream,
    opts: SyncOptions,
    observer: SyncObserver<'_>,
) -> Result<SyncReport, SyncError> {
    // What is recorded (version source, audit log, sync failures) names the upstream
    // without credentials.
    let opts = SyncOptions { upstream: redact::without_credentials(&opts.upstream), ..opts };
    let mut report = SyncReport::default();
    let budget = mirror.config.sync_deadline();
    let deadline = Instant::now() + budget;
    let slugs = if opts.all {
        let listed = tokio::time::timeout_at(deadline, list_all(up, mirror.config.upstream.max_skills))
            .await
            .unwrap_or(Err(SyncError::Deadline(budget)));
        match listed {
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
    observer(SyncProgress::Skills(slugs.len()));
    for (i, slug) in slugs.iter().enumerate() {
        observer(SyncProgress::Working { slug, version: None });
        let synced =
            tokio::time::timeout_at(deadline, sync_skill(&mirror, up, &opts.upstream, slug, &mut report, observer))
                .await
                .unwrap_or(Err(SyncError::Deadline(budget)));
        observer(SyncProgress::SkillDone);
        match synced {
            Ok(()) => {}
            Err(e @ SyncError::Deadline(_)) => {
                fail(&mirror, &opts.upstream, slug, None, &e.to_string(), &mut report);
                let left = slugs.len() - i - 1;
                if left > 0 {
                    let error = format!("{e}: {left} more skill(s) not synced, starting with {:?}", slugs[i + 1]);
                    fail(&mirror, &opts.upstream, "*", None, &error, &mut report);
                }
                break;
            }
            Err(e) => fail(&mirror, &opts.upstream, slug, None, &e.to_string(), &mut report),
        }
    }
    Ok(report)
}

fn fail(mirror: &Mirror, upstream: &str, slug: &str, version: Option<&str>, error: &str, report: &mut SyncReport) {
    let f = SyncFailure {
        id: 0,
        at: now_ms(),
        upstream: upstream.to_string(),
        slug: storable(&slug.chars().take(100).collect::<String>()),
        version: version.map(|v| storable(&v.chars().take(64).collect::<String>())),
        error: storable(&error.chars().take(500).collect::<String>()),
    };
    tracing::warn!(slug = %f.slug, version = %f.version.as_deref().unwrap_or("-"), "sync failure: {}", f.error);
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
    observer: SyncObserver<'_>,
) -> Result<(), SyncError> {
    validate::slug(slug).map_err(|e| SyncError::Invalid(e.to_string()))?;
    let detail = Detail::of(slug, up.get_json(&format!("/api/v1/skills/{slug}")).await?)?;
    let max = mirror.config.upstream.max_versions.max(1);
    let list_path = format!("/api/v1/skills/{slug}/versions?limit={}", max.min(200));
    let mut versions = match up.get_json::<api::VersionListResponse>(&list_path).await {
        Ok(list) => list.items.into_iter().map(UpVersion::of).collect(),
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
        observer(SyncProgress::Working { slug, version: Some(&v.version) });
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

    fn detail(body: &str) -> Result<Detail, SyncError> {
        let wire = api::from_slice(body.as_bytes()).map_err(|e| SyncError::Malformed(e.to_string()))?;
        Detail::of("weather-brief", wire)
    }

    #[test]
    fn a_detail_is_reduced_to_what_the_mirror_keeps() {
        let d = detail(
            r#"{"skill":{"slug":"weather-brief","displayName":"Weather","summary":"s","stats":null},
                "latestVersion":{"version":"1.0.1","changelog":"c","createdAt":1},"owner":{"handle":"acme"},
                "metadata":{"setup":[],"os":["linux"]},"moderation":null,"unknown":1}"#,
        )
        .unwrap();
        assert_eq!(d.owner.as_deref(), Some("acme"));
        assert_eq!((d.display_name.as_deref(), d.summary.as_deref()), (Some("Weather"), Some("s")));
        assert_eq!(d.latest.as_deref(), Some("1.0.1"));
        assert_eq!(d.metadata_json.as_deref(), Some(r#"{"os":["linux"],"setup":[]}"#));
        // Metadata the CLI refuses is dropped; a null skill and owner are allowed.
        let d = detail(r#"{"skill":null,"latestVersion":null,"owner":null,"metadata":{}}"#).unwrap();
        assert_eq!((d.owner, d.latest, d.metadata_json), (None, None, None));
    }

    #[test]
    fn bad_details_are_clear_failures() {
        let err = |body: &str| detail(body).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(r#"{"latestVersion":null,"owner":null}"#).contains("missing field `skill`"));
        assert!(err(r#"{"skill":{"slug":["x"]},"latestVersion":null,"owner":null}"#).contains("at `skill.slug`"));
        assert!(err(r#"{"skill":{"slug":"other"},"latestVersion":null,"owner":null}"#).contains("canonical slug"));
        assert!(
            err(r#"{"skill":null,"latestVersion":null,"owner":{"handle":"../x"}}"#).contains("invalid upstream data")
        );
    }
}
