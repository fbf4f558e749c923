//! Issue 13: the review UI in a real browser. Debian's Chromium, driven through chromedriver
//! over WebDriver, against the real `skillscan-mirror serve`, with the real `clawhub` CLI at the
//! end: sign in, open the held version from the queue, read its finding, approve it with a
//! reason, and `clawhub install` gets it byte for byte. A version whose names and contents carry
//! HTML and script is then opened, and nothing of it runs or becomes an element.
//!
//! WebDriver is a small JSON-over-HTTP protocol; the handful of commands used here are spoken
//! directly with reqwest (already a workspace dependency). fantoccini, the maintained client,
//! depends on Mozilla's `webdriver` crate, which is MPL-2.0, a licence deny.toml does not allow.
//!
//! Needs `chromium`, `chromedriver` (Debian's `chromium-driver`) and the clawhub CLI; without
//! them the test is ignored with its reason (tests/build.rs), unless `SKILLSCAN_REQUIRE_CHROMIUM=1`
//! and `SKILLSCAN_E2E=1` (`.ci/run`) make a missing one a failure.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::mirror_e2e::{
    Server, Upstream, clawhub_command, find_clawhub, find_tool, fixture_of, mirror_bin, out_text, serve_mirror,
    start_upstream,
};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver; killed on drop.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session. Commands fail the test with WebDriver's own error text.
struct Browser {
    http: reqwest::Client,
    session: String,
    rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
    _driver: Driver,
}

fn chromedriver_path() -> PathBuf {
    find_tool("CHROMEDRIVER", &[PathBuf::from("/usr/bin/chromedriver")], "chromedriver")
        .expect("no chromedriver (apt-get install chromium-driver)")
}

fn chromium_path() -> PathBuf {
    find_tool("CHROMIUM", &[PathBuf::from("/usr/bin/chromium")], "chromium")
        .expect("no chromium (apt-get install chromium)")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    fn start() -> Browser {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let port = free_port();
        let child = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { child, base: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        loop {
            let ready = rt.block_on(async {
                let r = http.get(format!("{}/status", driver.base)).send().await.ok()?;
                let v: Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
                v["value"]["ready"].as_bool()
            });
            if ready == Some(true) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "chromedriver not ready within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        // As root Chromium needs --no-sandbox; without the background-networking switches it
        // keeps trying to reach Google's services on a closed network.
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_path(), "args": args},
        }}});
        let base = driver.base.clone();
        let v = rt.block_on(command(&http, reqwest::Method::POST, &format!("{base}/session"), Some(caps)));
        let session = v["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_string();
        Browser { http, session, rt, _profile: profile, _driver: driver }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self._driver.base, self.session);
        self.rt.block_on(command(&self.http, method, &url, body))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }

    fn url(&self) -> String {
        self.get("/url").as_str().unwrap().to_string()
    }

    /// Wait (up to 10 s) until the browser is at `url`: a click that submits a form may return
    /// before the navigation it starts has committed.
    fn wait_for_url(&self, url: &str, what: &str) {
        let started = Instant::now();
        while self.url() != url {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{what}: at {} instead of {url}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn title(&self) -> String {
        self.get("/title").as_str().unwrap().to_string()
    }

    fn source(&self) -> String {
        self.get("/source").as_str().unwrap().to_string()
    }

    /// Every element matching a CSS selector (their WebDriver ids).
    fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}));
        let refs = v.as_array().unwrap_or_else(|| panic!("{css}: {v}"));
        refs.iter()
            .map(|e| e[ELEMENT].as_str().unwrap_or_else(|| panic!("{css}: no element reference in {e}")).to_string())
            .collect()
    }

    /// The one element matching a CSS selector.
    fn find(&self, css: &str) -> String {
        let all = self.find_all(css);
        assert_eq!(all.len(), 1, "{css}: {} elements on {}:\n{}", all.len(), self.url(), self.source());
        all[0].clone()
    }

    fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text")).as_str().unwrap().to_string()
    }

    fn type_into(&self, element: &str, text: &str) {
        self.post(&format!("/element/{element}/value"), json!({"text": text}));
    }

    fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}));
    }

    fn cookies(&self) -> Vec<Value> {
        self.get("/cookie").as_array().unwrap().clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self._driver.base, self.session);
        let http = self.http.clone();
        let _ = self.rt.block_on(async move { http.delete(url).send().await });
    }
}

