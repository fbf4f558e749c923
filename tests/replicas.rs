//! Issue 14, end to end: two `skillscan-mirror serve` replicas on different ports over one
//! PostgreSQL database and one S3 bucket (a real PostgreSQL and a real Garage in CI, started by
//! `.ci/run`). An import and an approval through one replica are served byte for byte, with a
//! signature stock `minisign` verifies, by the other within 2 s; the real `clawhub` CLI installs
//! through either; and when one replica is killed mid-load, every request a client retries on
//! the other succeeds.
//!
//! Needs `SKILLSCAN_PG_URL` (`.ci/postgres.sh start DIR`) and `SKILLSCAN_S3_URL` with the
//! `AWS_*` environment (`.ci/garage.sh start DIR`), the clawhub CLI and minisign.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::mirror_e2e::{
    Server, clawhub_command, find_clawhub, find_tool, fixture, fixture_of, mirror_bin, out_text, serve_mirror_with,
};

/// Held for review by the default policy (a shortener link is a `caution` finding).
const HELD_MD: &str = "---\nname: release-notes\ndescription: Summarises release notes.\n---\n# Release notes\n\n\
Setup guide: [our guide](https://tinyurl.com/notes-setup-7)\n\nRun `python3 scripts/notes.py`.\n";

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the servers with .ci/postgres.sh and .ci/garage.sh (see the README)")
    })
}

fn nonce() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}{}", t.as_nanos() % 1_000_000_000_000, std::process::id())
}

/// A database of its own on the test server: `CREATE DATABASE` through psql, then the same URL
/// with that database's name.
fn fresh_database(admin_url: &str) -> String {
    let name = format!("replicas_{}", nonce());
    let o = Command::new("psql")
        .arg(admin_url)
        .args(["-v", "ON_ERROR_STOP=1", "-qc"])
        .arg(format!("CREATE DATABASE {name}"))
        .output();
    let o = o.expect("psql (Debian's postgresql-client) is needed to create the test database");
    assert!(o.status.success(), "CREATE DATABASE: {}", out_text(&o));
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let cut = base.rfind('/').expect("a database URL ends in /DBNAME");
    format!("{}/{name}{query}", &base[..cut])
}

/// One HTTP/1.1 request (Connection: close); an error when the replica is gone.
fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let hostport = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(hostport)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head (connection cut)"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    Ok((status, raw[split + 4..].to_vec()))
}

fn get(base: &str, path: &str) -> (u16, Vec<u8>) {
    request(base, "GET", path, &[], b"").unwrap_or_else(|e| panic!("GET {base}{path}: {e}"))
}

/// `serve` on an ephemeral port over `storage` and `database` (in the environment), named `name`
/// in `/status`.
fn serve(data: &Path, storage: &[String], database: Option<&str>, name: &str) -> (Server, String) {
    let mut env = vec![("SKILLSCAN_MIRROR_REPLICA", name)];
    if let Some(url) = database {
        env.push(("SKILLSCAN_MIRROR_DATABASE", url));
    }
    serve_mirror_with(data, storage, &env)
}

