//! Hostile archives kept as evidence: `<data>/evidence/<sha256>.zip`, owner-only.
//!
//! Evidence is outside the blob store on purpose. Every download route reads approved
//! versions' blobs (through the read snapshot) and nothing else; no route, no snapshot and
//! no version row ever names a file under `evidence/`, so these bytes can be examined by an
//! operator but never served. Written like a blob (temp file, fsync, rename), so a crash
//! leaves no half-written evidence under its final name.
//!
//! A hostile upstream could offer endless distinct hostile archives, so evidence is capped
//! at [`MAX_EVIDENCE_BYTES`] in all: past it the security event is still recorded, with the
//! archive's sha256, but the bytes are not kept.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::archive::sha256_hex;
use crate::store::StoreError;

/// Evidence kept in all, at most.
pub const MAX_EVIDENCE_BYTES: u64 = 1024 * 1024 * 1024;

/// The evidence directory of the mirror in `data_dir`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("evidence")
}

/// Keep `bytes`; returns the path relative to the data directory (`evidence/<sha256>.zip`).
/// Keeping the same bytes again is a no-op.
pub fn keep(data_dir: &Path, bytes: &[u8]) -> Result<String, StoreError> {
    keep_within(data_dir, bytes, MAX_EVIDENCE_BYTES)
}

fn keep_within(data_dir: &Path, bytes: &[u8], cap: u64) -> Result<String, StoreError> {
    let dir = dir(data_dir);
    fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let sha = sha256_hex(bytes);
    let name = format!("{sha}.zip");
    let path = dir.join(&name);
    if !path.exists() {
        let kept: u64 = fs::read_dir(&dir)
            .map_err(|e| StoreError::io(&dir, e))?
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        if kept + bytes.len() as u64 > cap {
            let full = std::io::Error::other(format!("evidence is full ({cap} bytes): review and remove old evidence"));
            return Err(StoreError::io(&dir, full));
        }
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| StoreError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(format!("evidence/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_kept_once_owner_only_and_capped() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let kept = keep_within(d.path(), b"hostile bytes", 20).unwrap();
        assert_eq!(kept, format!("evidence/{}.zip", sha256_hex(b"hostile bytes")));
        let path = d.path().join(&kept);
        assert_eq!(fs::read(&path).unwrap(), b"hostile bytes");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(dir(d.path())).unwrap().permissions().mode() & 0o077, 0);
        assert_eq!(keep_within(d.path(), b"hostile bytes", 20).unwrap(), kept, "the same bytes again");
        let full = keep_within(d.path(), b"more hostile bytes", 20).unwrap_err().to_string();
        assert!(full.contains("evidence is full"), "{full}");
        assert_eq!(fs::read_dir(dir(d.path())).unwrap().count(), 1);
    }
}
