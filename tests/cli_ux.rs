//! The command lines as people meet them: shell completions and manual pages, `-q`/`-v`,
//! colour (anstream: `NO_COLOR`, `CLICOLOR_FORCE`, no codes into a pipe), the mirror's logs
//! without colour codes off a terminal, and no Rust `Debug` text in what either binary says.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use crate::mirror_e2e::{fixture, mirror_bin, out_text, start_upstream};
use crate::util::{bin, repo};

const SKILLSCAN_COMMANDS: &[&str] = &[
    "scan",
    "rules",
    "key",
    "sign",
    "verify",
    "pin",
    "digest",
    "install",
    "ci",
    "inventory",
    "schema",
    "completions",
    "manpage",
];
const MIRROR_COMMANDS: &[&str] = &[
    "serve",
    "sync",
    "import",
    "approve",
    "reject",
    "revoke",
    "list",
    "show",
    "rescan",
    "scrub",
    "audit",
    "alerts",
    "key",
    "token",
    "completions",
    "manpage",
];

/// Runs `program` with `args` and a clean colour environment plus `env`.
fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(repo())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("CLAWHUB_REGISTRY")
        .env_remove("CLAWHUB_WORKDIR")
        .env_remove("SKILLSCAN_MIRROR_CONFIG")
        .env_remove("SKILLSCAN_MIRROR_LOG")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run")
}

/// Whether `shell` is installed; CI (`SKILLSCAN_REQUIRE_SHELLS=1`) requires it.
fn shell_available(shell: &str) -> bool {
    let found =
        Command::new(shell).arg("-c").arg("true").stdin(Stdio::null()).output().is_ok_and(|o| o.status.success());
    if !found && std::env::var("SKILLSCAN_REQUIRE_SHELLS").is_ok_and(|v| v == "1") {
        panic!("{shell} is not installed and SKILLSCAN_REQUIRE_SHELLS=1");
    }
    if !found {
        eprintln!("SKIPPED the {shell} syntax check: {shell} not installed");
    }
    found
}

#[test]
fn completions_are_valid_shell_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    for program in [bin("skillscan"), mirror_bin()] {
        let name = program.file_name().unwrap().to_string_lossy().into_owned();
        for (shell, check) in [("bash", vec!["-n"]), ("zsh", vec!["-n"]), ("fish", vec!["--no-execute"])] {
            let o = run(&program, &["completions", shell], &[]);
            assert!(o.status.success(), "{name} completions {shell}: {}", out_text(&o));
            let script = String::from_utf8(o.stdout).unwrap();
            // The script completes the subcommands.
            assert!(script.contains("completions") && script.contains("manpage"), "{name} {shell}:\n{script}");
            let file = tmp.path().join(format!("{name}.{shell}"));
            std::fs::write(&file, &script).unwrap();
            if shell_available(shell) {
                let o = Command::new(shell).args(&check).arg(&file).output().unwrap();
                assert!(o.status.success(), "{shell} rejects {name}'s completions: {}", out_text(&o));
            }
        }
    }
}

#[test]
fn manual_pages_name_every_command() {
    for (program, commands) in [(bin("skillscan"), SKILLSCAN_COMMANDS), (mirror_bin(), MIRROR_COMMANDS)] {
        let name = program.file_name().unwrap().to_string_lossy().into_owned();
        let o = run(&program, &["manpage"], &[]);
        assert!(o.status.success(), "{name} manpage: {}", out_text(&o));
        let page = String::from_utf8(o.stdout).unwrap();
        assert!(page.starts_with(".ie") || page.contains(".TH"), "not roff:\n{page}");
        for command in commands {
            assert!(page.contains(&format!("{name}\\-{command}")) || page.contains(command), "{name}: no {command}");
        }
        // One page per command with --dir.
        let dir = tempfile::tempdir().unwrap();
        let o = run(&program, &["manpage", "--dir", dir.path().to_str().unwrap()], &[]);
        assert!(o.status.success(), "{name} manpage --dir: {}", out_text(&o));
        for command in commands {
            let page = dir.path().join(format!("{name}-{command}.1"));
            assert!(page.is_file(), "{} missing", page.display());
        }
        assert!(dir.path().join(format!("{name}.1")).is_file());
    }
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let skillscan = bin("skillscan");
    let scan = |env: &[(&str, &str)]| run(&skillscan, &["scan", "examples/skills"], env).stdout;
    let has_escape = |bytes: &[u8]| bytes.contains(&0x1b);
    // stdout is a pipe here: no colour unless forced.
    assert!(!has_escape(&scan(&[])), "colour codes into a pipe");
    assert!(has_escape(&scan(&[("CLICOLOR_FORCE", "1")])), "CLICOLOR_FORCE=1 gives colour");
    assert!(!has_escape(&scan(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])), "NO_COLOR wins");
    assert!(!has_escape(&scan(&[("NO_COLOR", "1")])));
    // An explicit --color always still colours; never never does.
    let always = run(&skillscan, &["scan", "examples/skills", "--color", "always"], &[("NO_COLOR", "1")]).stdout;
    assert!(has_escape(&always));
    let never = run(&skillscan, &["scan", "examples/skills", "--color", "never"], &[("CLICOLOR_FORCE", "1")]).stdout;
    assert!(!has_escape(&never));
}

