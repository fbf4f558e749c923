//! One contract, every blob backend: the same checks run against the file store and the S3
//! store (a real S3-compatible server: `.ci/garage.sh start DIR`, then `source DIR/env`), each
//! check its own test (`fs::put_get_roundtrip`, `s3::put_get_roundtrip`, …).
//!
//! The S3 tests use a fresh random prefix in `SKILLSCAN_S3_URL`'s bucket, so they never see
//! each other's blobs (or a previous run's). They are ignored when `SKILLSCAN_S3_URL` was
//! not set at build time (see `mirror/build.rs`) and fail without it when
//! `SKILLSCAN_REQUIRE_S3=1`.

use std::sync::{Arc, Barrier};

use skillscan_mirror::archive::sha256_hex;
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::s3::{S3BlobStore, S3Options};
use skillscan_mirror::store::{BlobStore, StoreError};

/// Writes bytes at a blob's key behind the store's back (bit rot, a hostile writer).
type Plant = Box<dyn Fn(&str, &[u8])>;

/// A backend under test.
pub struct Subject {
    store: Arc<dyn BlobStore>,
    plant: Plant,
    /// Whatever must outlive the test (the file store's directory).
    _keep: Option<tempfile::TempDir>,
    /// The S3 store's URL, random prefix included.
    url: Option<String>,
}

fn fs_subject() -> Option<Subject> {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let at = store.clone();
    let plant = move |sha: &str, bytes: &[u8]| {
        let path = at.path_of(sha);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    Some(Subject { store, plant: Box::new(plant), _keep: Some(dir), url: None })
}

const NO_S3: &str = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)";

fn s3_subject() -> Option<Subject> {
    let Some(url) = std::env::var("SKILLSCAN_S3_URL").ok().filter(|u| !u.is_empty()) else {
        if std::env::var("SKILLSCAN_REQUIRE_S3").is_ok_and(|v| v == "1") {
            panic!(
                "{NO_S3}, and SKILLSCAN_REQUIRE_S3=1 requires the S3 tests to run: \
                 `bash .ci/garage.sh start DIR && source DIR/env`"
            );
        }
        eprintln!("skipped: {NO_S3}");
        return None;
    };
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).unwrap();
    let url = format!("{}/conformance-{}", url.trim_end_matches('/'), hex::encode(nonce));
    let store = Arc::new(S3BlobStore::from_url(&url, &S3Options::default()).unwrap());
    // A plain (overwriting) put by a client and runtime of the test's own (sharing the
    // store's client would pool connections driven by this runtime into it).
    let client = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(store.bucket()).build().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let at = store.clone();
    let plant = move |sha: &str, bytes: &[u8]| {
        let key = at.key_of(sha).unwrap();
        let payload = object_store::PutPayload::from(bytes.to_vec());
        rt.block_on(object_store::ObjectStoreExt::put(&client, &key, payload)).unwrap();
    };
    Some(Subject { store, plant: Box::new(plant), _keep: None, url: Some(url) })
}

pub fn put_get_roundtrip(s: Subject) {
    let bytes = b"a skill archive, more or less";
    let h = s.store.put(bytes).unwrap();
    assert_eq!(h, sha256_hex(bytes));
    assert_eq!(s.store.get(&h).unwrap(), bytes);
}

pub fn put_is_idempotent(s: Subject) {
    let h = s.store.put(b"twice").unwrap();
    assert_eq!(s.store.put(b"twice").unwrap(), h);
    assert_eq!(s.store.get(&h).unwrap(), b"twice");
    assert_eq!(s.store.list().unwrap(), vec![h]);
}

pub fn concurrent_puts_of_the_same_bytes(s: Subject) {
    let bytes = vec![7u8; 64 * 1024];
    let barrier = Barrier::new(8);
    let hashes: Vec<Result<String, StoreError>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    s.store.put(&bytes)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for h in &hashes {
        assert_eq!(h.as_ref().unwrap(), &sha256_hex(&bytes), "{hashes:?}");
    }
    assert_eq!(s.store.list().unwrap(), vec![sha256_hex(&bytes)], "one object");
    assert_eq!(s.store.get(&sha256_hex(&bytes)).unwrap(), bytes);
}

