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
pub(crate) fn std_upstream(
    routes: Vec<(String, String, Vec<u8>)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
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

/// The path of the blob `sha256` in the data directory `data`.
fn blob_path(data: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    data.join("blobs/sha256").join(&sha256[..2]).join(&sha256[2..4]).join(sha256)
}

/// Defect 3: when the newest approved blob was corrupted or missing, `latest`, the install
/// resolver and a download without a version fell back to the older version, the signed
/// index was re-signed without it, `/healthz` stayed ok, nothing alerted, and a cold blob
/// answered 500 (which clients retry).
#[tokio::test]
async fn defect3_corrupt_or_missing_blob_alerts_degrades_and_never_rolls_back() {
    use skillscan_mirror::config::{Limits, WebhookConfig};
    let hook =
        WebhookConfig { url: "http://127.0.0.1:9/hook".into(), events: vec!["integrity_alert".into()], secret: None };
    for hot in [true, false] {
        let limits = Limits { hot_cache_bytes: if hot { 1 << 30 } else { 0 }, ..Limits::default() };
        let e = env_with(Policy::default(), Config { webhooks: vec![hook.clone()], limits, ..Config::default() });
        e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
        let newest = input("weather-brief", "1.0.1", "acme", &[("SKILL.md", BENIGN_MD), ("notes.md", "v2\n")]);
        assert_eq!(state_of(&e.mirror.ingest(newest.clone(), "test").unwrap()), Some(State::Approved));
        let sha = skillscan_mirror::archive::sha256_hex(&newest.zip);
        let blob = blob_path(e._dir.path(), &sha);
        // Bit rot in the hot case; the file gone in the cold case.
        if hot {
            std::fs::write(&blob, b"bit rot").unwrap();
        } else {
            std::fs::remove_file(&blob).unwrap();
        }
        // The server (re)starts and builds its snapshot from storage.
        let state = skillscan_mirror::AppState::new(e.mirror.clone()).unwrap();
        let app = || skillscan_mirror::build_router(state.clone());
        for uri in [
            "/api/v1/download?slug=weather-brief",
            "/api/v1/download?slug=weather-brief&version=1.0.1",
            "/api/v1/skills/weather-brief/install",
        ] {
            let (s, h, b) = get(app(), uri).await;
            assert_eq!(s, 503, "hot={hot} {uri}: {}", text(&b));
            assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"), "{uri}");
            assert!(text(&b).contains("weather-brief@1.0.1"), "{uri}: {}", text(&b));
        }
        // `latest` and the signed index still name 1.0.1: nothing moved on its own.
        let (_, _, b) = get(app(), "/api/v1/skillscan/index.json").await;
        let index = json(&b);
        let versions: Vec<&str> =
            index["versions"].as_array().unwrap().iter().filter_map(|v| v["version"].as_str()).collect();
        assert_eq!(versions.len(), 2, "hot={hot}: {index}");
        assert!(versions.contains(&"1.0.1"), "hot={hot}: {index}");
        // Alive (a restart would not mend the blob) but degraded, and not ready.
        let (s, _, b) = get(app(), "/healthz").await;
        assert_eq!(s, 200, "hot={hot}: {}", text(&b));
        assert_eq!(json(&b)["degraded"], true);
        let (s, _, b) = get(app(), "/readyz").await;
        assert_eq!(s, 503, "hot={hot}: {}", text(&b));
        let integrity = json(&b)["checks"].as_array().unwrap().iter().find(|c| c["name"] == "integrity").cloned();
        assert_eq!(integrity.unwrap()["ok"], false, "hot={hot}: {}", text(&b));
        let (_, _, b) = get(app(), "/metrics").await;
        assert!(text(&b).contains("skillscan_mirror_blob_faults 1"), "hot={hot}: {}", text(&b));
        // Alerted once: an alert, its audit entry and its webhook.
        state.rebuild().unwrap();
        let alerts = e.mirror.meta.alerts().unwrap();
        assert_eq!(alerts.len(), 1, "hot={hot}: {alerts:?}");
        assert_eq!((alerts[0].kind.as_str(), alerts[0].version.as_str()), ("blob-corrupt", "1.0.1"));
        assert_eq!(alerts[0].pinned_sha256, sha);
        let audit = e.mirror.meta.audit(None).unwrap();
        assert!(audit.iter().any(|a| a.action == "integrity-alert" && a.version == "1.0.1"), "{audit:?}");
        let due = e.mirror.meta.due_webhooks(i64::MAX, 8).unwrap();
        assert!(due.iter().any(|w| w.event == "integrity_alert" && w.payload.contains("blob-corrupt")), "{due:?}");

        // The operator acts: ingesting the identical bytes again restores the blob.
        let o = e.mirror.ingest(newest.clone(), "import").unwrap();
        assert_eq!(state_of(&o), Some(State::Approved), "{o:?}");
        state.rebuild().unwrap();
        let (s, _, b) = get(app(), "/api/v1/download?slug=weather-brief").await;
        assert_eq!(s, 200, "hot={hot}: {}", text(&b));
        assert_eq!(b.as_ref(), newest.zip.as_slice());
        assert_eq!(get(app(), "/readyz").await.0, 200);
        let audit = e.mirror.meta.audit(None).unwrap();
        assert!(audit.iter().any(|a| a.action == "blob-restored" && a.version == "1.0.1"), "{audit:?}");
    }
}

/// Defect 3, the read path: a cold blob that rots after the snapshot was built answered 500
/// (retried by clients) and alerted nobody.
#[tokio::test]
async fn defect3_cold_blob_rotting_under_a_running_server_answers_503_and_alerts() {
    use skillscan_mirror::config::Limits;
    let limits = Limits { hot_cache_bytes: 0, ..Limits::default() };
    let e = env_with(Policy::default(), Config { limits, ..Config::default() });
    let o = e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert_eq!(state_of(&o), Some(State::Approved));
    let sha = e.mirror.get("weather-brief", "1.0.0").unwrap().archive_sha256;
    std::fs::write(blob_path(e._dir.path(), &sha), b"rotten").unwrap();
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.0").await;
    assert_eq!(s, 503, "{}", text(&b));
    assert!(text(&b).contains("weather-brief@1.0.0"), "{}", text(&b));
    let (s, _, _) = get(e.app(), "/api/v1/skills/weather-brief/file?path=SKILL.md").await;
    assert_eq!(s, 503);
    let alerts = e.mirror.meta.alerts().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, "blob-corrupt");
    // The store knows at once: not ready even before the snapshot catches up.
    assert_eq!(get(e.app(), "/readyz").await.0, 503);
    // Once the server has noticed, the skill stays unavailable (and health degraded) until an
    // operator acts.
    e.state.rebuild().unwrap();
    assert_eq!(get(e.app(), "/readyz").await.0, 503);
    let (s, _, b) = get(e.app(), "/healthz").await;
    assert_eq!((s.as_u16(), json(&b)["degraded"].as_bool()), (200, Some(true)));
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief/install").await.0, 503);
}

