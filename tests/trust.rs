//! One set of trust flags and one `[trust]` table for `verify`, `ci`, `install` and `inventory`,
//! end to end against the real `skillscan-mirror` (fake upstream → `sync` → `serve`, the
//! machinery of `mirror_e2e.rs`): a skill installed from the mirror is verified, gated and
//! inventoried with nothing but the mirror's public key — given as `--public-key`, as `[trust]` in
//! `skillscan.toml`, and as the `.pub` file handed to `--trusted-keys` — and a tampered file makes
//! all three fail with exit 3 (integrity). Then the way forward after a reviewed local edit: the
//! re-pin is the authority over the stale `origin.json`, and what happens when signatures are
//! required.
//!
//! Run `cargo build -p skillscan -p skillscan-mirror` first when running this test package alone,
//! so the binaries are not stale.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use crate::mirror_e2e::{Server, fixture, http_get, mirror_bin, out_text, serve_mirror, start_upstream};
use crate::util::bin;

/// skillscan in `cwd`, with no registry, workdir, token or home from the environment.
fn skillscan(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin("skillscan"))
        .current_dir(cwd)
        .args(args)
        .env_remove("CLAWHUB_REGISTRY")
        .env_remove("CLAWHUB_WORKDIR")
        .env_remove("CLAWHUB_TOKEN")
        .env_remove("OPENCLAW_STATE_DIR")
        .env("HOME", cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run skillscan")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out_text(o)))
}

struct Mirror {
    _tmp: tempfile::TempDir,
    _server: Server,
    base: String,
    /// `/.well-known/skillscan.pub`, as served.
    public_key: String,
    key_id: String,
}

/// A mirror that approved `weather-brief` 1.0.0 from a fake upstream, served on loopback.
fn mirror() -> Mirror {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("mirror-data");
    let upstream =
        start_upstream(Arc::new(std::sync::Mutex::new(vec![fixture("benign", "weather-brief", "acme", "1.0.0")])));
    let o = Command::new(mirror_bin())
        .arg("--data")
        .arg(&data)
        .args(["sync", "--upstream", &upstream, "--slug", "weather-brief"])
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "sync:\n{}", out_text(&o));
    let (server, base) = serve_mirror(&data);
    let (status, key) = http_get(&base, "/.well-known/skillscan.pub");
    assert_eq!(status, 200);
    let public_key = String::from_utf8(key).unwrap();
    let key_id = skillscan_signatures::minisign::PublicKey::parse(&public_key).unwrap().key_id.to_string();
    Mirror { _tmp: tmp, _server: server, base, public_key, key_id }
}

/// How the commands are told about the mirror's key.
#[derive(Debug, Clone, Copy)]
enum KeyGiven {
    /// `--public-key mirror.pub` on every command.
    PublicKeyFlag,
    /// `[trust] public_key` (and `mirror`, install's registry) in `skillscan.toml`, no flag.
    TrustTable,
    /// `--trusted-keys mirror.pub`: the `.pub` file where a trust store is expected.
    PubAsTrustedKeys,
}

/// A fake home with OpenClaw's default workspace, where the skill is installed. With the key in
/// `[trust]`, the current folder has a `skillscan.toml` (what `install`, `verify` and
/// `inventory` read) and so has the workspace (what `ci` reads: the repository's config).
struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new(m: &Mirror, given: KeyGiven) -> Host {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.openclaw/workspace")).unwrap();
        std::fs::write(dir.path().join("mirror.pub"), &m.public_key).unwrap();
        if let KeyGiven::TrustTable = given {
            // The current folder's config (install, verify, inventory): a key file.
            std::fs::write(
                dir.path().join("skillscan.toml"),
                format!("[trust]\npublic_key = \"mirror.pub\"\nmirror = \"{}\"\n", m.base),
            )
            .unwrap();
            // The workspace's own (ci reads the repository's): the key line itself.
            let line = m.public_key.lines().find(|l| l.starts_with("RW")).unwrap();
            std::fs::write(
                dir.path().join("home/.openclaw/workspace/skillscan.toml"),
                format!("[trust]\npublic_key = \"{line}\"\n"),
            )
            .unwrap();
        }
        Host { dir }
    }

    fn cwd(&self) -> &Path {
        self.dir.path()
    }

    fn workspace(&self) -> PathBuf {
        self.cwd().join("home/.openclaw/workspace")
    }

    fn skill(&self) -> PathBuf {
        self.workspace().join("skills/weather-brief")
    }

    /// `command`, with the key as `given` says.
    fn run(&self, given: KeyGiven, command: &[&str]) -> Output {
        let mut args: Vec<String> = command.iter().map(|s| (*s).to_owned()).collect();
        match given {
            KeyGiven::PublicKeyFlag => args.extend(["--public-key".into(), "mirror.pub".into()]),
            KeyGiven::PubAsTrustedKeys => args.extend(["--trusted-keys".into(), "mirror.pub".into()]),
            KeyGiven::TrustTable => {}
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        skillscan(self.cwd(), &args)
    }
}

