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
use skillscan_mirror::store::{
    AuditLog, BlobStore, IncidentStore, MetaStore, NewVersion, StoreError, TokenStore, Transfer, VersionStore,
    WebhookOutbox,
};
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
    /// While set, `revision()` fails: the store is unreachable.
    unreachable: AtomicBool,
}

macro_rules! delegate {
    ($($name:ident ( $($a:ident : $t:ty),* ) -> $r:ty;)*) => {
        $(fn $name(&self, $($a: $t),*) -> $r { self.inner.$name($($a),*) })*
    };
}

impl VersionStore for FailingInsert {
    fn insert_version(
        &self,
        v: &NewVersion,
        actor: &str,
        reason: &str,
    ) -> Result<skillscan_mirror::store::Inserted, StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(StoreError::from(rusqlite_err()));
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
    }
}

impl AuditLog for FailingInsert {
    delegate! {
        audit(limit: Option<usize>) -> Result<Vec<skillscan_mirror::model::AuditEvent>, StoreError>;
    }
}

impl IncidentStore for FailingInsert {
    delegate! {
        record_alert(a: &skillscan_mirror::model::IntegrityAlert, actor: &str, w: Vec<(String, String, String)>) -> Result<i64, StoreError>;
        alerts() -> Result<Vec<skillscan_mirror::model::IntegrityAlert>, StoreError>;
        record_blob_fault(a: &skillscan_mirror::model::IntegrityAlert, actor: &str, w: Vec<(String, String, String)>) -> Result<bool, StoreError>;
        blob_faults() -> Result<Vec<skillscan_mirror::model::BlobFault>, StoreError>;
        clear_blob_fault(slug: &str, version: &str, actor: &str, reason: &str) -> Result<bool, StoreError>;
        record_sync_failure(f: &skillscan_mirror::model::SyncFailure) -> Result<(), StoreError>;
        sync_failures(limit: usize) -> Result<Vec<skillscan_mirror::model::SyncFailure>, StoreError>;
    }
}

impl TokenStore for FailingInsert {
    delegate! {
        insert_token(name: &str, role: &str, h: &str) -> Result<i64, StoreError>;
        find_token(h: &str) -> Result<Option<skillscan_mirror::store::TokenRecord>, StoreError>;
        tokens() -> Result<Vec<skillscan_mirror::store::TokenRecord>, StoreError>;
        revoke_token(name: &str) -> Result<bool, StoreError>;
        tokens_with_hashes() -> Result<Vec<(String, String)>, StoreError>;
    }
}

impl WebhookOutbox for FailingInsert {
    delegate! {
        due_webhooks(now: i64, max: u32) -> Result<Vec<skillscan_mirror::store::OutboxItem>, StoreError>;
        webhook_delivered(id: i64, now: i64) -> Result<(), StoreError>;
        webhook_failed(id: i64, next: i64, e: &str) -> Result<(), StoreError>;
    }
}

impl Transfer for FailingInsert {
    delegate! {
        export() -> Result<skillscan_mirror::store::Export, StoreError>;
        import(e: &skillscan_mirror::store::Export) -> Result<(), StoreError>;
    }
}

impl MetaStore for FailingInsert {
    fn revision(&self) -> Result<u64, StoreError> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(StoreError::backend("test", "connection refused"));
        }
        self.inner.revision()
    }
    fn backend(&self) -> &'static str {
        "sqlite (failing insert)"
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
        unreachable: AtomicBool::new(false),
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

