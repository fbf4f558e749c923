//! The loader's vocabulary: what goes in ([`Source`], [`Limits`]), what comes out
//! ([`LoadedSkill`], [`LoadedFile`], [`LoadIssue`]), what stops a whole input ([`LoadError`]),
//! and which entry paths are unsafe ([`unsafe_path_reason`]). The readers (`archive`, `dir`)
//! and the split into skills (`roots`) build on it; nothing here reads anything.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skillscan_signatures::identity::{PathProblem, SkillPath};

/// Resource limits for loading one input (a directory skill, or an archive with all it nests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Files and links, counted across nested archives.
    pub max_entries: usize,
    /// Bytes read from one file; the rest is not analysed (ClawHub's own limit is 10 MB).
    pub max_file_bytes: u64,
    /// Bytes read across all files of one input (ClawHub's own limit is 50 MB).
    pub max_total_bytes: u64,
    /// Uncompressed/compressed ratio above which an entry is a suspected bomb (checked for
    /// entries that inflate past 1 MiB, so ordinary well-compressed text is not flagged).
    pub max_ratio: u64,
    /// Archives inside archives opened before giving up.
    pub max_depth: u32,
    /// Bytes buffered from stdin.
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_file_bytes: 10 * 1024 * 1024,
            max_total_bytes: 50 * 1024 * 1024,
            max_ratio: 100,
            max_depth: 3,
            max_archive_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A file of a skill, in memory.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    /// Relative to the skill root, `/`-separated. Entries of nested archives read `a.zip!/b.sh`.
    /// Unsafe archive paths (`../x`) are kept verbatim: they name the entry, they are never used
    /// to touch the file system.
    pub path: String,
    pub bytes: Arc<[u8]>,
    /// The size the file has (or claims to have); `bytes` may hold less when truncated.
    pub size: u64,
    pub truncated: bool,
}

/// Something about the input that is a finding in itself: a link entry, a limit hit…
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadIssue {
    pub kind: IssueKind,
    /// The entry or file concerned, relative to the skill root ("" for the input as a whole).
    pub path: String,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// `..`, an absolute path, a backslash or a control character in an entry path.
    UnsafePath,
    /// Symbolic or hard link (archive entry or file on disk).
    Link,
    /// Device, FIFO or socket.
    SpecialFile,
    Encrypted,
    CompressionRatio,
    NestingDepth,
    FileTooLarge,
    TotalTooLarge,
    TooManyEntries,
    /// Truncated, corrupt or unreadable archive or file.
    Unreadable,
    EmptyArchive,
    NoManifest,
    /// A zip whose local headers and central directory disagree.
    HeaderMismatch,
}

/// One skill, loaded.
#[derive(Clone, Debug)]
pub struct LoadedSkill {
    /// The skill root as found under the scanned path (`dir/skills/a`, `x.zip`, `x.zip!/a`).
    pub root: String,
    pub files: Vec<LoadedFile>,
    pub issues: Vec<LoadIssue>,
}

impl LoadedSkill {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes.len() as u64).sum()
    }
}

/// Where a skill (or an archive of skills) comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A skill directory; `exclude` lists nested skill roots that are reported on their own.
    Dir { path: PathBuf, exclude: Vec<PathBuf> },
    /// A lone `SKILL.md` (or any single file).
    File(PathBuf),
    /// A zip, tar, tar.gz or tgz file.
    Archive(PathBuf),
    /// An archive read from standard input.
    Stdin,
    /// An archive already in memory (the mirror, the installer).
    Bytes { name: String, bytes: Arc<[u8]> },
}

/// A source and the name it is reported under.
#[derive(Clone, Debug)]
pub struct SkillSource {
    pub display: String,
    pub source: Source,
}

/// Errors that stop a whole input (as opposed to [`LoadIssue`]s, which become findings).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("standard input: {0}")]
    Stdin(std::io::Error),
}

/// File names treated as archives when given directly on the command line.
pub fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".zip", ".tar", ".tar.gz", ".tgz"].iter().any(|ext| lower.ends_with(ext))
}

pub(super) fn io_error(path: &Path, source: std::io::Error) -> LoadError {
    if source.kind() == std::io::ErrorKind::NotFound {
        LoadError::NotFound { path: path.display().to_string() }
    } else {
        LoadError::Io { path: path.display().to_string(), source }
    }
}

/// Why an archive entry path is unsafe to use, if it is. Paths are never joined onto the file
/// system by the scanner; this is about reporting what an extractor would be tricked into.
///
/// The rule is the workspace's path rule ([`SkillPath::normalize`]), reporting only what
/// [`PathProblem::is_unsafe_to_extract`]: a path that is merely not canonical (`a//b`, `a/./b`,
/// a trailing `/`) names the entry it names and is no finding. The normaliser reports the most
/// dangerous problem of a path, so `a//../b` reads as the `..` it holds.
pub fn unsafe_path_reason(path: &str) -> Option<&'static str> {
    let problem = SkillPath::normalize(path).err()?.reason;
    if !problem.is_unsafe_to_extract() {
        return None;
    }
    Some(match problem {
        PathProblem::Absolute | PathProblem::DrivePrefix => "absolute path",
        PathProblem::Backslash => "backslash in path",
        PathProblem::ParentSegment => "`..` path segment escapes the skill folder",
        _ => "control character in path",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_named() {
        assert!(unsafe_path_reason("../../etc/passwd").is_some());
        assert!(unsafe_path_reason("/etc/passwd").is_some());
        assert!(unsafe_path_reason("a\\..\\b").is_some());
        assert!(unsafe_path_reason("C:/x").is_some());
        assert!(unsafe_path_reason("scripts/..hidden/x.sh").is_none());
        assert!(unsafe_path_reason("SKILL.md").is_none());
        // The texts findings carry, one per kind of problem.
        let reason = |path: &str| unsafe_path_reason(path).unwrap_or_default();
        assert_eq!(reason("/etc/passwd"), "absolute path");
        assert_eq!(reason("C:x"), "absolute path");
        assert_eq!(reason("a\\b"), "backslash in path");
        assert_eq!(reason("a\nb"), "control character in path");
        assert_eq!(reason("a\0b"), "control character in path");
        assert_eq!(reason("../x"), "`..` path segment escapes the skill folder");
        // Several problems: the most dangerous, as before (absolute, `\\`, control, `..`).
        assert_eq!(reason("/a\\b"), "absolute path");
        assert_eq!(reason("../a\\b"), "backslash in path");
        assert_eq!(reason("../a\tb"), "control character in path");
        // `..` behind a non-canonical spelling is still found; the spelling alone is no finding.
        assert_eq!(reason("a//../b"), "`..` path segment escapes the skill folder");
        assert_eq!(reason("./../x"), "`..` path segment escapes the skill folder");
        for harmless in ["a//b", "a/./b", "a/", "./x", "ab:c", "1:x"] {
            assert_eq!(unsafe_path_reason(harmless), None, "{harmless:?}");
        }
    }
}
