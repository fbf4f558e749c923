//! Storage crash safety: a failure at any point between "blob durable" and "row
//! committed" leaves no row pointing at a missing blob, and a later retry succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::store::{BlobStore, MetaStore, NewVersion, StoreError};
use skillscan_mirror::vetting::doubles::MarkerVetter;

use crate::common::*;

/// Writes the blob durably, then "crashes" (errors) before the caller can commit the row.
struct CrashAfterBlob {
    inner: FsBlobStore,
    armed: AtomicBool,
}

impl BlobStore for CrashAfterBlob {
    fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let h = self.inner.put(bytes)?;
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Io {
                path: "simulated".into(),
                source: std::io::Error::other("crash after blob write"),
            });
        }
        Ok(h)
    }
    fn get(&self, s: &str) -> Result<Vec<u8>, StoreError> {
        self.inner.get(s)
    }
    fn contains(&self, s: &str) -> Result<bool, StoreError> {
        self.inner.contains(s)
    }
}

/// Delegates to SQLite but fails the row insert (e.g. disk full at commit).
struct FailingInsert {
    inner: SqliteStore,
    armed: AtomicBool,
}

macro_rules! delegate {
    ($($name:ident ( $($a:ident : $t:ty),* ) -> $r:ty;)*) => {
        $(fn $name(&self, $($a: $t),*) -> $r { self.inner.$name($($a),*) })*
    };
}

impl MetaStore for FailingInsert {
    fn insert_version(
        &self,
        v: &NewVersion,
        actor: &str,
        reason: &str,
    ) -> Result<skillscan_mirror::store::Inserted, StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Db(rusqlite_err()));
        }
        self.inner.insert_version(v, actor, reason)
    }
    delegate! {
        get_version(slug: &str, version: &str) -> Result<Option<skillscan_mirror::model::VersionRecord>, StoreError>;
        versions(state: Option<State>) -> Result<Vec<skillscan_mirror::model::VersionRecord>, StoreError>;
        versions_of(slug: &str) -> Result<Vec<skillscan_mirror::model::VersionRecord>, StoreError>;
        transition(t: &skillscan_mirror::store::Transition<'_>) -> Result<(), StoreError>;
        update_scan(id: i64, scan: &skillscan_mirror::vetting::VetOutcome, actor: &str) -> Result<(), StoreError>;
        owner_has_approved(owner: &str) -> Result<bool, StoreError>;
        approval_action(slug: &str, version: &str) -> Result<Option<String>, StoreError>;
        signed_versions() -> Result<usize, StoreError>;
        resign(signatures: &[(i64, String)], actor: &str, reason: &str) -> Result<(), StoreError>;
        audit(limit: Option<usize>) -> Result<Vec<skillscan_mirror::model::AuditEvent>, StoreError>;
        record_alert(a: &skillscan_mirror::model::IntegrityAlert, actor: &str, w: Vec<(String, String, String)>) -> Result<i64, StoreError>;
        alerts() -> Result<Vec<skillscan_mirror::model::IntegrityAlert>, StoreError>;
        record_blob_fault(a: &skillscan_mirror::model::IntegrityAlert, actor: &str, w: Vec<(String, String, String)>) -> Result<bool, StoreError>;
        blob_faults() -> Result<Vec<skillscan_mirror::model::BlobFault>, StoreError>;
        clear_blob_fault(slug: &str, version: &str, actor: &str, reason: &str) -> Result<bool, StoreError>;
        record_sync_failure(f: &skillscan_mirror::model::SyncFailure) -> Result<(), StoreError>;
        sync_failures(limit: usize) -> Result<Vec<skillscan_mirror::model::SyncFailure>, StoreError>;
        insert_token(name: &str, role: &str, h: &str) -> Result<i64, StoreError>;
        find_token(h: &str) -> Result<Option<skillscan_mirror::store::TokenRecord>, StoreError>;
        tokens() -> Result<Vec<skillscan_mirror::store::TokenRecord>, StoreError>;
        revoke_token(name: &str) -> Result<bool, StoreError>;
        tokens_with_hashes() -> Result<Vec<(String, String)>, StoreError>;
        due_webhooks(now: i64, max: u32) -> Result<Vec<skillscan_mirror::store::OutboxItem>, StoreError>;
        webhook_delivered(id: i64, now: i64) -> Result<(), StoreError>;
        webhook_failed(id: i64, next: i64, e: &str) -> Result<(), StoreError>;
        change_counter() -> Result<i64, StoreError>;
    }
}

