//! Replacing a file so that readers see the old content or the new one, never half of either,
//! and so that the new content is on disk once the write returns.
//!
//! The order: the bytes go to a new temporary file in the destination's folder, created with the
//! final mode (a secret key is never readable by others, not even for a moment), and are synced;
//! the temporary file is renamed over the destination; the folder is synced, because the rename
//! lives in the folder's list of entries. [`tempfile::NamedTempFile`] makes the temporary file
//! (a unique name, removed again when anything fails before the rename). [`fsync_dir`] is the one
//! folder sync of the workspace: the protection suite, the command line and the mirror's blob
//! store use it.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use tempfile::NamedTempFile;

/// A file written and synced under a temporary name, not in place yet. Dropping it removes it.
#[derive(Debug)]
pub struct StagedFile {
    file: NamedTempFile,
}

/// Writes `contents` to a new temporary file in `dir`, created with `mode` (on Unix, less the
/// umask, as any new file), and syncs it. `name` (the destination's file name) only makes the
/// temporary name recognisable: `.<name>.<random>.tmp`.
pub fn stage(dir: &Path, name: &str, contents: &[u8], mode: u32) -> io::Result<StagedFile> {
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    Ok(StagedFile { file })
}

impl StagedFile {
    /// Renames the staged file over `path`, which must be on the same file system (the folder it
    /// was staged in, or one beside it). The folder is not synced here: call [`fsync_dir`] once
    /// after the last rename into it.
    pub fn persist(self, path: &Path) -> io::Result<()> {
        self.file.persist(path).map(drop).map_err(|e| e.error)
    }
}

/// Replaces `path` with `contents` atomically and durably; see the module docs. A new file gets
/// `mode` (on Unix, less the umask).
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".to_owned());
    stage(dir, &name, contents, mode)?.persist(path)?;
    fsync_dir(dir)
}

/// Makes what happened to the entries of `dir` durable: files created, renamed into or out of
/// it. On systems other than Unix a folder cannot be opened to be synced, and this does nothing.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The folder holding `path`: its parent, or `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("skills.lock");
        write_atomic(&path, b"one", 0o644).unwrap_or_else(|e| panic!("{e}"));
        write_atomic(&path, b"two", 0o644).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&path).ok().as_deref(), Some(&b"two"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["skills.lock"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_is_created_with_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("key.sec");
        write_atomic(&path, b"secret", 0o600).unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).ok();
        assert_eq!(mode, Some(0o600));
    }

    #[test]
    fn a_staged_file_that_is_dropped_is_removed() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        drop(stage(dir.path(), "lock.json", b"{}", 0o666).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(std::fs::read_dir(dir.path()).map(Iterator::count).ok(), Some(0));
        assert!(write_atomic(&dir.path().join("missing/x"), b"", 0o644).is_err());
    }
}