fn copy_keys(from: &Path, to: &Path) {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let keys = to.join("keys");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&keys).unwrap();
    for name in ["mirror.key", "mirror.pub"] {
        std::fs::copy(from.join("keys").join(name), keys.join(name)).unwrap();
        std::fs::set_permissions(keys.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
#[cfg_attr(
    no_replicas,
    ignore = "needs PostgreSQL and S3 (SKILLSCAN_PG_URL, SKILLSCAN_S3_URL: .ci/postgres.sh and .ci/garage.sh), \
              the clawhub CLI and minisign; SKILLSCAN_REQUIRE_POSTGRES=1 / SKILLSCAN_REQUIRE_S3=1 make them required"
)]
fn two_replicas_over_one_postgres_and_one_bucket() {
    let pg = required_env("SKILLSCAN_PG_URL");
    let s3 = required_env("SKILLSCAN_S3_URL");
    let clawhub = find_clawhub().expect("the clawhub CLI (CLAWHUB_BIN)");
    let minisign = find_tool("MINISIGN_BIN", &[PathBuf::from("/usr/bin/minisign")], "minisign").expect("minisign");
    let database = fresh_database(&pg);
    let blobs = format!("{}/replicas-{}", s3.trim_end_matches('/'), nonce());
    // The database URL holds a password: it goes in the environment, not on command lines (`ps`).
    let storage = vec!["--blobs".to_string(), blobs.clone()];

    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("replica-a"), tmp.path().join("replica-b"));
    let bin = mirror_bin();
    let mirror = |data: &Path, args: &[&str]| -> Output {
        Command::new(&bin)
            .arg("--data")
            .arg(data)
            .args(&storage)
            .args(args)
            .env("SKILLSCAN_MIRROR_DATABASE", &database)
            .env_remove("SKILLSCAN_MIRROR_CONFIG")
            .output()
            .unwrap()
    };

    // On shared storage no command makes a key by itself, even before anything is signed: each
    // replica would make its own.
    let d = tmp.path().join("replica-d");
    std::fs::create_dir_all(&d).unwrap();
    let o = mirror(&d, &["list"]);
    assert!(!o.status.success() && out_text(&o).contains("none is made by"), "{}", out_text(&o));
    assert!(!d.join("keys/mirror.key").exists(), "no key was generated on a shared store");

    // The signing key lives where writes happen: made on A, given to B by the operator.
    let o = mirror(&a, &["key", "init"]);
    assert!(o.status.success(), "key init: {}", out_text(&o));
    copy_keys(&a, &b);
    let o = mirror(&a, &["token", "create", "--name", "ops", "--role", "admin"]);
    assert!(o.status.success(), "token create: {}", out_text(&o));
    let token = String::from_utf8(o.stdout).unwrap().trim().to_string();

    let (server_a, base_a) = serve(&a, &storage, Some(&database), "replica-a");
    let (_server_b, base_b) = serve(&b, &storage, Some(&database), "replica-b");

    // An import through A: a clean skill (approved by policy) and a held one.
    let benign = fixture("benign", "weather-brief", "acme", "1.0.0");
    let mut held_files = std::collections::BTreeMap::new();
    held_files.insert("SKILL.md".to_string(), HELD_MD.as_bytes().to_vec());
    held_files.insert("scripts/notes.py".to_string(), b"print('notes')\n".to_vec());
    let held = fixture_of("release-notes", "acme", "1.0.0", held_files);
    for fx in [&benign, &held] {
        let zip = tmp.path().join(format!("{}.zip", fx.slug));
        std::fs::write(&zip, &fx.zip).unwrap();
        let o = mirror(
            &a,
            &["import", "--slug", fx.slug, "--version", fx.version, "--owner", fx.owner, zip.to_str().unwrap()],
        );
        assert!(o.status.success(), "import {}: {}", fx.slug, out_text(&o));
    }
    let (s, _) = get(&base_b, "/api/v1/download?slug=release-notes&version=1.0.0");
    assert_eq!(s, 423, "the held version is held on B too");

    // Approval through A's admin API; B serves it within 2 s, byte for byte.
    let auth = format!("Bearer {token}");
    let (s, body) = request(
        &base_a,
        "POST",
        "/api/v1/admin/versions/release-notes/1.0.0/approve",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        br#"{"reason":"the shortener points at our own docs"}"#,
    )
    .unwrap();
    assert_eq!(s, 200, "approve on A: {}", String::from_utf8_lossy(&body));
    let approved_at = Instant::now();
    let served = loop {
        let (s, body) = get(&base_b, "/api/v1/download?slug=release-notes&version=1.0.0");
        if s == 200 {
            break body;
        }
        assert!(approved_at.elapsed() < Duration::from_secs(2), "B still answers {s} 2 s after the approval on A");
        std::thread::sleep(Duration::from_millis(50));
    };
    let lag = approved_at.elapsed();
    assert_eq!(served, held.zip, "B serves the approved archive byte for byte");
    eprintln!("replica B served the approval made on A after {} ms", lag.as_millis());

    // Its signature, from B, verifies with stock minisign against the key B publishes (A's).
    let (s, sig) = get(&base_b, "/api/v1/download/signature?slug=release-notes&version=1.0.0");
    assert_eq!(s, 200);
    let (_, pub_b) = get(&base_b, "/.well-known/skillscan.pub");
    let (_, pub_a) = get(&base_a, "/.well-known/skillscan.pub");
    assert_eq!(pub_a, pub_b, "one key for both replicas");
    let d = tmp.path();
    std::fs::write(d.join("release-notes.zip"), &served).unwrap();
    std::fs::write(d.join("release-notes.zip.minisig"), &sig).unwrap();
    std::fs::write(d.join("mirror.pub"), &pub_b).unwrap();
    let o = Command::new(&minisign)
        .arg("-Vm")
        .arg(d.join("release-notes.zip"))
        .arg("-p")
        .arg(d.join("mirror.pub"))
        .output()
        .unwrap();
    assert!(o.status.success() && out_text(&o).contains("slug:release-notes"), "minisign: {}", out_text(&o));

    // A replica with a key of its own would sign with a key the others do not have: refused.
    let other = tmp.path().join("other-key");
    let o = Command::new(&bin).arg("--data").arg(&other).args(["key", "init"]).output().unwrap();
    assert!(o.status.success(), "key init (embedded): {}", out_text(&o));
    let c = tmp.path().join("replica-c");
    copy_keys(&other, &c);
    let o = mirror(&c, &["list"]);
    assert!(!o.status.success() && out_text(&o).contains("is not the key that signed"), "{}", out_text(&o));

    // Both replicas say which revision they serve: the same one.
    let status = |base: &str| -> serde_json::Value { serde_json::from_slice(&get(base, "/status").1).unwrap() };
    let (sa, sb) = (status(&base_a), status(&base_b));
    assert_eq!((sa["database"].as_str(), sa["blobs"].as_str()), (Some("postgres"), Some("s3")), "{sa}");
    assert_eq!((sa["replica"].as_str(), sb["replica"].as_str()), (Some("replica-a"), Some("replica-b")));
    assert_eq!(sa["storeRevision"], sb["storeRevision"], "{sa}\n{sb}");
    assert_eq!(sb["servedRevision"], sb["storeRevision"], "{sb}");

    // The real clawhub CLI installs through either replica.
    for (name, base) in [("a", &base_a), ("b", &base_b)] {
        let home = tmp.path().join(format!("home-{name}"));
        let work = tmp.path().join(format!("work-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        for fx in [&benign, &held] {
            let o = clawhub_command(&clawhub, base, &home)
                .args(["install", fx.slug, "--workdir", work.to_str().unwrap(), "--no-input"])
                .output()
                .unwrap();
            assert!(o.status.success(), "clawhub install {} through {name}: {}", fx.slug, out_text(&o));
            for (path, bytes) in fx.files.iter().filter(|(p, _)| *p != "_meta.json") {
                let got = std::fs::read(work.join("skills").join(fx.slug).join(path)).unwrap();
                assert_eq!(&got, bytes, "{}/{path} through {name}", fx.slug);
            }
        }
    }

    // Kill A mid-load: clients go to A first and retry on B; no request is lost.
    let clients = 4;
    let per_client = 60;
    let done = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (base_a, base_b, done, retried) = (base_a.clone(), base_b.clone(), done.clone(), retried.clone());
            let want = held.zip.clone();
            std::thread::spawn(move || {
                for _ in 0..per_client {
                    let path = "/api/v1/download?slug=release-notes&version=1.0.0";
                    let body = match request(&base_a, "GET", path, &[], b"") {
                        Ok((200, body)) => body,
                        _ => {
                            retried.fetch_add(1, Ordering::Relaxed);
                            let (s, body) = request(&base_b, "GET", path, &[], b"").expect("B answers the retry");
                            assert_eq!(s, 200, "the retry on B");
                            body
                        }
                    };
                    assert_eq!(body, want, "a download during the failover");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    while done.load(Ordering::Relaxed) < clients * per_client / 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(server_a); // SIGKILL, mid-load
    for t in threads {
        t.join().expect("a client lost a request");
    }
    assert_eq!(done.load(Ordering::Relaxed), clients * per_client);
    assert!(retried.load(Ordering::Relaxed) > 0, "A was killed while clients were still using it");
}

/// `migrate` copies a running embedded mirror to PostgreSQL + S3: the replica started on the
/// copy serves the same archives and signatures, keeps the audit log, and refuses a second
/// migration into the now occupied database.
#[test]
#[cfg_attr(
    no_replicas,
    ignore = "needs PostgreSQL and S3 (SKILLSCAN_PG_URL, SKILLSCAN_S3_URL: .ci/postgres.sh and .ci/garage.sh), \
              the clawhub CLI and minisign; SKILLSCAN_REQUIRE_POSTGRES=1 / SKILLSCAN_REQUIRE_S3=1 make them required"
)]
fn migrate_copies_a_running_embedded_mirror_to_postgres_and_s3() {
    let pg = required_env("SKILLSCAN_PG_URL");
    let s3 = required_env("SKILLSCAN_S3_URL");
    let database = fresh_database(&pg);
    let blobs = format!("{}/migrate-{}", s3.trim_end_matches('/'), nonce());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("embedded");
    let bin = mirror_bin();
    let run = |args: &[&str]| -> Output {
        Command::new(&bin).arg("--data").arg(&data).args(args).env_remove("SKILLSCAN_MIRROR_CONFIG").output().unwrap()
    };
    let o = run(&["key", "init"]);
    assert!(o.status.success(), "key init: {}", out_text(&o));
    let benign = fixture("benign", "weather-brief", "acme", "1.0.0");
    let zip = tmp.path().join("weather-brief.zip");
    std::fs::write(&zip, &benign.zip).unwrap();
    let o = run(&["import", "--slug", "weather-brief", "--version", "1.0.0", "--owner", "acme", zip.to_str().unwrap()]);
    assert!(o.status.success(), "import: {}", out_text(&o));
    let (_embedded, embedded_base) = serve(&data, &[], None, "embedded");
    let (s, before) = get(&embedded_base, "/api/v1/download?slug=weather-brief&version=1.0.0");
    assert_eq!(s, 200);
    let (_, sig_before) = get(&embedded_base, "/api/v1/download/signature?slug=weather-brief&version=1.0.0");

    // While the embedded mirror serves.
    let migrate = || {
        Command::new(&bin)
            .arg("--data")
            .arg(&data)
            .args(["migrate", "--blobs-to", &blobs])
            .env("SKILLSCAN_MIRROR_MIGRATE_TO", &database)
            .env_remove("SKILLSCAN_MIRROR_CONFIG")
            .output()
            .unwrap()
    };
    let o = migrate();
    let text = out_text(&o);
    assert!(o.status.success(), "migrate: {text}");
    assert!(text.contains("1 signatures verified"), "{text}");
    let password = database
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_string());
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        assert!(!text.contains(&password), "the database password is never shown: {text}");
    }

    let storage = vec!["--blobs".to_string(), blobs.clone()];
    let (_copy, copy_base) = serve(&data, &storage, Some(&database), "migrated");
    let (s, after) = get(&copy_base, "/api/v1/download?slug=weather-brief&version=1.0.0");
    assert_eq!(s, 200);
    assert_eq!(after, before, "the same archive bytes");
    let (_, sig_after) = get(&copy_base, "/api/v1/download/signature?slug=weather-brief&version=1.0.0");
    assert_eq!(sig_after, sig_before, "the same signature");
    let status: serde_json::Value = serde_json::from_slice(&get(&copy_base, "/status").1).unwrap();
    assert_eq!((status["database"].as_str(), status["blobs"].as_str()), (Some("postgres"), Some("s3")), "{status}");
    let audit = |database: Option<&str>| -> String {
        let mut c = Command::new(&bin);
        c.arg("--data").arg(&data).args(["audit", "--json"]).env_remove("SKILLSCAN_MIRROR_DATABASE");
        if let Some(url) = database {
            c.args(["--blobs", &blobs]).env("SKILLSCAN_MIRROR_DATABASE", url);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).to_string()
    };
    let copied = audit(Some(&database));
    assert!(copied.lines().count() >= 3, "{copied}");
    assert_eq!(copied, audit(None), "the audit log, event for event");

    let o = migrate();
    assert!(!o.status.success() && out_text(&o).contains("already holds a mirror"), "{}", out_text(&o));
}
