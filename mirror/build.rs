//! Decides, when the tests are built, whether the S3 blob store tests can run here, so that
//! they show up as `ignored` with their reason instead of passing without having checked
//! anything (the workspace's `tests/build.rs` does the same for its tools).
//!
//! cfg set: `no_s3` when `SKILLSCAN_S3_URL` is unset or empty and `SKILLSCAN_REQUIRE_S3` is
//! not `1`. With `SKILLSCAN_REQUIRE_S3=1` (as `.ci/run` sets) the tests run, and fail naming
//! what is missing.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_s3)");
    println!("cargo:rerun-if-env-changed=SKILLSCAN_S3_URL");
    println!("cargo:rerun-if-env-changed=SKILLSCAN_REQUIRE_S3");
    let url = std::env::var("SKILLSCAN_S3_URL").is_ok_and(|v| !v.is_empty());
    let required = std::env::var("SKILLSCAN_REQUIRE_S3").is_ok_and(|v| v == "1");
    if !url && !required {
        println!("cargo:rustc-cfg=no_s3");
    }
}
