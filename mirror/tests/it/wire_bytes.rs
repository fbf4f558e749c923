//! The exact bytes of every JSON answer: key order, spacing, `null`s and number formats, not
//! only the shapes the other snapshots compare after parsing. Clients only parse, but a mirror
//! that signs and caches what it serves should not change its bytes by accident.

use axum::body::Body;
use axum::http::Request;
use skillscan_mirror::model::{State, SyncFailure};
use skillscan_mirror::service::IngestInput;

use crate::common::*;

/// Times that depend on when the test runs (decisions, fetches, audit events) become `[time]`;
/// the fixed publish time of the fixtures stays.
fn scrub_times(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let end = (i..b.len()).find(|&j| !b[j].is_ascii_digit()).unwrap_or(b.len());
            let run = &s[i..end];
            let glued = end < b.len() && b[end].is_ascii_alphabetic();
            if run.len() == 13 && run != "1767225600000" && !glued {
                out.push_str("[time]");
            } else {
                out.push_str(run);
            }
            i = end;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn with_metadata(mut i: IngestInput, metadata: &str) -> IngestInput {
    i.metadata_json = Some(metadata.into());
    i
}

fn ownerless(mut i: IngestInput) -> IngestInput {
    i.owner = None;
    i.display_name = Some("Ownerless Skill".into());
    i.summary = None;
    i
}

fn seeded() -> Env {
    let e = env();
    let m = &e.mirror;
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD), ("scripts/forecast.py", "print('18C')\n")]);
    let metadata = r#"{"setup":[{"required":true,"key":"TODOIST_API_KEY"}],"os":["macos"],"systems":null}"#;
    let files = [("SKILL.md", BENIGN_MD), ("scripts/forecast.py", "print('19C')\n"), ("README.md", "# r\n")];
    m.ingest(with_metadata(input("weather-brief", "1.1.0", "acme", &files), metadata), "test").unwrap();
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    e.ingest("careful-skill", "0.1.0", "acme", &[("SKILL.md", "# c\nCAUTION\n")]);
    e.ingest("net-skill", "1.0.0", "acme", &[("SKILL.md", "# n\nHOST:api.example.invalid\n")]);
    e.ingest(
        "net-skill",
        "1.1.0",
        "acme",
        &[("SKILL.md", "# n\nHOST:api.example.invalid HOST:evil.example.invalid\n")],
    );
    e.ingest("pulled-skill", "2.0.0", "acme", &[("SKILL.md", "# p\n")]);
    m.decide("pulled-skill", "2.0.0", State::Revoked, "pulled by the vendor", "alice", false).unwrap();
    m.ingest(ownerless(input("lonely-skill", "0.2.0", "x", &[("SKILL.md", "# l\n")])), "test").unwrap();
    e.ingest("flaky-skill", "1.0.0", "acme", &[("SKILL.md", "# f\nSCANFAIL\n")]);
    m.decide("flaky-skill", "1.0.0", State::Approved, "reviewed by hand", "alice", false).unwrap();
    // Different bytes for a pinned version: an integrity alert.
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\nchanged\n")]);
    let failure = SyncFailure {
        id: 0,
        at: 1_767_225_600_001,
        upstream: "http://127.0.0.1:9".into(),
        slug: "gone".into(),
        version: Some("1.0.0".into()),
        error: "upstream answered HTTP 404: Skill not found".into(),
    };
    m.meta.record_sync_failure(&failure).unwrap();
    e.state.rebuild().unwrap();
    e
}

