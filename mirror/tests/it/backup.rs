//! `backup` / `restore`: a backup taken while versions are being ingested and served restores
//! into a fresh directory that serves the same bytes and signatures; a damaged backup, or a
//! restore over an existing directory, is refused before anything is written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use skillscan_mirror::backup::{self, BackupError};
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::prelude::*;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::{AppState, Mirror, build_router};

use crate::common::*;

fn md(n: usize) -> String {
    format!("---\nname: skill-{n}\ndescription: Notes number {n}.\n---\n# Notes {n}\nKeep notes.\n")
}

/// A mirror over a restored data directory, with the same vetter and signer as the original.
fn reopen(dir: &std::path::Path, like: &Mirror) -> (Arc<Mirror>, AppState) {
    let meta: Arc<dyn MetaStore> = Arc::new(SqliteStore::open(&dir.join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir).unwrap());
    let m = Arc::new(mirror_with(dir, Policy::default(), like.config.clone(), like.vetter.clone(), blobs, meta));
    let state = AppState::new(m.clone()).unwrap();
    (m, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_and_serves_the_same_bytes_and_signatures() {
    let e = env();
    for n in 0..20 {
        e.ingest(&format!("skill-{n}"), "1.0.0", "acme", &[("SKILL.md", &md(n))]);
    }
    // Load while the backup runs: a writer ingesting new versions and readers downloading.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (m, stop) = (e.mirror.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 100;
            while !stop.load(Ordering::SeqCst) && n < 400 {
                m.ingest(input(&format!("skill-{n}"), "1.0.0", "acme", &[("SKILL.md", &md(n))]), "load").unwrap();
                n += 1;
            }
            n - 100
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (app, stop) = (e.app(), stop.clone());
            tokio::spawn(async move {
                let mut served = 0;
                while !stop.load(Ordering::SeqCst) {
                    let (s, _, _) = get(app.clone(), &format!("/api/v1/download?slug=skill-{}", served % 20)).await;
                    assert_eq!(s, 200);
                    served += r + 1;
                    // The handlers never wait on I/O here: yield, or this task keeps its worker
                    // (and the timer the test waits on) forever.
                    tokio::task::yield_now().await;
                }
                served
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let dest = tempfile::tempdir().unwrap();
    let backup_dir = dest.path().join("backup");
    let data = e._dir.path().to_path_buf();
    let target = backup_dir.clone();
    let manifest = tokio::task::spawn_blocking(move || backup::backup(&data, &target)).await.unwrap().unwrap();
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    for r in readers {
        assert!(r.await.unwrap() > 0, "the readers were served during the backup");
    }
    assert!(written > 0, "the writer ingested during the backup");
    assert!(manifest.files.iter().any(|f| f.path.starts_with("blobs/sha256/")), "{manifest:?}");

    let restored_dir = dest.path().join("restored");
    let copied = backup::restore(&backup_dir, &restored_dir).unwrap();
    assert_eq!(copied.files, manifest.files.len());
    let (restored, state) = reopen(&restored_dir, &e.mirror);
    e.state.rebuild().unwrap(); // the original serves what the writer added too
    let original = e.app();
    let app = build_router(state);

    let approved = restored.meta.versions(Some(State::Approved)).unwrap();
    assert!(approved.len() >= 20, "the versions approved before the backup are in it: {}", approved.len());
    for v in &approved {
        let uri = format!("/api/v1/download?slug={}&version={}", v.slug, v.version);
        let (s, _, mine) = get(app.clone(), &uri).await;
        let (s0, _, theirs) = get(original.clone(), &uri).await;
        assert_eq!((s.as_u16(), s0.as_u16()), (200, 200), "{uri}");
        assert_eq!(mine, theirs, "{uri}: the restored mirror serves other bytes");
        let uri = format!("/api/v1/download/signature?slug={}&version={}", v.slug, v.version);
        let (s, _, mine) = get(app.clone(), &uri).await;
        let (_, _, theirs) = get(original.clone(), &uri).await;
        assert_eq!(s, 200, "{uri}");
        assert_eq!(mine, theirs, "{uri}: the restored mirror serves another signature");
    }
    // Every blob the restored database names is there and intact.
    let scrub = restored.scrub("test").unwrap();
    assert!(scrub.corrupt.is_empty(), "{:?}", scrub.corrupt);
}

#[test]
fn a_damaged_backup_or_an_occupied_target_is_refused_before_anything_is_written() {
    let e = env();
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    let dest = tempfile::tempdir().unwrap();
    let backup_dir = dest.path().join("backup");
    let manifest = backup::backup(e._dir.path(), &backup_dir).unwrap();

    // Into a directory that is not empty: refused, for a backup and for a restore.
    let occupied = dest.path().join("occupied");
    std::fs::create_dir_all(&occupied).unwrap();
    std::fs::write(occupied.join("mirror.db"), b"live").unwrap();
    assert!(matches!(backup::backup(e._dir.path(), &occupied), Err(BackupError::NotEmpty { .. })));
    assert!(matches!(backup::restore(&backup_dir, &occupied), Err(BackupError::NotEmpty { .. })));
    assert_eq!(std::fs::read(occupied.join("mirror.db")).unwrap(), b"live");

    // One flipped byte in a blob of the backup: refused, nothing restored.
    let blob = manifest.files.iter().find(|f| f.path.starts_with("blobs/sha256/")).unwrap();
    let path = backup_dir.join(&blob.path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let fresh = dest.path().join("fresh");
    let err = backup::restore(&backup_dir, &fresh).unwrap_err();
    assert!(matches!(err, BackupError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains(&blob.path), "{err}");
    assert!(!fresh.exists(), "nothing is written from a damaged backup");

    // A manifest that reaches outside the data directory: not a backup.
    bytes[10] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let manifest_path = backup_dir.join(backup::MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        text.replacen("\"config.toml\"", "\"../config.toml\"", 1).replacen(
            &format!("\"{}\"", blob.path),
            "\"../../outside\"",
            1,
        ),
    )
    .unwrap();
    let err = backup::restore(&backup_dir, &fresh).unwrap_err();
    assert!(matches!(err, BackupError::NotABackup { .. }), "{err}");
    assert!(!fresh.exists());

    // A rotten blob in the live mirror stops the backup instead of copying it.
    let e = env();
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    let sha = e.mirror.get("weather-brief", "1.0.0").unwrap().archive_sha256;
    let rel = format!("blobs/sha256/{}/{}/{sha}", &sha[0..2], &sha[2..4]);
    std::fs::write(e._dir.path().join(&rel), b"rotten").unwrap();
    let err = backup::backup(e._dir.path(), &dest.path().join("second")).unwrap_err();
    assert!(matches!(err, BackupError::Corrupt { .. }), "{err}");
}

/// The binary: `backup` of a mirror with a signing key, `restore` into a new `--data`; the key
/// comes back byte for byte and owner-only, and the restored mirror lists the same versions.
#[test]
fn the_cli_backs_up_and_restores_a_mirror_with_its_signing_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let skill = dir.path().join("weather-brief");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(skill.join("SKILL.md"), BENIGN_MD).unwrap();
    let run = |data: &std::path::Path, args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"))
            .arg("--data")
            .arg(data)
            .args(args)
            .output()
            .unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        (o.status.code(), out)
    };
    let (code, out) = run(&data, &["key", "init"]);
    assert_eq!(code, Some(0), "{out}");
    let skill_arg = skill.to_str().unwrap();
    let (code, out) = run(&data, &["import", skill_arg, "--slug", "weather-brief", "--version", "1.0.0"]);
    assert_eq!(code, Some(0), "{out}");
    let backup_dir = dir.path().join("backup");
    let (code, out) = run(&data, &["backup", "--to", backup_dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("backup: "), "{out}");

    let restored = dir.path().join("restored");
    let (code, out) = run(&restored, &["restore", "--from", backup_dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let key = restored.join("keys/mirror.key");
    assert_eq!(std::fs::read(&key).unwrap(), std::fs::read(data.join("keys/mirror.key")).unwrap());
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&restored).unwrap().permissions().mode() & 0o777, 0o700);
    let (_, before) = run(&data, &["list"]);
    let (code, after) = run(&restored, &["list"]);
    assert_eq!(code, Some(0), "{after}");
    assert_eq!(before, after);
    assert!(after.contains("weather-brief"), "{after}");

    // A second restore over the restored mirror is refused and changes nothing.
    let (code, out) = run(&restored, &["restore", "--from", backup_dir.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not empty"), "{out}");
}
