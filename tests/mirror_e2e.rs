//! End-to-end: a fake upstream (std-only HTTP server serving `tests/fixtures/mirror/` in
//! ClawHub API shapes) → the real `skillscan-mirror sync` → `serve` → the real `clawhub`
//! CLI 0.23.3 and the real `minisign`.
//!
//! Requirements: `clawhub` (CLAWHUB_BIN, `.ci/node/node_modules/.bin/clawhub`,
//! `/tmp/clawhub-cli/node_modules/.bin/clawhub` or PATH) and `minisign`. With
//! `SKILLSCAN_E2E=1` (CI) a missing tool fails the test; otherwise, when one was missing as the
//! tests were built, the test is ignored with its reason (`tests/build.rs`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_767_225_600_000;

pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn find_tool(env: &str, candidates: &[PathBuf], name: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates.iter().chain(on_path.iter()).find(|p| p.is_file()).cloned()
}

/// The pinned `clawhub` CLI: `CLAWHUB_BIN`, the one `.ci/run` installs, a hand install under
/// `/tmp/clawhub-cli`, or `PATH`.
pub(crate) fn find_clawhub() -> Option<PathBuf> {
    find_tool(
        "CLAWHUB_BIN",
        &[
            workspace().join(".ci/node/node_modules/.bin/clawhub"),
            PathBuf::from("/tmp/clawhub-cli/node_modules/.bin/clawhub"),
        ],
        "clawhub",
    )
}

/// `clawhub` pointed at `registry`, with its own HOME and XDG config (it persists the registry
/// there), no telemetry, no token, no prompts; the caller adds the subcommand.
pub(crate) fn clawhub_command(clawhub: &Path, registry: &str, home: &Path) -> Command {
    let mut command = Command::new(clawhub);
    command
        .env("CLAWHUB_REGISTRY", registry)
        .env("CLAWHUB_DISABLE_TELEMETRY", "1")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("CLAWHUB_SITE")
        .env_remove("CLAWHUB_TOKEN")
        .stdin(Stdio::null());
    command
}

/// `target/<profile>/skillscan-mirror`, next to this test executable's parent directory;
/// built on demand when the test runs alone.
pub(crate) fn mirror_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let bin = profile_dir.join("skillscan-mirror");
    if !bin.is_file() {
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["build", "-p", "skillscan-mirror", "--bin", "skillscan-mirror"]).current_dir(workspace());
        if release {
            c.arg("--release");
        }
        assert!(c.status().expect("cargo build").success(), "building skillscan-mirror failed");
    }
    bin
}

// ---------------------------------------------------------------- fixtures and zips

pub(crate) struct Fixture {
    pub(crate) slug: &'static str,
    pub(crate) owner: &'static str,
    pub(crate) version: &'static str,
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) zip: Vec<u8>,
}

