//! Handler tests: every route, every refusal path, hostile input.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::{AppState, Mirror, build_router};
use std::sync::Arc;

use crate::common::*;

fn seeded() -> Env {
    let e = env();
    let o = e.ingest(
        "weather-brief",
        "1.0.0",
        "acme",
        &[("SKILL.md", BENIGN_MD), ("scripts/forecast.py", "print('18C')\n")],
    );
    assert!(matches!(o, IngestOutcome::New { state: State::Approved, .. }), "{o:?}");
    let o = e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# Crypto\nMALICIOUS payload\n")]);
    assert!(matches!(o, IngestOutcome::New { state: State::Rejected, .. }), "{o:?}");
    let o = e.ingest("careful-skill", "0.1.0", "bob", &[("SKILL.md", "# Careful\nCAUTION shell\n")]);
    assert!(matches!(o, IngestOutcome::New { state: State::Quarantined, .. }), "{o:?}");
    e
}

#[tokio::test]
async fn well_known_and_health() {
    let e = seeded();
    let (s, h, b) = get(e.app(), "/.well-known/clawhub.json").await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/json");
    assert!(json(&b)["apiBase"].is_string());
    let (s, _, b) = get(e.app(), "/healthz").await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["approvedVersions"], 1);
    let (s, _, b) = get(e.app(), "/.well-known/skillscan.pub").await;
    assert_eq!(s, 200);
    assert!(text(&b).contains("RWFAKE"));
    let (s, _, b) = get(e.app(), "/metrics").await;
    assert_eq!(s, 200);
    let m = text(&b);
    assert!(m.contains("skillscan_mirror_versions{state=\"approved\"} 1"), "{m}");
    assert!(m.contains("skillscan_mirror_http_requests_total{route=\"/healthz\",status=\"2xx\"} 1"), "{m}");
}

