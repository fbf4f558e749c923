//! The review UI (`/ui/`): sign-in and sessions, CSRF, decisions through the admin API's path,
//! security headers, and hostile text rendered inert.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use bytes::Bytes;
use skillscan_mirror::auth::create_token;
use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::schedule::{Job, Run};
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::vetting::doubles::{FnVetter, outcome};
use skillscan_mirror::vetting::{Verdict, Vetter};
use skillscan_mirror::{AppState, archive};

use crate::common::*;

const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The seeded env: one approved, one rejected (malicious), one quarantined (caution) version,
/// an admin token `alice`, a read token `reader`.
struct Ui {
    env: Env,
    admin: String,
    read: String,
}

fn ui_with(config: Config) -> Ui {
    let env = env_with(Policy::default(), config);
    env.ingest("weather-brief", "1.0.0", "acme", &[("SKILL.md", BENIGN_MD)]);
    env.ingest("crypto-tracker", "1.0.0", "mallory", &[("SKILL.md", "# Crypto\nMALICIOUS payload\n")]);
    env.ingest("careful-skill", "0.1.0", "bob", &[("SKILL.md", "# Careful\nCAUTION shell\n")]);
    let admin = create_token(env.mirror.meta.as_ref(), "alice", "admin").unwrap();
    let read = create_token(env.mirror.meta.as_ref(), "reader", "read").unwrap();
    env.state.rebuild().unwrap();
    Ui { env, admin, read }
}

fn ui() -> Ui {
    ui_with(Config::default())
}

/// Form fields or headers: (name, value).
type Fields<'a> = Vec<(&'a str, &'a str)>;

fn form_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", urlencoding::encode(v))).collect::<Vec<_>>().join("&")
}

fn post_form(uri: &str, cookie: Option<&str>, fields: &[(&str, &str)], extra: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(Body::from(form_body(fields))).unwrap()
}

fn get_with(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
}

