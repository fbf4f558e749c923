//! Content-addressed blob files under `<root>/blobs/sha256/aa/bb/<hex>`.
//!
//! Write protocol (panamax/cacache style): write `tmp/<hex>.<nonce>` on the same
//! filesystem → fsync the file → create the fan-out directories → rename into place
//! (atomic; if the target exists the content is identical, so this dedups) → fsync the
//! directory. Only after `put` returns may a database row reference the blob.
//!
//! Temp files are never referenced by anyone but their writer, and several processes
//! (`serve`, an `import`, a `list`) may share the store. So each open store writes into its
//! own `tmp/<owner>/` and holds an exclusive lock on `tmp/<owner>.lock` for as long as it
//! lives (the OS drops the lock when the process dies, even on SIGKILL). Opening the store
//! reaps only the directories whose lock can be taken, i.e. whose owner is gone; a live
//! writer's files are never touched.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BlobStore, StoreError};
use crate::archive::sha256_hex;
use crate::validate;

pub struct FsBlobStore {
    root: PathBuf,
    nonce: AtomicU64,
    /// This store's own temp directory, `tmp/<owner>/`.
    tmp: PathBuf,
    /// The exclusive lock on `tmp/<owner>.lock` that marks the owner alive.
    lock: File,
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
        // Unique per open, also for two opens in one process within the same millisecond
        // (the owner directory is created with create_new semantics).
        static OPENS: AtomicU64 = AtomicU64::new(0);
        let seed = ((crate::model::now_ms() as u64) << 16) ^ OPENS.fetch_add(1, Ordering::Relaxed);
        let (own, lock) = claim_temp_dir(&tmp, seed)?;
        reap_dead_owners(&tmp, &own);
        Ok(FsBlobStore { root, nonce: AtomicU64::new(seed), tmp: own, lock })
    }

    /// Final path of a blob.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join("sha256").join(&sha256[0..2]).join(&sha256[2..4]).join(sha256)
    }

    /// Write to a temp file and fsync it, without renaming it into place. Exposed so
    /// crash tests can stop the protocol half-way.
    pub fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp.join(format!("{}.{n:x}", sha256_hex(bytes)));
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        Ok(tmp)
    }
}

impl Drop for FsBlobStore {
    /// A clean close removes this store's temp directory and lock; after a crash the next
    /// open reaps them.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.tmp);
        let _ = fs::remove_file(self.tmp.with_extension("lock"));
        let _ = self.lock.unlock();
    }
}

/// Create `tmp/<owner>.lock`, locked, then `tmp/<owner>/`. The lock file is created and
/// locked under a hidden name and then renamed into place, so no other process can ever see
/// an unlocked lock file of a live owner.
fn claim_temp_dir(tmp: &Path, seed: u64) -> Result<(PathBuf, File), StoreError> {
    let name = format!("{}-{seed:x}", std::process::id());
    let pending = tmp.join(format!(".{name}.lock.new"));
    let lock_path = tmp.join(format!("{name}.lock"));
    let lock =
        OpenOptions::new().write(true).create_new(true).open(&pending).map_err(|e| StoreError::io(&pending, e))?;
    lock.try_lock().map_err(|e| StoreError::io(&pending, std::io::Error::other(e.to_string())))?;
    fs::rename(&pending, &lock_path).map_err(|e| StoreError::io(&lock_path, e))?;
    let own = tmp.join(&name);
    fs::create_dir(&own).map_err(|e| StoreError::io(&own, e))?;
    Ok((own, lock))
}