fn rusqlite_err() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), Some("database or disk is full".into()))
}

/// The invariant: every row's blob exists and verifies.
fn assert_no_dangling_rows(meta: &dyn MetaStore, blobs: &dyn BlobStore) {
    for v in meta.versions(None).unwrap() {
        blobs.get(&v.archive_sha256).unwrap_or_else(|e| panic!("{} points at a bad blob: {e}", v.key()));
    }
}

#[test]
fn crash_between_blob_and_row_then_retry() {
    let dir = tempfile::tempdir().unwrap();
    let blobs =
        Arc::new(CrashAfterBlob { inner: FsBlobStore::open(dir.path()).unwrap(), armed: AtomicBool::new(true) });
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let m = mirror_with(
        dir.path(),
        Policy::default(),
        Config::default(),
        Arc::new(MarkerVetter::default()),
        blobs.clone(),
        meta.clone(),
    );
    let inp = input("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert!(m.ingest(inp.clone(), "t").is_err());
    assert!(meta.get_version("weather-brief", "1.0.0").unwrap().is_none(), "no row after the crash");
    assert_no_dangling_rows(meta.as_ref(), blobs.as_ref());
    // "Restart": reopen everything from disk and retry; the orphan blob is reused.
    drop(m);
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let m = mirror_with(
        dir.path(),
        Policy::default(),
        Config::default(),
        Arc::new(MarkerVetter::default()),
        blobs.clone(),
        meta.clone(),
    );
    assert!(matches!(m.ingest(inp, "t").unwrap(), IngestOutcome::New { state: State::Approved, .. }));
    assert_no_dangling_rows(meta.as_ref(), blobs.as_ref());
}

#[test]
fn failed_row_commit_leaves_only_an_orphan_blob() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let meta = Arc::new(FailingInsert {
        inner: SqliteStore::open(&dir.path().join("mirror.db")).unwrap(),
        armed: AtomicBool::new(true),
    });
    let m = mirror_with(
        dir.path(),
        Policy::default(),
        Config::default(),
        Arc::new(MarkerVetter::default()),
        blobs.clone(),
        meta.clone(),
    );
    let inp = input("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert!(m.ingest(inp.clone(), "t").is_err());
    assert!(meta.versions(None).unwrap().is_empty());
    assert!(blobs.contains(&skillscan_mirror::archive::sha256_hex(&inp.zip)).unwrap(), "blob was written first");
    assert!(matches!(m.ingest(inp, "t").unwrap(), IngestOutcome::New { state: State::Approved, .. }));
    assert_no_dangling_rows(meta.as_ref(), blobs.as_ref());
}

#[test]
fn approved_versions_survive_reopen_and_blob_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    {
        let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
        let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
        let m = mirror_with(
            dir.path(),
            Policy::default(),
            Config::default(),
            Arc::new(MarkerVetter::default()),
            blobs,
            meta,
        );
        m.ingest(input("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]), "t").unwrap();
    }
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let v = meta.get_version("weather-brief", "1.0.0").unwrap().unwrap();
    assert_eq!(v.state, State::Approved);
    assert!(v.signature.is_some());
    // Layout: blobs/sha256/aa/bb/<hex>.
    let p = dir
        .path()
        .join("blobs/sha256")
        .join(&v.archive_sha256[..2])
        .join(&v.archive_sha256[2..4])
        .join(&v.archive_sha256);
    assert!(p.is_file());
    std::fs::write(&p, b"tampered").unwrap();
    assert!(matches!(blobs.get(&v.archive_sha256), Err(StoreError::BlobCorrupt(_))));
    // A corrupt approved blob is never served; its skill is unavailable (no fallback).
    let m = Arc::new(mirror_with(
        dir.path(),
        Policy::default(),
        Config::default(),
        Arc::new(MarkerVetter::default()),
        blobs,
        meta,
    ));
    let st = skillscan_mirror::AppState::new(m).unwrap();
    let snap = st.snapshot.load();
    let skill = &snap.skills["weather-brief"];
    assert!(skill.unavailable.is_some(), "the skill must answer 503");
    assert!(skill.versions.iter().all(|v| matches!(v.zip, skillscan_mirror::snapshot::ZipBytes::Unavailable)));
    assert!(matches!(
        snap.resolve(&skillscan_mirror::snapshot::Lookup { slug: "weather-brief".into(), ..Default::default() }),
        skillscan_mirror::snapshot::Resolution::Unavailable(_)
    ));
}
