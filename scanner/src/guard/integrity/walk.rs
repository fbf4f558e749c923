//! Skill folders: walk without following links, then hash every file in parallel, streaming.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use skillscan_signatures::digest::{FileDigest, normalize_path, sha256, sha256_reader};

use super::digest::{
    HashedFile, InputKind, IntegrityLimits, MAX_CAPTURED_FILES, MAX_HINT_FILE_BYTES, SkillDigest, TreeError, assemble,
    is_hint_candidate,
};

/// A regular file found by the walk.
struct Found {
    relative: String,
    absolute: PathBuf,
    size: u64,
    capture: bool,
}

pub(super) fn digest_dir(root: &Path, limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    let found = walk(root, limits)?;
    let hashed: Result<Vec<HashedFile>, TreeError> = found.par_iter().map(|file| hash_file(file, limits)).collect();
    assemble(root, InputKind::Directory, hashed?, None)
}

/// Lists every regular file below `root` (an explicit stack: no recursion depth to exhaust).
/// Links and special files are errors; so are names that are not UTF-8 or not normalised paths.
fn walk(root: &Path, limits: &IntegrityLimits) -> Result<Vec<Found>, TreeError> {
    let mut stack = vec![(root.to_path_buf(), String::new())];
    let mut found = Vec::new();
    let mut entries = 0usize;
    let mut total = 0u64;
    let mut captured = 0usize;
    while let Some((dir, relative_dir)) = stack.pop() {
        let reader = fs::read_dir(&dir).map_err(|e| TreeError::io(&dir, e))?;
        for entry in reader {
            let entry = entry.map_err(|e| TreeError::io(&dir, e))?;
            let name = entry.file_name();
            let relative = match name.to_str() {
                Some(name) if relative_dir.is_empty() => name.to_owned(),
                Some(name) => format!("{relative_dir}/{name}"),
                None => {
                    let lossy = name.to_string_lossy();
                    let shown =
                        if relative_dir.is_empty() { lossy.into_owned() } else { format!("{relative_dir}/{lossy}") };
                    return Err(TreeError::NonUtf8Path { path: shown });
                }
            };
            entries += 1;
            if entries > limits.max_entries {
                return Err(TreeError::TooManyEntries { path: root.display().to_string(), limit: limits.max_entries });
            }
            // Checked for folders too: a folder named `a\nb` must not be walked into.
            normalize_path(&relative)?;
            let absolute = entry.path();
            // DirEntry::metadata does not follow symbolic links.
            let meta = entry.metadata().map_err(|e| TreeError::io(&absolute, e))?;
            let file_type = meta.file_type();
            if file_type.is_symlink() {
                let target = fs::read_link(&absolute).map(|t| t.display().to_string()).unwrap_or_default();
                return Err(TreeError::Link { path: relative, target });
            }
            if file_type.is_dir() {
                stack.push((absolute, relative));
                continue;
            }
            if !file_type.is_file() {
                return Err(TreeError::SpecialFile { path: relative, what: special_kind(&meta) });
            }
            total = total.saturating_add(meta.len());
            if total > limits.max_total_bytes {
                return Err(TreeError::TooManyBytes {
                    path: root.display().to_string(),
                    limit: limits.max_total_bytes,
                });
            }
            let capture = captured < MAX_CAPTURED_FILES && is_hint_candidate(&relative);
            captured += usize::from(capture);
            found.push(Found { relative, absolute, size: meta.len(), capture });
        }
    }
    Ok(found)
}

fn special_kind(meta: &fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let file_type = meta.file_type();
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    let _ = meta;
    "a special file"
}

/// Opens a file found by the walk without following a link that replaced it since, and without
/// blocking on a FIFO that replaced it; then checks it is still a regular file.
fn open_regular(found: &Found) -> Result<File, TreeError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        options.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
    }
    let file = options.open(&found.absolute).map_err(|e| {
        if is_link_loop(&e) {
            TreeError::Link { path: found.relative.clone(), target: String::new() }
        } else {
            TreeError::io(&found.absolute, e)
        }
    })?;
    let meta = file.metadata().map_err(|e| TreeError::io(&found.absolute, e))?;
    if !meta.is_file() {
        return Err(TreeError::SpecialFile { path: found.relative.clone(), what: special_kind(&meta) });
    }
    Ok(file)
}

/// `ELOOP` from an `O_NOFOLLOW` open: the path became a symbolic link after the walk saw a file.
fn is_link_loop(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

fn hash_file(found: &Found, limits: &IntegrityLimits) -> Result<HashedFile, TreeError> {
    let file = open_regular(found)?;
    // A file that grows while we read it is cut at the limit, and the size check below fails.
    let bounded = file.take(limits.max_total_bytes.saturating_add(1));
    if found.capture && found.size <= MAX_HINT_FILE_BYTES {
        let mut bytes = Vec::with_capacity(usize::try_from(found.size).unwrap_or(0));
        bounded.take(MAX_HINT_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| TreeError::io(&found.absolute, e))?;
        if bytes.len() as u64 <= MAX_HINT_FILE_BYTES {
            let digest = FileDigest { path: found.relative.clone(), sha256: sha256(&bytes), size: bytes.len() as u64 };
            return Ok(HashedFile { digest, captured: Some(Ok(bytes)) });
        }
        // It grew past the bound since the walk: hash it again, streaming.
        let file = open_regular(found)?;
        return stream(found, file.take(limits.max_total_bytes.saturating_add(1)), limits, Some(Err(found.size)));
    }
    let captured = found.capture.then_some(Err(found.size));
    stream(found, bounded, limits, captured)
}

fn stream(
    found: &Found,
    reader: impl Read,
    limits: &IntegrityLimits,
    captured: Option<Result<Vec<u8>, u64>>,
) -> Result<HashedFile, TreeError> {
    let (sha256, size) = sha256_reader(reader).map_err(|e| TreeError::io(&found.absolute, e))?;
    if size > limits.max_total_bytes {
        return Err(TreeError::TooManyBytes { path: found.relative.clone(), limit: limits.max_total_bytes });
    }
    Ok(HashedFile { digest: FileDigest { path: found.relative.clone(), sha256, size }, captured })
}