#[test]
fn installed_from_the_mirror_then_verified_gated_and_inventoried_with_its_key_alone() {
    let m = mirror();
    for given in [KeyGiven::PublicKeyFlag, KeyGiven::TrustTable, KeyGiven::PubAsTrustedKeys] {
        let host = Host::new(&m, given);
        let workspace = host.workspace();
        let workspace = workspace.to_str().unwrap();
        let skill = host.skill();
        let skill = skill.to_str().unwrap();
        let root = host.cwd().join("home");
        let root = root.to_str().unwrap();

        // install: the signature is checked against the key, and kept in the folder.
        let mut install = vec!["install", "weather-brief", "--workdir", workspace];
        if !matches!(given, KeyGiven::TrustTable) {
            install.extend(["--registry", &m.base]);
        }
        let o = host.run(given, &install);
        assert_eq!(code(&o), 0, "{given:?} install:\n{}", out_text(&o));
        assert!(out_text(&o).contains(&format!("signed by key {}", m.key_id)), "{given:?}:\n{}", out_text(&o));
        assert!(host.skill().join(".clawhub/skillscan.minisig").is_file());

        // verify: the mirror's signature inside the folder, and origin.json.
        let o = host.run(given, &["verify", skill]);
        assert_eq!(code(&o), 0, "{given:?} verify:\n{}", out_text(&o));
        let text = out_text(&o);
        assert!(
            text.contains(&format!("signature by key {}", m.key_id))
                && text.contains("over the archive this folder was installed from")
                && text.contains("statement: slug weather-brief, version 1.0.0, tree digest match")
                && text.contains("origin.json fingerprint matches"),
            "{given:?} verify:\n{text}"
        );

        // ci: pinned, signed (a single key requires it), clean.
        let o = host.run(given, &["ci", workspace, "--format", "json"]);
        assert_eq!(code(&o), 0, "{given:?} ci:\n{}", out_text(&o));
        let report = json(&o);
        assert_eq!(report["skills"][0]["pin"], "pinned", "{given:?}");
        assert_eq!(report["skills"][0]["signature"], "verified", "{given:?}");

        // inventory: the same checks, listed; the mirror from [trust] recognises the source.
        let o = host.run(given, &["inventory", "--root", root, "--format", "json"]);
        assert_eq!(code(&o), 0, "{given:?} inventory:\n{}", out_text(&o));
        let inv = json(&o);
        let listed = &inv["skills"][0];
        assert_eq!(listed["path"], "~/.openclaw/workspace/skills/weather-brief", "{given:?}");
        assert_eq!(listed["signature"], "verified", "{given:?}");
        assert_eq!(listed["pin"]["status"], "pinned", "{given:?}");
        assert_eq!(listed["status"], "ok", "{given:?}");
        let from_mirror =
            if matches!(given, KeyGiven::TrustTable) { serde_json::json!(true) } else { serde_json::Value::Null };
        assert_eq!(listed["from_mirror"], from_mirror, "{given:?}");

        // One byte of an installed file changes: all three fail with exit 3 (integrity).
        let script = host.skill().join("scripts/forecast.py");
        let mut bytes = std::fs::read(&script).unwrap();
        bytes[0] ^= 0x20;
        std::fs::write(&script, bytes).unwrap();
        let o = host.run(given, &["verify", skill]);
        assert_eq!(code(&o), 3, "{given:?} verify tampered:\n{}", out_text(&o));
        let text = out_text(&o);
        assert!(text.contains("skillscan: integrity:") && text.contains("field `tree`"), "{given:?}:\n{text}");
        let o = host.run(given, &["ci", workspace, "--format", "json"]);
        assert_eq!(code(&o), 3, "{given:?} ci tampered:\n{}", out_text(&o));
        let report = json(&o);
        assert_eq!(report["skills"][0]["signature"], "invalid", "{given:?}");
        assert_eq!(report["skills"][0]["pin"], "modified", "{given:?}");
        assert!(out_text(&o).contains("changed 1: \"scripts/forecast.py\""), "{given:?}:\n{}", out_text(&o));
        let o = host.run(given, &["inventory", "--root", root, "--format", "json", "--no-scan"]);
        assert_eq!(code(&o), 3, "{given:?} inventory tampered:\n{}", out_text(&o));
        let listed = &json(&o)["skills"][0];
        assert_eq!(listed["status"], "integrity-failure", "{given:?}");
        assert_eq!(listed["signature"], "invalid", "{given:?}");
        assert_eq!(listed["modified_since_install"], true, "{given:?}");
    }
}

