//! Blobs in S3-compatible object storage (AWS S3, Garage, MinIO, R2, …) through
//! `object_store`, so several mirror replicas can share one blob store.
//!
//! Keys are `{prefix}/sha256/{first two hex}/{hex}`. Blobs are write-once and
//! content-addressed: `put` reads the key first (identical bytes: nothing to do), then uses a
//! conditional create (`If-None-Match: *`). The only object `put` ever replaces is one whose
//! bytes do not hash to its key (rot, or bytes planted by hand): the bytes that do are written
//! over it, as the file store does, which is how re-importing the identical archive closes a
//! blob fault. The fault itself is recorded by whoever read the bad object first (download,
//! snapshot build, `scrub`). Every `get` hashes what it read before returning it, and reads at
//! most [`S3Options::max_blob_bytes`] (the mirror's archive size limit), so a hostile or rotten
//! object is neither served nor able to exhaust memory.
//!
//! `object_store` is async and [`BlobStore`] is not: see [`S3BlobStore::run`] for how the
//! two meet.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientConfigKey, GetOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};

use super::{BlobStore, StoreError};
use crate::archive::sha256_hex;
use crate::validate;

const BACKEND: &str = "s3";

/// The most objects `list` walks under the blob prefix (two million: far more versions than a
/// registry holds, and about 200 MB of names at most).
const MAX_LISTED: usize = 2_000_000;

/// Settings that do not come from the `AWS_*` environment.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// The S3 API endpoint (`http://127.0.0.1:3900`), for anything that is not AWS itself;
    /// requests then use path-style addressing (`endpoint/bucket/key`), which every
    /// S3-compatible server understands. `None`: `AWS_ENDPOINT_URL`, else AWS.
    pub endpoint: Option<String>,
    /// Allow a plain-HTTP endpoint (a local test server). `AWS_ALLOW_HTTP=true` also does.
    pub allow_http: bool,
    /// The largest blob `put` accepts and `get` reads: an object at a blob's key that claims
    /// more (or streams more) is refused before it fills memory.
    pub max_blob_bytes: u64,
    /// Establishing a connection.
    pub connect_timeout: Duration,
    /// One whole request, body included.
    pub request_timeout: Duration,
    /// Retries of a failed request (5xx, timeouts, connection errors), with exponential
    /// backoff, all within `retry_timeout` of the first attempt.
    pub max_retries: usize,
    pub retry_timeout: Duration,
}

impl Default for S3Options {
    fn default() -> S3Options {
        S3Options {
            endpoint: None,
            allow_http: false,
            max_blob_bytes: 256 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            // Long enough for a large archive over a modest link; a stalled server still
            // frees the caller (and its blocking thread) within a bounded time.
            request_timeout: Duration::from_secs(60),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
        }
    }
}

pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    /// `{prefix}/sha256` (or `sha256` without a prefix).
    root: Path,
    bucket: String,
    max_blob_bytes: u64,
    /// Credentials as configured, scrubbed from error messages (S3 error bodies can echo
    /// the access key id; nothing should ever echo the secret, but it costs nothing to be
    /// sure).
    secrets: Vec<String>,
    /// Always `Some` until dropped (see `Drop`).
    rt: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore").field("bucket", &self.bucket).field("root", &self.root.as_ref()).finish()
    }
}

/// `s3://bucket` or `s3://bucket/some/prefix`, split; anything else is refused.
fn parse_url(url: &str) -> Result<(String, Option<Path>), StoreError> {
    // The URL is not quoted: refused text may hold credentials.
    let bad = |why: &str| StoreError::backend(BACKEND, format!("blob store URL {why}"));
    let rest = url.strip_prefix("s3://").ok_or_else(|| bad("is not s3://bucket[/prefix]"))?;
    // Credentials, queries and fragments have no place here; refusing them keeps secrets
    // out of the URL (they come from the environment).
    if rest.contains(['@', '?', '#']) {
        return Err(bad("must not contain '@', '?' or '#' (credentials come from AWS_* variables)"));
    }
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    // S3 bucket naming rules, loosely: what a bucket name can be, and nothing that could
    // change the meaning of a request URL.
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !bucket_ok {
        return Err(bad("has an invalid bucket name"));
    }
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        Some(Path::parse(prefix).map_err(|_| bad("has an invalid prefix (empty, '.' or '..' segments)"))?)
    };
    Ok((bucket.to_string(), prefix))
}

