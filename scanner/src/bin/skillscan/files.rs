//! File handling shared by the integrity commands: bounded reads of small text files, atomic
//! writes, secret files created with mode 0600, where signatures and manifests live by default.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use skillscan::guard::atomic_file;

/// Reads a UTF-8 text file of at most `limit` bytes (one of [`skillscan::guard::caps`]); `what`
/// names it in errors.
pub fn read_text(path: &Path, what: &str, limit: u64) -> anyhow::Result<String> {
    let file = File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{what} {} is larger than {limit} bytes; it is not a {what}", path.display());
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what} {} is not UTF-8 text", path.display()))
}

/// Like [`read_text`], but `Ok(None)` when the file does not exist.
pub fn read_text_if_exists(path: &Path, what: &str, limit: u64) -> anyhow::Result<Option<String>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_text(path, what, limit).map(Some),
    }
}

fn open_new(path: &Path, mode: u32) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Writes `contents` to `path` atomically ([`skillscan::guard::atomic_file`]): readers see the
/// old file or the new one, never half of one, and a new file is created with `mode`.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    atomic_file::write_atomic(path, contents, mode).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a file that must not exist yet (unless `force`): created with `mode` in one step.
pub fn write_new(path: &Path, contents: &[u8], mode: u32, force: bool) -> anyhow::Result<()> {
    if force {
        return write_atomic(path, contents, mode);
    }
    let result = open_new(path, mode).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; pass --force to replace it", path.display())
        }
        other => other.with_context(|| format!("cannot write {}", path.display())),
    }
}

/// `PATH.minisig` next to a skill folder or archive. A path without a final name (`.`) is
/// resolved first, so the signature never lands inside the folder it signs.
pub fn default_signature_path(path: &Path) -> anyhow::Result<PathBuf> {
    let base = if path.file_name().is_some() {
        path.to_path_buf()
    } else {
        fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))?
    };
    let Some(name) = base.file_name() else {
        bail!("{} has no name to put a signature beside; pass --output", path.display());
    };
    let mut name = name.to_os_string();
    name.push(".minisig");
    Ok(base.with_file_name(name))
}

/// The signed manifest of a folder lives beside its signature: `x.minisig` → `x.manifest`
/// (or `<signature>.manifest` when the signature is not named `*.minisig`).
pub fn manifest_path_for(signature: &Path) -> PathBuf {
    let name = signature.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match name.strip_suffix(".minisig") {
        Some(stem) if !stem.is_empty() => signature.with_file_name(format!("{stem}.manifest")),
        _ => signature.with_file_name(format!("{name}.manifest")),
    }
}

/// Refuses to write `output` inside the folder `skill` (it would change the digest it records).
pub fn ensure_outside(output: &Path, skill: &Path) -> anyhow::Result<()> {
    let Ok(skill) = fs::canonicalize(skill) else { return Ok(()) };
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(parent) = fs::canonicalize(&parent) else { return Ok(()) };
    if parent.starts_with(&skill) {
        bail!(
            "{} is inside the skill folder {}; writing it there would change what is signed",
            output.display(),
            skill.display()
        );
    }
    Ok(())
}

/// Current Unix time in seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The `source` a skill pinned from disk records: `local:<path as found>`, without `./` or a
/// trailing `/`, so `pin skills` and `verify skills/x` agree on `local:skills/x`.
pub fn local_source(display: &str) -> String {
    let trimmed = display.trim_end_matches('/');
    let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
    format!("local:{}", if trimmed.is_empty() { "." } else { trimmed })
}
