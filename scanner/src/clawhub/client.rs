//! A small blocking client for the parts of the ClawHub registry API that `skillscan install`
//! needs (`clawhub-protocol.md` §2, `clawhub-cli-trace.md` §1): skill detail, the version
//! pre-check, the download, and the skillscan mirror's proof routes
//! (`/api/v1/download/signature`, `X-Skillscan-Sha256`, `X-Skillscan-Tree-Digest`).
//!
//! The registry is not trusted to behave: every body is read under a size cap, JSON is decoded
//! into the [`api`] types (a missing or mistyped key is a [`RegistryError::BadResponse`] naming
//! the key, never a panic), error texts are escaped and cut before anyone prints them, and
//! every request has an overall deadline: connecting, the answer and its whole body (a body
//! trickled a byte at a time ends there, as [`RegistryError::Deadline`]). Redirects and the
//! addresses connected to follow the [`Containment`] policy: same-origin redirects only and
//! no internal targets, unless configured. Retries follow the shared [`RetryPolicy`]: transient failures (network
//! errors, 408, 429, 5xx) are retried with backoff, honouring `Retry-After` up to a bound; policy
//! refusals (403, 410, 423) are not retried and come back as [`RegistryError::Refused`] with the
//! registry's reason.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::clawhub::api;
pub use crate::clawhub::containment::Containment;
use crate::clawhub::retry::{self, Failure, Next, RetryPolicy, StatusClass, Stop};

/// How the client behaves. The defaults suit an interactive install.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Overall deadline of one request (each retry gets its own): connecting, the answer and
    /// its whole body. A read that stalls completely also ends after this long.
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
    /// Where redirects may lead (default: the registry's origin only, no internal targets).
    pub containment: Containment,
    /// The certificate authorities trusted for HTTPS (bundled and system roots, plus any
    /// `--ca-cert`).
    pub tls: TlsRoots,
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
            containment: Containment::default(),
            tls: TlsRoots::default(),
        }
    }
}

/// The certificate authorities an HTTPS client of ours trusts: the bundled Mozilla roots and
/// the system's roots (a private CA installed on the host is honoured), plus the certificates
/// of an extra PEM file (`skillscan install --ca-cert`, `skillscan-mirror --ca-cert`) for a
/// registry, upstream or webhook receiver behind a private CA. One helper for every client:
/// `install`'s blocking one here, the mirror's sync and webhook clients.
#[derive(Clone, Default)]
pub struct TlsRoots {
    extra: Vec<reqwest::Certificate>,
    /// The file they came from, for messages.
    source: Option<String>,
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsRoots").field("extra", &self.extra.len()).field("source", &self.source).finish()
    }
}

/// An extra CA file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaCertError {
    // Not a `source`: the reason is part of this message, and printed once.
    #[error("CA certificate file {path}: {reason}")]
    Read { path: String, reason: std::io::Error },
    #[error("CA certificate file {path}: {message}")]
    Invalid { path: String, message: String },
}