/// One WebDriver command: its `value`, or a panic with the driver's error.
async fn command(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(serde_json::to_vec(&b).unwrap());
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("WebDriver {url}: {e}"));
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("WebDriver {url}: not JSON ({e})"));
    assert!(status.is_success(), "WebDriver {url}: {status} {v}");
    v["value"].clone()
}

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    entries.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect()
}

fn meta(slug: &str, owner: &str, version: &str) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "ownerId": format!("users:{owner}"), "slug": slug, "version": version, "publishedAt": 1_767_225_600_000_i64,
    }))
    .unwrap()
}

/// Held for review: a link through a URL shortener is a medium finding (`shortener-link`), a
/// `caution` verdict, which the default policy quarantines.
const HELD_MD: &str = "---\nname: review-me\ndescription: Summarises release notes.\n---\n# Review me\n\n\
Setup guide: [our guide](https://tinyurl.com/skill-setup-2)\n\nRun `python3 scripts/notes.py`.\n";

/// What would change the page if it ran or became markup.
const SCRIPT: &str = "<script>document.title='pwned'</script>";
const IMG: &str = "\"><img id=pwned src=x onerror=\"document.title='pwned'\">";
const HOSTILE_FILE: &str = "<img id=pwned2 src=x onerror=document.title=1>.md";

fn mirror(data: &Path, args: &[&str]) -> Output {
    Command::new(mirror_bin())
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .output()
        .unwrap()
}

