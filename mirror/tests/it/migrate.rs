//! `migrate`: a mirror copied to other backends is the same mirror, and nothing is written to
//! the target when a blob or a signature does not check out.

use std::sync::Arc;

use skillscan_mirror::adapters::NativeSigner;
use skillscan_mirror::config::Config;
use skillscan_mirror::migrate::{MigrateError, migrate};
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::store::{BlobStore, MetaStore};
use skillscan_mirror::vetting::ApprovalSigner;
use skillscan_mirror::vetting::doubles::MarkerVetter;
use skillscan_mirror::{Mirror, auth};

use crate::common::*;

struct Source {
    dir: tempfile::TempDir,
    mirror: Mirror,
    public_key: String,
}

/// A mirror with a real signing key: one approved (signed), one rejected, one quarantined
/// version, and a token.
fn source() -> Source {
    let dir = tempfile::tempdir().unwrap();
    let signer = NativeSigner::generate(dir.path()).unwrap();
    let public_key = signer.public_key();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let mut mirror =
        mirror_with(dir.path(), Policy::default(), Config::default(), Arc::new(MarkerVetter::default()), blobs, meta);
    mirror.signer = Arc::new(signer);
    for (slug, owner, body, want) in [
        ("weather-brief", "acme", BENIGN_MD, State::Approved),
        ("crypto-tracker", "mallory", "# Crypto\nMALICIOUS payload\n", State::Rejected),
        ("careful-skill", "bob", "# Careful\nCAUTION shell\n", State::Quarantined),
    ] {
        let o = mirror.ingest(input(slug, "1.0.0", owner, &[("SKILL.md", body)]), "test").unwrap();
        assert!(matches!(o, IngestOutcome::New { state, .. } if state == want), "{slug}: {o:?}");
    }
    auth::create_token(&*mirror.meta, "ci", "read").unwrap();
    Source { dir, mirror, public_key }
}

fn target() -> (tempfile::TempDir, Arc<dyn MetaStore>, Arc<dyn BlobStore>) {
    let dir = tempfile::tempdir().unwrap();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    (dir, meta, blobs)
}

#[test]
fn a_migrated_mirror_has_every_row_blob_and_signature() {
    let src = source();
    let (_d, meta, blobs) = target();
    let m = &src.mirror;
    let report = migrate(&*m.meta, &*m.blobs, &*meta, &*blobs, Some(&src.public_key), &|_, _| {}).unwrap();
    assert_eq!((report.versions, report.blobs, report.signatures_verified, report.tokens), (3, 3, 1, 1));
    assert!(report.faulted_not_copied.is_empty());
    assert_eq!(
        serde_json::to_value(meta.export().unwrap()).unwrap(),
        serde_json::to_value(m.meta.export().unwrap()).unwrap()
    );
    for v in meta.versions(None).unwrap() {
        assert_eq!(blobs.get(&v.archive_sha256).unwrap(), m.blobs.get(&v.archive_sha256).unwrap(), "{}", v.key());
    }
    let approved = meta.get_version("weather-brief", "1.0.0").unwrap().unwrap();
    assert_eq!(approved.state, State::Approved);
    assert!(approved.signature.is_some());

    // A target holding only a queued webhook or a sync failure is not empty either: they would be
    // merged into the copy (and the webhook delivered).
    let (_d2, busy, busy_blobs) = target();
    busy.record_sync_failure(&skillscan_mirror::model::SyncFailure {
        id: 0,
        at: 1,
        upstream: "u".into(),
        slug: "s".into(),
        version: None,
        error: "e".into(),
    })
    .unwrap();
    let err = migrate(&*m.meta, &*m.blobs, &*busy, &*busy_blobs, Some(&src.public_key), &|_, _| {}).unwrap_err();
    assert!(matches!(&err, MigrateError::TargetNotEmpty(what) if what.contains("sync failure")), "{err}");
    assert!(busy.versions(None).unwrap().is_empty());

    // Again into the same target: refused, nothing doubled.
    let again = migrate(&*m.meta, &*m.blobs, &*meta, &*blobs, Some(&src.public_key), &|_, _| {}).unwrap_err();
    assert!(matches!(again, MigrateError::TargetNotEmpty(_)), "{again}");
    assert_eq!(meta.versions(None).unwrap().len(), 3);
}

#[test]
fn a_bad_signature_or_a_rotten_blob_stops_before_any_row_is_written() {
    let src = source();
    let m = &src.mirror;

    // Another key: every signature fails to verify.
    let other = tempfile::tempdir().unwrap();
    let wrong_key = NativeSigner::generate(other.path()).unwrap().public_key();
    let (_d, meta, blobs) = target();
    let err = migrate(&*m.meta, &*m.blobs, &*meta, &*blobs, Some(&wrong_key), &|_, _| {}).unwrap_err();
    assert!(matches!(&err, MigrateError::Signature { key, .. } if key == "weather-brief@1.0.0"), "{err}");
    assert!(meta.versions(None).unwrap().is_empty() && meta.audit(None).unwrap().is_empty());

    // No key at all, while versions are signed: refused too.
    let err = migrate(&*m.meta, &*m.blobs, &*meta, &*blobs, None, &|_, _| {}).unwrap_err();
    assert!(matches!(err, MigrateError::Signature { .. }), "{err}");

    // A source blob rotted on disk (no fault open for it): the copy stops, the target stays empty.
    let rec = m.meta.get_version("crypto-tracker", "1.0.0").unwrap().unwrap();
    let fs_blobs = FsBlobStore::open(src.dir.path()).unwrap();
    let path = fs_blobs.path_of(&rec.archive_sha256);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let (_d2, meta2, blobs2) = target();
    let err = migrate(&*m.meta, &*m.blobs, &*meta2, &*blobs2, Some(&src.public_key), &|_, _| {}).unwrap_err();
    assert!(matches!(&err, MigrateError::Blob { key, .. } if key == "crypto-tracker@1.0.0"), "{err}");
    assert!(meta2.versions(None).unwrap().is_empty(), "no row before every blob checks out");

    // Once scrub has opened a fault for it, the rows (and the fault) travel without the blob.
    m.scrub("scrub").unwrap();
    let (_d3, meta3, blobs3) = target();
    let report = migrate(&*m.meta, &*m.blobs, &*meta3, &*blobs3, Some(&src.public_key), &|_, _| {}).unwrap();
    assert_eq!(report.faulted_not_copied, ["crypto-tracker@1.0.0"]);
    assert_eq!(meta3.blob_faults().unwrap().len(), 1);
    assert!(!blobs3.contains(&rec.archive_sha256).unwrap());
}