/// Liveness is the process answering; readiness is the store, a current snapshot, a signing
/// key and no open corruption alert.
#[tokio::test]
async fn readyz_checks_store_snapshot_key_and_integrity() {
    let e = seeded();
    let (s, _, b) = get(e.app(), "/readyz").await;
    assert_eq!(s, 200, "{}", text(&b));
    let body = json(&b);
    assert_eq!(body["ready"], true);
    let names: Vec<&str> = body["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["store", "replication", "snapshot", "signing-key", "integrity"]);
    assert!(body["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{body}");

    // The same data served without a signing key: alive, not ready.
    let unsigned = Arc::new(Mirror {
        signer: Arc::new(skillscan_mirror::vetting::UnavailableSigner),
        meta: e.mirror.meta.clone(),
        blobs: e.mirror.blobs.clone(),
        vetter: e.mirror.vetter.clone(),
        data_dir: e.mirror.data_dir.clone(),
        config: e.mirror.config.clone(),
        policy: e.mirror.policy.clone(),
    });
    let app = build_router(AppState::new(unsigned).unwrap());
    let (s, _, b) = get(app.clone(), "/healthz").await;
    assert_eq!(s, 200, "{}", text(&b));
    let (s, _, b) = get(app, "/readyz").await;
    assert_eq!(s, 503, "{}", text(&b));
    let body = json(&b);
    assert_eq!(body["ready"], false);
    let failing: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["signing-key"], "{body}");
}

/// `/status` names the revision this replica serves beside the store's; a commit from another
/// writer puts the store ahead until the refresher rebuilds.
#[tokio::test]
async fn status_shows_the_served_revision_against_the_store() {
    let e = seeded();
    let st = AppState::new(e.mirror.clone()).unwrap();
    let app = build_router(st.clone());
    let (s, _, b) = get(app.clone(), "/status").await;
    assert_eq!(s, 200, "{}", text(&b));
    let v = json(&b);
    assert_eq!((v["database"].as_str(), v["blobs"].as_str()), (Some("sqlite"), Some("files")));
    assert_eq!(v["servedRevision"], v["storeRevision"]);
    assert_eq!(v["behindMs"], 0);
    assert_eq!(v["approvedVersions"], 1);
    let served = v["servedRevision"].as_u64().unwrap();

    // Another writer (a CLI command, another replica) commits: the store moves ahead.
    let other = skillscan_mirror::store::sqlite::SqliteStore::open(&e.mirror.data_dir.join("mirror.db")).unwrap();
    skillscan_mirror::auth::create_token(&other, "ci", "read").unwrap();
    let (_, _, b) = get(app.clone(), "/status").await;
    let v = json(&b);
    assert_eq!(v["servedRevision"].as_u64(), Some(served));
    assert!(v["storeRevision"].as_u64().unwrap() > served, "{v}");
    let (s, _, b) = get(app.clone(), "/readyz").await;
    assert_eq!(s, 200, "a replica just behind is still ready: {}", text(&b));

    assert!(st.refresh_if_changed().unwrap());
    let (_, _, b) = get(app, "/status").await;
    let v = json(&b);
    assert_eq!(v["servedRevision"], v["storeRevision"], "caught up: {v}");
    assert!(v["servedRevision"].as_u64().unwrap() > served);
}

#[tokio::test]
async fn search_list_detail_versions() {
    let e = seeded();
    let (s, _, b) = get(e.app(), "/api/v1/search?q=weather&limit=25").await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert!(v["results"][0]["score"].is_number());
    assert_eq!(v["results"][0]["slug"], "weather-brief");
    // Refused and pending skills are never listed or found.
    let (_, _, b) = get(e.app(), "/api/v1/search?q=crypto").await;
    assert_eq!(json(&b)["results"].as_array().unwrap().len(), 0);
    let (_, _, b) = get(e.app(), "/api/v1/search?q=").await;
    assert_eq!(json(&b), serde_json::json!({"results": []}));
    let (s, _, b) = get(e.app(), "/api/v1/search?q=x&mode=bogus").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::BAD_REQUEST, "Invalid search mode"));

    let (s, _, b) = get(e.app(), "/api/v1/skills?limit=200").await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert!(v["nextCursor"].is_null());
    let item = &v["items"][0];
    for k in ["slug", "displayName", "tags", "stats", "createdAt", "updatedAt", "latestVersion"] {
        assert!(item.get(k).is_some(), "list item lacks {k}");
    }
    assert!(item["latestVersion"]["changelog"].is_string());
    let (s, _, _) = get(e.app(), "/api/v1/skills?limit=201").await;
    assert_eq!(s, 400);
    let (s, _, _) = get(e.app(), "/api/v1/skills?sort=chaos").await;
    assert_eq!(s, 400);
    let (s, _, _) = get(e.app(), "/api/v1/skills?cursor=abc").await;
    assert_eq!(s, 400);

    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief").await;
    assert_eq!(s, 200);
    let d = json(&b);
    for k in ["slug", "displayName", "tags", "stats", "createdAt", "updatedAt"] {
        assert!(d["skill"].get(k).is_some(), "detail.skill lacks {k}");
    }
    assert_eq!(d["latestVersion"]["version"], "1.0.0");
    assert!(d["latestVersion"]["changelog"].is_string());
    assert_eq!(d["latestVersion"]["license"], "MIT-0");
    assert_eq!(d["owner"]["handle"], "acme");
    assert!(d["metadata"].is_null());
    assert!(d["moderation"].is_null());
    assert_eq!(d["skill"]["displayName"], "weather-brief");
    // ownerHandle scoping.
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief?ownerHandle=@ACME").await.0, 200);
    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief?ownerHandle=other").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::NOT_FOUND, "Skill not found"));

    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief/versions?limit=25").await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["items"][0]["version"], "1.0.0");
    assert!(v.get("nextCursor").is_some());

    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief/versions/1.0.0").await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["skill"]["slug"], "weather-brief");
    let files = v["version"]["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["_meta.json", "scripts/forecast.py", "SKILL.md"], "localeCompare order");
    for f in files {
        for k in ["path", "size", "sha256", "contentType"] {
            assert!(f.get(k).is_some());
        }
    }
    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief/versions/9.9.9").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::NOT_FOUND, "Version not found"));
}