#[test]
fn install_with_a_key_fails_closed() {
    let m = mirror();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // Another key than the mirror's: the mirror's signature does not verify; nothing written.
    let o =
        skillscan(t, &["key", "generate", "--secret-key", "other.key", "--public-key", "other.pub", "--unencrypted"]);
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    std::fs::write(t.join("skillscan.toml"), format!("[trust]\npublic_key = \"other.pub\"\nmirror = \"{}\"\n", m.base))
        .unwrap();
    let o = skillscan(t, &["install", "weather-brief", "--workdir", "work"]);
    assert_eq!(code(&o), 3, "{}", out_text(&o));
    assert!(out_text(&o).contains("integrity check failed"), "{}", out_text(&o));
    assert!(!t.join("work").exists(), "a refused install wrote files");

    // A registry that serves no signature (the fake upstream, not a mirror), with the key given
    // as the key line itself: refused as unsigned; nothing written.
    let upstream =
        start_upstream(Arc::new(std::sync::Mutex::new(vec![fixture("benign", "weather-brief", "acme", "1.0.0")])));
    let line = m.public_key.lines().find(|l| l.starts_with("RW")).unwrap();
    let o =
        skillscan(t, &["install", "weather-brief", "--registry", &upstream, "--workdir", "work", "--public-key", line]);
    assert_eq!(code(&o), 3, "{}", out_text(&o));
    assert!(out_text(&o).contains("no signature at"), "{}", out_text(&o));
    assert!(!t.join("work").exists(), "a refused install wrote files");

    // A garbled key file is an error naming it (exit 2), before anything is fetched.
    std::fs::write(t.join("junk.toml"), "[[key]\nnot toml").unwrap();
    let o = skillscan(t, &["install", "weather-brief", "--workdir", "work", "--trusted-keys", "junk.toml"]);
    assert_eq!(code(&o), 2, "{}", out_text(&o));
    assert!(out_text(&o).contains("junk.toml"), "{}", out_text(&o));
}

