//! A small blocking client for the parts of the ClawHub registry API that `skillscan install`
//! needs (`clawhub-protocol.md` §2, `clawhub-cli-trace.md` §1): skill detail, the version
//! pre-check, the download, and the skillscan mirror's proof routes
//! (`/api/v1/download/signature`, `X-Skillscan-Sha256`, `X-Skillscan-Tree-Digest`).
//!
//! The registry is not trusted to behave: every body is read under a size cap, JSON is decoded
//! into the [`api`] types (a missing or mistyped key is a [`RegistryError::BadResponse`] naming
//! the key, never a panic), error texts are escaped and cut before anyone prints them, and
//! requests have timeouts. Retries follow the shared [`RetryPolicy`]: transient failures (network
//! errors, 408, 429, 5xx) are retried with backoff, honouring `Retry-After` up to a bound; policy
//! refusals (403, 410, 423) are not retried and come back as [`RegistryError::Refused`] with the
//! registry's reason.

use std::io::Read;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::clawhub::api;
use crate::clawhub::retry::{self, Failure, Next, RetryPolicy, StatusClass, Stop};

/// How the client behaves. The defaults suit an interactive install.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// When to retry and how long to wait (network errors, 408, 429, 5xx).
    pub retry: RetryPolicy,
    /// Largest archive accepted. ClawHub caps a skill at 50 MB of files; its zip is smaller.
    pub max_archive_bytes: u64,
    /// Largest JSON body accepted.
    pub max_json_bytes: u64,
    /// Sent as `Authorization: Bearer …` when set (a mirror with `require_read_token`).
    pub token: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_archive_bytes: 64 << 20,
            max_json_bytes: 1 << 20,
            token: None,
        }
    }
}

/// Signatures and public keys are a few hundred bytes.
const MAX_SIGNATURE_BYTES: u64 = 64 << 10;
/// Error texts shown to the user are cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry URL \"{url}\": {reason}")]
    BadUrl { url: String, reason: String },
    /// The registry refused on policy grounds (403 blocked, 410 removed, 423 pending review).
    #[error("the registry refused {what} (HTTP {status}): {message}")]
    Refused { what: String, status: u16, message: String },
    #[error("{what}: not found on the registry (HTTP 404): {message}")]
    NotFound { what: String, message: String },
    #[error("{what}: HTTP {status}: {message}")]
    Status { what: String, status: u16, message: String },
    #[error("{what}: {message}")]
    Network { what: String, message: String },
    #[error("{what}: the response is larger than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{what}: unexpected response: {message}")]
    BadResponse { what: String, message: String },
}

impl RegistryError {
    /// A refusal by the registry's policy (not an error of ours or a transient failure).
    pub fn is_refusal(&self) -> bool {
        matches!(self, RegistryError::Refused { .. })
    }
}

/// Moderation as the detail route reports it (`clawhub-protocol.md` §2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderation {
    pub is_malware_blocked: bool,
    pub is_suspicious: bool,
    pub verdict: Option<String>,
    pub reason_codes: Vec<String>,
    pub summary: Option<String>,
}

/// What `GET /api/v1/skills/{slug}` says, as far as install needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillDetail {
    /// `skill.slug`: the registry's canonical slug (an alias resolves to another one).
    pub slug: Option<String>,
    pub latest_version: Option<String>,
    /// `owner.handle`, lowercased as the CLI does.
    pub owner_handle: Option<String>,
    pub moderation: Option<Moderation>,
}

/// A downloaded archive and the proof headers a skillscan mirror sends with it.
#[derive(Debug, Clone)]
pub struct Download {
    pub bytes: Vec<u8>,
    /// `X-Skillscan-Sha256`, as sent (validated by the caller).
    pub sha256_header: Option<String>,
    /// `X-Skillscan-Tree-Digest`, as sent.
    pub tree_digest_header: Option<String>,
}