#[tokio::test]
async fn download_is_byte_identical_and_signed() {
    let e = seeded();
    let stored = e.mirror.get("weather-brief", "1.0.0").unwrap();
    let expected = e.mirror.blobs.get(&stored.archive_sha256).unwrap();
    let (s, h, b) = get(e.app(), "/api/v1/download?slug=weather-brief&ownerHandle=acme&version=1.0.0").await;
    assert_eq!(s, 200);
    assert_eq!(b.as_ref(), expected.as_slice());
    assert_eq!(h["x-skillscan-sha256"], stored.archive_sha256.as_str());
    assert_eq!(h["content-type"], "application/zip");
    // Without a version: the latest approved one.
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief").await.2, b);
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&tag=latest").await.2, b);
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&tag=beta").await.0, 404);

    let (s, _, sig) = get(e.app(), "/api/v1/download/signature?slug=weather-brief&version=1.0.0").await;
    assert_eq!(s, 200);
    assert!(text(&sig).contains(&stored.archive_sha256));
    let (s, _, idx) = get(e.app(), "/api/v1/skillscan/index.json").await;
    assert_eq!(s, 200);
    let idx = json(&idx);
    assert_eq!(idx["versions"].as_array().unwrap().len(), 1, "only approved versions are indexed");
    assert_eq!(idx["versions"][0]["archiveSha256"], stored.archive_sha256.as_str());
    assert_eq!(idx["versions"][0]["treeDigest"], stored.tree_digest.as_str());
    assert_eq!(get(e.app(), "/api/v1/skillscan/index.json.minisig").await.0, 200);
}

#[tokio::test]
async fn file_install_resolve_verify_telemetry() {
    let e = seeded();
    let (s, h, b) = get(e.app(), "/api/v1/skills/weather-brief/file?path=scripts/forecast.py&version=1.0.0").await;
    assert_eq!(s, 200);
    assert_eq!(text(&b), "print('18C')\n");
    assert_eq!(h["x-content-size"], "13");
    assert_eq!(
        get(e.app(), "/api/v1/skills/weather-brief/file?path=skill.md").await.0,
        200,
        "case-insensitive fallback"
    );
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief/file?path=nope.md").await.0, 404);
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief/file").await.0, 400);

    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief/install").await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["installKind"], "archive");
    assert_eq!(v["archive"]["version"], "1.0.0");
    assert!(v["archive"]["downloadUrl"].is_string());
    let (s, _, b) = get(e.app(), "/api/v1/skills/crypto-tracker/install").await;
    assert_eq!(s, 403);
    assert_eq!(json(&b)["ok"], false);

    let rec = e.mirror.get("weather-brief", "1.0.0").unwrap();
    let (s, _, b) = get(e.app(), &format!("/api/v1/resolve?slug=weather-brief&hash={}", rec.fingerprint)).await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["match"]["version"], "1.0.0");
    let (_, _, b) =
        get(e.app(), &format!("/api/v1/skills/resolve?slug=weather-brief&hash={}", rec.fingerprint_installed)).await;
    assert_eq!(json(&b)["match"]["version"], "1.0.0");
    let (_, _, b) = get(e.app(), &format!("/api/v1/resolve?slug=weather-brief&hash={}", "0".repeat(64))).await;
    assert!(json(&b)["match"].is_null());
    assert_eq!(json(&b)["latestVersion"]["version"], "1.0.0");
    let (s, _, b) = get(e.app(), "/api/v1/resolve?slug=weather-brief").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::BAD_REQUEST, "Missing slug or hash"));
    let (s, _, b) = get(e.app(), "/api/v1/resolve?slug=weather-brief&hash=xyz").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::BAD_REQUEST, "Invalid hash"));
    assert_eq!(get(e.app(), &format!("/api/v1/resolve?slug=crypto-tracker&hash={}", "0".repeat(64))).await.0, 404);

    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief/verify").await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["decision"], "pass");
    let (_, _, b) = get(e.app(), "/api/v1/skills/crypto-tracker/verify").await;
    assert_eq!(json(&b)["decision"], "fail");
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief/card").await.0, 404);

    let req = Request::post("/api/cli/telemetry/install")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"event":"install","slug":"weather-brief"}"#))
        .unwrap();
    let (s, _, b) = call(e.app(), req).await;
    assert_eq!((s, json(&b)), (StatusCode::OK, serde_json::json!({"ok": true})));

    let req = Request::post("/api/v1/skills/-/security-verdicts")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"items":[{"slug":"weather-brief"},{"slug":"crypto-tracker","version":"1.0.0"},{"slug":"nope"}]}"#,
        ))
        .unwrap();
    let (s, _, b) = call(e.app(), req).await;
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["items"][0]["ok"], true);
    assert_eq!(v["items"][1]["error"]["code"], "blocked");
    assert_eq!(v["items"][2]["error"]["code"], "not_found");
}