/// Defect 3, `scrub`: re-hash every blob, report and alert, exit non-zero while anything is
/// corrupt; re-importing the identical bytes restores the blob.
#[test]
fn defect3_scrub_rehashes_every_blob_and_exits_non_zero_on_corruption() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    assert!(mirror_cmd(&data, &["key", "init"]).status.success());
    import_benign(&data, "1.0.0");
    let out = mirror_cmd(&data, &["scrub"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = mirror_cmd(&data, &["show", "weather-brief@1.0.0", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sha = shown["version"]["archiveSha256"].as_str().unwrap().to_string();
    std::fs::write(blob_path(&data, &sha), b"flipped bits").unwrap();

    let out = mirror_cmd(&data, &["scrub"]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("weather-brief@1.0.0") && printed.contains("corrupt"), "{printed}");
    let alerts = String::from_utf8_lossy(&mirror_cmd(&data, &["alerts"]).stdout).into_owned();
    assert!(alerts.contains("blob-corrupt") && alerts.contains("weather-brief@1.0.0"), "{alerts}");
    // A second scrub reports it again but does not alert twice.
    assert_eq!(mirror_cmd(&data, &["scrub"]).status.code(), Some(3));
    let alerts = String::from_utf8_lossy(&mirror_cmd(&data, &["alerts"]).stdout).into_owned();
    assert_eq!(alerts.matches("blob-corrupt").count(), 1, "{alerts}");

    import_benign(&data, "1.0.0");
    let out = mirror_cmd(&data, &["scrub"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

/// Leave `slug@version` in `data` as a crash between the blob write and the scan leaves it:
/// the pinned blob durable, the row `fetched` (or `scanned`). The bytes are what `import` of
/// `folder` packs.
fn leave_stuck(data: &std::path::Path, folder: &std::path::Path, version: &str, scanned: bool) -> String {
    use skillscan_mirror::archive::SkillArchive;
    use skillscan_mirror::store::blobs::FsBlobStore;
    use skillscan_mirror::store::prelude::*;
    use skillscan_mirror::store::sqlite::SqliteStore;
    use skillscan_mirror::store::{NewVersion, Transition};
    use skillscan_mirror::{Mirror, digests};
    let inp = Mirror::import_input(folder, "weather-brief", version, Some("acme")).unwrap();
    let a = SkillArchive::read(&inp.zip, &Default::default()).unwrap();
    let nv = NewVersion {
        slug: inp.slug.clone(),
        version: inp.version.clone(),
        owner: inp.owner.clone(),
        display_name: "weather-brief".into(),
        summary: None,
        changelog: String::new(),
        published_at: inp.published_at,
        source: inp.source.clone(),
        archive_sha256: skillscan_mirror::archive::sha256_hex(&inp.zip),
        archive_size: inp.zip.len() as u64,
        tree_digest: digests::tree_digest(&a.files).unwrap(),
        fingerprint: digests::server_fingerprint(&a.files),
        fingerprint_installed: digests::installed_fingerprint(&a.files),
        files: a.entries(),
        metadata_json: None,
        license: None,
    };
    let meta = SqliteStore::open(&data.join("mirror.db")).unwrap();
    let blobs = FsBlobStore::open(data).unwrap();
    blobs.put(&inp.zip).unwrap();
    meta.insert_version(&nv, "import", "fetched from a crash test").unwrap();
    if scanned {
        let id = meta.get_version("weather-brief", version).unwrap().unwrap().id;
        let t = Transition {
            id,
            from: State::Fetched,
            to: State::Scanned,
            actor: "import",
            action: "scan",
            reason: "scanned: verdict clean (score 0)",
            scan: None,
            signature: None,
            webhooks: vec![],
        };
        meta.transition(&t).unwrap();
    }
    nv.archive_sha256
}

fn state_in(data: &std::path::Path, version: &str) -> State {
    use skillscan_mirror::store::prelude::*;
    let meta = skillscan_mirror::store::sqlite::SqliteStore::open(&data.join("mirror.db")).unwrap();
    meta.get_version("weather-brief", version).unwrap().unwrap().state
}

fn skill_folder(body: &str) -> tempfile::TempDir {
    let skill = tempfile::tempdir().unwrap();
    std::fs::write(skill.path().join("SKILL.md"), BENIGN_MD).unwrap();
    std::fs::write(skill.path().join("notes.md"), body).unwrap();
    skill
}

/// Defect 4: a crash between the blob write and the scan left versions in `fetched` or
/// `scanned`; re-running `sync` said unchanged, `approve` refused, only `rescan --all`
/// recovered. `sync`, `import` and `serve` start-up now resume them from the pinned blob,
/// and alert when that blob is missing.
#[test]
fn defect4_versions_stuck_after_a_crash_are_resumed_by_import_sync_and_serve() {
    let (a, b, c) = (skill_folder("a\n"), skill_folder("b\n"), skill_folder("c\n"));
    let fresh = || {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        assert!(mirror_cmd(&data, &["key", "init"]).status.success());
        (root, data)
    };

    // `import`: re-importing the same folder resumes every stuck version; a stuck version
    // whose blob is gone raises an integrity alert instead.
    let (_root, data) = fresh();
    leave_stuck(&data, a.path(), "1.0.0", false);
    leave_stuck(&data, b.path(), "1.0.1", true);
    let gone = leave_stuck(&data, c.path(), "0.9.0", false);
    std::fs::remove_file(blob_path(&data, &gone)).unwrap();
    let path = a.path().to_str().unwrap();
    let out = mirror_cmd(&data, &["import", path, "--slug", "weather-brief", "--version", "1.0.0", "--owner", "acme"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state_in(&data, "1.0.0"), State::Approved);
    assert_eq!(state_in(&data, "1.0.1"), State::Approved);
    let alerts = String::from_utf8_lossy(&mirror_cmd(&data, &["alerts"]).stdout).into_owned();
    assert!(alerts.contains("blob-corrupt") && alerts.contains("weather-brief@0.9.0"), "{alerts}");

    // `sync`: the same bytes upstream are "unchanged", and the stuck version is resumed.
    let (_root, data) = fresh();
    leave_stuck(&data, a.path(), "1.0.0", true);
    let zip = skillscan_mirror::Mirror::import_input(a.path(), "weather-brief", "1.0.0", Some("acme")).unwrap().zip;
    let detail = serde_json::json!({
        "skill": {"slug": "weather-brief", "displayName": "Weather", "summary": "s"},
        "latestVersion": {"version": "1.0.0", "createdAt": 1, "changelog": "c"},
        "metadata": null, "owner": {"handle": "acme"}, "moderation": null,
    });
    let versions =
        serde_json::json!({"items": [{"version": "1.0.0", "createdAt": 1, "changelog": "c"}], "nextCursor": null});
    let (upstream, _) = std_upstream(vec![
        ("/api/v1/skills/weather-brief".into(), "200 OK".into(), detail.to_string().into_bytes()),
        ("/api/v1/skills/weather-brief/versions?limit=5".into(), "200 OK".into(), versions.to_string().into_bytes()),
        ("/api/v1/download?slug=weather-brief&version=1.0.0&ownerHandle=acme".into(), "200 OK".into(), zip),
    ]);
    let out = mirror_cmd(&data, &["sync", "--upstream", &format!("http://{upstream}"), "--slug", "weather-brief"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(state_in(&data, "1.0.0"), State::Approved, "{}", String::from_utf8_lossy(&out.stdout));

    // `serve`: start-up resumes, so the version is served.
    let (_root, data) = fresh();
    leave_stuck(&data, a.path(), "1.0.0", false);
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .env_remove("SKILLSCAN_MIRROR_WEBHOOK_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut line).unwrap();
    let resumed = state_in(&data, "1.0.0");
    let _ = server.kill();
    let _ = server.wait();
    assert!(line.contains("listening on"), "{line}");
    assert_eq!(resumed, State::Approved);
}

/// A blob store that lets another writer run between the pinning check and the row insert
/// (what a second process can do at any time).
struct RacingBlobs {
    inner: skillscan_mirror::store::blobs::FsBlobStore,
    before_put: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl skillscan_mirror::store::BlobStore for RacingBlobs {
    fn put(&self, bytes: &[u8]) -> Result<String, skillscan_mirror::store::StoreError> {
        let other = self.before_put.lock().unwrap().take();
        if let Some(other) = other {
            other();
        }
        self.inner.put(bytes)
    }
    fn get(&self, sha256: &str) -> Result<Vec<u8>, skillscan_mirror::store::StoreError> {
        self.inner.get(sha256)
    }
    fn contains(&self, sha256: &str) -> Result<bool, skillscan_mirror::store::StoreError> {
        self.inner.contains(sha256)
    }
}

/// Defect 7: two ingests of different bytes for the same `slug@version` raced; the loser
/// exited 2 with "already exists" and no integrity alert. Now the loser compares with what
/// won: different bytes are the same integrity alert as upstream-changed bytes, identical
/// bytes are "unchanged".
#[test]
fn defect7_concurrent_ingest_loser_compares_with_the_winner() {
    use skillscan_mirror::store::blobs::FsBlobStore;
    use skillscan_mirror::store::sqlite::SqliteStore;
    use skillscan_mirror::vetting::doubles::MarkerVetter;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let open = |blobs: Arc<dyn skillscan_mirror::store::BlobStore>| {
        let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
        let vetter = Arc::new(MarkerVetter::default());
        Arc::new(mirror_with(dir.path(), Policy::default(), Config::default(), vetter, blobs, meta))
    };
    let racing =
        Arc::new(RacingBlobs { inner: FsBlobStore::open(dir.path()).unwrap(), before_put: Default::default() });
    let loser = open(racing.clone());
    let winner = open(Arc::new(FsBlobStore::open(dir.path()).unwrap()));

    for (version, same_bytes) in [("1.0.0", false), ("2.0.0", true)] {
        let theirs = input("weather-brief", version, "acme", &[("SKILL.md", BENIGN_MD)]);
        let ours = if same_bytes {
            theirs.clone()
        } else {
            input("weather-brief", version, "acme", &[("SKILL.md", BENIGN_MD), ("extra.md", "x\n")])
        };
        let w = winner.clone();
        let won = theirs.clone();
        *racing.before_put.lock().unwrap() = Some(Box::new(move || {
            w.ingest(won, "sync").unwrap();
        }));
        let o = loser.ingest(ours.clone(), "import").unwrap_or_else(|e| panic!("{version}: the loser failed: {e}"));
        let pinned = skillscan_mirror::archive::sha256_hex(&theirs.zip);
        if same_bytes {
            assert!(matches!(o, IngestOutcome::Unchanged { .. }), "{o:?}");
        } else {
            let observed = skillscan_mirror::archive::sha256_hex(&ours.zip);
            assert_eq!(o, IngestOutcome::IntegrityAlert { pinned: pinned.clone(), observed });
        }
        assert_eq!(loser.get("weather-brief", version).unwrap().archive_sha256, pinned, "the winner's pin stays");
    }
    let alerts = loser.meta.alerts().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].kind.as_str(), alerts[0].version.as_str()), ("pinned-bytes-changed", "1.0.0"));
    assert!(loser.meta.audit(None).unwrap().iter().any(|a| a.action == "integrity-alert" && a.actor == "import"));
}

/// Defect 11: one client holding 1,100 idle sockets made every other client wait up to 9.5 s
/// (all connection slots were held until the header deadline). With the default limits (a
/// per-address cap and a short first-byte timeout), another address's p99 stays under 100 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defect11_idle_sockets_from_one_address_do_not_starve_others() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket, TcpStream};

    // The defaults an operator gets (1,024 connections in all), not a lowered cap.
    let limits = skillscan_mirror::server::ConnectionLimits::default();
    let e = env();
    let app = skillscan_mirror::build_router(e.state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(skillscan_mirror::server::serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));

    // 1,100 silent sockets from 127.0.0.1 (2,200 descriptors in this process with the
    // server's ends: the test machine's limit is 20,000).
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Another client, from 127.0.0.2: one request per connection, as the clawhub CLI does.
    let mut took = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let request = async {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let mut s = socket.connect(addr).await.unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: mirror\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out));
        };
        // Waiting out the starvation would take seconds per request: cap it, count it as slow.
        let _ = tokio::time::timeout(Duration::from_secs(2), request).await;
        took.push(started.elapsed());
        // p99 of 200 is under 100 ms exactly when at most 2 requests take longer: stop early.
        if took.iter().filter(|t| **t >= Duration::from_millis(100)).count() > 2 {
            break;
        }
    }
    let slow: Vec<Duration> = took.iter().filter(|t| **t >= Duration::from_millis(100)).copied().collect();
    took.sort();
    assert!(
        took.len() == 200 && slow.len() <= 2,
        "p99 over 100 ms for the other client: slow requests {slow:?} (median {:?})",
        took[took.len() / 2]
    );
    drop(idle);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("shutdown returns").unwrap().unwrap();
}

/// Requests a receiver got: head (lowercased) and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A tokio receiver that records each request's headers and body and answers with the
/// statuses in `answers` (the last one repeats).
async fn hook_receiver(answers: Vec<u16>) -> (String, Received) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let got: Received = Default::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/services/hook", l.local_addr().unwrap());
    let rec = got.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break (String::new(), Vec::new()),
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    if buf.len() >= i + 4 + len {
                        break (head, buf[i + 4..i + 4 + len].to_vec());
                    }
                }
            };
            rec.lock().unwrap().push((head, body));
            let status = answers[n.min(answers.len() - 1)];
            n += 1;
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    (url, got)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')).map(str::trim))
}

/// Defect 12: webhooks were delivered at least once with no event id and no signature, and
/// every CLI command retried a failing receiver for ~15 s before exiting.
#[tokio::test]
async fn defect12_webhooks_carry_a_stable_event_id_and_an_hmac_signature() {
    use hmac::{Hmac, KeyInit, Mac};
    use skillscan_mirror::config::WebhookConfig;
    const SECRET: &str = "whsec-4d2c9e";

    // The receiver fails the first attempt, accepts the retry.
    let (url, got) = hook_receiver(vec![500, 204]).await;
    let hook = WebhookConfig {
        url,
        events: vec!["reject".into()],
        secret: Some(skillscan_mirror::redact::Secret::new(SECRET)),
    };
    let e = env_with(Policy::default(), Config { webhooks: vec![hook], ..Config::default() });
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    let client = skillscan_mirror::webhooks::client();
    assert_eq!(skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await, (0, 1));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await, (1, 0));

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one failed attempt and its retry");
    let ids: Vec<&str> = got.iter().map(|(h, _)| header(h, "x-skillscan-event-id").unwrap_or_default()).collect();
    assert!(ids[0].len() >= 16, "an event id: {:?}", got[0].0);
    assert_eq!(ids[0], ids[1], "the retry carries the same event id");
    for (head, body) in &got {
        // What a receiver does: HMAC-SHA256 of the raw body with the shared secret.
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(head, "x-skillscan-signature"), Some(expected.as_str()), "{head}");
        assert!(!head.contains(SECRET), "the secret itself is never sent");
    }
    // Another event gets another id.
    e.ingest("crypto-tracker", "1.0.1", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    let queued = e.mirror.meta.due_webhooks(i64::MAX, 8).unwrap();
    assert_eq!(queued.len(), 1);
    assert_ne!(queued[0].event_id, ids[0]);
}