/// A ClawHub-API registry at one base URL (path prefix kept, like `CLAWHUB_REGISTRY`).
pub struct RegistryClient {
    base: String,
    http: Client,
    options: ClientOptions,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("RegistryClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Checks a registry URL: `http://` or `https://`, a host, no credentials, no query or fragment.
pub fn validate_registry_url(url: &str) -> Result<(), RegistryError> {
    let bad = |reason: &str| RegistryError::BadUrl { url: escape(url), reason: reason.to_owned() };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry credentials (use CLAWHUB_TOKEN)"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(())
}

fn escape(text: &str) -> String {
    crate::engine::text::escape_snippet(text.trim(), MAX_MESSAGE_CHARS)
}

impl RegistryClient {
    pub fn new(base: &str, options: ClientOptions) -> Result<Self, RegistryError> {
        validate_registry_url(base)?;
        let http = Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("skillscan/", env!("CARGO_PKG_VERSION")))
            // The CLI follows redirects (blob storage); the bytes are verified whatever served them.
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| RegistryError::BadUrl { url: escape(base), reason: e.to_string() })?;
        Ok(RegistryClient { base: base.trim_end_matches('/').to_owned(), http, options })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str, query: &[(&str, Option<&str>)]) -> Result<reqwest::Url, RegistryError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| RegistryError::BadUrl { url: escape(&self.base), reason: e.to_string() })?;
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                if let Some(value) = value {
                    pairs.append_pair(key, value);
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    /// GET with retries (see [`RetryPolicy`]). Returns the response for any status that is not
    /// retried, and for the last one when the retries are spent.
    fn get(&self, what: &str, url: reqwest::Url) -> Result<Response, RegistryError> {
        let policy = &self.options.retry;
        let mut retries_done = 0u32;
        loop {
            let mut request = self.http.get(url.clone());
            if let Some(token) = &self.options.token {
                request = request.bearer_auth(token);
            }
            let (failure, retry_after, outcome) = match request.send() {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() || retry::classify(status.as_u16()) != StatusClass::Transient {
                        return Ok(response);
                    }
                    (Failure::Status(status.as_u16()), retry_after(response.headers()), Ok(response))
                }
                Err(e) => (Failure::Network, None, Err(e)),
            };
            match policy.next(retries_done, failure, retry_after) {
                Next::RetryAfter(wait) => std::thread::sleep(wait),
                Next::Stop(Stop::RetryAfterTooLong(wait)) => {
                    return Err(RegistryError::Status {
                        what: what.to_owned(),
                        status: match failure {
                            Failure::Status(status) => status,
                            Failure::Network => 0,
                        },
                        message: format!(
                            "the registry asks to retry after {}s, longer than the {}s we wait",
                            wait.as_secs(),
                            policy.max_retry_after.as_secs()
                        ),
                    });
                }
                Next::Stop(Stop::Final | Stop::Exhausted) => {
                    return outcome
                        .map_err(|e| RegistryError::Network { what: what.to_owned(), message: error_chain(&e) });
                }
            }
            retries_done += 1;
        }
    }

    /// Turns a non-2xx response into the error it means.
    fn status_error(&self, what: &str, response: Response) -> RegistryError {
        let status = response.status().as_u16();
        let message = read_capped(response, 4096)
            .ok()
            .map(|bytes| escape(&String::from_utf8_lossy(&bytes)))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "(no reason given)".to_owned());
        match (retry::classify(status), status) {
            (StatusClass::Refusal, _) => RegistryError::Refused { what: what.to_owned(), status, message },
            (_, 404) => RegistryError::NotFound { what: what.to_owned(), message },
            _ => RegistryError::Status { what: what.to_owned(), status, message },
        }
    }

    /// GET a JSON answer and decode it into its [`api`] type.
    fn get_json<T: DeserializeOwned>(&self, what: &str, url: reqwest::Url) -> Result<T, RegistryError> {
        let response = self.get(what, url)?;
        if !response.status().is_success() {
            return Err(self.status_error(what, response));
        }
        let bytes = read_body(what, response, self.options.max_json_bytes)?;
        api::from_slice(&bytes)
            .map_err(|e| RegistryError::BadResponse { what: what.to_owned(), message: escape(&e.to_string()) })
    }

    /// `GET /api/v1/skills/{slug}[?ownerHandle=]`.
    pub fn skill_detail(&self, slug: &str, owner: Option<&str>) -> Result<SkillDetail, RegistryError> {
        let what = format!("skill {slug}");
        let url = self.url(&format!("/api/v1/skills/{slug}"), &[("ownerHandle", owner)])?;
        self.get_json::<api::SkillDetailResponse>(&what, url).map(SkillDetail::from)
    }

    /// `GET /api/v1/skills/{slug}/versions/{version}`: the CLI's pre-check that a version exists
    /// (a 200 with a version's shape; `version` may be `null`, as the CLI accepts).
    pub fn check_version(&self, slug: &str, version: &str, owner: Option<&str>) -> Result<(), RegistryError> {
        let what = format!("{slug}@{version}");
        let url = self.url(&format!("/api/v1/skills/{slug}/versions/{version}"), &[("ownerHandle", owner)])?;
        self.get_json::<api::VersionDetailResponse>(&what, url).map(|_| ())
    }

    /// `GET /api/v1/download?slug=&ownerHandle=&version=`.
    pub fn download(&self, slug: &str, version: &str, owner: Option<&str>) -> Result<Download, RegistryError> {
        let what = format!("download of {slug}@{version}");
        let url =
            self.url("/api/v1/download", &[("slug", Some(slug)), ("ownerHandle", owner), ("version", Some(version))])?;
        let response = self.get(&what, url)?;
        if !response.status().is_success() {
            return Err(self.status_error(&what, response));
        }
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned());
        let sha256_header = header("x-skillscan-sha256");
        let tree_digest_header = header("x-skillscan-tree-digest");
        let bytes = read_body(&what, response, self.options.max_archive_bytes)?;
        Ok(Download { bytes, sha256_header, tree_digest_header })
    }

    /// `GET /api/v1/download/signature?slug=&version=`: the mirror's `.minisig` for a version,
    /// `Ok(None)` when the registry has none (404: not a skillscan mirror, or unsigned).
    pub fn signature(&self, slug: &str, version: &str, owner: Option<&str>) -> Result<Option<String>, RegistryError> {
        let what = format!("signature of {slug}@{version}");
        let url = self.url(
            "/api/v1/download/signature",
            &[("slug", Some(slug)), ("ownerHandle", owner), ("version", Some(version))],
        )?;
        let response = self.get(&what, url)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.status_error(&what, response));
        }
        let bytes = read_body(&what, response, MAX_SIGNATURE_BYTES)?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| RegistryError::BadResponse { what, message: "the signature is not UTF-8 text".to_owned() })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    escape(&message)
}

