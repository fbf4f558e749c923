//! Content-addressed blob files under `<root>/blobs/sha256/aa/bb/<hex>`.
//!
//! Write protocol (panamax/cacache style): write `tmp/<hex>.<nonce>` on the same
//! filesystem → fsync the file → create the fan-out directories → rename into place
//! (atomic; if the target exists the content is identical, so this dedups) → fsync the
//! directory. Only after `put` returns may a database row reference the blob. Leftover
//! temp files from a crash are removed on open; they are never referenced.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BlobStore, StoreError};
use crate::archive::sha256_hex;
use crate::validate;

pub struct FsBlobStore {
    root: PathBuf,
    nonce: AtomicU64,
}

const LAYOUT_VERSION: &str = "skillscan-mirror blobs v1\n";

impl FsBlobStore {
    /// Open (creating if needed) the blob store under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<FsBlobStore, StoreError> {
        let root = data_dir.to_path_buf();
        let blobs = root.join("blobs").join("sha256");
        let tmp = root.join("tmp");
        fs::create_dir_all(&blobs).map_err(|e| StoreError::io(&blobs, e))?;
        fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        let marker = root.join("blobs").join("VERSION");
        if !marker.exists() {
            fs::write(&marker, LAYOUT_VERSION).map_err(|e| StoreError::io(&marker, e))?;
        }
        // Temp files are only ever referenced by the writer that created them; after a
        // crash they are garbage.
        if let Ok(rd) = fs::read_dir(&tmp) {
            for e in rd.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        let seed = crate::model::now_ms() as u64 ^ std::process::id() as u64;
        Ok(FsBlobStore { root, nonce: AtomicU64::new(seed) })
    }

    /// Final path of a blob.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join("sha256").join(&sha256[0..2]).join(&sha256[2..4]).join(sha256)
    }

    /// Write to a temp file and fsync it, without renaming it into place. Exposed so
    /// crash tests can stop the protocol half-way.
    pub fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let tmp = self.root.join("tmp").join(format!("{}.{n:x}", sha256_hex(bytes)));
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        Ok(tmp)
    }
}

/// The workspace's one folder sync (the scanner's `atomic_file::fsync_dir`, a no-op where a
/// folder cannot be opened to be synced), with the store's error naming the folder.
fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    skillscan::guard::atomic_file::fsync_dir(dir).map_err(|e| StoreError::io(dir, e))
}

/// `create_dir_all` that also fsyncs each parent whose entry list changed.
fn create_dirs_durably(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs_durably(parent)?;
        match fs::create_dir(dir) {
            Ok(()) => fsync_dir(parent)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(dir, e)),
        }
    }
    Ok(())
}

impl BlobStore for FsBlobStore {
    fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let hex = sha256_hex(bytes);
        let dest = self.path_of(&hex);
        if dest.is_file() {
            return Ok(hex);
        }
        let tmp = self.write_temp(bytes)?;
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        create_dirs_durably(&dir)?;
        if let Err(e) = fs::rename(&tmp, &dest) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(&dest, e));
        }
        fsync_dir(&dir)?;
        Ok(hex)
    }

    fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        if !validate::sha256_hex(sha256) {
            return Err(StoreError::BlobMissing(sha256.to_string()));
        }
        let p = self.path_of(sha256);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::BlobMissing(sha256.to_string()));
            }
            Err(e) => return Err(StoreError::io(&p, e)),
        };
        // Hash on every read from disk: bit rot or tampering must never be served.
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::BlobCorrupt(sha256.to_string()));
        }
        Ok(bytes)
    }

    fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(validate::sha256_hex(sha256) && self.path_of(sha256).is_file())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_dedup_and_verify() {
        let d = tempfile::tempdir().unwrap();
        let s = FsBlobStore::open(d.path()).unwrap();
        let h = s.put(b"hello").unwrap();
        assert_eq!(h, sha256_hex(b"hello"));
        assert_eq!(s.put(b"hello").unwrap(), h);
        assert_eq!(s.get(&h).unwrap(), b"hello");
        assert!(s.path_of(&h).starts_with(d.path().join("blobs/sha256").join(&h[..2]).join(&h[2..4])));
        // Tampering is detected on read.
        fs::write(s.path_of(&h), b"evil").unwrap();
        assert!(matches!(s.get(&h), Err(StoreError::BlobCorrupt(_))));
        assert!(matches!(s.get(&"0".repeat(64)), Err(StoreError::BlobMissing(_))));
        assert!(matches!(s.get("../../etc/passwd"), Err(StoreError::BlobMissing(_))));
    }

    #[test]
    fn crash_before_rename_leaves_nothing_visible() {
        let d = tempfile::tempdir().unwrap();
        let s = FsBlobStore::open(d.path()).unwrap();
        let tmp = s.write_temp(b"half-done").unwrap();
        assert!(tmp.exists());
        let h = sha256_hex(b"half-done");
        assert!(!s.contains(&h).unwrap());
        drop(s);
        // "Restart": temp garbage is collected, the blob was never visible.
        let s = FsBlobStore::open(d.path()).unwrap();
        assert!(!tmp.exists());
        assert!(matches!(s.get(&h), Err(StoreError::BlobMissing(_))));
    }
}
