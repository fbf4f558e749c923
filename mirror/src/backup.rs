//! `backup` / `restore`: a consistent copy of a mirror's data directory, taken while `serve`
//! (and `sync`) go on, and put back into a fresh directory.
//!
//! Why the copy is consistent without stopping the server:
//! - the database is copied with SQLite's `VACUUM INTO`, which reads one snapshot (a read
//!   transaction of its own) while writers in other processes go on;
//! - blobs and evidence are content-addressed and never rewritten, and a version's blob is
//!   durable before its row commits (see `service::ingest`), so every blob the copied database
//!   names already exists when the blob copy starts, after the database copy. Blobs that arrive
//!   later are copied too: harmless orphans, which `scrub` reports as such;
//! - every content-addressed file is hashed as it is copied and must match its name: a backup
//!   never carries a rotten blob silently (run `scrub`, restore the blob, back up again).
//!
//! The keys (the signing key, its public half, retired keys) and the data directory's
//! `config.toml` / `policy.toml` are copied with mode 0600 into a directory created 0700. The
//! manifest `backup.json` is written last (its presence marks a complete backup) and lists every
//! file with its size and sha256; `restore` checks all of them before it writes anything, and
//! only into a data directory that does not exist or is empty (never over a live mirror).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::StoreError;
use crate::store::sqlite::SqliteStore;

/// The manifest's file name inside a backup directory.
pub const MANIFEST: &str = "backup.json";
/// The manifest's format tag.
pub const FORMAT: &str = "skillscan-mirror-backup/1";
/// A manifest larger than this is not one of ours (a million files is about 150 MB).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// The database file inside a data directory and a backup.
const DATABASE: &str = "mirror.db";
/// Directories copied whole (regular files only; dot-files are temporary files).
const DIRECTORIES: [&str; 3] = ["blobs", "evidence", "keys"];
/// Loose files copied when present.
const LOOSE_FILES: [&str; 2] = ["config.toml", "policy.toml"];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("copying the database: {0}")]
    Store(#[from] StoreError),
    #[error("{} exists and is not empty: {what} needs a new or empty directory", path.display())]
    NotEmpty { path: PathBuf, what: &'static str },
    #[error("no mirror data directory at {}", .0.display())]
    NoMirror(PathBuf),
    #[error("{}: its content has sha256 {actual}, not the one its name promises: run `scrub` and restore the blob first", path.display())]
    Corrupt { path: PathBuf, actual: String },
    #[error("{}: not a skillscan-mirror backup ({why})", path.display())]
    NotABackup { path: PathBuf, why: String },
    #[error("{}: sha256 {actual} and {actual_bytes} bytes, the manifest says {expected} and {expected_bytes}: the backup was changed or damaged", path.display())]
    Mismatch { path: PathBuf, expected: String, actual: String, expected_bytes: u64, actual_bytes: u64 },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// The manifest of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub created_at_ms: i64,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Relative to the backup (and the data directory), `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup or restore copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub files: usize,
    pub bytes: u64,
}

impl Manifest {
    fn copied(&self) -> Copied {
        Copied { files: self.files.len(), bytes: self.files.iter().map(|f| f.bytes).sum() }
    }
}

/// Back up the mirror in `data_dir` into `dest` (created; must not exist or be empty).
pub fn backup(data_dir: &Path, dest: &Path) -> Result<Manifest, BackupError> {
    let database = data_dir.join(DATABASE);
    if !database.is_file() {
        return Err(BackupError::NoMirror(data_dir.to_path_buf()));
    }
    create_empty_dir(dest, "a backup")?;
    let mut files = Vec::new();

    // The database first: everything it names exists from here on.
    let copy = dest.join(DATABASE);
    SqliteStore::open_existing(&database)?.vacuum_into(&copy)?;
    fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(io_err(&copy))?;
    let (sha256, bytes) = hash_file(&copy)?;
    files.push(ManifestFile { path: DATABASE.to_owned(), bytes, sha256 });

    for dir in DIRECTORIES {
        let mut found = Vec::new();
        regular_files(&data_dir.join(dir), Path::new(dir), &mut found)?;
        found.sort();
        for rel in found {
            files.push(copy_verified(data_dir, dest, &rel)?);
        }
    }
    for name in LOOSE_FILES {
        if data_dir.join(name).is_file() {
            files.push(copy_verified(data_dir, dest, Path::new(name))?);
        }
    }

    let manifest = Manifest { format: FORMAT.to_owned(), created_at_ms: crate::model::now_ms(), files };
    let body = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(dest)(io::Error::other(e)))?;
    let tmp = dest.join(format!(".{MANIFEST}.tmp"));
    write_new(&tmp, &body)?;
    let path = dest.join(MANIFEST);
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dest)?;
    Ok(manifest)
}