impl TlsRoots {
    /// The built-in roots plus every certificate of the PEM file at `path` (when given). A file
    /// that cannot be read, holds no certificate or holds a malformed one is an error: a
    /// configured CA that silently does nothing would only surface as a TLS failure later.
    pub fn with_ca_file(path: Option<&std::path::Path>) -> Result<TlsRoots, CaCertError> {
        let Some(path) = path else {
            return Ok(TlsRoots::default());
        };
        let shown = path.display().to_string();
        let invalid = |message: String| CaCertError::Invalid { path: shown.clone(), message };
        let pem = std::fs::read(path).map_err(|reason| CaCertError::Read { path: shown.clone(), reason })?;
        let extra = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(error_chain(&e)))?;
        if extra.is_empty() {
            return Err(invalid("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".to_owned()));
        }
        // Each must parse as a trust anchor; a client with only these roots says so at build.
        for cert in &extra {
            reqwest::Client::builder()
                .tls_built_in_root_certs(false)
                .add_root_certificate(cert.clone())
                .build()
                .map_err(|e| invalid(format!("not a usable CA certificate ({})", error_chain(&e))))?;
        }
        Ok(TlsRoots { extra, source: Some(shown) })
    }

    /// How many extra certificates the CA file had.
    pub fn extra_certificates(&self) -> usize {
        self.extra.len()
    }

    /// The extra CA file, if any.
    pub fn ca_file(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// An async client builder (the mirror's) trusting these roots.
    pub fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        for cert in &self.extra {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder.tls_built_in_root_certs(true)
    }

    /// A blocking client builder (`skillscan install`'s) trusting these roots.
    pub fn apply_blocking(&self, mut builder: reqwest::blocking::ClientBuilder) -> reqwest::blocking::ClientBuilder {
        for cert in &self.extra {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder.tls_built_in_root_certs(true)
    }
}

/// Adds what to do to a TLS failure naming an untrusted certificate: `hint` says where the
/// extra CA goes (`--ca-cert FILE`, a configuration key).
pub fn explain_tls_failure(message: &str, hint: &str) -> String {
    if !is_certificate_failure(message) {
        return message.to_owned();
    }
    let message = message.replace("UnknownIssuer", "unknown issuer");
    format!(
        "TLS error: the server's certificate is not signed by a trusted certificate authority ({message}); \
         if it uses a private CA, {hint}"
    )
}

/// Whether an error text is a TLS certificate failure (not transient: retrying cannot help).
pub fn is_certificate_failure(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["unknownissuer", "unknown issuer", "invalid peer certificate", "certificate verify failed", "self-signed"]
        .iter()
        .any(|needle| lower.contains(needle))
}

/// What `skillscan install` suggests for a registry behind a private CA.
const INSTALL_CA_HINT: &str =
    "pass its certificate with --ca-cert FILE (or set ca_cert under [install] in skillscan.toml)";

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
    #[error("{what}: no complete answer within the {seconds}s deadline")]
    Deadline { what: String, seconds: u64 },
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
        let url = reqwest::Url::parse(base)
            .map_err(|e| RegistryError::BadUrl { url: escape(base), reason: e.to_string() })?;
        let http = options
            .tls
            .apply_blocking(Client::builder())
            // Bounds each wait (for the answer, for each read); `Deadline` bounds the whole.
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("skillscan/", env!("CARGO_PKG_VERSION")))
            // Same-origin redirects only unless configured, never to internal addresses unless
            // configured; the bytes are verified whatever served them.
            .redirect(options.containment.redirect_policy(&url))
            .dns_resolver(options.containment.resolver(&url))
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
    /// retried, and for the last one when the retries are spent, with the deadline by which its
    /// body must be read.
    fn get(&self, what: &str, url: reqwest::Url) -> Result<(Response, Deadline), RegistryError> {
        let policy = &self.options.retry;
        let mut retries_done = 0u32;
        loop {
            let deadline = Deadline { at: Instant::now() + self.options.timeout, of: self.options.timeout };
            let mut request = self.http.get(url.clone());
            if let Some(token) = &self.options.token {
                request = request.bearer_auth(token);
            }
            let (failure, retry_after, outcome) = match request.send() {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() || retry::classify(status.as_u16()) != StatusClass::Transient {
                        return Ok((response, deadline));
                    }
                    (Failure::Status(status.as_u16()), retry_after(response.headers()), Ok(response))
                }
                // A redirect the containment policy refused is its answer: not retried.
                Err(e) if e.is_redirect() => {
                    return Err(RegistryError::Network { what: what.to_owned(), message: error_chain(&e) });
                }
                // An untrusted certificate stays untrusted: said at once, with what to do.
                Err(e) if is_certificate_failure(&error_chain(&e)) => {
                    let message = explain_tls_failure(&error_chain(&e), INSTALL_CA_HINT);
                    return Err(RegistryError::Network { what: what.to_owned(), message });
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
                        .map(|response| (response, deadline))
                        .map_err(|e| RegistryError::Network { what: what.to_owned(), message: error_chain(&e) });
                }
            }
            retries_done += 1;
        }
    }

    /// Turns a non-2xx response into the error it means.
    fn status_error(&self, what: &str, response: Response, deadline: Deadline) -> RegistryError {
        let status = response.status().as_u16();
        let message = read_capped(response, 4096, deadline)
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
        let (response, deadline) = self.get(what, url)?;
        if !response.status().is_success() {
            return Err(self.status_error(what, response, deadline));
        }
        let bytes = read_body(what, response, self.options.max_json_bytes, deadline)?;
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
        let (response, deadline) = self.get(&what, url)?;
        if !response.status().is_success() {
            return Err(self.status_error(&what, response, deadline));
        }
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned());
        let sha256_header = header("x-skillscan-sha256");
        let tree_digest_header = header("x-skillscan-tree-digest");
        let bytes = read_body(&what, response, self.options.max_archive_bytes, deadline)?;
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
        let (response, deadline) = self.get(&what, url)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.status_error(&what, response, deadline));
        }
        let bytes = read_body(&what, response, MAX_SIGNATURE_BYTES, deadline)?;
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