/// The `Retry-After` header as a delay from now.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry::parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

fn read_capped(response: Response, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    response.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a body of at most `limit` bytes; a declared or actual larger body is an error.
fn read_body(what: &str, response: Response, limit: u64) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|length| length > limit) {
        return Err(RegistryError::TooLarge { what: what.to_owned(), limit });
    }
    let bytes = read_capped(response, limit.saturating_add(1))
        .map_err(|e| RegistryError::Network { what: what.to_owned(), message: error_chain(&e) })?;
    if bytes.len() as u64 > limit {
        return Err(RegistryError::TooLarge { what: what.to_owned(), limit });
    }
    Ok(bytes)
}

impl From<api::SkillDetailResponse> for SkillDetail {
    /// What install needs of a detail: texts that end up on a terminal are escaped and cut, the
    /// owner handle lowercased as the CLI does.
    fn from(detail: api::SkillDetailResponse) -> Self {
        SkillDetail {
            slug: detail.skill.and_then(|skill| skill.slug),
            latest_version: detail.latest_version.map(|latest| latest.version),
            owner_handle: detail.owner.and_then(|owner| owner.handle).map(|handle| handle.to_lowercase()),
            moderation: detail.moderation.map(|m| Moderation {
                is_malware_blocked: m.is_malware_blocked,
                is_suspicious: m.is_suspicious,
                verdict: m.verdict.map(|v| escape(&v)),
                reason_codes: m.reason_codes.iter().take(20).map(|code| escape(code)).collect(),
                summary: m.summary.map(|s| escape(&s)),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A one-thread HTTP server answering each request with the next canned response and
    /// recording the request targets.
    fn serve(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (stream, response) in listener.incoming().zip(responses) {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                if let Ok(mut seen) = log.lock() {
                    seen.push(line.split_whitespace().nth(1).unwrap_or("").to_owned());
                }
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (format!("http://{addr}"), seen)
    }

    fn reply(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
    }

    fn fast() -> ClientOptions {
        ClientOptions {
            retry: RetryPolicy { backoff: Duration::from_millis(1), ..RetryPolicy::default() },
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn retries_429_and_5xx_honouring_retry_after() {
        let detail =
            r#"{"skill":{"slug":"weather-brief"},"latestVersion":{"version":"1.0.0"},"owner":{"handle":"Acme"}}"#;
        let (base, seen) = serve(vec![
            reply("429 Too Many Requests", "retry-after: 0\r\n", "Rate limit exceeded"),
            reply("503 Service Unavailable", "", "busy"),
            reply("200 OK", "content-type: application/json\r\n", detail),
        ]);
        let client = RegistryClient::new(&format!("{base}/"), fast()).unwrap_or_else(|e| panic!("{e}"));
        let detail = client.skill_detail("weather-brief", Some("acme")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(detail.slug.as_deref(), Some("weather-brief"));
        assert_eq!(detail.latest_version.as_deref(), Some("1.0.0"));
        assert_eq!(detail.owner_handle.as_deref(), Some("acme"));
        let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], "/api/v1/skills/weather-brief?ownerHandle=acme");
    }

    #[test]
    fn a_long_retry_after_fails_instead_of_stalling() {
        let (base, _) = serve(vec![reply("429 Too Many Requests", "retry-after: 3600\r\n", "")]);
        let client = RegistryClient::new(&base, fast()).unwrap_or_else(|e| panic!("{e}"));
        let err = client.skill_detail("x", None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("retry after 3600s"), "{err}");
    }

    #[test]
    fn refusals_are_not_retried_and_keep_the_reason() {
        let (base, seen) = serve(vec![
            reply("403 Forbidden", "", "Blocked: x@1.0.0 was rejected by the skillscan mirror: \u{1b}[31mbad"),
            reply("423 Locked", "", "pending security review"),
            reply("404 Not Found", "", "Version not found"),
        ]);
        let client = RegistryClient::new(&base, fast()).unwrap_or_else(|e| panic!("{e}"));
        let err = client.download("x", "1.0.0", None).err();
        assert!(err.as_ref().is_some_and(RegistryError::is_refusal));
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("HTTP 403") && text.contains("rejected by the skillscan mirror"), "{text}");
        assert!(!text.contains('\u{1b}'), "terminal escapes are escaped: {text}");
        assert!(client.download("x", "1.0.0", None).err().is_some_and(|e| e.is_refusal()));
        assert!(matches!(client.check_version("x", "9.9.9", None), Err(RegistryError::NotFound { .. })));
        let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen[0], "/api/v1/download?slug=x&version=1.0.0");
    }

    #[test]
    fn bodies_are_capped() {
        let big = "x".repeat(2000);
        let (base, _) = serve(vec![
            reply("200 OK", "", &big),
            // A body longer than declared: the client reads what was declared, the zip check
            // later catches a truncated archive; a body without length is capped while reading.
            format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{big}"),
        ]);
        let options = ClientOptions { max_archive_bytes: 1000, ..fast() };
        let client = RegistryClient::new(&base, options).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(client.download("x", "1", None), Err(RegistryError::TooLarge { limit: 1000, .. })));
        assert!(matches!(client.download("x", "1", None), Err(RegistryError::TooLarge { .. })));
    }

    #[test]
    fn proof_headers_and_missing_signatures() {
        let (base, _) = serve(vec![
            reply("200 OK", "x-skillscan-sha256: abc\r\nx-skillscan-tree-digest: def\r\n", "PK"),
            reply("404 Not Found", "", "Signature not found"),
        ]);
        let client = RegistryClient::new(&base, fast()).unwrap_or_else(|e| panic!("{e}"));
        let download = client.download("x", "1", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(download.bytes, b"PK");
        assert_eq!(download.sha256_header.as_deref(), Some("abc"));
        assert_eq!(download.tree_digest_header.as_deref(), Some("def"));
        assert!(matches!(client.signature("x", "1", None), Ok(None)));
    }

    #[test]
    fn malformed_details_are_errors() {
        for body in ["[]", r#"{"skill":1}"#, r#"{"latestVersion":{"version":3}}"#, r#"{"owner":"x"}"#, "nope"] {
            let (base, _) = serve(vec![reply("200 OK", "", body)]);
            let client = RegistryClient::new(&base, fast()).unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(client.skill_detail("x", None), Err(RegistryError::BadResponse { .. })), "{body}");
        }
        let blocked = api::from_slice::<api::SkillDetailResponse>(
            br#"{"skill": null, "latestVersion": null, "owner": null,
                 "moderation": {"isSuspicious": true, "isMalwareBlocked": true, "verdict": "malicious",
                                "reasonCodes": ["malicious.crypto_mining"], "summary": "drains wallets"}}"#,
        );
        let moderation = blocked.ok().map(SkillDetail::from).and_then(|d| d.moderation).unwrap_or_default();
        assert!(moderation.is_malware_blocked);
        assert_eq!(moderation.reason_codes, vec!["malicious.crypto_mining".to_owned()]);
    }

    #[test]
    fn registry_urls() {
        for good in ["http://127.0.0.1:8080", "https://mirror.example/prefix/"] {
            assert!(validate_registry_url(good).is_ok(), "{good}");
        }
        for bad in ["", "mirror.example", "ftp://x", "http://user:pw@x", "http://x/?a=b", "file:///etc"] {
            assert!(validate_registry_url(bad).is_err(), "{bad}");
        }
    }
}