impl S3BlobStore {
    /// The object under `key` does not hash to its name (rot, or bytes planted by hand): put
    /// the bytes that do. This restores the pinned bytes, it never replaces them: everything
    /// ever written under a key hashes to it, so a rotten object is the only thing this can
    /// overwrite. It is what the file store does too, and how re-importing the identical
    /// archive closes a blob fault (see the operator guide, "Blob faults").
    fn restore(&self, hex: &str, key: Path, bytes: &[u8]) -> Result<String, StoreError> {
        tracing::warn!(blob = %hex, "an S3 object did not match its sha256; writing the bytes that do");
        let (store, payload) = (self.store.clone(), PutPayload::from(bytes.to_vec()));
        self.run(async move {
            let opts = PutOptions { mode: PutMode::Overwrite, ..Default::default() };
            Ok(store.put_opts(&key, payload, opts).await)
        })?
        .map_err(|e| self.err(e))?;
        self.get(hex).map(|_| hex.to_string())
    }
    /// Open the blob store at `url` (`s3://bucket` or `s3://bucket/prefix`), with
    /// credentials and region from the usual `AWS_*` environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`,
    /// `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`). Makes no request: a wrong endpoint or key
    /// shows on first use.
    pub fn from_url(url: &str, opts: &S3Options) -> Result<S3BlobStore, StoreError> {
        let (bucket, prefix) = parse_url(url)?;
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        if let Some(endpoint) = &opts.endpoint {
            b = b.with_endpoint(endpoint);
        }
        if opts.allow_http {
            b = b.with_allow_http(true);
        }
        if opts.endpoint.is_some() || b.get_config_value(&AmazonS3ConfigKey::Endpoint).is_some() {
            b = b.with_virtual_hosted_style_request(false);
        }
        let secrets: Vec<String> =
            [AmazonS3ConfigKey::AccessKeyId, AmazonS3ConfigKey::SecretAccessKey, AmazonS3ConfigKey::Token]
                .iter()
                .filter_map(|k| b.get_config_value(k))
                .filter(|v| !v.is_empty())
                .collect();
        // Timeouts through `with_config`, which (unlike `with_client_options`) keeps the
        // client settings read from the environment, such as AWS_ALLOW_HTTP.
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        let b = b
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), ms(opts.connect_timeout))
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), ms(opts.request_timeout))
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: opts.max_retries,
                retry_timeout: opts.retry_timeout,
            })
            // The conditional create `put` relies on; an AWS_CONDITIONAL_PUT=disabled in the
            // environment would make every put fail (object_store refuses a create it
            // cannot make conditional).
            .with_conditional_put(S3ConditionalPut::ETagMatch);
        let store = b.build().map_err(|e| StoreError::backend(BACKEND, scrub(&e.to_string(), &secrets)))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-io")
            .enable_all()
            .build()
            .map_err(|e| StoreError::backend(BACKEND, format!("cannot start the S3 I/O runtime: {e}")))?;
        let root = match prefix {
            Some(p) => p.join("sha256"),
            None => Path::from("sha256"),
        };
        Ok(S3BlobStore {
            store: Arc::new(store),
            root,
            bucket,
            max_blob_bytes: opts.max_blob_bytes,
            secrets,
            rt: Some(rt),
        })
    }

    /// The object key of a blob: `{prefix}/sha256/{first two hex}/{hex}`. Refuses anything
    /// that is not 64 lowercase hex, so a caller's string never becomes a key of its own
    /// choosing.
    pub fn key_of(&self, sha256: &str) -> Result<Path, StoreError> {
        if !validate::sha256_hex(sha256) {
            return Err(StoreError::BlobMissing(printable(sha256)));
        }
        Ok(self.root.clone().join(&sha256[..2]).join(sha256))
    }

    /// No accessor to the client itself: its connection pool is driven by the `s3-io`
    /// runtime, and a connection opened from another runtime would be pooled with its I/O
    /// tied to that runtime, hanging whichever request picks it up next. Tools that need to
    /// reach past the blob protocol build a client of their own for [`Self::bucket`].
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Run `fut` on the store's own runtime and wait for its result on this thread.
    ///
    /// The trait is sync and its callers are tokio's blocking pool (`spawn_blocking`) and
    /// plain threads (the CLI, scrub, tests). `Handle::block_on` / `Runtime::block_on` on
    /// the caller's thread panics when that thread is inside a runtime, and borrowing the
    /// caller's runtime would tie our I/O to whoever happened to call first. So the store
    /// owns a small runtime (2 `s3-io` threads) that does all the I/O, and the caller waits
    /// on a std channel, which blocks only this thread and is fine anywhere (a
    /// `tokio::sync::oneshot::blocking_recv` would panic inside an async context, just like
    /// `block_on`). The future owns everything it needs (`'static`): if the caller is gone,
    /// the answer is dropped.
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let Some(rt) = &self.rt else {
            return Err(StoreError::backend(BACKEND, "the S3 store is shut down"));
        };
        let (tx, rx) = mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| StoreError::backend(BACKEND, "the S3 I/O task ended without an answer"))?
    }

    fn err(&self, e: object_store::Error) -> StoreError {
        StoreError::backend(BACKEND, scrub(&e.to_string(), &self.secrets))
    }

    /// Read the object at `key`, at most `max` bytes, without verifying it.
    fn read(&self, sha256: &str, key: Path) -> Result<Vec<u8>, StoreError> {
        let store = self.store.clone();
        let max = self.max_blob_bytes;
        let sha = sha256.to_string();
        let secrets = self.secrets.clone();
        let backend = move |e: object_store::Error| StoreError::backend(BACKEND, scrub(&e.to_string(), &secrets));
        let too_big = move |sha: &str, n: u64| {
            StoreError::backend(BACKEND, format!("blob {sha} is over {max} bytes (at least {n})"))
        };
        self.run(async move {
            let r = match store.get_opts(&key, GetOptions::default()).await {
                Ok(r) => r,
                Err(object_store::Error::NotFound { .. }) => return Err(StoreError::BlobMissing(sha)),
                Err(e) => return Err(backend(e)),
            };
            // The size the server claims first, then what it actually streams: either can lie.
            if r.meta.size > max {
                return Err(too_big(&sha, r.meta.size));
            }
            let mut out = Vec::with_capacity(r.meta.size.min(8 << 20) as usize);
            let mut body = r.into_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(&backend)?;
                let n = out.len() as u64 + chunk.len() as u64;
                if n > max {
                    return Err(too_big(&sha, n));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
    }
}

impl Drop for S3BlobStore {
    /// Dropping a tokio runtime blocks until its tasks stop, which panics when the store is
    /// dropped inside async code (a server shutting down, an async test). Shutting it down
    /// in the background never blocks; in-flight requests are abandoned, which is safe
    /// since a put either created the whole object or nothing.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl BlobStore for S3BlobStore {
    fn backend(&self) -> &'static str {
        "s3"
    }

    fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        if bytes.len() as u64 > self.max_blob_bytes {
            return Err(StoreError::backend(
                BACKEND,
                format!("blob of {} bytes is over the store's limit of {} bytes", bytes.len(), self.max_blob_bytes),
            ));
        }
        let hex = sha256_hex(bytes);
        let key = self.key_of(&hex)?;
        // Look first, then create. Not every S3-compatible server honours the conditional
        // create: Garage 2.5 ignores `If-None-Match: *` and overwrites. Reading first means
        // such a server still never has wrong bytes papered over (they are reported as
        // corrupt, like below); what remains there is a race with another writer in the
        // instant between the read and the write, which can only ever write bytes that hash
        // to this key (everything we write is content-addressed). On servers that honour
        // the condition (AWS S3, MinIO, R2) the create below closes that gap too.
        match self.get(&hex) {
            Ok(_) => return Ok(hex),
            Err(StoreError::BlobMissing(_)) => {}
            Err(StoreError::BlobCorrupt(_)) => return self.restore(&hex, key, bytes),
            Err(e) => return Err(e),
        }
        let payload = PutPayload::from(bytes.to_vec());
        // A few rounds for the case where a concurrent writer's create won but its object
        // is not readable yet (S3 answers 409 to a conditional create while another one
        // for the key is in flight).
        for round in 0..4u32 {
            let (store, k, p) = (self.store.clone(), key.clone(), payload.clone());
            let created = self.run(async move {
                let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
                Ok(store.put_opts(&k, p, opts).await)
            })?;
            match created {
                Ok(_) => return Ok(hex),
                // Write-once: the key is taken. Identical bytes dedup; anything else is
                // reported, and stays in place for an operator to look at.
                Err(object_store::Error::AlreadyExists { .. }) => match self.get(&hex) {
                    Ok(_) => return Ok(hex),
                    Err(StoreError::BlobMissing(_)) => {
                        std::thread::sleep(Duration::from_millis(100 << round));
                    }
                    Err(e) => return Err(e),
                },
                Err(e) => return Err(self.err(e)),
            }
        }
        Err(StoreError::backend(BACKEND, format!("blob {hex} exists but cannot be read back")))
    }

    fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.key_of(sha256)?;
        let bytes = self.read(sha256, key)?;
        // On this thread, not the I/O runtime's: hashing a large blob is CPU work.
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::BlobCorrupt(sha256.to_string()));
        }
        Ok(bytes)
    }

    fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        // Like the file store: a name that is not a sha256 is never stored, and is not
        // looked up.
        let Ok(key) = self.key_of(sha256) else { return Ok(false) };
        let store = self.store.clone();
        match self.run(async move { Ok(store.head(&key).await) })? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Every object under `{prefix}/sha256/` whose key is exactly where `get` would look for
    /// its name; anything else (stray files, other layouts) is skipped.
    fn list(&self) -> Result<Vec<String>, StoreError> {
        let store = self.store.clone();
        let root = self.root.clone();
        // Names only, filtered as they stream in, and at most MAX_LISTED of them: a bucket
        // prefix stuffed with millions of stray keys cannot make scrub hold them all.
        let names = self.run(async move {
            let mut out = Vec::new();
            let mut seen = 0usize;
            let mut objects = store.list(Some(&root));
            while let Some(meta) = objects.next().await {
                let meta = match meta {
                    Ok(meta) => meta,
                    Err(e) => return Ok(Err(e)),
                };
                seen += 1;
                if seen > MAX_LISTED {
                    return Ok(Ok(None));
                }
                let Some(name) = meta.location.filename() else { continue };
                if validate::sha256_hex(name) && root.clone().join(&name[..2]).join(name) == meta.location {
                    out.push(name.to_string());
                }
            }
            Ok(Ok(Some(out)))
        })?;
        let mut out = names.map_err(|e| self.err(e))?.ok_or_else(|| {
            StoreError::backend(BACKEND, format!("more than {MAX_LISTED} objects under the blob prefix; not listed"))
        })?;
        out.sort();
        Ok(out)
    }
}