/// When one request (one attempt) must be over.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    /// The configured timeout, for the error text.
    of: Duration,
}

/// Why a body could not be read.
enum ReadFailure {
    Io(std::io::Error),
    /// The request's deadline passed before the body ended.
    Deadline,
}

/// Reads at most `limit` bytes of a body, giving up at `deadline` (checked after every read,
/// so a body trickled a byte at a time cannot outlast it).
fn read_capped(response: Response, limit: u64, deadline: Deadline) -> Result<Vec<u8>, ReadFailure> {
    let mut bytes = Vec::new();
    let mut reader = response.take(limit);
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline.at {
            return Err(ReadFailure::Deadline);
        }
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadFailure::Io(e)),
        }
    }
}

/// Reads a body of at most `limit` bytes by `deadline`; a declared or actual larger body is an
/// error, and so is one still arriving at the deadline.
fn read_body(what: &str, response: Response, limit: u64, deadline: Deadline) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|length| length > limit) {
        return Err(RegistryError::TooLarge { what: what.to_owned(), limit });
    }
    let bytes = read_capped(response, limit.saturating_add(1), deadline).map_err(|failure| match failure {
        ReadFailure::Io(e) => RegistryError::Network { what: what.to_owned(), message: error_chain(&e) },
        ReadFailure::Deadline => RegistryError::Deadline { what: what.to_owned(), seconds: deadline.of.as_secs() },
    })?;
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

    /// Answers one connection: the response head, then `body` one byte per `gap`.
    fn trickle(head: String, body: Vec<u8>, gap: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        std::thread::spawn(move || {
            let Some(Ok(mut stream)) = listener.incoming().next() else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && !line.ends_with("\r\n\r\n") {}
            let _ = stream.write_all(head.as_bytes());
            for byte in body {
                if stream.write_all(&[byte]).and_then(|()| stream.flush()).is_err() {
                    return;
                }
                std::thread::sleep(gap);
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn a_ca_file_must_hold_usable_certificates_and_tls_failures_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let missing = dir.path().join("missing.pem");
        let err = TlsRoots::with_ca_file(Some(&missing)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("CA certificate file ") && err.contains("missing.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap_or_else(|e| panic!("{e}"));
        let err = TlsRoots::with_ca_file(Some(&empty)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("no PEM certificate"), "{err}");
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(TlsRoots::with_ca_file(Some(&garbled)).is_err());
        assert_eq!(TlsRoots::with_ca_file(None).map(|r| r.extra_certificates()).ok(), Some(0));

        let rustls = "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer";
        let explained = explain_tls_failure(rustls, INSTALL_CA_HINT);
        assert!(explained.starts_with("TLS error: ") && explained.contains("--ca-cert"), "{explained}");
        assert!(!explained.contains("UnknownIssuer"), "{explained}");
        let refused = "tcp connect error: Connection refused (os error 111)";
        assert_eq!(explain_tls_failure(refused, INSTALL_CA_HINT), refused);
    }

    /// Runs `f` on its own thread and gives up on it after `limit` (a hung client fails the test).
    fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(limit).unwrap_or_else(|_| panic!("no answer within {limit:?}: the client hangs"))
    }

    /// Defect 14 (issue 16): `skillscan install` against a registry trickling its body one
    /// byte a second hung with no overall deadline, and the client followed a redirect to
    /// another host. One policy now: an overall per-request deadline, a body cap, same-origin
    /// redirects only unless configured, no internal targets unless configured.
    #[test]
    fn defect14_deadline_body_cap_and_redirect_containment() {
        let no_retry = RetryPolicy { retries: 0, ..fast().retry };
        let options = ClientOptions { timeout: Duration::from_secs(2), retry: no_retry, ..fast() };

        // A body trickled one byte a second ends at the deadline, not when the registry stops.
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 600\r\nconnection: close\r\n\r\n".to_owned();
        let base = trickle(head, vec![b'x'; 600], Duration::from_secs(1));
        let client = RegistryClient::new(&base, options.clone()).unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let result =
            within(Duration::from_secs(20), move || client.download("x", "1.0.0", None).map(|d| d.bytes.len()));
        let err = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("deadline"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());

        // An endless body without a length is cut at the cap.
        let head = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned();
        let base = trickle(head, vec![b'x'; 1 << 20], Duration::ZERO);
        let capped = ClientOptions { max_archive_bytes: 4096, ..options.clone() };
        let client = RegistryClient::new(&base, capped).unwrap_or_else(|e| panic!("{e}"));
        let result =
            within(Duration::from_secs(20), move || client.download("x", "1.0.0", None).map(|d| d.bytes.len()));
        assert!(matches!(result, Err(RegistryError::TooLarge { limit: 4096, .. })), "{result:?}");

        // A redirect to another origin is refused; the other server never hears of it.
        let detail = r#"{"skill":{"slug":"x"},"latestVersion":{"version":"1.0.0"},"owner":null}"#;
        let (other, other_seen) = serve(vec![reply("200 OK", "", detail), reply("200 OK", "", detail)]);
        let other_port = other.rsplit(':').next().unwrap_or_default().to_owned();
        let elsewhere = format!("location: http://localhost:{other_port}/api/v1/skills/x\r\n");
        let (base, _) = serve(vec![
            reply("302 Found", &elsewhere, ""),
            reply("302 Found", "location: /api/v1/skills/x?moved=1\r\n", ""),
            reply("200 OK", "", detail),
            reply("302 Found", &elsewhere, ""),
            reply("302 Found", &elsewhere, ""),
        ]);
        let client = RegistryClient::new(&base, options.clone()).unwrap_or_else(|e| panic!("{e}"));
        let err = client.skill_detail("x", None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("another origin"), "{err}");
        // A same-origin redirect is followed.
        let followed = client.skill_detail("x", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(followed.latest_version.as_deref(), Some("1.0.0"));
        // A configured redirect host is still refused when it is internal (localhost)...
        let configured = Containment { redirect_hosts: vec!["localhost".into()], allow_private_targets: false };
        let client = RegistryClient::new(&base, ClientOptions { containment: configured.clone(), ..options.clone() })
            .unwrap_or_else(|e| panic!("{e}"));
        let err = client.skill_detail("x", None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("internal address"), "{err}");
        assert!(other_seen.lock().map(|s| s.is_empty()).unwrap_or(false), "the other origin was contacted");
        // ... and followed when internal targets are allowed too.
        let open = Containment { allow_private_targets: true, ..configured };
        let client = RegistryClient::new(&base, ClientOptions { containment: open, ..options })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(client.skill_detail("x", None).is_ok());
        assert_eq!(other_seen.lock().map(|s| s.len()).unwrap_or(0), 1);
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