/// Restore the backup in `src` into `data_dir` (created; must not exist or be empty). Every
/// file is checked against the manifest before anything is written.
pub fn restore(src: &Path, data_dir: &Path) -> Result<Copied, BackupError> {
    let manifest = read_manifest(src)?;
    for file in &manifest.files {
        let path = src.join(&file.path);
        let (sha256, bytes) = hash_file(&path)?;
        if sha256 != file.sha256 || bytes != file.bytes {
            return Err(BackupError::Mismatch {
                path,
                expected: file.sha256.clone(),
                actual: sha256,
                expected_bytes: file.bytes,
                actual_bytes: bytes,
            });
        }
    }
    create_empty_dir(data_dir, "a restore")?;
    for file in &manifest.files {
        let from = src.join(&file.path);
        let to = data_dir.join(&file.path);
        if let Some(parent) = to.parent() {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(io_err(parent))?;
        }
        let (sha256, _) = copy_hashed(&from, &to)?;
        // Checked again as written: the source could change between the check and the copy.
        if sha256 != file.sha256 {
            return Err(BackupError::Mismatch {
                path: from,
                expected: file.sha256.clone(),
                actual: sha256,
                expected_bytes: file.bytes,
                actual_bytes: file.bytes,
            });
        }
    }
    sync_dir(data_dir)?;
    // The restored database must open as a mirror's.
    SqliteStore::open_existing(&data_dir.join(DATABASE))?;
    Ok(manifest.copied())
}

/// Read and check a backup's manifest: format, and paths that stay inside the backup and
/// name only what a data directory holds.
pub fn read_manifest(src: &Path) -> Result<Manifest, BackupError> {
    let path = src.join(MANIFEST);
    let not_a_backup = |why: String| BackupError::NotABackup { path: src.to_path_buf(), why };
    let file = File::open(&path).map_err(|e| not_a_backup(format!("{MANIFEST}: {e}")))?;
    let mut body = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut body).map_err(io_err(&path))?;
    if body.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(not_a_backup(format!("{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes")));
    }
    let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| not_a_backup(format!("{MANIFEST}: {e}")))?;
    if manifest.format != FORMAT {
        return Err(not_a_backup(format!("format {:?}, expected {FORMAT:?}", manifest.format)));
    }
    if !manifest.files.iter().any(|f| f.path == DATABASE) {
        return Err(not_a_backup(format!("no {DATABASE} in {MANIFEST}")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in &manifest.files {
        if !allowed_path(&f.path) {
            return Err(not_a_backup(format!("{MANIFEST} names {:?}, which a data directory does not hold", f.path)));
        }
        if !seen.insert(f.path.as_str()) {
            return Err(not_a_backup(format!("{MANIFEST} names {:?} twice", f.path)));
        }
        if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_a_backup(format!("{MANIFEST}: {:?} has no sha256", f.path)));
        }
    }
    Ok(manifest)
}

/// A relative path of plain components under one of the known top-level names.
fn allowed_path(path: &str) -> bool {
    let p = Path::new(path);
    if path.contains('\\') || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return false;
    }
    let mut parts = p.components();
    let Some(Component::Normal(first)) = parts.next() else { return false };
    let first = first.to_string_lossy();
    let nested = parts.next().is_some();
    if nested {
        DIRECTORIES.contains(&first.as_ref())
    } else {
        first == DATABASE || LOOSE_FILES.contains(&first.as_ref())
    }
}

