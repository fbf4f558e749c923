//! Regression tests for the defects of issue 16 (mirror hardening), one per defect, named
//! after it. Each failed on `main` before its fix.

use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;

use crate::common::*;

fn state_of(o: &IngestOutcome) -> Option<State> {
    match o {
        IngestOutcome::New { state, .. } | IngestOutcome::Unchanged { state } => Some(*state),
        IngestOutcome::IntegrityAlert { .. } => None,
    }
}

/// Defect 1: the owner-change hold ran before `[[deny]]` and verdict → reject, so a
/// malicious update from a denied publisher was quarantined (423) instead of rejected (403).
#[tokio::test]
async fn defect1_policy_precedence_owner_change_never_softens_reject() {
    let p = Policy::parse("[[deny]]\nowner = \"mallory\"\nreason = \"known bad publisher\"\n").unwrap();
    let e = env_with(p, Config::default());
    let o = e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert_eq!(state_of(&o), Some(State::Approved), "{o:?}");

    // A malicious update from a denied publisher: rejected, whatever the owner change says.
    let o = e.ingest("weather-brief", "1.0.1", "mallory", &[("SKILL.md", "# W\nMALICIOUS payload\n")]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Rejected, reason } if reason.contains("denied by policy")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.1").await.0, 403);

    // A malicious update from a new, not denied owner: rejected by the verdict.
    let o = e.ingest("weather-brief", "1.0.2", "eve", &[("SKILL.md", "# W\nMALICIOUS payload\n")]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Rejected, reason } if reason.contains("malicious")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.2").await.0, 403);

    // A clean update from a new owner: the owner change downgrades approve to quarantine.
    let o = e.ingest("weather-brief", "1.0.3", "eve", &[("SKILL.md", BENIGN_MD)]);
    assert!(
        matches!(&o, IngestOutcome::New { state: State::Quarantined, reason } if reason.contains("owner changed")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.3").await.0, 423);
}

fn admin_post(uri: &str, token: &str, body: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

/// Defect 2: approving a version whose verdict maps to reject, or that a deny entry
/// matches, succeeded silently; and `rescan` with unchanged rules revoked the human's
/// explicit approval again.
#[tokio::test]
async fn defect2_approve_of_rejected_needs_override_and_rescan_keeps_it() {
    let p = Policy::parse("[[deny]]\nslug = \"denied-*\"\nreason = \"no denied skills\"\n").unwrap();
    let e = env_with(p, Config::default());
    let o = e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# C\nMALICIOUS payload RETRO\n")]);
    assert_eq!(state_of(&o), Some(State::Rejected), "{o:?}");
    let o = e.ingest("denied-skill", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert_eq!(state_of(&o), Some(State::Rejected), "{o:?}");
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    e.state.rebuild().unwrap();

    // Without an override: refused with the reason, nothing changes.
    let approve = "/api/v1/admin/versions/crypto-tracker/1.0.0/approve";
    let (s, _, b) = call(e.app(), admin_post(approve, &admin, r#"{"reason":"looks fine"}"#)).await;
    assert_eq!(s, 409, "{}", text(&b));
    assert!(text(&b).contains("override") && text(&b).contains("malicious"), "{}", text(&b));
    let denied = "/api/v1/admin/versions/denied-skill/1.0.0/approve";
    let (s, _, b) = call(e.app(), admin_post(denied, &admin, r#"{"reason":"looks fine"}"#)).await;
    assert_eq!(s, 409, "{}", text(&b));
    assert!(text(&b).contains("no denied skills"), "{}", text(&b));
    assert_eq!(e.mirror.get("crypto-tracker", "1.0.0").unwrap().state, State::Rejected);

    // With an override: approved, audited as `override` with the verdict and findings count.
    let body = r#"{"reason":"false positive","override":true}"#;
    let (s, _, b) = call(e.app(), admin_post(approve, &admin, body)).await;
    assert_eq!(s, 200, "{}", text(&b));
    assert_eq!(e.mirror.get("crypto-tracker", "1.0.0").unwrap().state, State::Approved);
    let audit = e.mirror.meta.audit(None).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "override");
    assert_eq!(last.actor, "token:alice");
    assert_eq!(last.verdict.as_deref(), Some("malicious"));
    assert!(last.reason.contains("verdict malicious") && last.reason.contains("1 finding"), "{}", last.reason);

    // rescan with the same rules keeps the override; so do new rules that find nothing new.
    let res = e.mirror.rescan(false, "retro").unwrap();
    assert!(res.iter().any(|(k, f, t, _)| k == "crypto-tracker@1.0.0" && *f == State::Approved && f == t), "{res:?}");
    *e.vetter.rules_version.lock().unwrap() = "test-rules-2".into();
    let res = e.mirror.rescan(false, "retro").unwrap();
    assert!(res.iter().any(|(k, f, t, _)| k == "crypto-tracker@1.0.0" && *f == State::Approved && f == t), "{res:?}");
    // New rules that find something the approval did not see: revoked.
    *e.vetter.rules_version.lock().unwrap() = "test-rules-3-strict".into();
    let res = e.mirror.rescan(false, "retro").unwrap();
    assert!(
        res.iter().any(|(k, f, t, _)| k == "crypto-tracker@1.0.0" && *f == State::Approved && *t == State::Revoked),
        "{res:?}"
    );
}

/// Defect 5: importing the same folder twice gave different bytes (`_meta.json` carried
/// `publishedAt = now`), hence a false integrity alert that said "upstream served different
/// bytes" with the actor hard-coded to `sync`.
#[test]
fn defect5_directory_import_is_deterministic_and_alerts_tell_the_truth() {
    use skillscan_mirror::Mirror;
    let e = env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(dir.path().join("SKILL.md"), BENIGN_MD).unwrap();
    std::fs::write(dir.path().join("scripts/run.py"), "print('hi')\n").unwrap();
    std::fs::write(dir.path().join("b.txt"), "b\n").unwrap();

    let first = Mirror::import_input(dir.path(), "weather-brief", "1.0.0", Some("acme")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let again = Mirror::import_input(dir.path(), "weather-brief", "1.0.0", Some("acme")).unwrap();
    let digest = |zip: &[u8]| skillscan_mirror::archive::sha256_hex(zip);
    assert_eq!(digest(&first.zip), digest(&again.zip), "packing the same folder twice gives the same bytes");
    let o = e.mirror.ingest(first, "import").unwrap();
    assert_eq!(state_of(&o), Some(State::Approved), "{o:?}");
    let o = e.mirror.ingest(again, "import").unwrap();
    assert!(matches!(o, IngestOutcome::Unchanged { .. }), "{o:?}");
    assert!(e.mirror.meta.alerts().unwrap().is_empty());

    // A changed folder is a real integrity alert: its actor and wording say it was an import.
    std::fs::write(dir.path().join("b.txt"), "changed\n").unwrap();
    let changed = Mirror::import_input(dir.path(), "weather-brief", "1.0.0", Some("acme")).unwrap();
    let o = e.mirror.ingest(changed, "import").unwrap();
    assert!(matches!(o, IngestOutcome::IntegrityAlert { .. }), "{o:?}");
    let alerts = e.mirror.meta.alerts().unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(!alerts[0].detail.contains("upstream"), "{}", alerts[0].detail);
    assert!(alerts[0].detail.contains("import"), "{}", alerts[0].detail);
    let audit = e.mirror.meta.audit(None).unwrap();
    let alert = audit.iter().find(|a| a.action == "integrity-alert").unwrap();
    assert_eq!(alert.actor, "import");
}

/// Defect 6: opening the blob store emptied `tmp/`, so any command (even `list`) run during
/// an import deleted the import's in-flight temp file and made it fail.
#[test]
fn defect6_opening_the_store_keeps_other_writers_temp_files() {
    use skillscan_mirror::store::BlobStore;
    use skillscan_mirror::store::blobs::FsBlobStore;
    let dir = tempfile::tempdir().unwrap();
    let writer = FsBlobStore::open(dir.path()).unwrap();
    let in_flight = writer.write_temp(b"a large import").unwrap();
    // Another process (here: another open) starts meanwhile.
    let reader = FsBlobStore::open(dir.path()).unwrap();
    assert!(in_flight.exists(), "a live writer's temp file was removed");
    let h = writer.put(b"a large import").unwrap();
    assert_eq!(reader.get(&h).unwrap(), b"a large import");
    drop(reader);
    // A dead owner's files are reaped by the next open.
    drop(writer);
    let _next = FsBlobStore::open(dir.path()).unwrap();
    assert!(!in_flight.exists(), "a dead writer's temp file was kept");
}

fn mirror_cmd(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .env_remove("SKILLSCAN_MIRROR_WEBHOOK_URL")
        .output()
        .unwrap()
}

fn import_benign(data: &std::path::Path, version: &str) {
    let skill = tempfile::tempdir().unwrap();
    std::fs::write(skill.path().join("SKILL.md"), BENIGN_MD).unwrap();
    let path = skill.path().to_str().unwrap();
    let out = mirror_cmd(data, &["import", path, "--slug", "weather-brief", "--version", version, "--owner", "acme"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("approved"), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Defect 10: losing `keys/` made any command (even `list`) silently create a new signing
/// identity, so every earlier signature failed against the served public key.
#[test]
fn defect10_signing_key_loss_refuses_to_start_and_rotation_is_explicit() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let data = data.path().join("data");
    let out = mirror_cmd(&data, &["key", "init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    import_benign(&data, "1.0.0");
    let key = data.join("keys/mirror.key");
    let secret = std::fs::read_to_string(&key).unwrap();
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let old_pub = std::fs::read_to_string(data.join("keys/mirror.pub")).unwrap();

    std::fs::remove_dir_all(data.join("keys")).unwrap();
    let out = mirror_cmd(&data, &["list"]);
    assert_eq!(out.status.code(), Some(2), "a lost key must stop the mirror");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("signing key") && err.contains("key rotate"), "{err}");
    assert!(!key.exists(), "no key may be generated once approvals exist");

    // `key init` refuses to replace an identity that signed approvals; `key rotate` makes a new
    // one, re-signs the approved versions and audits it. No secret is ever printed.
    let out = mirror_cmd(&data, &["key", "init"]);
    assert_eq!(out.status.code(), Some(2));
    let out = mirror_cmd(&data, &["key", "rotate", "--by", "ops"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let new_secret = std::fs::read_to_string(&key).unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    for line in new_secret.lines().skip(1) {
        assert!(!printed.contains(line), "the secret key was printed");
    }
    let new_pub = std::fs::read_to_string(data.join("keys/mirror.pub")).unwrap();
    assert_ne!(new_pub, old_pub);
    let out = mirror_cmd(&data, &["show", "weather-brief@1.0.0", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sig = shown["version"]["signature"].as_str().unwrap();
    let public = skillscan_signatures::minisign::PublicKey::parse(&new_pub).unwrap();
    let sig = skillscan_signatures::minisign::SignatureFile::parse(sig).unwrap();
    assert_eq!(sig.key_id, public.key_id, "the approved version is re-signed with the new key");
    let out = mirror_cmd(&data, &["audit", "--json"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"action\":\"key-rotate\""));
    // The mirror starts again with the new key.
    assert!(mirror_cmd(&data, &["list"]).status.success());
}

fn get_with(uri: &str, headers: &[(&str, &str)]) -> axum::http::Request<axum::body::Body> {
    let mut r = axum::http::Request::get(uri);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(axum::body::Body::empty()).unwrap()
}

/// Defect 13 (smaller items): `/metrics` was open while reads needed a token; the database
/// file and data directory were created with the umask's modes (0644/0755); `admin/audit`
/// took any `limit`; without `public_url` the `Host:` header was echoed into `apiBase`; and
/// a read-only command in a folder without a data directory created an empty one.
#[tokio::test]
async fn defect13_metrics_token_modes_audit_cap_host_and_missing_data_dir() {
    use std::os::unix::fs::PermissionsExt;

    // `/metrics` needs a token when reads do; `/healthz` stays open for probes.
    let e = env_with(Policy::default(), Config { require_read_token: true, ..Config::default() });
    let read = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "reader", "read").unwrap();
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    e.state.rebuild().unwrap();
    assert_eq!(get(e.app(), "/metrics").await.0, 401, "metrics without a token");
    let bearer = format!("Bearer {read}");
    assert_eq!(call(e.app(), get_with("/metrics", &[("authorization", &bearer)])).await.0, 200);
    assert_eq!(get(e.app(), "/healthz").await.0, 200);

    // `admin/audit?limit` is capped: an unbounded limit is refused, not run.
    let bearer = format!("Bearer {admin}");
    for limit in ["1000000", "18446744073709551615", "0"] {
        let uri = format!("/api/v1/admin/audit?limit={limit}");
        let (s, _, b) = call(e.app(), get_with(&uri, &[("authorization", &bearer)])).await;
        assert_eq!(s, 400, "limit={limit}: {}", text(&b));
    }
    let (s, _, b) = call(e.app(), get_with("/api/v1/admin/audit?limit=5", &[("authorization", &bearer)])).await;
    assert_eq!(s, 200, "{}", text(&b));

    // Without `public_url`, `apiBase` is the listen address, never the client's `Host:`.
    let e = env();
    let (s, _, b) = call(e.app(), get_with("/.well-known/clawhub.json", &[("host", "evil.example")])).await;
    assert_eq!(s, 200);
    let body = json(&b);
    assert_eq!(body["apiBase"], "http://127.0.0.1:8080", "{body}");
    assert!(!text(&b).contains("evil.example"), "{}", text(&b));

    // The data directory is created 0700 and the database 0600.
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let out = mirror_cmd(&data, &["key", "init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("mirror.db")), 0o600, "database file");

    // A read-only command where there is no data directory says so and creates nothing.
    let missing = root.path().join("typo");
    for args in [&["list"][..], &["audit"], &["alerts"], &["show", "weather-brief@1.0.0"], &["token", "list"]] {
        let out = mirror_cmd(&missing, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no data directory") && err.contains("typo"), "{args:?}: {err}");
        assert!(!missing.exists(), "{args:?} created an empty data directory");
    }
}

/// A std-only HTTP server answering `routes` (path and query → status, optionally followed by
/// header lines, and body; 404 otherwise) and recording each request's head.
fn std_upstream(routes: Vec<(String, String, Vec<u8>)>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(head);
            let (status, body) = routes
                .iter()
                .find(|(path, _, _)| *path == target)
                .map(|(_, status, body)| (status.clone(), body.clone()))
                .unwrap_or(("404 Not Found".into(), b"Skill not found".to_vec()));
            let reply = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(reply.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, heads)
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
            hits.push(path);
        }
    }
    hits
}

/// Defect 8: `user:password@` in the upstream URL landed in the audit log, the versions
/// table, sync failures, the admin API and debug logs, and a failing webhook's URL (for
/// Slack or Discord the URL is the secret) was logged on every retry and kept in the outbox.
#[test]
fn defect8_secrets_in_upstream_and_webhook_urls_are_never_stored_or_logged() {
    const PASSWORD: &str = "upstream-PASSWORD-4f1c";
    const TOKEN: &str = "upstream-TOKEN-9a2e";
    const HOOK_SECRET: &str = "hook-SECRET-77b3";
    let malicious = include_str!("../../../tests/fixtures/mirror/malicious/crypto-tracker/SKILL.md");
    let detail = serde_json::json!({
        "skill": {"slug": "crypto-tracker", "displayName": "Crypto", "summary": "s"},
        "latestVersion": {"version": "1.0.0", "createdAt": 1, "changelog": "c"},
        "metadata": null, "owner": {"handle": "acme"}, "moderation": null,
    });
    let versions =
        serde_json::json!({"items": [{"version": "1.0.0", "createdAt": 1, "changelog": "c"}], "nextCursor": null});
    let (upstream, heads) = std_upstream(vec![
        ("/api/v1/skills/crypto-tracker".into(), "200 OK".into(), detail.to_string().into_bytes()),
        ("/api/v1/skills/crypto-tracker/versions?limit=5".into(), "200 OK".into(), versions.to_string().into_bytes()),
        (
            "/api/v1/download?slug=crypto-tracker&version=1.0.0&ownerHandle=acme".into(),
            "200 OK".into(),
            zip("crypto-tracker", "1.0.0", &[("SKILL.md", malicious)]),
        ),
        ("/api/v1/skills/broken".into(), "500 Internal Server Error".into(), b"upstream is down".to_vec()),
    ]);
    // A webhook that cannot be reached: its delivery fails and is retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // The operator's configuration lives outside the data directory.
    let config = root.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[upstream]\nretries = 0\ntoken = \"{TOKEN}\"\n\n[[webhooks]]\nurl = \"http://127.0.0.1:{closed}/services/T0/{HOOK_SECRET}\"\n"
        ),
    )
    .unwrap();

    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"))
            .arg("--data")
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("SKILLSCAN_MIRROR_CONFIG")
            .env_remove("SKILLSCAN_MIRROR_WEBHOOK_URL")
            .env_remove("SKILLSCAN_MIRROR_UPSTREAM_TOKEN")
            .env("SKILLSCAN_MIRROR_LOG", "trace")
            .output()
            .unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let with_password = format!("http://mirror-user:{PASSWORD}@{upstream}");
    let (code, sync_log) = run(&["sync", "--upstream", &with_password, "--slug", "crypto-tracker", "--slug", "broken"]);
    assert_eq!(code, Some(1), "one item failed: {sync_log}");
    assert!(sync_log.contains("crypto-tracker@1.0.0: rejected"), "{sync_log}");
    assert!(sync_log.contains("webhook"), "the reject webhook failed: {sync_log}");
    let mut printed = sync_log;
    for args in [
        &["list", "--json"][..],
        &["show", "crypto-tracker@1.0.0", "--json"],
        &["audit", "--json"],
        &["alerts", "--json"],
    ] {
        let (code, out) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {out}");
        printed.push_str(&out);
    }
    assert!(printed.contains("TRACE"), "TRACE logging was on");
    // What was kept names the upstream without its credentials.
    assert!(printed.contains(&format!("http://{upstream}")), "{printed}");

    let mut leaks = Vec::new();
    for secret in [PASSWORD, TOKEN, HOOK_SECRET] {
        if printed.contains(secret) {
            leaks.push(format!("{secret} in the output or TRACE logs"));
        }
        for file in files_containing(&data, secret) {
            leaks.push(format!("{secret} stored in {}", file.display()));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
    // Upstream credentials come from `upstream.token`, sent as a bearer token, never from the URL.
    let heads = heads.lock().unwrap();
    assert!(heads.iter().all(|h| h.contains(&format!("authorization: Bearer {TOKEN}"))), "{heads:?}");
    assert!(heads.iter().all(|h| !h.to_lowercase().contains("basic")), "{heads:?}");
}

/// Defect 14, the mirror's side: `sync` shares the install client's containment policy
/// (`skillscan::clawhub::containment`). It followed a redirect to another host (here
/// `localhost` on another port) and read that host's answer.
#[tokio::test(flavor = "multi_thread")]
async fn defect14_sync_follows_only_same_origin_redirects() {
    use skillscan_mirror::sync::{SyncOptions, run};
    let (other, other_heads) = std_upstream(vec![]);
    let port = other.rsplit(':').next().unwrap().to_string();
    let elsewhere = format!("302 Found\r\nlocation: http://localhost:{port}/api/v1/skills/weather-brief");
    let (base, _) = std_upstream(vec![("/api/v1/skills/weather-brief".into(), elsewhere, vec![])]);
    let e = env();
    let opts = SyncOptions { upstream: format!("http://{base}"), slugs: vec!["weather-brief".into()], all: false };
    let report = run(e.mirror.clone(), opts).await.unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let error = &report.failures[0].error;
    assert!(error.contains("another origin"), "{error}");
    assert!(other_heads.lock().unwrap().is_empty(), "the other host was contacted");
}