/// A small seeded generator (splitmix64): the campaign prints its seed, and
/// `SKILLSCAN_CRASH_SEED=<seed>` replays the same choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One command of the campaign.
#[derive(Debug, Clone)]
enum Op {
    /// `import FOLDER --slug S --version V --owner O`
    Import(usize),
    /// `sync --upstream U --slug S`
    Sync(&'static str),
    /// `approve [--override] | reject | revoke SLUG@VERSION`
    Decide(&'static str, String, bool),
}

/// The mirror's command line, for the campaign: its data directory and configuration.
struct Cli {
    data: std::path::PathBuf,
    config: std::path::PathBuf,
}

impl Cli {
    fn command(&self, args: &[String]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"));
        c.arg("--data").arg(&self.data).arg("--config").arg(&self.config).args(args);
        c.env_remove("SKILLSCAN_MIRROR_WEBHOOK_URL").env_remove("SKILLSCAN_MIRROR_UPSTREAM_TOKEN");
        c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        c
    }

    fn run(&self, args: &[String]) -> (Option<i32>, String) {
        let out = self.command(args).output().unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    /// Start the command and SIGKILL it after `delay` if it is still running. Returns
    /// whether it was killed (a command that finished first was not).
    fn run_and_kill(&self, args: &[String], delay: std::time::Duration) -> bool {
        let mut command = self.command(args);
        let mut child =
            command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        let start = std::time::Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if start.elapsed() >= delay {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_micros(500));
        }
    }
}

/// What the campaign has seen so far, checked after every restart.
#[derive(Default)]
struct Seen {
    /// `slug@version` → pinned sha256.
    pins: std::collections::BTreeMap<String, String>,
    /// Every version ever seen approved.
    approved: std::collections::BTreeSet<String>,
}

impl Seen {
    /// The database opens; no pin changed; no approved version was lost (it is approved or
    /// revoked, never anything else, with the same digest); every version's blob re-hashes to
    /// its pin (so nothing half-written can be served); approved versions are signed; and,
    /// when `settled`, nothing is left in `fetched` or `scanned`.
    fn check(&mut self, data: &std::path::Path, blobs: &FsBlobStore, settled: bool, ctx: &str) {
        let meta = SqliteStore::open(&data.join("mirror.db")).unwrap_or_else(|e| panic!("{ctx}: db: {e}"));
        let rows = meta.versions(None).unwrap_or_else(|e| panic!("{ctx}: db: {e}"));
        let now: std::collections::BTreeMap<String, _> = rows.iter().map(|v| (v.key(), v)).collect();
        for (key, sha) in &self.pins {
            let v = now.get(key).unwrap_or_else(|| panic!("{ctx}: {key} disappeared"));
            assert_eq!(&v.archive_sha256, sha, "{ctx}: the pin of {key} changed");
        }
        for key in &self.approved {
            let state = now[key].state;
            assert!(matches!(state, State::Approved | State::Revoked), "{ctx}: approved {key} is now {state}");
        }
        for v in &rows {
            self.pins.insert(v.key(), v.archive_sha256.clone());
            blobs.get(&v.archive_sha256).unwrap_or_else(|e| panic!("{ctx}: {} points at a bad blob: {e}", v.key()));
            if v.state == State::Approved {
                assert!(v.signature.is_some(), "{ctx}: {} approved unsigned", v.key());
                self.approved.insert(v.key());
            }
            if settled {
                assert!(!matches!(v.state, State::Fetched | State::Scanned), "{ctx}: {} left {}", v.key(), v.state);
            }
        }
    }
}

/// `GET path` on a local server; (status, body).
fn http_get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap();
    (status, raw[split + 4..].to_vec())
}

/// The fault campaign as a test: at least 100 SIGKILLs of the real binary at random points of
/// `import`, `sync` (against a local fake upstream), `approve`, `reject` and `revoke`. After
/// each kill the killed ingest is run once more to completion (a restart), then the invariants
/// of [`Seen::check`] hold; at the end `serve` serves every approved version byte for byte.
#[test]
fn sigkill_campaign_keeps_approvals_pins_and_blobs_and_leaves_nothing_stuck() {
    let seed = std::env::var("SKILLSCAN_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    println!("crash campaign seed: {seed} (replay with SKILLSCAN_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let root = tempfile::tempdir().unwrap();
    let cli = Cli { data: root.path().join("data"), config: root.path().join("config.toml") };
    std::fs::create_dir_all(&cli.data).unwrap();
    // acme auto-approves; bob's fresh versions wait for review; the malicious skill is rejected.
    std::fs::write(cli.data.join("policy.toml"), "min_age = \"3650d\"\n\n[[allow]]\nowner = \"acme\"\n").unwrap();
    std::fs::write(&cli.config, "[upstream]\nretries = 0\ntimeout = \"10s\"\n").unwrap();
    let (code, out) = cli.run(&["key".into(), "init".into()]);
    assert_eq!(code, Some(0), "{out}");

    // Folders to import: (folder, slug, version, owner).
    let folders: Vec<(tempfile::TempDir, &str, String, &str)> = [("w-imp", "acme", 4), ("q-imp", "bob", 2)]
        .into_iter()
        .flat_map(|(slug, owner, n)| (0..n).map(move |i| (slug, owner, format!("1.0.{i}"))))
        .map(|(slug, owner, version)| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("SKILL.md"), BENIGN_MD).unwrap();
            std::fs::write(dir.path().join("notes.md"), format!("{slug} {version}\n")).unwrap();
            (dir, slug, version, owner)
        })
        .collect();
    // The upstream: s-acme with three versions, s-bad with a malicious one.
    let malicious = include_str!("../../../tests/fixtures/mirror/malicious/crypto-tracker/SKILL.md");
    let mut routes = Vec::new();
    let mut upstream_keys = Vec::new();
    for (slug, owner, versions, body) in
        [("s-acme", "acme", &["1.0.0", "1.0.1", "1.0.2"][..], BENIGN_MD), ("s-bad", "mallory", &["1.0.0"], malicious)]
    {
        let detail = serde_json::json!({
            "skill": {"slug": slug, "displayName": slug, "summary": "s"},
            "latestVersion": {"version": versions[versions.len() - 1], "createdAt": 1, "changelog": "c"},
            "metadata": null, "owner": {"handle": owner}, "moderation": null,
        });
        let items: Vec<_> =
            versions.iter().map(|v| serde_json::json!({"version": v, "createdAt": 1, "changelog": "c"})).collect();
        let list = serde_json::json!({"items": items, "nextCursor": null});
        routes.push((format!("/api/v1/skills/{slug}"), "200 OK".to_string(), detail.to_string().into_bytes()));
        routes.push((
            format!("/api/v1/skills/{slug}/versions?limit=5"),
            "200 OK".into(),
            list.to_string().into_bytes(),
        ));
        for v in versions {
            let files = [("SKILL.md", body), ("notes.md", *v)];
            let path = format!("/api/v1/download?slug={slug}&version={v}&ownerHandle={owner}");
            routes.push((path, "200 OK".into(), zip(slug, v, &files)));
            upstream_keys.push(format!("{slug}@{v}"));
        }
    }
    let (upstream, _) = crate::regressions::std_upstream(routes);
    let upstream = format!("http://{upstream}");
    let keys: Vec<String> =
        folders.iter().map(|(_, slug, version, _)| format!("{slug}@{version}")).chain(upstream_keys).collect();

    let args_of = |op: &Op| -> Vec<String> {
        let s = |x: &str| x.to_string();
        match op {
            Op::Import(i) => {
                let (dir, slug, version, owner) = &folders[*i];
                let path = dir.path().to_string_lossy().into_owned();
                vec![s("import"), path, s("--slug"), s(slug), s("--version"), version.clone(), s("--owner"), s(owner)]
            }
            Op::Sync(slug) => vec![s("sync"), s("--upstream"), upstream.clone(), s("--slug"), s(slug)],
            Op::Decide(action, key, over) => {
                let mut a = vec![s(action), key.clone(), s("--reason"), s("crash campaign"), s("--by"), s("ops")];
                if *over {
                    a.push(s("--override"));
                }
                a
            }
        }
    };

    let blobs = FsBlobStore::open(&cli.data).unwrap();
    let mut seen = Seen::default();
    let (mut kills, mut iteration) = (0u32, 0u32);
    let started = std::time::Instant::now();
    while kills < 100 {
        iteration += 1;
        assert!(iteration <= 1000, "seed {seed}: only {kills} kills landed in {iteration} runs");
        let op = match rng.below(10) {
            0..=2 => Op::Import(rng.below(folders.len() as u64) as usize),
            3..=4 => Op::Sync(if rng.below(3) == 0 { "s-bad" } else { "s-acme" }),
            r => {
                let key = keys[rng.below(keys.len() as u64) as usize].clone();
                let action = ["approve", "reject", "revoke", "approve", "revoke"][(r - 5) as usize];
                Op::Decide(action, key, rng.below(2) == 0)
            }
        };
        // Mostly a few milliseconds (a command that does not scan takes 10-40 ms); sometimes
        // long enough to land in a scan or the decision after it.
        let delay_ms = if rng.below(6) == 0 { rng.below(3000) } else { rng.below(40) };
        let args = args_of(&op);
        let killed = cli.run_and_kill(&args, std::time::Duration::from_millis(delay_ms));
        kills += u32::from(killed);
        let ctx = format!("seed {seed}, run {iteration} ({op:?}, killed after {delay_ms} ms: {killed})");
        // The restart: the interrupted ingest is run once more, to completion.
        if matches!(op, Op::Import(_) | Op::Sync(_)) {
            let (code, out) = cli.run(&args);
            assert_eq!(code, Some(0), "{ctx}: the re-run failed: {out}");
        }
        seen.check(&cli.data, &blobs, true, &ctx);
    }
    println!("crash campaign: {kills} SIGKILLs in {iteration} runs, {:?}", started.elapsed());
    assert!(!seen.approved.is_empty(), "seed {seed}: nothing was ever approved");

    // Everything approved is served byte for byte; nothing else is.
    let mut server = cli.command(&["serve".into(), "--listen".into(), "127.0.0.1:0".into()]);
    let mut server = server.stderr(std::process::Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    let meta = SqliteStore::open(&cli.data.join("mirror.db")).unwrap();
    let mut problems = Vec::new();
    for v in meta.versions(None).unwrap() {
        let (status, body) = http_get(&addr, &format!("/api/v1/download?slug={}&version={}", v.slug, v.version));
        let served_ok = status == 200 && skillscan_mirror::archive::sha256_hex(&body) == v.archive_sha256;
        if (v.state == State::Approved) != served_ok {
            problems.push(format!("{} ({}): {status}", v.key(), v.state));
        }
    }
    let (health, _) = http_get(&addr, "/healthz");
    let _ = server.kill();
    let _ = server.wait();
    assert!(problems.is_empty(), "seed {seed}: {problems:?}");
    assert_eq!(health, 200, "seed {seed}");
}

/// Fail closed: a replica that cannot confirm, for longer than `[storage] max_lag`, that it
/// serves the store's current state (here: the store stops answering) answers the read API with
/// 503 and fails `/readyz`, instead of serving what may have been revoked since; the probes stay
/// up, and it serves again once the store answers.
#[tokio::test]
async fn a_replica_that_cannot_confirm_it_is_current_stops_serving_reads() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let meta = Arc::new(FailingInsert {
        inner: SqliteStore::open(&dir.path().join("mirror.db")).unwrap(),
        armed: AtomicBool::new(false),
        unreachable: AtomicBool::new(false),
    });
    let config = Config::parse("[storage]\nmax_lag = \"1s\"\n").unwrap();
    let m = Arc::new(mirror_with(
        dir.path(),
        Policy::default(),
        config,
        Arc::new(MarkerVetter::default()),
        blobs,
        meta.clone(),
    ));
    let o = m.ingest(input("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]), "t").unwrap();
    assert!(matches!(o, IngestOutcome::New { state: State::Approved, .. }), "{o:?}");
    let st = skillscan_mirror::AppState::new(m).unwrap();
    let app = skillscan_mirror::build_router(st.clone());
    let download = "/api/v1/download?slug=weather-brief&version=1.0.0";
    assert_eq!(get(app.clone(), download).await.0, 200);

    meta.unreachable.store(true, Ordering::SeqCst);
    assert!(st.refresh_if_changed().is_err());
    assert_eq!(get(app.clone(), download).await.0, 200, "within max_lag it still serves");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(st.refresh_if_changed().is_err());
    let (s, _, body) = get(app.clone(), download).await;
    assert_eq!(s, 503, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("retry on another replica"));
    assert_eq!(get(app.clone(), "/api/v1/skills/weather-brief").await.0, 503);
    assert_eq!(get(app.clone(), "/healthz").await.0, 200, "alive");
    assert_eq!(get(app.clone(), "/readyz").await.0, 503, "not ready");

    meta.unreachable.store(false, Ordering::SeqCst);
    st.refresh_if_changed().unwrap();
    assert_eq!(get(app.clone(), download).await.0, 200, "current again");
    assert_eq!(get(app, "/readyz").await.0, 200);
}