/// Defect 12, the CLI's side: a command hands its undelivered events to `serve` (they stay
/// in the outbox) instead of retrying a down receiver for ~15 s; the secret is never stored
/// or printed, not even in TRACE logs.
#[test]
fn defect12_cli_commands_leave_undelivered_webhooks_to_serve() {
    use skillscan_mirror::store::prelude::*;
    const SECRET: &str = "whsec-env-1b7f";
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let skill = tempfile::tempdir().unwrap();
    let malicious = include_str!("../../../tests/fixtures/mirror/malicious/crypto-tracker/SKILL.md");
    std::fs::write(skill.path().join("SKILL.md"), malicious).unwrap();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skillscan-mirror"))
        .arg("--data")
        .arg(&data)
        .args(["import", skill.path().to_str().unwrap(), "--slug", "crypto-tracker", "--version", "1.0.0"])
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .env("SKILLSCAN_MIRROR_WEBHOOK_URL", format!("http://127.0.0.1:{closed}/hook"))
        .env("SKILLSCAN_MIRROR_WEBHOOK_SECRET", SECRET)
        .env("SKILLSCAN_MIRROR_LOG", "trace")
        .output()
        .unwrap();
    let took = started.elapsed();
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains("rejected"), "{printed}");
    assert!(took < std::time::Duration::from_secs(8), "the import waited {took:?} for a down receiver");
    assert!(printed.contains("queued") && printed.contains("serve"), "{printed}");
    assert!(!printed.contains(SECRET), "the webhook secret was printed or logged");
    assert!(files_containing(&data, SECRET).is_empty(), "the webhook secret was stored");
    let store = skillscan_mirror::store::sqlite::SqliteStore::open(&data.join("mirror.db")).unwrap();
    let queued = store.due_webhooks(i64::MAX, 8).unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!((queued[0].event.as_str(), queued[0].attempts), ("reject", 0), "left for serve, untried");
}

