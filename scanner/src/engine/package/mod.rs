//! Loading skills from directories, lone `SKILL.md` files, zip and tar archives, or stdin —
//! into memory, never onto disk, within limits, turning every anomaly into a [`LoadIssue`].
//!
//! An attacker writes the input. So: symlinks and special files are reported, never followed or
//! opened; archive entry paths are validated, never joined onto a real path; every read is bounded
//! (`Limits`); archives inside archives are opened only to a fixed depth; and a limit or a corrupt
//! structure stops only the part that hit it while the rest of the skill is still scanned.

mod archive;
mod dir;
pub mod roots;
pub mod sniff;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use skillscan_signatures::identity::{PathProblem, SkillPath};

pub use dir::discover;
pub use roots::{MAX_SKILL_DEPTH, is_skill_root, root_manifest};

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

/// Names that make a directory a skill root: the one rule of the workspace, defined with the
/// other skill names in the signatures crate.
pub use skillscan_signatures::identity::is_manifest_name;

/// File names treated as archives when given directly on the command line.
pub fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".zip", ".tar", ".tar.gz", ".tgz"].iter().any(|ext| lower.ends_with(ext))
}

/// Loads one source. Archives may hold several skills, so this returns a list.
pub fn load(source: &SkillSource, limits: &Limits) -> Result<Vec<LoadedSkill>, LoadError> {
    match &source.source {
        Source::Dir { path, exclude } => Ok(vec![dir::load_dir(&source.display, path, exclude, limits)]),
        Source::File(path) => Ok(vec![dir::load_single_file(&source.display, path, limits)?]),
        Source::Archive(path) => {
            let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
            let size = file.metadata().map_err(|e| io_error(path, e))?.len();
            Ok(archive::load_archive_file(&source.display, file, size, limits))
        }
        Source::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(limits.max_archive_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(LoadError::Stdin)?;
            let too_large = bytes.len() as u64 > limits.max_archive_bytes;
            let mut skills = archive::load_archive_bytes(&source.display, &bytes, limits);
            if too_large && let Some(first) = skills.first_mut() {
                first.issues.push(LoadIssue {
                    kind: IssueKind::TotalTooLarge,
                    path: String::new(),
                    detail: format!(
                        "standard input is larger than {} bytes; only that much was read",
                        limits.max_archive_bytes
                    ),
                });
            }
            Ok(skills)
        }
        Source::Bytes { name, bytes } => Ok(archive::load_archive_bytes(name, bytes, limits)),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> LoadError {
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

/// Splits one loaded input into skills: every directory holding a manifest (at most
/// [`MAX_SKILL_DEPTH`] levels deep, [`roots::manifest_root`]) is a skill root, and each file belongs to the deepest root above it. Files of nested
/// archives stay with the skill that carries the archive. Files outside every root form a
/// pseudo-skill at the input's root (with a `NoManifest` issue), so nothing goes unscanned.
pub(crate) fn split_into_skills(display: &str, files: Vec<LoadedFile>, issues: Vec<LoadIssue>) -> Vec<LoadedSkill> {
    let mut roots: Vec<String> = files
        .iter()
        .filter(|f| !f.path.contains('!'))
        .filter(|f| unsafe_path_reason(&f.path).is_none())
        .filter_map(|f| roots::manifest_root(&f.path).map(str::to_owned))
        .collect();
    roots.sort();
    roots.dedup();
    let has_top_root = roots.iter().any(|r| r.is_empty());

    let mut skills: Vec<LoadedSkill> = roots
        .iter()
        .map(|root| LoadedSkill {
            root: if root.is_empty() { display.to_string() } else { format!("{display}!/{root}") },
            files: Vec::new(),
            issues: Vec::new(),
        })
        .collect();
    let mut orphans = LoadedSkill { root: display.to_string(), files: Vec::new(), issues: Vec::new() };

    let owner_of = |path: &str| -> Option<usize> {
        roots
            .iter()
            .enumerate()
            .filter(|(_, root)| root.is_empty() || path.starts_with(&format!("{root}/")))
            .max_by_key(|(_, root)| root.len())
            .map(|(i, _)| i)
    };
    let relative = |path: &str, root: &str| -> String {
        if root.is_empty() { path.to_string() } else { path[root.len() + 1..].to_string() }
    };

    for mut file in files {
        match owner_of(&file.path) {
            Some(i) => {
                file.path = relative(&file.path, &roots[i]);
                skills[i].files.push(file);
            }
            None => orphans.files.push(file),
        }
    }
    let mut input_wide = Vec::new();
    for mut issue in issues {
        match owner_of(&issue.path) {
            Some(i) if !issue.path.is_empty() || roots[i].is_empty() => {
                issue.path = relative(&issue.path, &roots[i]);
                skills[i].issues.push(issue);
            }
            _ if issue.path.is_empty() => input_wide.push(issue),
            _ => orphans.issues.push(issue),
        }
    }

    // With a manifest at the top, every file has an owner; otherwise the files outside every
    // root (or all files, when there is no manifest at all) are scanned as a pseudo-skill.
    if !has_top_root && (!orphans.files.is_empty() || !orphans.issues.is_empty() || skills.is_empty()) {
        orphans.issues.push(LoadIssue {
            kind: IssueKind::NoManifest,
            path: String::new(),
            detail: if skills.is_empty() {
                "no SKILL.md found; the files were scanned as one skill".to_string()
            } else {
                format!("{} file(s) lie outside every skill folder (no SKILL.md above them)", orphans.files.len())
            },
        });
        skills.insert(0, orphans);
    }
    // Input-wide issues (a truncated archive…) go to the first skill reported.
    if let Some(first) = skills.first_mut() {
        first.issues.append(&mut input_wide);
    }
    skills
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> LoadedFile {
        LoadedFile { path: path.into(), bytes: Arc::from(&b"x"[..]), size: 1, truncated: false }
    }

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

    #[test]
    fn flat_archive_is_one_skill() {
        let skills = split_into_skills("x.zip", vec![file("SKILL.md"), file("scripts/a.sh")], vec![]);
        assert_eq!(skills.len(), 1);
        assert_eq!(skills[0].root, "x.zip");
        assert_eq!(skills[0].files.len(), 2);
    }

    #[test]
    fn nested_roots_are_separate_and_orphans_are_kept() {
        let skills = split_into_skills(
            "x.tgz",
            vec![file("README.md"), file("a/SKILL.md"), file("a/run.sh"), file("a/sub/skill.md"), file("a/sub/t.py")],
            vec![],
        );
        let roots: Vec<_> = skills.iter().map(|s| s.root.as_str()).collect();
        assert_eq!(roots, ["x.tgz", "x.tgz!/a", "x.tgz!/a/sub"]);
        assert_eq!(skills[0].files[0].path, "README.md");
        assert!(skills[0].issues.iter().any(|i| i.kind == IssueKind::NoManifest));
        let paths: Vec<_> = skills[2].files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["skill.md", "t.py"]);
    }

    #[test]
    fn empty_input_is_reported_as_a_skill_without_manifest() {
        let skills = split_into_skills("e.zip", vec![], vec![]);
        assert_eq!(skills.len(), 1);
        assert_eq!(skills[0].issues[0].kind, IssueKind::NoManifest);
    }
}