#[test]
#[cfg_attr(
    any(no_chromium, no_chromedriver, no_clawhub),
    ignore = "needs chromium, chromedriver (apt-get install chromium chromium-driver) and the clawhub CLI \
              (CLAWHUB_BIN); SKILLSCAN_REQUIRE_CHROMIUM=1 / SKILLSCAN_E2E=1 make a missing one a failure"
)]
fn review_ui_in_chromium_approves_a_held_version_that_clawhub_then_installs() {
    let clawhub = find_clawhub().expect("the clawhub CLI (CLAWHUB_BIN; SKILLSCAN_E2E=1 requires it)");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("mirror-data");

    let mut held = files(&[("SKILL.md", HELD_MD), ("scripts/notes.py", "print('notes')\n")]);
    held.insert("_meta.json".into(), meta("review-me", "acme", "1.0.0"));
    let held = fixture_of("review-me", "acme", "1.0.0", held);
    let held_files = held.files.clone();
    let hostile_md = format!("---\nname: {IMG}{SCRIPT}\ndescription: {SCRIPT}\n---\n# Notes {IMG}\n{SCRIPT}\n");
    let hostile_body =
        format!("first line\n{SCRIPT}{IMG}\n</pre></body></html><script>document.title='pwned'</script>\n");
    let mut hostile = files(&[("SKILL.md", &hostile_md), (HOSTILE_FILE, &hostile_body)]);
    hostile.insert("_meta.json".into(), meta("hostile-notes", "acme", "1.0.0"));
    let hostile = fixture_of("hostile-notes", "acme", "1.0.0", hostile);
    let upstream = start_upstream(Upstream::new(std::sync::Mutex::new(vec![held, hostile])));

    let o = mirror(&data, &["sync", "--upstream", &upstream, "--slug", "review-me", "--slug", "hostile-notes"]);
    assert!(o.status.success(), "sync:\n{}", out_text(&o));
    let o = mirror(&data, &["show", "review-me@1.0.0"]);
    assert!(out_text(&o).contains("state=quarantined"), "the fixture is held for review:\n{}", out_text(&o));
    let o = mirror(&data, &["token", "create", "--name", "alice", "--role", "admin"]);
    assert!(o.status.success(), "token create:\n{}", out_text(&o));
    let token = String::from_utf8(o.stdout).unwrap().trim().to_string();
    let (_server, base): (Server, String) = serve_mirror(&data);

    let browser = Browser::start();
    // Without a session the queue sends the browser to the sign-in page.
    browser.goto(&format!("{base}/ui/"));
    assert_eq!(browser.url(), format!("{base}/ui/login"));
    let field = browser.find("input[name=token]");
    browser.type_into(&field, &token);
    browser.click(&browser.find("form[action='/ui/login'] button"));
    browser.wait_for_url(&format!("{base}/ui/"), "signed in, on the queue");
    let cookies = browser.cookies();
    let session = cookies.iter().find(|c| c["name"] == "skillscan_session").expect("the session cookie");
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Strict", "{session}");
    assert_eq!(session["path"], "/ui", "{session}");
    assert!(!browser.source().contains(&token), "the token is not shown back");

    // The queue lists the held version; open it and read its finding.
    browser.click(&browser.find("a[href='/ui/versions/review-me/1.0.0']"));
    browser.wait_for_url(&format!("{base}/ui/versions/review-me/1.0.0"), "the held version");
    let rule = browser.find("section.finding code.rule");
    assert_eq!(browser.text(&rule), "shortener-link");
    let hit = browser.find("section.finding pre.src .hit");
    assert!(browser.text(&hit).contains("tinyurl.com/skill-setup-2"), "the source line of the finding");

    // Approve it with a reason.
    let reason = browser.find("form[action$='/approve'] input[name=reason]");
    browser.type_into(&reason, "shortener points at the vendor's docs");
    browser.click(&browser.find("form[action$='/approve'] button"));
    // The answer redirects back to the version page, which then shows it approved.
    let started = Instant::now();
    while browser.find_all("dl.facts .state-approved").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "not approved:\n{}", browser.source());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(browser.url(), format!("{base}/ui/versions/review-me/1.0.0"));
    browser.goto(&format!("{base}/ui/audit"));
    assert!(browser.source().contains("token:alice"), "the audit log names the token");

    // The real CLI installs it at once, byte for byte.
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    let o = clawhub_command(&clawhub, &base, &home)
        .args(["install", "review-me", "--workdir", work.to_str().unwrap(), "--no-input"])
        .output()
        .unwrap();
    assert!(o.status.success(), "install after the approval:\n{}", out_text(&o));
    for (path, bytes) in &held_files {
        let got = std::fs::read(work.join("skills/review-me").join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(&got, bytes, "{path} differs from upstream");
    }

    // The hostile version: its payloads are text on every page; nothing ran, nothing was added.
    let version = format!("{base}/ui/versions/hostile-notes/1.0.0");
    let file = format!("{version}/files/{}", urlencoding_path(HOSTILE_FILE));
    for url in [version.clone(), file, format!("{version}/files/SKILL.md"), format!("{base}/ui/?state=all")] {
        browser.goto(&url);
        let title = browser.title();
        assert!(title.ends_with("· skillscan mirror review"), "{url}: a script set the title: {title:?}");
        assert!(
            browser.find_all("#pwned, #pwned2, img, script").is_empty(),
            "{url}: markup from the payload:\n{}",
            browser.source()
        );
    }
    browser.goto(&version);
    let names: Vec<String> = browser.find_all("table.files a").iter().map(|e| browser.text(e)).collect();
    assert!(names.contains(&HOSTILE_FILE.to_string()), "the file name is shown as text: {names:?}");
}

/// A file path as a URL path: each segment percent-encoded.
fn urlencoding_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