fn read_dir_files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            read_dir_files(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

/// A flat ClawHub-style zip: root-level files plus `_meta.json`, fixed timestamps.
pub(crate) fn fixture(kind: &str, slug: &'static str, owner: &'static str, version: &'static str) -> Fixture {
    let dir = workspace().join("tests/fixtures/mirror").join(kind).join(slug);
    let mut files = BTreeMap::new();
    read_dir_files(&dir, &dir, &mut files);
    let meta = serde_json::to_vec_pretty(&serde_json::json!({
        "ownerId": format!("users:{owner}"), "slug": slug, "version": version, "publishedAt": T0,
    }))
    .unwrap();
    files.insert("_meta.json".into(), meta);
    fixture_of(slug, owner, version, files)
}

/// A fixture of the given files (`_meta.json` included, as the caller wants it).
pub(crate) fn fixture_of(
    slug: &'static str,
    owner: &'static str,
    version: &'static str,
    files: BTreeMap<String, Vec<u8>>,
) -> Fixture {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (p, b) in &files {
        w.start_file(p.as_str(), opts).unwrap();
        w.write_all(b).unwrap();
    }
    let zip = w.finish().unwrap().into_inner();
    Fixture { slug, owner, version, files, zip }
}

// ---------------------------------------------------------------- fake upstream

fn respond(s: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

pub(crate) fn upstream_reply(fixtures: &[Fixture], target: &str) -> (String, &'static str, Vec<u8>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q: BTreeMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let json = |v: serde_json::Value| ("200 OK".to_string(), "application/json", v.to_string().into_bytes());
    if path == "/api/v1/download" {
        return match fixtures.iter().find(|f| Some(&f.slug) == q.get("slug") && Some(&f.version) == q.get("version")) {
            Some(f) => ("200 OK".into(), "application/zip", f.zip.clone()),
            None => ("404 Not Found".into(), "text/plain", b"Version not found".to_vec()),
        };
    }
    let parts: Vec<&str> = path.trim_start_matches("/api/v1/skills/").split('/').collect();
    // Versions of this slug, oldest first (fixtures are pushed in publish order).
    let versions: Vec<&Fixture> = fixtures.iter().filter(|f| f.slug == parts[0]).collect();
    let Some(f) = versions.last() else {
        return ("404 Not Found".into(), "text/plain", b"Skill not found".to_vec());
    };
    match parts.as_slice() {
        [_] => json(serde_json::json!({
            "skill": {"slug": f.slug, "displayName": f.slug, "summary": format!("{} fixture", f.slug), "tags": {"latest": f.version},
                      "stats": {"downloads": 1, "stars": 0, "versions": versions.len(), "comments": 0}, "createdAt": T0, "updatedAt": T0},
            "latestVersion": {"version": f.version, "createdAt": T0, "changelog": format!("Release {}.", f.version), "license": "MIT-0"},
            "metadata": null, "owner": {"handle": f.owner, "displayName": f.owner, "image": null}, "moderation": null,
        })),
        [_, "versions"] => json(serde_json::json!({
            "items": versions.iter().rev().map(|v| serde_json::json!({"version": v.version, "createdAt": T0, "changelog": format!("Release {}.", v.version)})).collect::<Vec<_>>(),
            "nextCursor": null,
        })),
        [_, "versions", v] => match versions.iter().find(|f| f.version == *v) {
            Some(f) => json(serde_json::json!({
                "skill": {"slug": f.slug, "displayName": f.slug},
                "version": {"version": f.version, "createdAt": T0, "changelog": format!("Release {}.", f.version)},
            })),
            None => ("404 Not Found".into(), "text/plain", b"Version not found".to_vec()),
        },
        _ => ("404 Not Found".into(), "text/plain", b"Not found".to_vec()),
    }
}

pub(crate) type Upstream = Arc<std::sync::Mutex<Vec<Fixture>>>;

pub(crate) fn start_upstream(fixtures: Upstream) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let fx = fixtures.clone();
            std::thread::spawn(move || {
                let Some(target) = crate::util::read_request_target(&s) else { return };
                let (st, ct, body) = {
                    let fx = fx.lock().unwrap_or_else(|p| p.into_inner());
                    upstream_reply(&fx, &target)
                };
                respond(&mut s, &st, ct, &body);
            });
        }
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------- helpers

/// Minimal HTTP/1.1 GET (Connection: close) returning (status, body).
pub(crate) fn http_get(base: &str, path: &str) -> (u16, Vec<u8>) {
    let hostport = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("http head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw[split + 4..].to_vec();
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "unexpected chunked body");
    (status, body)
}

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `skillscan-mirror serve` on an ephemeral port of loopback; the first stdout line gives the
/// address. The server stops when the returned guard is dropped.
pub(crate) fn serve_mirror(data: &Path) -> (Server, String) {
    serve_mirror_with(data, &[], &[])
}

/// [`serve_mirror`] with more global flags (`--database`, `--blobs`) and environment.
pub(crate) fn serve_mirror_with(data: &Path, global: &[String], env: &[(&str, &str)]) -> (Server, String) {
    let mut child = Command::new(mirror_bin())
        .arg("--data")
        .arg(data)
        .args(global)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let server = Server(child);
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "unexpected serve output: {line:?}");
    (server, base)
}