/// Defect 9: a hostile archive from upstream (traversal, symlink, encryption, bomb, local and
/// central headers that disagree, two end records, a directory entry with data) was only a
/// sync-failure row. Now it is refused by its structure and is a security event: an alert,
/// an audit entry, a `security_event` webhook and a metric; its bytes are kept as evidence
/// that no route serves.
#[tokio::test]
async fn defect9_hostile_archives_are_security_events_with_evidence_never_served() {
    use skillscan_mirror::archive::{Limits, check_structure};
    use skillscan_mirror::config::WebhookConfig;
    let hook =
        WebhookConfig { url: "http://127.0.0.1:9/hook".into(), events: vec!["security_event".into()], secret: None };
    let e = env_with(Policy::default(), Config { webhooks: vec![hook], ..Config::default() });
    let kinds = hostile_archives();
    let expected = [
        ("traversal", "unsafe entry name"),
        ("symlink", "is a symlink"),
        ("encrypted", "is encrypted"),
        ("bomb", "zip bomb"),
        ("header-mismatch", "local header and central directory disagree"),
        ("two-end-records", "more than one end-of-central-directory record"),
        ("directory-with-data", "carries data"),
    ];
    assert_eq!(kinds.iter().map(|k| k.0).collect::<Vec<_>>(), expected.map(|e| e.0));
    for (i, ((kind, bytes), (_, why))) in kinds.iter().zip(expected).enumerate() {
        let slug = format!("hostile-{kind}");
        // By structure, whatever a scanner would say (the marker vetter passes all of these).
        let refused = check_structure(bytes, &Limits::default())
            .and_then(|()| skillscan_mirror::archive::SkillArchive::read(bytes, &Limits::default()).map(|_| ()));
        assert!(refused.as_ref().is_err_and(|e| e.is_hostile()), "{kind}: {refused:?}");
        let mut inp = input(&slug, "1.0.0", "mallory", &[]);
        inp.zip = bytes.clone();
        inp.source = "upstream:http://up.example".into();
        let err = e.mirror.ingest(inp.clone(), "sync").unwrap_err().to_string();
        assert!(err.contains("hostile archive refused") && err.contains("security event"), "{kind}: {err}");
        assert!(err.contains(why), "{kind}: {err}");
        // The same bytes again (the next sync): refused again, no second event.
        let again = e.mirror.ingest(inp, "sync").unwrap_err().to_string();
        assert!(again.contains("hostile archive refused"), "{kind}: {again}");
        let alerts = e.mirror.meta.alerts().unwrap();
        assert_eq!(alerts.len(), i + 1, "{kind}: one alert per archive: {alerts:#?}");
        let alert = alerts.last().unwrap();
        assert_eq!((alert.kind.as_str(), alert.slug.as_str()), ("hostile-archive", slug.as_str()));
        assert!(alert.detail.contains("evidence"), "{}", alert.detail);

        // Evidence kept outside the blob store, byte for byte, owner-only.
        let sha = skillscan_mirror::archive::sha256_hex(bytes);
        let evidence = e.mirror.data_dir.join("evidence").join(format!("{sha}.zip"));
        assert_eq!(std::fs::read(&evidence).unwrap(), *bytes, "{kind}: evidence");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&evidence).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!e.mirror.blobs.contains(&sha).unwrap(), "{kind}: evidence is not a servable blob");

        // Never served: no version row, every route that names a version says unknown.
        assert!(e.mirror.meta.get_version(&slug, "1.0.0").unwrap().is_none(), "{kind}: pinned");
        e.state.rebuild().unwrap();
        for uri in [
            format!("/api/v1/download?slug={slug}&version=1.0.0"),
            format!("/api/v1/download?slug={slug}"),
            format!("/api/v1/skills/{slug}/file?path=SKILL.md&version=1.0.0"),
            format!("/api/v1/skills/{slug}/install"),
            format!("/evidence/{sha}.zip"),
        ] {
            assert_eq!(get(e.app(), &uri).await.0, 404, "{kind}: {uri}");
        }
    }
    let audit = e.mirror.meta.audit(None).unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "security-event" && a.actor == "sync").count(), kinds.len());
    let queued = e.mirror.meta.due_webhooks(i64::MAX, 8).unwrap();
    assert_eq!(queued.iter().filter(|w| w.event == "security_event").count(), kinds.len(), "{queued:?}");
    let body: serde_json::Value = serde_json::from_str(&queued[0].payload).unwrap();
    assert_eq!((body["event"].as_str(), body["kind"].as_str()), (Some("security_event"), Some("hostile-archive")));
    assert!(body["evidence"].as_str().unwrap_or_default().starts_with("evidence/"), "{body}");
    let (_, _, metrics) = get(e.app(), "/metrics").await;
    let metrics = text(&metrics);
    assert!(metrics.contains(&format!("skillscan_mirror_security_events {}", kinds.len())), "{metrics}");
}