/// After a reviewed local edit, re-pinning makes the lock the authority over the stale
/// `origin.json` fingerprint; a required signature cannot be the mirror's any more.
#[test]
fn a_re_pinned_local_edit_passes_ci_and_a_required_signature_must_be_renewed() {
    let m = mirror();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    std::fs::write(r.join("mirror.pub"), &m.public_key).unwrap();
    let o = skillscan(
        r,
        &["install", "weather-brief", "--registry", &m.base, "--workdir", ".", "--public-key", "mirror.pub"],
    );
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    let mirror_line = m.public_key.lines().find(|l| l.starts_with("RW")).unwrap().to_owned();
    std::fs::write(
        r.join("lenient-keys.toml"),
        format!("require_signature = false\n\n[[key]]\nname = \"mirror\"\npublic_key = \"{mirror_line}\"\n"),
    )
    .unwrap();
    let ci = |extra: &[&str]| {
        let mut args = vec!["ci", ".", "--format", "json"];
        args.extend_from_slice(extra);
        let o = skillscan(r, &args);
        let report = json(&o);
        (code(&o), report["skills"][0].clone(), out_text(&o))
    };
    let (exit, skill, text) = ci(&[]);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(skill["pin"], "pinned");

    // A local edit: ci fails on the pin and on origin.json (modified since install).
    let script = r.join("skills/weather-brief/scripts/forecast.py");
    let edited = std::fs::read_to_string(&script).unwrap().replace("print(", "print('reviewed');\nprint(");
    std::fs::write(&script, edited).unwrap();
    let (exit, skill, text) = ci(&[]);
    assert_eq!(exit, 3, "{text}");
    let codes: Vec<&str> = skill["problems"].as_array().unwrap().iter().filter_map(|p| p["code"].as_str()).collect();
    assert_eq!(codes, ["files-changed", "origin"], "{text}");

    // Reviewed, re-pinned: the lock now pins the content, and outranks origin.json's record.
    let o = skillscan(r, &["pin", "skills/weather-brief"]);
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    let (exit, skill, text) = ci(&[]);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(skill["pin"], "pinned");
    assert!(skill["problems"].as_array().unwrap().is_empty(), "{text}");
    assert!(
        skill["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("the pin is the authority")),
        "{text}"
    );
    // verify with the lock agrees.
    let o = skillscan(r, &["verify", "skills/weather-brief", "--lock", "skills.lock"]);
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    // Keys that do not require signatures: the mirror's signature is listed as stale, not a failure.
    let (exit, skill, text) = ci(&["--trusted-keys", "lenient-keys.toml"]);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(skill["signature"], "stale", "{text}");

    // Signatures required (a single key, or --require-signatures): the mirror signed the files as
    // installed, not the edited ones, so no signature covers them: exit 3, saying so.
    for extra in [&["--public-key", "mirror.pub"][..], &["--trusted-keys", "lenient-keys.toml", "--require-signatures"]]
    {
        let (exit, skill, text) = ci(extra);
        assert_eq!(exit, 3, "{extra:?}: {text}");
        assert_eq!(skill["signature"], "stale", "{extra:?}: {text}");
        let message = skill["problems"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("mirror's signature of the files as installed")
                && message.contains("changed and re-pinned since")
                && message.contains("skillscan sign"),
            "{extra:?}: {message}"
        );
    }
    let o = skillscan(r, &["verify", "skills/weather-brief", "--lock", "skills.lock", "--public-key", "mirror.pub"]);
    assert_eq!(code(&o), 3, "{}", out_text(&o));
    assert!(out_text(&o).contains("changed and re-pinned since"), "{}", out_text(&o));

    // The way forward: the team signs the reviewed folder with its own key, which it trusts.
    let o = skillscan(r, &["key", "generate", "--secret-key", "team.key", "--public-key", "team.pub", "--unencrypted"]);
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    let team_line = std::fs::read_to_string(r.join("team.pub")).unwrap();
    let team_line = team_line.lines().find(|l| l.starts_with("RW")).unwrap().to_owned();
    std::fs::write(
        r.join("trusted-keys.toml"),
        format!(
            "[[key]]\nname = \"mirror\"\npublic_key = \"{mirror_line}\"\n\n[[key]]\nname = \"team\"\npublic_key = \"{team_line}\"\n"
        ),
    )
    .unwrap();
    let o = skillscan(r, &["sign", "--secret-key", "team.key", "skills/weather-brief"]);
    assert_eq!(code(&o), 0, "{}", out_text(&o));
    std::fs::write(
        r.join("skillscan.toml"),
        "[ci]\nrequire_signatures = true\n\n[trust]\ntrusted_keys = \"trusted-keys.toml\"\n",
    )
    .unwrap();
    let (exit, skill, text) = ci(&[]);
    assert_eq!(exit, 0, "{text}");
    assert_eq!(skill["signature"], "verified", "{text}");
}