pub(crate) fn out_text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
#[cfg_attr(
    no_mirror_e2e,
    ignore = "needs the clawhub CLI and minisign: set CLAWHUB_BIN, or SKILLSCAN_E2E=1 to require them"
)]
fn clawhub_cli_against_the_mirror() {
    let clawhub = find_clawhub();
    let minisign = find_tool("MINISIGN_BIN", &[PathBuf::from("/usr/bin/minisign")], "minisign");
    let (Some(clawhub), Some(minisign)) = (clawhub.clone(), minisign.clone()) else {
        panic!(
            "mirror e2e needs both (SKILLSCAN_E2E=1 requires them): clawhub found: {clawhub:?}, minisign found: {minisign:?}"
        );
    };

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("mirror-data");
    let benign = fixture("benign", "weather-brief", "acme", "1.0.0");
    let malicious = fixture("malicious", "crypto-tracker", "mallory", "1.0.0");
    let benign_files = benign.files.clone();
    let published: Upstream = Arc::new(std::sync::Mutex::new(vec![benign, malicious]));
    let upstream = start_upstream(published.clone());
    let bin = mirror_bin();
    let mirror = |args: &[&str]| -> Output {
        Command::new(&bin).arg("--data").arg(&data).args(args).env_remove("SKILLSCAN_MIRROR_CONFIG").output().unwrap()
    };

    // 1. sync: every version is fetched, scanned and decided by the default policy.
    let o = mirror(&["sync", "--upstream", &upstream, "--slug", "weather-brief", "--slug", "crypto-tracker"]);
    let sync_out = out_text(&o);
    assert!(o.status.success(), "sync failed:\n{sync_out}");
    let o = mirror(&["list", "--json"]);
    let states: BTreeMap<String, serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["slug"].as_str().unwrap().to_string(), v))
        .collect();
    assert_eq!(
        states["weather-brief"]["state"], "approved",
        "benign fixture not approved (is the scanner wired into the mirror? see mirror/README.md, Wiring):\n{sync_out}"
    );
    assert_eq!(states["crypto-tracker"]["state"], "rejected", "malicious fixture not rejected:\n{sync_out}");

    // 2. serve on an ephemeral port.
    let (_server, base) = serve_mirror(&data);

    // 3. the real CLI, with its own HOME/XDG_CONFIG_HOME (it persists the registry there).
    let home = tmp.path().join("home");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    let cli = |args: &[&str]| -> Output {
        clawhub_command(&clawhub, &base, &home).args(args).arg("--no-input").output().unwrap()
    };
    let o = cli(&["search", "weather"]);
    assert!(o.status.success() && out_text(&o).contains("weather-brief"), "search:\n{}", out_text(&o));
    let o = cli(&["search", "crypto"]);
    assert!(!out_text(&o).contains("crypto-tracker"), "refused skills are not listed:\n{}", out_text(&o));
    let o = cli(&["inspect", "weather-brief"]);
    assert!(o.status.success() && out_text(&o).contains("acme"), "inspect:\n{}", out_text(&o));

    let w = work.to_str().unwrap();
    let o = cli(&["install", "weather-brief", "--workdir", w]);
    assert!(o.status.success(), "install benign:\n{}", out_text(&o));
    let installed = work.join("skills/weather-brief");
    for (path, bytes) in &benign_files {
        let got = std::fs::read(installed.join(path)).unwrap_or_else(|e| panic!("{path} not installed: {e}"));
        assert_eq!(&got, bytes, "{path} differs from upstream");
    }

    let o = cli(&["install", "crypto-tracker", "--workdir", w]);
    let text = out_text(&o);
    assert!(!o.status.success(), "malicious install must fail:\n{text}");
    assert!(text.contains("flagged as malware"), "install refusal:\n{text}");
    assert!(!work.join("skills/crypto-tracker/SKILL.md").exists());
    let o = cli(&["install", "crypto-tracker", "--force", "--workdir", w]);
    assert!(!o.status.success(), "--force cannot bypass the block:\n{}", out_text(&o));
    let o = cli(&["inspect", "crypto-tracker"]);
    let text = out_text(&o);
    assert!(text.contains("rejected by the skillscan mirror"), "inspect shows the mirror's reason:\n{text}");
    // Other clients (OpenClaw) that skip the detail check get a 403 with the reason.
    let (status, body) = http_get(&base, "/api/v1/download?slug=crypto-tracker&version=1.0.0");
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("rejected by the skillscan mirror"));

    // 4. the downloaded zip verifies with minisign against the mirror's public key, and
    //    the trusted comment binds slug, version and sha256.
    let (s, zip) = http_get(&base, "/api/v1/download?slug=weather-brief&version=1.0.0");
    assert_eq!(s, 200);
    let (s, sig) = http_get(&base, "/api/v1/download/signature?slug=weather-brief&version=1.0.0");
    assert_eq!(s, 200);
    let (s, pubkey) = http_get(&base, "/.well-known/skillscan.pub");
    assert_eq!(s, 200);
    let d = tmp.path();
    std::fs::write(d.join("weather-brief-1.0.0.zip"), &zip).unwrap();
    std::fs::write(d.join("weather-brief-1.0.0.zip.minisig"), &sig).unwrap();
    std::fs::write(d.join("mirror.pub"), &pubkey).unwrap();
    let o = Command::new(&minisign)
        .arg("-Vm")
        .arg(d.join("weather-brief-1.0.0.zip"))
        .arg("-p")
        .arg(d.join("mirror.pub"))
        .output()
        .unwrap();
    let text = out_text(&o);
    assert!(o.status.success(), "minisign -V failed:\n{text}");
    let sha = states["weather-brief"]["archiveSha256"].as_str().unwrap();
    assert!(text.contains("slug:weather-brief") && text.contains(sha), "trusted comment:\n{text}");

    // The signed index of approved versions verifies too and lists exactly the benign one.
    let (_, index) = http_get(&base, "/api/v1/skillscan/index.json");
    let (s, index_sig) = http_get(&base, "/api/v1/skillscan/index.json.minisig");
    assert_eq!(s, 200);
    std::fs::write(d.join("index.json"), &index).unwrap();
    std::fs::write(d.join("index.json.minisig"), &index_sig).unwrap();
    let o = Command::new(&minisign)
        .arg("-Vm")
        .arg(d.join("index.json"))
        .arg("-p")
        .arg(d.join("mirror.pub"))
        .output()
        .unwrap();
    assert!(o.status.success(), "index signature:\n{}", out_text(&o));
    let idx: serde_json::Value = serde_json::from_slice(&index).unwrap();
    assert_eq!(idx["versions"].as_array().unwrap().len(), 1);
    assert_eq!(idx["versions"][0]["archiveSha256"], sha);

    // 5. Rug-pull defence: upstream publishes 1.0.1, which now talks to a new host. The
    //    scan is clean, but the update review finds a new capability, so it is held.
    published.lock().unwrap().push(fixture("update", "weather-brief", "acme", "1.0.1"));
    let update_files = published.lock().unwrap().last().unwrap().files.clone();
    let o = mirror(&["sync", "--upstream", &upstream, "--slug", "weather-brief"]);
    let text = out_text(&o);
    assert!(o.status.success(), "second sync:\n{text}");
    assert!(
        text.contains("weather-brief@1.0.0: unchanged")
            && text.contains("weather-brief@1.0.1: quarantined")
            && text.contains("api.weather.example.invalid"),
        "update review:\n{text}"
    );
    let o = mirror(&["show", "weather-brief@1.0.1", "--diff"]);
    let text = out_text(&o);
    assert!(
        text.contains("+ host: api.weather.example.invalid") && text.contains("~ scripts/forecast.py"),
        "show --diff:\n{text}"
    );
    // Clients stay on the approved version and cannot fetch the held one.
    let o = cli(&["update", "--all", "--workdir", w]);
    assert!(o.status.success() && out_text(&o).contains("up to date"), "update while held:\n{}", out_text(&o));
    let o = cli(&["install", "weather-brief", "--version", "1.0.1", "--force", "--workdir", w]);
    assert!(
        !o.status.success() && out_text(&o).contains("pending security review"),
        "install of a held version:\n{}",
        out_text(&o)
    );

    // 6. A reviewer approves it; the running server picks the decision up; clients update.
    let o = mirror(&["approve", "weather-brief@1.0.1", "--reason", "new host is the vendor API", "--by", "reviewer"]);
    assert!(o.status.success(), "approve:\n{}", out_text(&o));
    for _ in 0..50 {
        if http_get(&base, "/api/v1/download?slug=weather-brief&version=1.0.1").0 == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = cli(&["update", "--all", "--workdir", w]);
    assert!(o.status.success() && out_text(&o).contains("1.0.1"), "update after approval:\n{}", out_text(&o));
    for (path, bytes) in &update_files {
        let got = std::fs::read(installed.join(path)).unwrap_or_else(|e| panic!("{path} not updated: {e}"));
        assert_eq!(&got, bytes, "{path} differs from upstream 1.0.1");
    }
    let o = mirror(&["audit", "--json"]);
    let audit = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        audit.lines().any(|l| l.contains("\"actor\":\"reviewer\"")
            && l.contains("\"version\":\"1.0.1\"")
            && l.contains("\"toState\":\"approved\"")),
        "audit:\n{audit}"
    );
}