#[tokio::test]
async fn refusals_are_enforced_on_every_route() {
    let e = seeded();
    // Malicious: detail says malware-blocked (the refusal --force cannot bypass)...
    let (s, _, b) = get(e.app(), "/api/v1/skills/crypto-tracker").await;
    assert_eq!(s, 200);
    let d = json(&b);
    assert_eq!(d["moderation"]["isMalwareBlocked"], true);
    assert_eq!(d["moderation"]["isSuspicious"], true);
    assert_eq!(d["moderation"]["verdict"], "malicious");
    assert!(d["moderation"]["reasonCodes"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(d["moderation"]["summary"].as_str().unwrap().contains("rejected"));
    // ...and the download route itself answers 403 with a plain-text reason.
    let (s, h, b) = get(e.app(), "/api/v1/download?slug=crypto-tracker&version=1.0.0").await;
    assert_eq!(s, 403);
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    let msg = text(&b);
    assert!(msg.starts_with("Blocked: crypto-tracker@1.0.0 was rejected by the skillscan mirror"), "{msg}");
    assert_eq!(get(e.app(), "/api/v1/download?slug=crypto-tracker").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/skills/crypto-tracker/versions/1.0.0").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/skills/crypto-tracker/file?path=SKILL.md").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/download/signature?slug=crypto-tracker&version=1.0.0").await.0, 403);
    let (s, _, b) = get(e.app(), "/api/v1/skills/crypto-tracker/moderation").await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["moderation"]["isMalwareBlocked"], true);
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief/moderation").await.0, 404);

    // Pending review: 423, never a 5xx.
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=careful-skill&version=0.1.0").await;
    assert_eq!(s, StatusCode::LOCKED);
    assert!(text(&b).contains("pending security review"));
    assert_eq!(get(e.app(), "/api/v1/skills/careful-skill/install").await.0, 423);
    let (_, _, b) = get(e.app(), "/api/v1/skills/careful-skill").await;
    assert!(json(&b)["moderation"].is_null());

    // Unknown.
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=nothing-here").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::NOT_FOUND, "Skill not found"));
    let (s, _, b) = get(e.app(), "/api/v1/download").await;
    assert_eq!((s, text(&b).as_str()), (StatusCode::BAD_REQUEST, "Missing slug"));

    // A rejected update of an approved skill: the skill stays served at its approved
    // version, the bad version is refused on download.
    e.ingest("weather-brief", "1.0.1", "acme", &[("SKILL.md", "# Weather\nMALICIOUS now\n")]);
    let (_, _, b) = get(e.app(), "/api/v1/skills/weather-brief").await;
    assert_eq!(json(&b)["latestVersion"]["version"], "1.0.0");
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.1").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief").await.0, 200);

    // Revocation takes effect on the next request.
    e.mirror.decide("weather-brief", "1.0.0", State::Revoked, "bad actor", "alice", false).unwrap();
    e.state.rebuild().unwrap();
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.0").await;
    assert_eq!(s, 403);
    assert!(text(&b).contains("revoked"), "{}", text(&b));
    let (_, _, b) = get(e.app(), "/api/v1/skills/weather-brief").await;
    assert_eq!(json(&b)["moderation"]["isMalwareBlocked"], true);
    assert_eq!(json(&get(e.app(), "/api/v1/skills").await.2)["items"].as_array().unwrap().len(), 0);
}