/// Defect 9, the client's side: a redirect target's answer was stored (an internal service's
/// reply showed up in `alerts`), and `sync --all` had no overall deadline.
#[tokio::test(flavor = "multi_thread")]
async fn defect9_redirect_bodies_are_never_stored_and_sync_all_has_a_deadline() {
    use skillscan_mirror::sync::{SyncOptions, run};
    const INTERNAL: &str = "internal-service-answer-5e1d";
    // A same-origin redirect to a path that answers 500 with an internal body.
    let (base, _) = std_upstream(vec![
        ("/api/v1/skills/weather-brief".into(), "302 Found\r\nlocation: /internal/status".into(), vec![]),
        ("/internal/status".into(), "500 Internal Server Error".into(), INTERNAL.as_bytes().to_vec()),
    ]);
    let mut config = Config::default();
    config.upstream.retries = 0;
    let e = env_with(Policy::default(), config);
    let opts = SyncOptions { upstream: format!("http://{base}"), slugs: vec!["weather-brief".into()], all: false };
    let report = run(e.mirror.clone(), opts).await.unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(report.failures[0].error.contains("500"), "{}", report.failures[0].error);
    let stored = format!("{:?}{:?}", e.mirror.meta.sync_failures(10).unwrap(), e.mirror.meta.alerts().unwrap());
    assert!(!stored.contains(INTERNAL), "a redirect target's body was stored: {stored}");
    assert!(files_containing(&e.mirror.data_dir, INTERNAL).is_empty());

    // `sync --all` against an upstream that lists 30 skills and answers each in ~300 ms:
    // a 1 s deadline stops the run, and what is left is a recorded failure.
    let listing = serde_json::json!({
        "items": (0..30).map(|i| serde_json::json!({"slug": format!("slow-{i}")})).collect::<Vec<_>>(),
        "nextCursor": null,
    });
    let slow = slow_upstream(listing.to_string(), std::time::Duration::from_millis(300));
    let mut config = Config::default();
    config.upstream.retries = 0;
    config.upstream.sync_deadline = "1s".into();
    let e = env_with(Policy::default(), config);
    let started = std::time::Instant::now();
    let opts = SyncOptions { upstream: format!("http://{slow}"), slugs: vec![], all: true };
    let report = run(e.mirror.clone(), opts).await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "took {:?}", started.elapsed());
    let deadline: Vec<&String> = report.failures.iter().map(|f| &f.error).filter(|e| e.contains("deadline")).collect();
    assert!(!deadline.is_empty(), "{:?}", report.failures);
    assert!(deadline.iter().any(|e| e.contains("not synced")), "{deadline:?}");
}