/// Issue 13, pull-through: an empty mirror with `[upstream] on_demand = true` answers the real
/// `clawhub install` on its first request: a clean skill installs byte for byte, a malicious one
/// is refused with the CLI's malware message, and upstream is asked for each skill once, also
/// when the clean one is installed a second time.
#[test]
#[cfg_attr(no_clawhub, ignore = "needs the clawhub CLI: set CLAWHUB_BIN, or SKILLSCAN_E2E=1 to require it")]
fn clawhub_install_pulls_through_an_empty_mirror() {
    let clawhub = find_clawhub().expect("the clawhub CLI (CLAWHUB_BIN; SKILLSCAN_E2E=1 requires it)");
    let tmp = tempfile::tempdir().unwrap();
    let benign = fixture("benign", "weather-brief", "acme", "1.0.0");
    let benign_files = benign.files.clone();
    let fixtures = vec![benign, fixture("malicious", "crypto-tracker", "mallory", "1.0.0")];

    // An upstream that records what it is asked.
    let asked: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    let log = asked.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let Some(target) = crate::util::read_request_target(&s) else { continue };
            log.lock().unwrap().push(target.clone());
            let (status, ctype, body) = upstream_reply(&fixtures, &target);
            respond(&mut s, &status, ctype, &body);
        }
    });

    let data = tmp.path().join("mirror-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), format!("[upstream]\nurl = \"{upstream}\"\non_demand = true\n")).unwrap();
    let (_server, base) = serve_mirror(&data);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let install = |slug: &str, work: &Path| -> Output {
        clawhub_command(&clawhub, &base, &home)
            .args(["install", slug, "--workdir", work.to_str().unwrap(), "--no-input"])
            .output()
            .unwrap()
    };

    let work = tmp.path().join("work");
    let o = install("weather-brief", &work);
    assert!(o.status.success(), "install through an empty mirror:\n{}", out_text(&o));
    for (path, bytes) in &benign_files {
        let got = std::fs::read(work.join("skills/weather-brief").join(path)).unwrap();
        assert_eq!(&got, bytes, "{path} differs from upstream");
    }
    let o = install("crypto-tracker", &work);
    assert!(!o.status.success(), "malicious install must fail:\n{}", out_text(&o));
    assert!(out_text(&o).contains("flagged as malware"), "{}", out_text(&o));
    assert!(!work.join("skills/crypto-tracker/SKILL.md").exists());
    let (status, body) = http_get(&base, "/api/v1/download?slug=crypto-tracker&version=1.0.0");
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("rejected by the skillscan mirror"));
    let o = install("weather-brief", &tmp.path().join("work2"));
    assert!(o.status.success(), "second install:\n{}", out_text(&o));

    let asked = asked.lock().unwrap().clone();
    let count = |prefix: &str| asked.iter().filter(|t| t.starts_with(prefix)).count();
    assert_eq!(asked.iter().filter(|t| *t == "/api/v1/skills/weather-brief").count(), 1, "{asked:?}");
    assert_eq!(asked.iter().filter(|t| *t == "/api/v1/skills/crypto-tracker").count(), 1, "{asked:?}");
    assert_eq!(count("/api/v1/download?slug=weather-brief"), 1, "{asked:?}");
    assert_eq!(count("/api/v1/download?slug=crypto-tracker"), 1, "{asked:?}");
}