/// Regular files under `dir` (not following symlinks; dot-files are temporary and skipped),
/// as paths relative to the data directory (`prefix/…`).
fn regular_files(dir: &Path, prefix: &Path, out: &mut Vec<PathBuf>) -> Result<(), BackupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(io_err(&entry.path()))?;
        if kind.is_dir() {
            regular_files(&entry.path(), &prefix.join(&name), out)?;
        } else if kind.is_file() {
            out.push(prefix.join(&name));
        }
    }
    Ok(())
}

/// The sha256 a content-addressed file's name promises (`blobs/sha256/ab/cd/<sha>`,
/// `evidence/<sha>.zip`), if it is one.
fn promised_sha256(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = rel.file_name()?.to_str()?;
    let sha = match first {
        "blobs" if rel.starts_with("blobs/sha256") => name,
        "evidence" => name.strip_suffix(".zip")?,
        _ => return None,
    };
    (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then(|| sha.to_ascii_lowercase())
}

fn copy_verified(data_dir: &Path, dest: &Path, rel: &Path) -> Result<ManifestFile, BackupError> {
    let from = data_dir.join(rel);
    let to = dest.join(rel);
    if let Some(parent) = to.parent() {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(io_err(parent))?;
    }
    let (sha256, bytes) = copy_hashed(&from, &to)?;
    if let Some(promised) = promised_sha256(rel)
        && promised != sha256
    {
        return Err(BackupError::Corrupt { path: from, actual: sha256 });
    }
    Ok(ManifestFile { path: rel.to_string_lossy().replace('\\', "/"), bytes, sha256 })
}

/// Copy `from` to a new file `to` (mode 0600, fsynced), hashing what was copied.
fn copy_hashed(from: &Path, to: &Path) -> Result<(String, u64), BackupError> {
    let mut output = OpenOptions::new().write(true).create_new(true).mode(0o600).open(to).map_err(io_err(to))?;
    let hashed = hash_into(from, Some((to, &mut output)))?;
    output.sync_all().map_err(io_err(to))?;
    Ok(hashed)
}

fn hash_file(path: &Path) -> Result<(String, u64), BackupError> {
    hash_into(path, None)
}

/// The sha256 and size of `from`, streamed (a blob can be large), written to `copy` too if given.
fn hash_into(from: &Path, mut copy: Option<(&Path, &mut File)>) -> Result<(String, u64), BackupError> {
    let mut input = File::open(from).map_err(io_err(from))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut total = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(io_err(from))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some((to, output)) = copy.as_mut() {
            output.write_all(&buf[..n]).map_err(io_err(to))?;
        }
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

fn write_new(path: &Path, body: &[u8]) -> Result<(), BackupError> {
    let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io_err(path))?;
    f.write_all(body).and_then(|()| f.sync_all()).map_err(io_err(path))
}

fn create_empty_dir(dir: &Path, what: &'static str) -> Result<(), BackupError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::NotEmpty { path: dir.to_path_buf(), what });
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err(dir))
        }
        Err(e) => Err(io_err(dir)(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_a_data_directory() {
        for ok in
            ["mirror.db", "config.toml", "policy.toml", "keys/mirror.key", "blobs/sha256/ab/cd/x", "evidence/y.zip"]
        {
            assert!(allowed_path(ok), "{ok}");
        }
        for bad in [
            "../mirror.db",
            "/etc/passwd",
            "keys/../../x",
            "blobs",
            "tmp/x",
            "other.db",
            "keys\\..\\x",
            "./mirror.db",
            "",
        ] {
            assert!(!allowed_path(bad), "{bad}");
        }
    }

    #[test]
    fn content_addressed_names_promise_their_digest() {
        let sha = "a".repeat(64);
        assert_eq!(promised_sha256(Path::new(&format!("blobs/sha256/aa/aa/{sha}"))), Some(sha.clone()));
        assert_eq!(promised_sha256(Path::new(&format!("evidence/{sha}.zip"))), Some(sha.clone()));
        assert_eq!(promised_sha256(Path::new("blobs/VERSION")), None);
        assert_eq!(promised_sha256(Path::new(&format!("keys/{sha}"))), None);
    }
}