/// An upstream whose skill listing is `listing` and whose every other answer is a 404 after
/// `delay`.
fn slow_upstream(listing: String, delay: std::time::Duration) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let listing = listing.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let target = String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = if target.starts_with("/api/v1/skills?") {
                    ("200 OK", listing.into_bytes())
                } else {
                    std::thread::sleep(delay);
                    ("404 Not Found", b"Skill not found".to_vec())
                };
                let reply = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(reply.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    base
}

/// Issue 14: PostgreSQL's text type refuses NUL, which SQLite keeps. Text from upstream and from
/// reviewers is made storable before any backend sees it, so a hostile changelog is kept the same
/// way on every backend (and a migration between them compares equal) instead of failing the row.
#[test]
fn nul_in_upstream_text_and_decision_reasons_is_stored_the_same_on_every_backend() {
    let e = env();
    let mut inp = input("nul-notes", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    inp.changelog = "fixed\0things".into();
    inp.summary = Some("a\0b".into());
    e.mirror.ingest(inp, "test").unwrap();
    let rec = e.mirror.meta.get_version("nul-notes", "1.0.0").unwrap().unwrap();
    assert_eq!(rec.changelog, "fixed\u{FFFD}things");
    assert_eq!(rec.summary.as_deref(), Some("a\u{FFFD}b"));
    e.mirror.decide("nul-notes", "1.0.0", State::Revoked, "bad\0reason", "rev\0iewer", false).unwrap();
    let last = e.mirror.meta.audit(Some(1)).unwrap().pop().unwrap();
    assert!(!last.reason.contains('\0') && !last.actor.contains('\0'), "{last:?}");
}