/// A hash argument as it may appear in an error: short and printable (it is caller input).
fn printable(s: &str) -> String {
    s.chars().take(80).map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// An error message fit for logs: no configured credential, no query string of any URL
/// (presigned URLs carry signatures there), no `user:password@`, and bounded in length
/// (servers can answer with long bodies).
fn scrub(message: &str, secrets: &[String]) -> String {
    let mut s = message.to_string();
    for secret in secrets {
        s = s.replace(secret.as_str(), "[redacted]");
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(at) = rest.find("://") {
        // The URL runs from its scheme to the first character that cannot be part of it.
        let start = rest[..at].rfind(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '-' && c != '.');
        let start = start.map_or(0, |i| i + 1);
        let end = rest[at..].find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>'));
        let end = end.map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&url_without_secrets(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    const MAX: usize = 1000;
    if out.len() > MAX {
        let cut = (0..=MAX).rev().find(|i| out.is_char_boundary(*i)).unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn url_without_secrets(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (b, p) = parse_url("s3://skillscan-test").unwrap();
        assert_eq!((b.as_str(), p), ("skillscan-test", None));
        let (b, p) = parse_url("s3://bkt/a/b/").unwrap();
        assert_eq!((b.as_str(), p.unwrap().as_ref()), ("bkt", "a/b"));
        for bad in [
            "http://bkt",
            "s3://",
            "s3://UPPER",
            "s3://ab",
            "s3://key:secret@bkt",
            "s3://bkt?x=1",
            "s3://bkt/a/../b",
            "s3://bkt/a//b",
            "s3://bk/t",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys() {
        let s = S3BlobStore::from_url("s3://bkt/pre/fix", &S3Options::default()).unwrap();
        let h = sha256_hex(b"x");
        assert_eq!(s.key_of(&h).unwrap().as_ref(), format!("pre/fix/sha256/{}/{h}", &h[..2]));
        for bad in ["../x", "", &h.to_uppercase(), &h[..63], &format!("{}/", &h[..63])] {
            assert!(s.key_of(bad).is_err(), "{bad}");
        }
        let s = S3BlobStore::from_url("s3://bkt", &S3Options::default()).unwrap();
        assert_eq!(s.key_of(&h).unwrap().as_ref(), format!("sha256/{}/{h}", &h[..2]));
    }

    #[test]
    fn scrubbed_messages() {
        let m = "Error performing GET http://AKID:pw@127.0.0.1:3900/bkt?list-type=2&X-Amz-Signature=abc in 1ms \
                 - body <AWSAccessKeyId>AKID</AWSAccessKeyId> sekrit (see https://x.test/a#frag)";
        let s = scrub(m, &["AKID".into(), "sekrit".into()]);
        assert_eq!(
            s,
            "Error performing GET http://127.0.0.1:3900/bkt in 1ms - body <AWSAccessKeyId>[redacted]</AWSAccessKeyId> \
             [redacted] (see https://x.test/a)"
        );
        assert!(scrub(&"é".repeat(2000), &[]).len() <= 1000 + "…".len());
    }

    #[test]
    fn dropped_inside_async_code() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let s = S3BlobStore::from_url("s3://bkt", &S3Options::default()).unwrap();
            drop(s);
        });
    }
}