/// Remove the temp directories of owners that are gone: a lock file whose lock can be
/// taken, a directory without a lock file, and (from before per-owner directories) loose
/// temp files. Best effort: anything that cannot be removed now is left for a later open.
fn reap_dead_owners(tmp: &Path, own: &Path) {
    let Ok(rd) = fs::read_dir(tmp) else { return };
    for e in rd.flatten() {
        let path = e.path();
        if path == own || path == own.with_extension("lock") {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            // Lock file first, directory second: a directory without one has no live owner.
            if !tmp.join(format!("{name}.lock")).exists() {
                let _ = fs::remove_dir_all(&path);
            }
        } else if let Some(owner) = name.strip_suffix(".lock") {
            if owner.starts_with('.') {
                continue;
            }
            let Ok(f) = OpenOptions::new().write(true).open(&path) else { continue };
            if f.try_lock().is_ok() {
                let _ = fs::remove_dir_all(tmp.join(owner));
                let _ = fs::remove_file(&path);
            }
        } else if name.starts_with('.') && name.ends_with(".lock.new") {
            // A claim interrupted before its rename; a live one is locked.
            if let Ok(f) = OpenOptions::new().write(true).open(&path)
                && f.try_lock().is_ok()
            {
                let _ = fs::remove_file(&path);
            }
        } else {
            // A loose temp file from an older mirror whose writer is gone.
            let _ = fs::remove_file(&path);
        }
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
        // Dedup only onto a blob that verifies: a rotten or truncated file with this name is
        // replaced (atomically, by the rename below), which is how re-ingesting the identical
        // bytes restores it.
        if dest.is_file() && fs::read(&dest).is_ok_and(|old| sha256_hex(&old) == hex) {
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

    /// Every file under `blobs/sha256/aa/bb/`, by name (a name that is not a sha256 is
    /// skipped: it cannot be asked for).
    fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.join("blobs").join("sha256"), 0u8)];
        while let Some((dir, depth)) = stack.pop() {
            let rd = fs::read_dir(&dir).map_err(|e| StoreError::io(&dir, e))?;
            for e in rd {
                let e = e.map_err(|e| StoreError::io(&dir, e))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if depth < 2 && e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push((e.path(), depth + 1));
                } else if depth == 2 && validate::sha256_hex(&name) {
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
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
        assert_eq!(s.list().unwrap(), vec![h.clone()]);
        // Tampering is detected on read; putting the identical bytes again restores the blob.
        fs::write(s.path_of(&h), b"evil").unwrap();
        assert!(matches!(s.get(&h), Err(StoreError::BlobCorrupt(_))));
        assert_eq!(s.put(b"hello").unwrap(), h);
        assert_eq!(s.get(&h).unwrap(), b"hello");
        fs::write(s.path_of(&h), b"evil").unwrap();
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
        // "Crash": the owner is gone without cleaning up (its lock released by the OS).
        let _ = s.lock.unlock();
        std::mem::forget(s);
        // "Restart": temp garbage is collected, the blob was never visible.
        let s = FsBlobStore::open(d.path()).unwrap();
        assert!(!tmp.exists());
        assert!(matches!(s.get(&h), Err(StoreError::BlobMissing(_))));
    }

    #[test]
    fn only_dead_owners_temp_files_are_reaped() {
        let d = tempfile::tempdir().unwrap();
        let live = FsBlobStore::open(d.path()).unwrap();
        let live_file = live.write_temp(b"in flight").unwrap();
        // A dead owner: its lock file is not locked by anyone.
        let dead = d.path().join("tmp/1-dead");
        fs::create_dir_all(&dead).unwrap();
        fs::write(dead.join("x.0"), b"garbage").unwrap();
        fs::write(d.path().join("tmp/1-dead.lock"), b"").unwrap();
        // An owner directory without a lock file, and a loose file from an older mirror.
        fs::create_dir_all(d.path().join("tmp/2-orphan")).unwrap();
        fs::write(d.path().join("tmp/abc.1"), b"old").unwrap();
        let other = FsBlobStore::open(d.path()).unwrap();
        assert!(live_file.exists(), "a live owner's file was reaped");
        assert!(!dead.exists() && !d.path().join("tmp/1-dead.lock").exists());
        assert!(!d.path().join("tmp/2-orphan").exists());
        assert!(!d.path().join("tmp/abc.1").exists());
        drop(other);
        drop(live);
        let left: Vec<_> = fs::read_dir(d.path().join("tmp")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "a clean close leaves nothing: {left:?}");
    }
}
