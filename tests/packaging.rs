//! The crate as published works: `cargo package` output builds on its own, carries the rules, and
//! a build without rules fails loudly instead of giving a scanner that calls everything clean.
//!
//! Slow (a build of the unpacked crate, ~40 s when the workspace's dependencies are already
//! built): runs only with `SKILLSCAN_PACKAGE_TEST=1` (`.ci/run` sets it), ignored otherwise.
//!
//! How it stays offline and quick:
//! - `skillscan` depends on `skillscan-signatures`, which is not on crates.io: both are packaged
//!   together (cargo resolves the packaged lock file against the local copy), and the unpacked
//!   crates are built in a scratch workspace whose `[patch.crates-io]` points at the unpacked
//!   `skillscan-signatures`.
//! - The scratch workspace copies the repository's `[profile]` settings and uses the repository's
//!   target folder as its build folder (`build.build-dir`), so the third-party dependencies built
//!   for the tests are reused; the unpacked crates' own outputs go to a folder of their own, so
//!   they never replace the binaries the other tests run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{json, repo, skillscan, stderr, stdout};

/// The workspace's target folder (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("<target>/tmp has a parent").to_path_buf()
}

/// The cargo profile this test binary was built with, from its folder (`<target>/<dir>/deps`).
fn profile() -> String {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).and_then(Path::file_name).expect("<target>/<profile>/deps/<exe>");
    match dir.to_string_lossy().as_ref() {
        "debug" => "dev".to_owned(),
        other => other.to_owned(),
    }
}

/// Variables `cargo test` sets for this process (the test package's name, folders, ...). Build
/// scripts of dependencies (ring's, through the `cc` crate) ask cargo to rebuild when such a
/// variable changes, so a nested cargo that saw them would rebuild those dependencies, and the
/// next `cargo test` would rebuild them back.
fn set_by_cargo_test(name: &str) -> bool {
    ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_", "CARGO_CFG_"].iter().any(|prefix| name.starts_with(prefix))
        || ["CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR", "OUT_DIR"]
            .contains(&name)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_test) {
            command.env_remove(name);
        }
    }
    command.env_remove("CARGO_TARGET_DIR").env_remove("CARGO_BUILD_TARGET_DIR").env_remove("CARGO_BUILD_BUILD_DIR");
    command
}

fn output_text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

fn unpack(crate_file: &Path, into: &Path) {
    let file = std::fs::File::open(crate_file).unwrap_or_else(|e| panic!("{}: {e}", crate_file.display()));
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .unwrap_or_else(|e| panic!("unpacking {}: {e}", crate_file.display()));
}

/// A workspace holding the unpacked crates, with the repository's profiles (so dependencies
/// built for the tests are reused) and the unpublished signatures crate patched in.
fn scratch_workspace(dir: &Path, skillscan: &str, signatures: &str) {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo().join("Cargo.toml")).unwrap()).expect("Cargo.toml parses");
    let mut text = format!(
        "[workspace]\nmembers = [{skillscan:?}]\nresolver = \"3\"\n\n\
         [patch.crates-io]\nskillscan-signatures = {{ path = {signatures:?} }}\n\n"
    );
    if let Some(profile) = manifest.get("profile") {
        let profiles: toml::Table = [("profile".to_owned(), profile.clone())].into_iter().collect();
        text.push_str(&toml::to_string(&profiles).unwrap());
    }
    std::fs::write(dir.join("Cargo.toml"), text).unwrap();
    // The lock file packaged with the binary crate: the same versions the repository builds with.
    std::fs::copy(dir.join(skillscan).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

#[test]
#[cfg_attr(not(package_test), ignore = "slow (builds the packaged crate): set SKILLSCAN_PACKAGE_TEST=1")]
fn the_packaged_crate_builds_with_its_rules_and_refuses_to_build_without() {
    let target = target_dir();
    let work = target.join("package-test");
    let package_dir = work.join("package");
    let out = cargo()
        .current_dir(repo())
        .args(["package", "-p", "skillscan", "-p", "skillscan-signatures", "--no-verify", "--allow-dirty"])
        .args(["--offline", "--locked", "--target-dir"])
        .arg(&package_dir)
        .output()
        .expect("run cargo package");
    assert!(out.status.success(), "cargo package:\n{}", output_text(&out));
    let version = env!("CARGO_PKG_VERSION");
    let (skillscan_crate, signatures_crate) =
        (format!("skillscan-{version}"), format!("skillscan-signatures-{version}"));

    // Always at the same place, so that repeated runs do not pile up builds of other paths.
    let scratch = work.join("workspace");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).unwrap();
    }
    std::fs::create_dir_all(&scratch).unwrap();
    for name in [&skillscan_crate, &signatures_crate] {
        unpack(&package_dir.join("package").join(format!("{name}.crate")), &scratch);
    }
    let rules = scratch.join(&skillscan_crate).join("rules");
    assert!(rules.is_dir() && !rules.is_symlink(), "the .crate carries rules/ as a real folder");
    scratch_workspace(&scratch, &skillscan_crate, &signatures_crate);

    let build = || {
        cargo()
            .current_dir(&scratch)
            .args(["build", "--offline", "-p", "skillscan", "--bin", "skillscan", "--profile", &profile()])
            .env("CARGO_TARGET_DIR", work.join("out"))
            .env("CARGO_BUILD_BUILD_DIR", &target)
            .output()
            .expect("run cargo build")
    };
    let out = build();
    assert!(out.status.success(), "building the packaged crate:\n{}", output_text(&out));
    let profile_dir = if profile() == "dev" { "debug".to_owned() } else { profile() };
    let packaged = work.join("out").join(profile_dir).join(format!("skillscan{}", std::env::consts::EXE_SUFFIX));

    // Same rules as the workspace build, and they find a malicious skill.
    let rules_version = |output: Output| json(&output)["rules_version"].as_str().map(str::to_owned);
    let ours = rules_version(skillscan(&["rules", "list", "--format", "json"]));
    let theirs = rules_version(Command::new(&packaged).args(["rules", "list", "--format", "json"]).output().unwrap());
    assert!(ours.is_some());
    assert_eq!(theirs, ours, "the packaged crate embeds the same rules");
    let fixture = repo().join("examples/skills/notes-sync");
    let out = Command::new(&packaged).arg("scan").arg(&fixture).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert_eq!(json(&out)["skills"][0]["verdict"], "malicious", "{}", stdout(&out));

    // Without its rules the crate does not build, and says why.
    std::fs::remove_dir_all(&rules).unwrap();
    let out = build();
    assert!(!out.status.success(), "a build without rules/ must fail:\n{}", output_text(&out));
    assert!(output_text(&out).contains("skillscan build: no rules folder at"), "{}", output_text(&out));
}
