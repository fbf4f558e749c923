//! Decides, when the tests are built, which tests cannot run here, so that they show up as
//! `ignored` with their reason instead of passing without having checked anything.
//!
//! cfgs set (each test carries `#[cfg_attr(<cfg>, ignore = "<reason>")]`):
//!
//! - `no_clawhub`: the clawhub CLI was not found (`CLAWHUB_BIN`, `.ci/node`, `/tmp/clawhub-cli`,
//!   `PATH`) and `SKILLSCAN_E2E` is not `1`;
//! - `no_mirror_e2e`: the clawhub CLI or minisign was not found and `SKILLSCAN_E2E` is not `1`;
//! - `no_minisign`: minisign was not found (`SKILLSCAN_MINISIGN`, `MINISIGN_BIN`, `PATH`) and
//!   `SKILLSCAN_REQUIRE_MINISIGN` is not `1`;
//! - `no_chromium`: `chromium` (or `chromium-browser`) was not found on `PATH` and
//!   `SKILLSCAN_REQUIRE_CHROMIUM` is not `1`;
//! - `no_chromedriver`: `chromedriver` (Debian's `chromium-driver`) was not found on `PATH`
//!   (or at `CHROMEDRIVER`) and `SKILLSCAN_REQUIRE_CHROMIUM` is not `1`;
//! - `no_replicas`: `SKILLSCAN_PG_URL` or `SKILLSCAN_S3_URL` is unset (and
//!   `SKILLSCAN_REQUIRE_POSTGRES` / `SKILLSCAN_REQUIRE_S3` is not `1`), or `no_mirror_e2e`;
//! - `slow_tests`: `SKILLSCAN_SLOW_TESTS=1` (tests too slow for a debug build run anyway);
//! - `package_test`: `SKILLSCAN_PACKAGE_TEST=1` (the packaged-crate build test runs).
//!
//! With `SKILLSCAN_E2E=1` / `SKILLSCAN_REQUIRE_MINISIGN=1` / `SKILLSCAN_REQUIRE_CHROMIUM=1` (as `.ci/run` sets) nothing is ignored
//! for a missing tool: the test runs and fails, naming what is missing.

use std::path::{Path, PathBuf};

const CFGS: &[&str] = &[
    "no_clawhub",
    "no_mirror_e2e",
    "no_minisign",
    "no_chromium",
    "no_chromedriver",
    "no_replicas",
    "slow_tests",
    "package_test",
];

fn env_is_1(name: &str) -> bool {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).is_ok_and(|v| v == "1")
}

fn env_is_set(name: &str) -> bool {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Rebuild when `path` changes or, while it does not exist, when its nearest existing ancestor
/// up to `root` does (a watched path that does not exist would make cargo re-run this script on
/// every build; an ancestor above `root`, like `/tmp`, would change all the time).
fn watch(path: &Path, root: &Path) {
    let mut current = Some(path);
    while let Some(p) = current.filter(|p| p.starts_with(root)) {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
            return;
        }
        current = p.parent();
    }
}

/// The tool named by one of `envs`, else the first of `candidates` (path, and the folder to watch
/// up to) that is a file, else `name` on `PATH`.
fn find_tool(envs: &[&str], candidates: &[(PathBuf, PathBuf)], name: &str) -> bool {
    for env in envs {
        println!("cargo:rerun-if-env-changed={env}");
        if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            watch(&path, &path);
            return path.is_file() || which(&path.to_string_lossy());
        }
    }
    for (candidate, root) in candidates {
        watch(candidate, root);
        if candidate.is_file() {
            return true;
        }
    }
    which(name)
}

fn which(name: &str) -> bool {
    println!("cargo:rerun-if-env-changed=PATH");
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

fn main() {
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let e2e = env_is_1("SKILLSCAN_E2E");
    let require_minisign = env_is_1("SKILLSCAN_REQUIRE_MINISIGN");
    let clawhub = find_tool(
        &["CLAWHUB_BIN"],
        &[
            (root.join(".ci/node/node_modules/.bin/clawhub"), root.join(".ci")),
            (PathBuf::from("/tmp/clawhub-cli/node_modules/.bin/clawhub"), PathBuf::from("/tmp/clawhub-cli")),
        ],
        "clawhub",
    );
    let minisign = find_tool(&["SKILLSCAN_MINISIGN", "MINISIGN_BIN"], &[], "minisign");
    let mut set = Vec::new();
    let (clawhub, mirror_e2e, minisign) = (clawhub || e2e, (clawhub && minisign) || e2e, minisign || require_minisign);
    if !clawhub {
        set.push("no_clawhub");
    }
    if !mirror_e2e {
        set.push("no_mirror_e2e");
    }
    if !minisign {
        set.push("no_minisign");
    }
    let require_chromium = env_is_1("SKILLSCAN_REQUIRE_CHROMIUM");
    let chromium = which("chromium") || which("chromium-browser") || require_chromium;
    if !chromium {
        set.push("no_chromium");
    }
    if !(find_tool(&["CHROMEDRIVER"], &[], "chromedriver") || require_chromium) {
        set.push("no_chromedriver");
    }
    let postgres = env_is_set("SKILLSCAN_PG_URL") || env_is_1("SKILLSCAN_REQUIRE_POSTGRES");
    let s3 = env_is_set("SKILLSCAN_S3_URL") || env_is_1("SKILLSCAN_REQUIRE_S3");
    if !(postgres && s3 && mirror_e2e) {
        set.push("no_replicas");
    }
    if env_is_1("SKILLSCAN_SLOW_TESTS") {
        set.push("slow_tests");
    }
    if env_is_1("SKILLSCAN_PACKAGE_TEST") {
        set.push("package_test");
    }
    for cfg in set {
        println!("cargo:rustc-cfg={cfg}");
    }
}