#[test]
fn quiet_and_verbose_change_what_stderr_says() {
    let upstream = start_upstream(Arc::new(Mutex::new(vec![fixture("benign", "weather-brief", "acme", "1.0.0")])));
    let tmp = tempfile::tempdir().unwrap();
    let install = |dir: &str, flags: &[&str]| {
        let work = tmp.path().join(dir);
        let mut args = flags.to_vec();
        args.extend(["install", "weather-brief", "--registry", &upstream, "--workdir", work.to_str().unwrap()]);
        let o = run(&bin("skillscan"), &args, &[]);
        assert!(o.status.success(), "{}", out_text(&o));
        String::from_utf8(o.stderr).unwrap()
    };
    let normal = install("normal", &[]);
    assert!(normal.contains("skillscan: note:"), "an install from a plain registry has notes:\n{normal}");
    assert!(!normal.contains("skillscan: registry "), "details only with -v:\n{normal}");
    let quiet = install("quiet", &["-q"]);
    assert!(!quiet.contains("note:"), "-q drops notes:\n{quiet}");
    let verbose = install("verbose", &["--verbose"]);
    assert!(
        verbose.contains("skillscan: note:")
            && verbose.contains("skillscan: registry ")
            && verbose.contains("downloaded weather-brief@1.0.0"),
        "-v adds details:\n{verbose}"
    );
    // Global: after the subcommand too; -q and -v together are a usage error.
    let o = run(&bin("skillscan"), &["scan", "examples/skills", "--format", "json", "-v"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("skillscan: rules "), "{}", out_text(&o));
    let o = run(&bin("skillscan"), &["-q", "-v", "scan", "examples/skills"], &[]);
    assert_eq!(o.status.code(), Some(2));

    // The mirror: -q leaves errors only; -v logs at info level.
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    let sync = |flags: &[&str]| {
        let mut args = vec!["--data", d];
        args.extend_from_slice(flags);
        args.extend(["sync", "--upstream", "http://127.0.0.1:9", "--slug", "weather-brief"]);
        String::from_utf8(run(&mirror_bin(), &args, &[]).stderr).unwrap()
    };
    assert!(sync(&[]).contains("WARN"), "a failed sync warns");
    assert!(!sync(&["-q"]).contains("WARN"), "-q: errors only");
}

#[test]
fn mirror_logs_carry_no_colour_codes_off_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let o = run(
        &mirror_bin(),
        &["--data", data.path().to_str().unwrap(), "-vv", "sync", "--upstream", "http://127.0.0.1:9", "--slug", "x-y"],
        &[],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("WARN") || stderr.contains("DEBUG"), "logs expected:\n{stderr}");
    assert!(!stderr.contains('\u{1b}'), "colour codes in piped logs:\n{stderr:?}");
}

/// Odd and missing inputs give messages in words, never Rust's `Debug` rendering of a value.
#[test]
fn no_debug_text_in_what_the_binaries_say() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_str().unwrap();
    let missing = format!("{t}/no-such-skill");
    let skillscan_runs: Vec<Vec<&str>> = vec![
        vec!["scan", &missing],
        vec!["scan", "examples/skills", "--fail-on", "sometimes"],
        vec!["verify", &missing],
        vec!["pin", &missing],
        vec!["pin", "examples/skills", "--slug", "Bad Slug", "--lock", &missing],
        vec!["digest", &missing],
        vec!["ci", &missing],
        vec!["inventory", "--root", &missing],
        vec!["rules", "explain", "no-such-rule"],
        vec!["install", "bad@@ref", "--registry", "http://127.0.0.1:9"],
        vec!["install", "weather-brief", "--registry", "http://127.0.0.1:9", "--workdir", t],
        vec!["install", "weather-brief", "--registry", "ftp://x"],
        vec!["install", "weather-brief", "--registry", "https://localhost:9", "--ca-cert", &missing],
        vec!["schema", "nothing"],
    ];
    let data = format!("{t}/data");
    let mirror_runs: Vec<Vec<&str>> = vec![
        vec!["sync", "--upstream", "http://127.0.0.1:9", "--slug", "weather-brief"],
        vec!["sync", "--upstream", "http://127.0.0.1:9", "--slug", "Bad Slug"],
        vec!["alerts"],
        vec!["list", "--state", "sideways"],
        vec!["show", "nothing"],
        vec!["show", "weather-brief@9.9.9"],
        vec!["approve", "weather-brief@9.9.9", "--reason", "r", "--by", "b"],
        vec!["import", &missing, "--slug", "weather-brief", "--version", "1.0.0"],
        vec!["import", &missing, "--slug", "x", "--version", "not-semver"],
        vec!["token", "revoke", "--name", "nobody"],
        vec!["--ca-cert", &missing, "list"],
    ];
    let debug = regex::Regex::new(r"Some\(|\bNone\b|[A-Za-z]+ \{ [a-z_]+: |\bOk\(|\bErr\(").unwrap();
    let mut found = Vec::new();
    for args in &skillscan_runs {
        let text = out_text(&run(&bin("skillscan"), args, &[]));
        if debug.is_match(&text) {
            found.push(format!("skillscan {}:\n{text}", args.join(" ")));
        }
    }
    for args in &mirror_runs {
        let mut full = vec!["--data", data.as_str()];
        full.extend(args.iter().copied());
        let text = out_text(&run(&mirror_bin(), &full, &[]));
        if debug.is_match(&text) {
            found.push(format!("skillscan-mirror {}:\n{text}", args.join(" ")));
        }
    }
    assert!(found.is_empty(), "Debug text in output:\n{}", found.join("\n\n"));
}