pub fn unknown_hash_is_missing(s: Subject) {
    let h = sha256_hex(b"never stored");
    assert!(matches!(s.store.get(&h), Err(StoreError::BlobMissing(x)) if x == h));
    assert!(!s.store.contains(&h).unwrap());
}

pub fn planted_bytes_are_never_served(s: Subject) {
    let right = b"the pinned archive".as_slice();
    let h = sha256_hex(right);
    (s.plant)(&h, b"something else entirely");
    match s.store.get(&h) {
        Err(StoreError::BlobCorrupt(x)) => assert_eq!(x, h),
        other => panic!("planted bytes: expected BlobCorrupt, got {other:?}"),
    }
    // `put` of the right bytes restores them (how re-importing the identical archive closes a
    // blob fault): only bytes that hash to the key ever get written under it.
    assert_eq!(s.store.put(right).unwrap(), h);
    assert_eq!(s.store.get(&h).unwrap(), right, "a put that succeeds has replaced them");
}

pub fn contains_what_was_put(s: Subject) {
    let h = sha256_hex(b"here");
    assert!(!s.store.contains(&h).unwrap());
    s.store.put(b"here").unwrap();
    assert!(s.store.contains(&h).unwrap());
}

pub fn list_returns_exactly_the_stored_hashes(s: Subject) {
    assert_eq!(s.store.list().unwrap(), Vec::<String>::new());
    let mut want: Vec<String> = (0..5).map(|i| s.store.put(format!("blob {i}").as_bytes()).unwrap()).collect();
    s.store.put(b"blob 0").unwrap();
    want.sort();
    assert_eq!(s.store.list().unwrap(), want);
}

pub fn malformed_hashes_are_refused(s: Subject) {
    let h = s.store.put(b"real").unwrap();
    let upper = h.to_uppercase();
    let long = format!("{h}0");
    let slashed = format!("{}/{}", &h[..2], &h[3..]);
    for bad in [
        "../x",
        "../../etc/passwd",
        "",
        &upper,
        &h[..63],
        &h[..8],
        long.as_str(),
        slashed.as_str(),
        "g".repeat(64).as_str(),
    ] {
        assert!(
            matches!(s.store.get(bad), Err(StoreError::BlobMissing(_))),
            "get({bad:?}) must be refused, not looked up"
        );
        assert!(!s.store.contains(bad).unwrap(), "contains({bad:?})");
    }
    assert_eq!(s.store.get(&h).unwrap(), b"real");
}

pub fn empty_blob(s: Subject) {
    let h = s.store.put(b"").unwrap();
    assert_eq!(h, sha256_hex(b""));
    assert_eq!(s.store.get(&h).unwrap(), b"");
    assert!(s.store.contains(&h).unwrap());
    assert_eq!(s.store.list().unwrap(), vec![h]);
}

pub fn five_mib_blob(s: Subject) {
    // Not one repeated byte: a store that mangled or truncated a chunk would still differ.
    let bytes: Vec<u8> = (0..5 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let h = s.store.put(&bytes).unwrap();
    assert_eq!(h, sha256_hex(&bytes));
    assert!(s.store.get(&h).unwrap() == bytes, "5 MiB round trip");
}

/// Every check above as a `#[test]` of `$backend`, built by `$factory` (which returns
/// `None` to skip), with `$attr` on each test.
macro_rules! conformance {
    ($backend:ident, $factory:ident, #[$attr:meta]) => {
        mod $backend {
            conformance!(@tests $factory, $attr,
                put_get_roundtrip,
                put_is_idempotent,
                concurrent_puts_of_the_same_bytes,
                unknown_hash_is_missing,
                planted_bytes_are_never_served,
                contains_what_was_put,
                list_returns_exactly_the_stored_hashes,
                malformed_hashes_are_refused,
                empty_blob,
                five_mib_blob,
            );
        }
    };
    (@tests $factory:ident, $attr:meta, $($check:ident),+ $(,)?) => {
        $(
            #[test]
            #[$attr]
            fn $check() {
                if let Some(subject) = super::$factory() {
                    super::$check(subject);
                }
            }
        )+
    };
}

// `cfg_attr(any(), …)` never applies: the file store's tests always run.
conformance!(fs, fs_subject, #[cfg_attr(any(), ignore)]);
conformance!(s3, s3_subject, #[cfg_attr(no_s3, ignore = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)")]);

/// S3 only: an error from the server (here: listing a bucket that does not exist) reaches
/// the caller without the credentials and without the request's query string.
#[test]
#[cfg_attr(no_s3, ignore = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)")]
fn s3_errors_name_no_credentials_or_queries() {
    if s3_subject().is_none() {
        return;
    }
    let store = S3BlobStore::from_url("s3://skillscan-no-such-bucket", &S3Options::default()).unwrap();
    let err = store.list().unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Backend { backend: "s3", .. }), "{err:?}");
    assert!(message.contains("skillscan-no-such-bucket"), "says what failed: {message}");
    // (The body's `<?xml` is fine; the request URL's `?list-type=2&prefix=…` is not.)
    assert!(!message.contains("list-type") && !message.contains("prefix="), "no query string: {message}");
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let secret = std::env::var(var).unwrap_or_default();
        assert!(secret.is_empty() || !message.contains(&secret), "{var} in: {message}");
    }
    eprintln!("{message}");
}