/// The `name=value` of the session cookie a sign-in set.
fn session_cookie(h: &HeaderMap) -> String {
    let set = h[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token a page's forms carry.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF field") + 19;
    page[at..at + 64].to_string()
}

impl Ui {
    async fn sign_in(&self, token: &str) -> (StatusCode, HeaderMap, Bytes) {
        call(self.env.app(), post_form("/ui/login", None, &[("token", token)], &[])).await
    }

    /// Sign in as alice: (cookie, CSRF token).
    async fn session(&self) -> (String, String) {
        let (s, h, _) = self.sign_in(&self.admin).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let cookie = session_cookie(&h);
        let (s, _, b) = call(self.env.app(), get_with("/ui/", &cookie)).await;
        assert_eq!(s, 200);
        (cookie, csrf_of(&text(&b)))
    }

    async fn page(&self, uri: &str, cookie: &str) -> String {
        let (s, h, b) = call(self.env.app(), get_with(uri, cookie)).await;
        assert_eq!(s, 200, "{uri}: {}", text(&b));
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        text(&b)
    }

    fn state_of(&self, slug: &str, version: &str) -> State {
        self.env.mirror.get(slug, version).unwrap().state
    }
}

#[tokio::test]
async fn pages_need_a_session_and_sign_in_needs_a_live_admin_token() {
    let ui = ui();
    // No session: GETs go to the sign-in page, POSTs are refused.
    for uri in ["/ui/", "/ui/versions/careful-skill/0.1.0", "/ui/audit", "/ui/alerts", "/ui/schedule"] {
        let (s, h, _) = get(ui.env.app(), uri).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(h[header::LOCATION], "/ui/login", "{uri}");
    }
    let (s, _, _) =
        call(ui.env.app(), post_form("/ui/versions/careful-skill/0.1.0/approve", None, &[("reason", "x")], &[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call(ui.env.app(), post_form("/ui/logout", Some("skillscan_session=forged"), &[], &[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = get(ui.env.app(), "/ui/login").await;
    assert_eq!(s, 200);

    // Wrong, read-role and revoked tokens: the same refusal, no cookie.
    let revoked = create_token(ui.env.mirror.meta.as_ref(), "gone", "admin").unwrap();
    ui.env.mirror.meta.revoke_token("gone").unwrap();
    for token in ["ssm_0000", "", ui.read.as_str(), revoked.as_str()] {
        let (s, h, b) = ui.sign_in(token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token}");
        assert!(h.get(header::SET_COOKIE).is_none(), "{token}");
        assert!(text(&b).contains("not a valid admin token"));
    }
    // A token in the query string is not a sign-in.
    let (s, _, _) = get(ui.env.app(), &format!("/ui/login?token={}", ui.admin)).await;
    assert_eq!(s, 200);
    assert!(ui.env.state.ui_sessions.is_empty());

    // The admin token: an HttpOnly, SameSite=Strict cookie scoped to /ui, not Secure by default.
    let (s, h, _) = ui.sign_in(&ui.admin).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/");
    let set = h[header::SET_COOKIE].to_str().unwrap();
    let attrs: Vec<&str> = set.split(';').map(str::trim).collect();
    assert!(attrs[0].starts_with("skillscan_session=") && attrs[0].len() == "skillscan_session=".len() + 64, "{set}");
    for a in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(attrs.contains(&a), "{a} missing: {set}");
    }
    assert!(!attrs.contains(&"Secure"), "{set}");
    assert!(!set.contains(&ui.admin), "the cookie is not the token");
    let cookie = session_cookie(&h);
    let page = ui.page("/ui/", &cookie).await;
    assert!(page.contains("alice") && page.contains("careful-skill"), "{page}");
    assert!(!page.contains(&ui.admin), "the token is never shown back");

    // Revoking the token ends its session at the next request.
    ui.env.mirror.meta.revoke_token("alice").unwrap();
    let (s, h, _) = call(ui.env.app(), get_with("/ui/", &cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/login");
    assert!(ui.env.state.ui_sessions.is_empty());
}

#[tokio::test]
async fn secure_cookies_when_configured_and_sign_out_ends_the_session() {
    let mut config = Config::default();
    config.ui.secure_cookies = true;
    let ui = ui_with(config);
    let (_, h, _) = ui.sign_in(&ui.admin).await;
    let set = h[header::SET_COOKIE].to_str().unwrap();
    assert!(set.split(';').map(str::trim).any(|a| a == "Secure"), "{set}");
    let (cookie, csrf) = ui.session().await;
    // Sign-out is a form like the others: without the CSRF token it is refused.
    let (s, _, _) = call(ui.env.app(), post_form("/ui/logout", Some(&cookie), &[], &[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, h, _) = call(ui.env.app(), post_form("/ui/logout", Some(&cookie), &[("csrf", &csrf)], &[])).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (s, _, _) = call(ui.env.app(), get_with("/ui/", &cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_or_from_another_site_are_refused() {
    let ui = ui();
    let (cookie, csrf) = ui.session().await;
    let (_, other_csrf) = ui.session().await;
    assert_ne!(csrf, other_csrf, "each session has its own token");
    let uri = "/ui/versions/careful-skill/0.1.0/approve";
    let refused: [(&str, Fields, Fields); 6] = [
        ("no token", vec![("reason", "ok")], vec![]),
        ("empty token", vec![("reason", "ok"), ("csrf", "")], vec![]),
        ("another session's token", vec![("reason", "ok"), ("csrf", &other_csrf)], vec![]),
        ("a truncated token", vec![("reason", "ok"), ("csrf", &csrf[..63])], vec![]),
        ("cross-site fetch", vec![("reason", "ok"), ("csrf", &csrf)], vec![("sec-fetch-site", "cross-site")]),
        ("foreign origin", vec![("reason", "ok"), ("csrf", &csrf)], vec![("origin", "https://evil.example.invalid")]),
    ];
    for (what, fields, headers) in refused {
        let (s, _, b) = call(ui.env.app(), post_form(uri, Some(&cookie), &fields, &headers)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{what}: {}", text(&b));
        assert_eq!(ui.state_of("careful-skill", "0.1.0"), State::Quarantined, "{what}");
    }
    // `Origin: null` (what a browser sends from a no-referrer page) with a cross-site fetch.
    let null_cross = [("origin", "null"), ("sec-fetch-site", "cross-site")];
    let (s, _, _) =
        call(ui.env.app(), post_form(uri, Some(&cookie), &[("reason", "ok"), ("csrf", &csrf)], &null_cross)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Same origin (as a browser sends it) is accepted.
    let same = [("sec-fetch-site", "same-origin"), ("origin", "http://mirror.test"), ("host", "mirror.test")];
    let (s, _, b) = call(
        ui.env.app(),
        post_form(
            "/ui/versions/crypto-tracker/1.0.0/reject",
            Some(&cookie),
            &[("reason", "x"), ("csrf", &csrf)],
            &same,
        ),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a same-origin form reaches the decision (rejected stays rejected): {}",
        text(&b)
    );
    // And so is `Origin: null` from a same-origin fetch: the UI's own no-referrer pages send it.
    let no_referrer = [("sec-fetch-site", "same-origin"), ("origin", "null")];
    let (s, _, b) =
        call(ui.env.app(), post_form(uri, Some(&cookie), &[("reason", "ok"), ("csrf", &csrf)], &no_referrer)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{}", text(&b));
    assert_eq!(ui.state_of("careful-skill", "0.1.0"), State::Approved);
}

#[tokio::test]
async fn decisions_follow_the_cli_rules_and_are_audited_as_the_token() {
    let ui = ui();
    let (cookie, csrf) = ui.session().await;
    let decide = |path: &str, fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(path, Some(&cookie), &fields, &[])
    };
    let careful = "/ui/versions/careful-skill/0.1.0";
    let page = ui.page(careful, &cookie).await;
    assert!(page.contains("action=\"/ui/versions/careful-skill/0.1.0/approve\""), "{page}");
    assert!(!page.contains("/revoke\""), "revoke does not apply to a quarantined version");

    // A reason is required.
    let (s, _, _) = call(
        ui.env.app(),
        decide(&format!("{careful}/approve"), vec![("csrf", csrf.clone()), ("reason", "  ".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) =
        call(ui.env.app(), decide(&format!("{careful}/promote"), vec![("csrf", csrf.clone()), ("reason", "x".into())]))
            .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Approve: served at once, audited as token:alice.
    let (s, _, _) = get(ui.env.app(), "/api/v1/download?slug=careful-skill&version=0.1.0").await;
    assert_eq!(s, StatusCode::LOCKED);
    let (s, h, _) = call(
        ui.env.app(),
        decide(&format!("{careful}/approve"), vec![("csrf", csrf.clone()), ("reason", "read it".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], careful);
    let (s, _, _) = get(ui.env.app(), "/api/v1/download?slug=careful-skill&version=0.1.0").await;
    assert_eq!(s, 200, "served right after the approval");
    // Revoke it again.
    let (s, _, _) = call(
        ui.env.app(),
        decide(&format!("{careful}/revoke"), vec![("csrf", csrf.clone()), ("reason", "changed my mind".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ui.state_of("careful-skill", "0.1.0"), State::Revoked);

    // What the policy rejects needs the override, as with the CLI's --override.
    let crypto = "/ui/versions/crypto-tracker/1.0.0";
    let page = ui.page(crypto, &cookie).await;
    assert!(page.contains("The policy refuses this version") && page.contains("name=\"override\""), "{page}");
    let (s, _, b) = call(
        ui.env.app(),
        decide(&format!("{crypto}/approve"), vec![("csrf", csrf.clone()), ("reason", "trust me".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{}", text(&b));
    assert!(text(&b).contains("needs --override"));
    assert_eq!(ui.state_of("crypto-tracker", "1.0.0"), State::Rejected);
    let (s, _, _) = call(
        ui.env.app(),
        decide(
            &format!("{crypto}/approve"),
            vec![("csrf", csrf.clone()), ("reason", "vendor fixed it".into()), ("override", "1".into())],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ui.state_of("crypto-tracker", "1.0.0"), State::Approved);
    // Reject the benign one.
    let (s, _, _) = call(
        ui.env.app(),
        decide("/ui/versions/weather-brief/1.0.0/revoke", vec![("csrf", csrf.clone()), ("reason", "withdrawn".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ui.state_of("weather-brief", "1.0.0"), State::Revoked);

    let audit = ui.env.mirror.meta.audit(None).unwrap();
    let by_alice: Vec<(String, String)> =
        audit.iter().filter(|e| e.actor == "token:alice").map(|e| (e.slug.clone(), e.action.clone())).collect();
    assert!(by_alice.contains(&("careful-skill".into(), "approve".into())), "{audit:?}");
    assert!(by_alice.contains(&("careful-skill".into(), "revoke".into())), "{audit:?}");
    assert!(by_alice.contains(&("crypto-tracker".into(), "override".into())), "{audit:?}");
    assert!(by_alice.contains(&("weather-brief".into(), "revoke".into())), "{audit:?}");
    let page = ui.page("/ui/audit", &cookie).await;
    assert!(page.contains("token:alice") && page.contains("vendor fixed it"), "{page}");
}

#[tokio::test]
async fn every_ui_answer_carries_the_security_headers() {
    let ui = ui();
    let (cookie, _) = ui.session().await;
    let mut uris = vec![
        "/ui/login",
        "/ui/",
        "/ui/?state=all&sort=verdict",
        "/ui/versions/careful-skill/0.1.0",
        "/ui/versions/careful-skill/0.1.0/files/SKILL.md",
        "/ui/audit",
        "/ui/alerts",
        "/ui/schedule",
        "/ui/style.css",
    ];
    // Refusals too.
    uris.push("/ui/versions/careful-skill/9.9.9");
    uris.push("/ui/versions/careful-skill/0.1.0/files/nope.md");
    uris.push("/ui/?sort=sideways");
    for uri in uris {
        let (_, h, _) = call(ui.env.app(), get_with(uri, &cookie)).await;
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP, "{uri}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{uri}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{uri}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
    }
    let (s, h, _) = call(ui.env.app(), get_with("/ui/style.css", &cookie)).await;
    assert_eq!(s, 200);
    assert_eq!(h[header::CONTENT_TYPE], "text/css; charset=utf-8");
    let (s, _, _) = call(ui.env.app(), get_with("/ui/versions/careful-skill/9.9.9", &cookie)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = call(ui.env.app(), get_with("/ui/?sort=sideways", &cookie)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_queue_filters_and_sorts_and_the_schedule_shows_runs() {
    let ui = ui();
    let (cookie, _) = ui.session().await;
    let page = ui.page("/ui/", &cookie).await;
    assert!(
        page.contains("careful-skill") && !page.contains("crypto-tracker") && !page.contains(">weather-brief<"),
        "{page}"
    );
    assert!(page.contains("hold-verdict"), "the caution hold is labelled: {page}");
    let page = ui.page("/ui/?state=all&sort=slug", &cookie).await;
    let (a, b, c) = (
        page.find(">careful-skill<").unwrap(),
        page.find(">crypto-tracker<").unwrap(),
        page.find(">weather-brief<").unwrap(),
    );
    assert!(a < b && b < c, "sorted by slug");
    let page = ui.page("/ui/?state=all&sort=verdict", &cookie).await;
    assert!(page.find(">crypto-tracker<").unwrap() < page.find(">careful-skill<").unwrap(), "worst verdict first");
    let page = ui.page("/ui/?state=all&verdict=malicious", &cookie).await;
    assert!(page.contains(">crypto-tracker<") && !page.contains(">careful-skill<"));
    let page = ui.page("/ui/?reason=min-age", &cookie).await;
    assert!(page.contains("Nothing to review."));
    let page = ui.page("/ui/?state=rejected", &cookie).await;
    assert!(page.contains(">crypto-tracker<") && !page.contains(">careful-skill<"));

    let page = ui.page("/ui/schedule", &cookie).await;
    assert!(page.contains("No run yet."));
    ui.env.state.schedule_runs.record(Run {
        job: Job::Sync,
        started_at: 1_767_225_600_000,
        finished_at: 1_767_225_601_500,
        ok: false,
        summary: "3 skills: 1 new versions, 2 failures".into(),
    });
    let page = ui.page("/ui/schedule", &cookie).await;
    assert!(page.contains("3 skills: 1 new versions, 2 failures") && page.contains("2026-01-01T00:00:00Z"), "{page}");
    assert!(page.contains("1500 ms") && page.contains("failed"), "{page}");
}

/// Payloads that would run script or add an element if they reached the page as markup.
const SCRIPT: &str = "<script>document.title='pwned'</script>";
const ATTR: &str = "\"><img id=pwned src=x onerror=alert(1)>";
const FILE_NAME: &str = "<img src=x onerror=alert(2)>.md";

/// A scanner whose report carries the payloads in every text field of a finding.
fn hostile_vetter() -> Arc<dyn Vetter> {
    Arc::new(FnVetter(|_: &[u8]| {
        let mut o = outcome(Verdict::Caution, "test-rules-1");
        o.capabilities.hosts.insert(format!("{ATTR}.example.invalid"));
        o.report_json = serde_json::json!({"skills": [{"findings": [{
            "rule_id": format!("SS{SCRIPT}"),
            "severity": "medium",
            "message": format!("message {SCRIPT}"),
            "file": FILE_NAME,
            "line": 2,
            "column": 1,
            "snippet": format!("snippet {ATTR}"),
            "decoded": {"chain": [format!("base64{SCRIPT}")], "text": format!("decoded {ATTR}")},
        }]}]})
        .to_string();
        Ok(o)
    }))
}

#[tokio::test]
async fn hostile_names_contents_and_findings_are_escaped_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let m = Arc::new(mirror_with(dir.path(), Policy::default(), Config::default(), hostile_vetter(), blobs, meta));
    let state = AppState::new(m.clone()).unwrap();
    let skill_md = format!("---\nname: {ATTR}{SCRIPT}\ndescription: x\n---\n# Hi\n{SCRIPT}\n");
    let file = format!("line one\n{SCRIPT} {ATTR}\n</pre></body><script>alert(3)</script>\n");
    let mut inp = input("hostile-skill", "1.0.0", "mallory", &[("SKILL.md", &skill_md), (FILE_NAME, &file)]);
    inp.summary = Some(format!("summary {SCRIPT}"));
    inp.display_name = Some(format!("display {ATTR}"));
    let out = m.ingest(inp, "test").unwrap();
    assert!(matches!(out, skillscan_mirror::service::IngestOutcome::New { state: State::Quarantined, .. }), "{out:?}");
    state.rebuild().unwrap();
    let token = create_token(m.meta.as_ref(), "alice", "admin").unwrap();
    let ui =
        Ui { env: Env { _dir: dir, mirror: m, state, vetter: Default::default() }, admin: token, read: String::new() };
    let (cookie, csrf) = ui.session().await;

    // A decision whose reason carries the payloads shows up in the audit page escaped.
    let (s, _, _) = call(
        ui.env.app(),
        post_form(
            "/ui/versions/hostile-skill/1.0.0/reject",
            Some(&cookie),
            &[("csrf", &csrf), ("reason", &format!("reason {SCRIPT}{ATTR}"))],
            &[],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    let file_url = format!("/ui/versions/hostile-skill/1.0.0/files/{}", urlencoding::encode(FILE_NAME));
    let pages = [
        "/ui/?state=all".to_string(),
        "/ui/versions/hostile-skill/1.0.0".to_string(),
        file_url,
        "/ui/versions/hostile-skill/1.0.0/files/SKILL.md".to_string(),
        "/ui/audit".to_string(),
    ];
    for uri in &pages {
        let page = ui.page(uri, &cookie).await;
        for raw in ["<script", "<img", "</pre></body>"] {
            assert!(!page.contains(raw), "{uri}: unescaped {raw:?} in\n{page}");
        }
        assert!(
            page.contains("&lt;script&gt;") || page.contains("&lt;img"),
            "{uri}: the payload is shown, escaped:\n{page}"
        );
    }
    let version = ui.page("/ui/versions/hostile-skill/1.0.0", &cookie).await;
    for escaped in [
        "SS&lt;script&gt;document.title='pwned'&lt;/script&gt;",
        "snippet &quot;&gt;&lt;img id=pwned src=x onerror=alert(1)&gt;",
        "decoded &quot;&gt;&lt;img",
        "&lt;img src=x onerror=alert(2)&gt;.md:2:1",
        "summary &lt;script&gt;",
    ] {
        assert!(version.contains(escaped), "{escaped:?} missing from\n{version}");
    }
    // The source around the finding is the file's, escaped.
    assert!(version.contains("&lt;/pre&gt;&lt;/body&gt;&lt;script&gt;alert(3)"), "{version}");
    // Links to the hostile file name are percent-encoded.
    assert!(version.contains("/files/%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E.md"), "{version}");
    let audit = ui.page("/ui/audit", &cookie).await;
    assert!(audit.contains("reason &lt;script&gt;document.title='pwned'&lt;/script&gt;&quot;&gt;&lt;img"), "{audit}");
}

#[tokio::test]
async fn the_file_browser_shows_text_escaped_binaries_by_type_and_only_listed_paths() {
    let ui = ui();
    let zip_in_zip = archive::build_zip(&[("a.txt".to_string(), b"x".to_vec())].into_iter().collect()).unwrap();
    let mut inp = input("bin-skill", "1.0.0", "bob", &[("SKILL.md", "# Bin\nCAUTION\n")]);
    let mut files = std::collections::BTreeMap::new();
    files.insert("SKILL.md".to_string(), b"# Bin\nCAUTION\n".to_vec());
    files.insert("tool".to_string(), b"\x7fELF\x02\x01\x01\0\0\0".to_vec());
    files.insert("big.txt".to_string(), "a".repeat(300 * 1024).into_bytes());
    files.insert("inner.zip".to_string(), zip_in_zip);
    files.insert("_meta.json".into(), archive::meta_json(Some("bob"), "bin-skill", "1.0.0", 1));
    inp.zip = archive::build_zip(&files).unwrap();
    ui.env.mirror.ingest(inp, "test").unwrap();
    let (cookie, _) = ui.session().await;
    let base = "/ui/versions/bin-skill/1.0.0/files";
    let page = ui.page(&format!("{base}/tool"), &cookie).await;
    assert!(page.contains("Binary file, not shown: ELF executable or library"), "{page}");
    assert!(!page.contains("ELF\u{2}"), "the bytes are not shown");
    let page = ui.page(&format!("{base}/inner.zip"), &cookie).await;
    assert!(page.contains("zip archive"), "{page}");
    let page = ui.page(&format!("{base}/big.txt"), &cookie).await;
    assert!(page.contains("Cut at 262144 bytes of 307200"), "cut with a note");
    assert!(page.len() < 300 * 1024, "the cut is applied");
    for bad in ["../../etc/passwd", "nope.txt", "%2e%2e/SKILL.md", "./SKILL.md"] {
        let (s, h, _) = call(ui.env.app(), get_with(&format!("{base}/{bad}"), &cookie)).await;
        assert!(s == StatusCode::NOT_FOUND || s == StatusCode::BAD_REQUEST, "{bad}: {s}");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
    }
}

#[tokio::test]
async fn the_sign_in_page_snapshot() {
    let ui = ui();
    let (_, _, b) = get(ui.env.app(), "/ui/login").await;
    insta::assert_snapshot!("ui_login", text(&b));
}
