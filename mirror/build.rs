//! Decides, when the mirror is built, which of its tests cannot run here, so that they show up
//! as `ignored` with their reason instead of passing without having checked anything (the
//! workspace's `tests/build.rs` does the same for its tools).
//!
//! cfgs set:
//!
//! - `no_s3`: `SKILLSCAN_S3_URL` is unset or empty and `SKILLSCAN_REQUIRE_S3` is not `1`;
//! - `no_postgres`: `SKILLSCAN_PG_URL` is unset or empty (start a server with
//!   `.ci/postgres.sh start DIR` and source `DIR/env`) and `SKILLSCAN_REQUIRE_POSTGRES` is not `1`.
//!
//! With `SKILLSCAN_REQUIRE_S3=1` / `SKILLSCAN_REQUIRE_POSTGRES=1` (as `.ci/run` sets) the tests
//! run, and fail naming what is missing.

/// Whether the service `url_env` names is there to test against, or required anyway.
fn available(url_env: &str, require_env: &str) -> bool {
    println!("cargo:rerun-if-env-changed={url_env}");
    println!("cargo:rerun-if-env-changed={require_env}");
    std::env::var(url_env).is_ok_and(|v| !v.is_empty()) || std::env::var(require_env).is_ok_and(|v| v == "1")
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_s3)");
    println!("cargo::rustc-check-cfg=cfg(no_postgres)");
    if !available("SKILLSCAN_S3_URL", "SKILLSCAN_REQUIRE_S3") {
        println!("cargo:rustc-cfg=no_s3");
    }
    if !available("SKILLSCAN_PG_URL", "SKILLSCAN_REQUIRE_POSTGRES") {
        println!("cargo:rustc-cfg=no_postgres");
    }
}