/// S3 only: the size cap holds both ways. An object at a blob's key that is larger than
/// `max_blob_bytes` is refused by `get` (an error, never its bytes), and `put` refuses a
/// blob over the cap rather than store what it could not read back.
#[test]
#[cfg_attr(no_s3, ignore = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)")]
fn s3_size_cap() {
    let Some(s) = s3_subject() else { return };
    let big = vec![1u8; 4096];
    let h = s.store.put(&big).unwrap();
    // The same prefix through a store with a smaller cap.
    let url = s.url.clone().unwrap();
    let small = S3BlobStore::from_url(&url, &S3Options { max_blob_bytes: 1024, ..S3Options::default() }).unwrap();
    assert!(small.contains(&h).unwrap(), "same prefix");
    let got = small.get(&h);
    assert!(matches!(&got, Err(StoreError::Backend { message, .. }) if message.contains("over 1024 bytes")), "{got:?}");
    assert!(matches!(small.put(&big), Err(StoreError::Backend { .. })));
    assert_eq!(small.get(&small.put(&big[..1024]).unwrap()).unwrap(), &big[..1024]);
}

/// S3 only: the sync calls work from everywhere the mirror makes them: plain threads, the
/// blocking pool (`spawn_blocking`, as the registry routes do), and even directly on an
/// async worker thread, where a `block_on` of the caller's would panic.
#[test]
#[cfg_attr(no_s3, ignore = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)")]
fn s3_called_from_async_code() {
    let Some(s) = s3_subject() else { return };
    let store = s.store.clone();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let h = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.put(b"from the blocking pool")).await.unwrap().unwrap()
        };
        let direct = tokio::spawn({
            let (store, h) = (store.clone(), h.clone());
            async move { store.get(&h) }
        });
        assert_eq!(direct.await.unwrap().unwrap(), b"from the blocking pool");
        // Dropped inside async code: shutting its runtime down must not panic.
        drop(store);
    });
    drop(s);
}

/// S3 only: a server that is not there is an error (not a missing blob) within the bounded
/// retries, naming the endpoint; the explicit endpoint option overrides AWS_ENDPOINT_URL.
#[test]
#[cfg_attr(no_s3, ignore = "SKILLSCAN_S3_URL not set (start one with .ci/garage.sh start DIR)")]
fn s3_unreachable_endpoint_fails_fast() {
    if s3_subject().is_none() {
        return;
    }
    // A port that was free a moment ago: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let opts = S3Options {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        allow_http: true,
        max_retries: 1,
        retry_timeout: std::time::Duration::from_secs(5),
        ..S3Options::default()
    };
    let store = S3BlobStore::from_url("s3://skillscan-test", &opts).unwrap();
    let started = std::time::Instant::now();
    let err = store.get(&sha256_hex(b"anything")).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(
        matches!(&err, StoreError::Backend { backend: "s3", message } if message.contains(&format!("127.0.0.1:{port}"))),
        "{err:?}"
    );
}
