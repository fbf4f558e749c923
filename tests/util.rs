//! Helpers shared by the workspace-level tests: locating the binaries cargo built, running them,
//! and paths into the repository.

use std::io::BufRead;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (this test package lives there).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures")
}

/// A binary of the workspace, next to this test executable (`target/<profile>/<name>`).
/// Cargo builds it because its package has integration tests of its own.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} is not built; run the tests with `cargo test --workspace`", path.display());
    path
}

pub fn skillscan(args: &[&str]) -> Output {
    Command::new(bin("skillscan")).args(args).output().expect("run skillscan")
}

/// Runs skillscan in `dir`.
pub fn skillscan_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin("skillscan")).current_dir(dir).args(args).output().expect("run skillscan")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); stdout: {}; stderr: {}", stdout(output), stderr(output)))
}

/// Writes `files` (path, contents) under a new temporary directory.
pub fn skill_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, contents).expect("write");
    }
    dir
}

/// Reads one HTTP request head from a test server's connection and returns its target
/// (`/api/v1/…?…`); the headers are skipped. `None` when the client sent nothing.
pub fn read_request_target(stream: &TcpStream) -> Option<String> {
    let mut reader = std::io::BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    Some(line.split_whitespace().nth(1).unwrap_or("/").to_string())
}