/// The refusal counters count answers that refuse (403, 423), not refusals reported inside a
/// 200 (`verify`, the security verdicts).
#[tokio::test]
async fn refusal_metrics_count_only_refusals() {
    let e = seeded();
    let counters = |e: &Env| {
        let app = e.app();
        async move {
            let m = text(&get(app, "/metrics").await.2);
            let value = |name: &str| {
                m.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' '))).map(str::to_string)
            };
            (value("skillscan_mirror_refusals_forbidden_total"), value("skillscan_mirror_refusals_pending_total"))
        }
    };
    let zero = (Some("0".to_string()), Some("0".to_string()));
    assert_eq!(get(e.app(), "/api/v1/skills/crypto-tracker/verify").await.0, 200);
    assert_eq!(get(e.app(), "/api/v1/skills/careful-skill/verify").await.0, 200);
    let req = Request::post("/api/v1/skills/-/security-verdicts")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"items":[{"slug":"crypto-tracker"},{"slug":"careful-skill"}]}"#))
        .unwrap();
    assert_eq!(call(e.app(), req).await.0, 200);
    assert_eq!(get(e.app(), "/api/v1/skills/crypto-tracker").await.0, 200, "detail carries moderation");
    assert_eq!(counters(&e).await, zero, "no refusal was answered yet");

    assert_eq!(get(e.app(), "/api/v1/download?slug=crypto-tracker").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/skills/crypto-tracker/install").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/download/signature?slug=crypto-tracker&version=1.0.0").await.0, 403);
    assert_eq!(get(e.app(), "/api/v1/skills/careful-skill/install").await.0, 423);
    assert_eq!(counters(&e).await, (Some("3".to_string()), Some("1".to_string())));
}

#[tokio::test]
async fn a_wrong_method_gets_the_plain_text_error_of_every_other_refusal() {
    let e = seeded();
    let req = Request::delete("/api/v1/download?slug=weather-brief&version=1.0.0").body(Body::empty()).unwrap();
    let (s, h, b) = call(e.app(), req).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text(&b), "Method not allowed");
}

#[tokio::test]
async fn hostile_input_gets_clear_errors() {
    let e = seeded();
    let long = "a".repeat(10 * 1024);
    let cases = [
        "/api/v1/skills/..%2F..%2Fetc%2Fpasswd".to_string(),
        "/api/v1/skills/a%00b".to_string(),
        format!("/api/v1/skills/{long}"),
        "/api/v1/skills/Weather-Brief".to_string(),
        format!("/api/v1/download?slug={long}"),
        "/api/v1/download?slug=weather-brief%00".to_string(),
        "/api/v1/download?slug=weather-brief&version=../../1.0.0".to_string(),
        format!("/api/v1/download?slug=weather-brief&version=1.0.{long}"),
        "/api/v1/download?slug=weather-brief&version=1.0.0%00".to_string(),
        "/api/v1/skills/weather-brief/file?path=../../etc/passwd".to_string(),
        "/api/v1/skills/weather-brief/file?path=%2Fetc%2Fpasswd".to_string(),
        "/api/v1/skills/weather-brief/file?path=SKILL.md%00.png".to_string(),
        "/api/v1/skills/weather-brief/file?path=a%5Cb".to_string(),
        format!("/api/v1/skills/weather-brief/file?path={long}"),
        "/api/v1/download?slug=%ZZ".to_string(),
        "/api/v1/download?slug=%C3%28".to_string(),
        "/api/v1/skills/weather-brief?ownerHandle=a/b".to_string(),
        "/api/v1/skills/weather-brief/versions?limit=-1".to_string(),
        "/api/v1/skills/weather-brief/versions?limit=99999999999999999999".to_string(),
    ];
    for uri in &cases {
        let (s, h, b) = get(e.app(), uri).await;
        assert!(s == 400 || s == 404, "{uri}: {s}");
        assert_eq!(h["content-type"], "text/plain; charset=utf-8", "{uri}");
        assert!(b.len() < 200, "{uri}: error body echoes input");
    }
    // Unknown routes and methods.
    assert_eq!(get(e.app(), "/api/v1/nope").await.0, 404);
    let (s, _, _) = call(e.app(), Request::delete("/api/v1/skills/weather-brief").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    // Oversized and malformed bodies.
    let big = vec![b'x'; 1024 * 1024];
    let req = Request::post("/api/cli/telemetry/install").body(Body::from(big)).unwrap();
    let (s, h, b) = call(e.app(), req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        (h["content-type"].to_str().unwrap(), text(&b).as_str()),
        ("text/plain; charset=utf-8", "Request body too large")
    );
    let req = Request::post("/api/v1/skills/-/security-verdicts")
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(call(e.app(), req).await.0, 400);
    let items: Vec<String> = (0..101).map(|_| r#"{"slug":"a"}"#.to_string()).collect();
    let req = Request::post("/api/v1/skills/-/security-verdicts")
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"items":[{}]}}"#, items.join(","))))
        .unwrap();
    assert_eq!(call(e.app(), req).await.0, 400);
}

