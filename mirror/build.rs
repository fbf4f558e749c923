//! Decides, when the mirror is built, which of its tests cannot run here, so that they show up
//! as `ignored` with their reason instead of passing without having checked anything.
//!
//! - `no_postgres`: `SKILLSCAN_PG_URL` is not set (no PostgreSQL to test against; start one with
//!   `.ci/postgres.sh start DIR` and source `DIR/env`) and `SKILLSCAN_REQUIRE_POSTGRES` is not
//!   `1`. With `SKILLSCAN_REQUIRE_POSTGRES=1` (as `.ci/run` sets) the PostgreSQL tests run and
//!   fail, naming what is missing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(no_postgres)");
    println!("cargo:rerun-if-env-changed=SKILLSCAN_PG_URL");
    println!("cargo:rerun-if-env-changed=SKILLSCAN_REQUIRE_POSTGRES");
    let url = std::env::var("SKILLSCAN_PG_URL").is_ok_and(|u| !u.is_empty());
    let required = std::env::var("SKILLSCAN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if !url && !required {
        println!("cargo:rustc-cfg=no_postgres");
    }
}