#[tokio::test]
async fn every_json_answer_byte_for_byte() {
    let e = seeded();
    let admin = skillscan_mirror::auth::create_token(e.mirror.meta.as_ref(), "alice", "admin").unwrap();
    e.state.rebuild().unwrap();
    let fingerprint = e.mirror.get("weather-brief", "1.0.0").unwrap().fingerprint;
    let resolve_hit = format!("/api/v1/resolve?slug=weather-brief&hash={fingerprint}");
    let resolve_miss = format!("/api/v1/skills/resolve?slug=weather-brief&hash={}", "0".repeat(64));
    let gets: Vec<&str> = vec![
        "/.well-known/clawhub.json",
        "/.well-known/clawdhub.json",
        "/api/v1/search?q=weather",
        "/api/v1/search?q=skill&limit=3",
        "/api/v1/search?q=",
        "/api/v1/search?q=lonely",
        "/api/v1/skills",
        "/api/v1/skills?limit=2",
        "/api/v1/skills?limit=2&cursor=2",
        "/api/v1/skills?sort=name",
        "/api/v1/skills?sort=createdAt&prefix=net",
        "/api/v1/skills/weather-brief",
        "/api/v1/skills/crypto-tracker",
        "/api/v1/skills/careful-skill",
        "/api/v1/skills/net-skill",
        "/api/v1/skills/pulled-skill",
        "/api/v1/skills/lonely-skill",
        "/api/v1/skills/flaky-skill",
        "/api/v1/skills/weather-brief/versions",
        "/api/v1/skills/weather-brief/versions?limit=1",
        "/api/v1/skills/weather-brief/versions?limit=1&cursor=1",
        "/api/v1/skills/crypto-tracker/versions",
        "/api/v1/skills/weather-brief/versions/1.0.0",
        "/api/v1/skills/weather-brief/versions/1.1.0",
        "/api/v1/skills/lonely-skill/versions/0.2.0",
        "/api/v1/skills/weather-brief/install",
        "/api/v1/skills/weather-brief/install?version=1.0.0",
        "/api/v1/skills/crypto-tracker/install",
        "/api/v1/skills/careful-skill/install",
        "/api/v1/skills/net-skill/install?version=1.1.0",
        "/api/v1/skills/pulled-skill/install",
        &resolve_hit,
        &resolve_miss,
        "/api/v1/skills/weather-brief/verify",
        "/api/v1/skills/weather-brief/verify?version=1.0.0",
        "/api/v1/skills/lonely-skill/verify",
        "/api/v1/skills/flaky-skill/verify",
        "/api/v1/skills/crypto-tracker/verify",
        "/api/v1/skills/careful-skill/verify?version=0.1.0",
        "/api/v1/skills/crypto-tracker/moderation",
        "/api/v1/skills/pulled-skill/moderation",
        "/api/v1/skills/careful-skill/moderation",
        "/api/v1/skillscan/index.json",
        "/healthz",
        "/readyz",
    ];
    let mut out = String::new();
    let mut record = |what: String, status: u16, body: &[u8]| {
        out.push_str(&format!("{what} -> {status}\n{}\n\n", scrub_times(&String::from_utf8_lossy(body))));
    };
    for uri in gets {
        let (s, _, b) = get(e.app(), uri).await;
        record(format!("GET {uri}"), s.as_u16(), &b);
    }
    let verdicts = r#"{"items":[
        {"slug":"weather-brief"},
        {"slug":"weather-brief","version":"1.0.0","ownerHandle":"acme"},
        {"slug":"weather-brief","version":""},
        {"slug":"lonely-skill"},
        {"slug":"crypto-tracker","version":"1.0.0"},
        {"slug":"careful-skill"},
        {"slug":"weather-brief","version":"9.9.9"},
        {"slug":"nobody-knows"},
        {"slug":"../etc"},
        {"slug":"weather-brief","ownerHandle":"mallory"}
    ]}"#;
    let post = |uri: &str, token: Option<&str>, body: &str| {
        let mut r = Request::post(uri).header("content-type", "application/json");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(Body::from(body.to_string())).unwrap()
    };
    for (uri, body) in [
        ("/api/v1/skills/-/security-verdicts", verdicts),
        ("/api/cli/telemetry/install", r#"{"event":"install","slug":"weather-brief","version":"1.0.0"}"#),
    ] {
        let (s, _, b) = call(e.app(), post(uri, None, body)).await;
        record(format!("POST {uri}"), s.as_u16(), &b);
    }
    let admin_get =
        |uri: &str| Request::get(uri).header("authorization", format!("Bearer {admin}")).body(Body::empty()).unwrap();
    for uri in [
        "/api/v1/admin/versions",
        "/api/v1/admin/versions?state=quarantined",
        "/api/v1/admin/versions/net-skill/1.1.0",
        "/api/v1/admin/versions/weather-brief/1.0.0",
        "/api/v1/admin/versions/flaky-skill/1.0.0",
        "/api/v1/admin/alerts",
        "/api/v1/admin/sync-failures",
    ] {
        let (s, _, b) = call(e.app(), admin_get(uri)).await;
        record(format!("GET {uri} (admin)"), s.as_u16(), &b);
    }
    let uri = "/api/v1/admin/versions/careful-skill/0.1.0/approve";
    let (s, _, b) = call(e.app(), post(uri, Some(&admin), r#"{"reason":"reviewed the shell usage"}"#)).await;
    record(format!("POST {uri} (admin)"), s.as_u16(), &b);
    let (s, _, b) = call(e.app(), admin_get("/api/v1/admin/audit")).await;
    record("GET /api/v1/admin/audit (admin)".into(), s.as_u16(), &b);
    insta::assert_snapshot!("wire_bytes", out);
}

#[test]
fn the_time_scrubber_keeps_fixed_times_and_other_numbers() {
    assert_eq!(
        scrub_times(r#"{"a":1767225600000,"b":1790000000000,"c":12,"d":"sha:1790000000000ab"}"#),
        r#"{"a":1767225600000,"b":[time],"c":12,"d":"sha:1790000000000ab"}"#
    );
}