#[tokio::test]
async fn admin_api_needs_an_admin_token() {
    let e = seeded();
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    let reader = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "ci", "read").unwrap();
    e.state.rebuild().unwrap();
    let post = |tok: Option<&str>, uri: &str, body: &str| {
        let mut r = Request::post(uri).header("content-type", "application/json");
        if let Some(t) = tok {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(Body::from(body.to_string())).unwrap()
    };
    let uri = "/api/v1/admin/versions/careful-skill/0.1.0/approve";
    assert_eq!(call(e.app(), post(None, uri, r#"{"reason":"ok"}"#)).await.0, 401);
    assert_eq!(call(e.app(), post(Some("ssm_wrong"), uri, r#"{"reason":"ok"}"#)).await.0, 401);
    assert_eq!(call(e.app(), post(Some(&reader), uri, r#"{"reason":"ok"}"#)).await.0, 403);
    assert_eq!(call(e.app(), post(Some(&admin), uri, r#"{"reason":""}"#)).await.0, 400);
    assert_eq!(
        call(e.app(), post(Some(&admin), "/api/v1/admin/versions/careful-skill/0.1.0/bless", r#"{"reason":"x"}"#))
            .await
            .0,
        404
    );
    let (s, _, b) = call(e.app(), post(Some(&admin), uri, r#"{"reason":"reviewed the shell usage"}"#)).await;
    assert_eq!(s, 200, "{}", text(&b));
    assert_eq!(json(&b)["state"], "approved");
    // Read-your-writes: served immediately.
    assert_eq!(get(e.app(), "/api/v1/download?slug=careful-skill&version=0.1.0").await.0, 200);
    // A revoke of something not approved is a conflict, not a 5xx.
    let (s, _, _) =
        call(e.app(), post(Some(&admin), "/api/v1/admin/versions/crypto-tracker/1.0.0/revoke", r#"{"reason":"x"}"#))
            .await;
    assert_eq!(s, 409);

    let auth_get =
        |uri: &str| Request::get(uri).header("authorization", format!("Bearer {admin}")).body(Body::empty()).unwrap();
    let (s, _, b) = call(e.app(), auth_get("/api/v1/admin/audit")).await;
    assert_eq!(s, 200);
    let items = json(&b)["items"].as_array().unwrap().clone();
    let last = items.last().unwrap();
    assert_eq!(last["actor"], "token:alice");
    assert_eq!(last["toState"], "approved");
    let (s, _, b) = call(e.app(), auth_get("/api/v1/admin/versions?state=quarantined")).await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["items"].as_array().unwrap().len(), 0);
    assert_eq!(call(e.app(), auth_get("/api/v1/admin/versions?state=weird")).await.0, 400);
    let (s, _, b) = call(e.app(), auth_get("/api/v1/admin/versions/crypto-tracker/1.0.0")).await;
    assert_eq!(s, 200);
    assert_eq!(json(&b)["version"]["state"], "rejected");
    assert_eq!(call(e.app(), auth_get("/api/v1/admin/alerts")).await.0, 200);
    assert_eq!(call(e.app(), auth_get("/api/v1/admin/sync-failures")).await.0, 200);
}

/// Everything the server logs during a test, at every level.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_contain_tokens_or_authorization_headers() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global: handlers run blocking work on other threads. Logs of tests running alongside land
    // here too, and must not contain their tokens either.
    tracing::subscriber::set_global_default(subscriber).expect("no other test installs a subscriber");
    let e = seeded();
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    e.state.rebuild().unwrap();
    let with_token = |method: &str, uri: &str, token: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(r#"{"reason":"reviewed"}"#))
            .unwrap()
    };
    let approve = "/api/v1/admin/versions/careful-skill/0.1.0/approve";
    assert_eq!(call(e.app(), with_token("POST", approve, &admin)).await.0, 200);
    assert_eq!(call(e.app(), with_token("POST", approve, "ssm_not_a_real_token_0123456789")).await.0, 401);
    assert_eq!(call(e.app(), with_token("GET", "/api/v1/skills/careful-skill", &admin)).await.0, 200);
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("/api/v1/admin/versions"), "the capture saw no request: {logged}");
    assert!(!logged.contains(&admin), "the admin token was logged");
    assert!(!logged.contains("ssm_not_a_real_token"), "a presented token was logged");
    assert!(!logged.to_ascii_lowercase().contains("authorization"), "a header was logged: {logged}");
    assert!(!logged.contains("Bearer"), "a header was logged");
}

#[tokio::test]
async fn read_tokens_when_required() {
    let cfg = Config { require_read_token: true, ..Config::default() };
    let e = env_with(Policy::default(), cfg);
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    let tok = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "dev", "read").unwrap();
    e.state.rebuild().unwrap();
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief").await.0, 401);
    assert_eq!(get(e.app(), "/healthz").await.0, 200);
    let r = Request::get("/api/v1/skills/weather-brief")
        .header("authorization", format!("Bearer {tok}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(e.app(), r).await.0, 200);
    e.mirror.meta.revoke_token("dev").unwrap();
    e.state.rebuild().unwrap();
    let r = Request::get("/api/v1/skills/weather-brief")
        .header("authorization", format!("Bearer {tok}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(e.app(), r).await.0, 401);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_on_every_authenticated_route() {
    let cfg = Config { require_read_token: true, ..Config::default() };
    let e = env_with(Policy::default(), cfg);
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    let reader = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "dev", "read").unwrap();
    e.state.rebuild().unwrap();
    let with = |uri: &str, authorization: String| {
        Request::get(uri).header("authorization", authorization).body(Body::empty()).unwrap()
    };
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let read = with("/api/v1/skills/weather-brief", format!("{scheme} {reader}"));
        assert_eq!(call(e.app(), read).await.0, 200, "read route, {scheme}");
        let admin_read = with("/api/v1/admin/alerts", format!("{scheme} {admin}"));
        assert_eq!(call(e.app(), admin_read).await.0, 200, "admin route, {scheme}");
        let reader_on_admin = with("/api/v1/admin/alerts", format!("{scheme} {reader}"));
        assert_eq!(call(e.app(), reader_on_admin).await.0, 403, "admin route, read token, {scheme}");
    }
    for authorization in [format!("Basic {admin}"), format!("Bearer{admin}"), "Bearer ".to_string()] {
        assert_eq!(call(e.app(), with("/api/v1/admin/alerts", authorization.clone())).await.0, 401, "{authorization}");
        assert_eq!(call(e.app(), with("/api/v1/skills/weather-brief", authorization.clone())).await.0, 401);
    }
}

#[tokio::test]
async fn update_review_and_retro_hunt() {
    let p = Policy::parse("[updates]\nauto_approve_unchanged = true\n").unwrap();
    let e = env_with(p, Config::default());
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", "# W\nHOST:api.example.invalid RETRO\n")]);
    // Same capabilities, even with a caution verdict: auto-approved as an update.
    let o = e.ingest("weather-brief", "1.0.1", "acme", &[("SKILL.md", "# W\nHOST:api.example.invalid CAUTION\n")]);
    assert!(matches!(o, IngestOutcome::New { state: State::Approved, .. }), "{o:?}");
    // A new host: held for review, with the delta in the reason.
    let o = e.ingest(
        "weather-brief",
        "1.1.0",
        "acme",
        &[("SKILL.md", "# W\nHOST:api.example.invalid HOST:exfil.example.invalid\n"), ("x.sh", "echo\n")],
    );
    match o {
        IngestOutcome::New { state: State::Quarantined, reason } => {
            assert!(reason.contains("exfil.example.invalid"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let rv = e.mirror.review("weather-brief", "1.1.0").unwrap();
    assert_eq!(rv.base_version.as_deref(), Some("1.0.1"));
    assert_eq!(rv.files_added, ["x.sh"]);
    assert!(rv.files_changed.contains(&"SKILL.md".to_string()));
    assert!(rv.capability_delta.new_hosts.contains("exfil.example.invalid"));
    assert!(rv.text_diffs["SKILL.md"].contains("+HOST:api.example.invalid HOST:exfil.example.invalid"));
    // An owner change is held too.
    let o = e.ingest("weather-brief", "1.2.0", "mallory", &[("SKILL.md", "# W\nHOST:api.example.invalid\n")]);
    assert!(
        matches!(o, IngestOutcome::New { state: State::Quarantined, ref reason } if reason.contains("owner changed")),
        "{o:?}"
    );

    // Retro-hunt: new rules flag 1.0.0 (marker RETRO) -> revoked with an audit entry.
    *e.vetter.rules_version.lock().unwrap() = "test-rules-2-strict".into();
    let res = e.mirror.rescan(false, "retro").unwrap();
    assert!(
        res.iter().any(|(k, f, t, _)| k == "weather-brief@1.0.0" && *f == State::Approved && *t == State::Revoked),
        "{res:?}"
    );
    assert!(res.iter().any(|(k, f, t, _)| k == "weather-brief@1.0.1" && f == t));
    e.state.rebuild().unwrap();
    assert_eq!(get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.0").await.0, 403);
    let audit = e.mirror.meta.audit(None).unwrap();
    let last = audit.iter().rev().find(|a| a.action == "rescan" && a.to_state.as_deref() == Some("revoked")).unwrap();
    assert_eq!(last.rules_version.as_deref(), Some("test-rules-2-strict"));
}

#[tokio::test]
async fn a_rescan_of_many_versions_decides_each_once_in_store_order() {
    let e = env();
    // More versions than one scan batch holds, so several batches run on several threads.
    for i in 0..37u32 {
        let marker = if i.is_multiple_of(5) { " RETRO" } else { "" };
        let text = format!("# Many {i}\nHOST:api.example.invalid{marker}\n");
        let o = e.ingest(&format!("many-{i}"), "1.0.0", "acme", &[("SKILL.md", text.as_str())]);
        assert!(matches!(o, IngestOutcome::New { state: State::Approved, .. }), "{o:?}");
    }
    *e.vetter.rules_version.lock().unwrap() = "test-rules-2-strict".into();
    let res = e.mirror.rescan(false, "retro").unwrap();
    let order: Vec<String> = e.mirror.meta.versions(None).unwrap().iter().map(|r| r.key()).collect();
    let keys: Vec<String> = res.iter().map(|(k, ..)| k.clone()).collect();
    assert_eq!(keys, order);
    for (key, from, to, why) in &res {
        let i: u32 = key.trim_start_matches("many-").trim_end_matches("@1.0.0").parse().unwrap();
        let expected = if i.is_multiple_of(5) { State::Revoked } else { State::Approved };
        assert_eq!((*from, *to), (State::Approved, expected), "{key}: {why}");
    }
}

#[tokio::test]
async fn fail_closed_on_scanner_error_and_recovery_by_rescan() {
    let e = env();
    let o = e.ingest("flaky", "1.0.0", "acme", &[("SKILL.md", "# F\nSCANFAIL\n")]);
    assert!(
        matches!(o, IngestOutcome::New { state: State::Quarantined, ref reason } if reason.contains("fail closed")),
        "{o:?}"
    );
    assert_eq!(get(e.app(), "/api/v1/download?slug=flaky").await.0, 423);
    // Approving needs a human; a rescan --all of a still-failing scanner keeps it held.
    let res = e.mirror.rescan(true, "t").unwrap();
    assert!(res.iter().all(|(_, f, t, _)| f == t));
    // Re-ingesting the same bytes is a no-op (pinned).
    assert!(matches!(
        e.ingest("flaky", "1.0.0", "acme", &[("SKILL.md", "# F\nSCANFAIL\n")]),
        IngestOutcome::Unchanged { .. }
    ));
    let audit = e.mirror.meta.audit(None).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["fetch", "scan"]);
}
