//! What digesting a skill produces and the steps every reader shares: the limits, the
//! [`SkillDigest`] (manifest, fingerprints, hints), the [`TreeError`]s, which files are captured
//! as identity hints, and `assemble`, which turns hashed files into a digest. The readers
//! (`walk` for folders, `archive` for archives) build on it; it reads nothing itself.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use skillscan_signatures::digest::{FileDigest, FingerprintScope, Sha256Digest, TreeManifest, clawhub_fingerprint};
use skillscan_signatures::error::{DigestError, PathError};

use super::hints::IdentityHints;

/// Default for [`IntegrityLimits::max_entries`]: far above any real skill (ClawHub allows 50 MB).
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
/// Default for [`IntegrityLimits::max_total_bytes`]: 4 GiB.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 4 << 30;
/// Identity files larger than this are not parsed (they are still hashed).
pub const MAX_HINT_FILE_BYTES: u64 = 1 << 20;

/// Bounds on the work one digest may do. Exceeding one is an integrity error: no real skill is
/// that large, and stopping early is what keeps a zip or gzip bomb from running for hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrityLimits {
    /// Files, folders and archive entries (of any type) counted.
    pub max_entries: usize,
    /// Bytes of file content hashed in total (for tar, also bytes decompressed, headers included).
    pub max_total_bytes: u64,
}

impl Default for IntegrityLimits {
    fn default() -> Self {
        Self { max_entries: DEFAULT_MAX_ENTRIES, max_total_bytes: DEFAULT_MAX_TOTAL_BYTES }
    }
}

/// What kind of input a digest was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::Display, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "lowercase")]
pub enum InputKind {
    Directory,
    Zip,
    Tar,
    #[strum(serialize = "tar.gz")]
    TarGz,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn is_archive(self) -> bool {
        self != Self::Directory
    }
}

/// The digests of one skill, from a folder or an archive.
#[derive(Debug, Clone)]
pub struct SkillDigest {
    /// The folder or archive file (as given; for in-memory archives, the name given).
    pub path: PathBuf,
    pub kind: InputKind,
    /// Every regular file, install metadata included, with normalised paths (the top folder
    /// stripped, see the module docs), sorted by path bytes.
    pub all_files: Vec<FileDigest>,
    /// The files of the tree digest (install metadata excluded).
    pub manifest: TreeManifest,
    /// SHA-256 of the exact archive bytes (archives only).
    pub archive_sha256: Option<Sha256Digest>,
    /// Size of the archive file (archives only).
    pub archive_size: Option<u64>,
    /// The single top folder that was stripped from an archive's paths, if any.
    pub top_folder: Option<String>,
    pub hints: IdentityHints,
}

impl SkillDigest {
    /// The tree digest (`sha256` over `"<hex>  <path>\n"` lines; see the signatures crate).
    pub fn tree_digest(&self) -> Sha256Digest {
        self.manifest.tree_digest()
    }

    /// ClawHub's bundle fingerprint over the files `scope` selects.
    pub fn fingerprint(&self, scope: FingerprintScope) -> Sha256Digest {
        clawhub_fingerprint(
            self.all_files.iter().filter(|f| scope.includes(&f.path)).map(|f| (f.path.as_str(), &f.sha256)),
        )
    }

    /// The fingerprint `clawhub install` writes to `origin.json` for these files
    /// ([`FingerprintScope::Installed`]): the same for the download zip and the installed folder.
    pub fn clawhub_fingerprint(&self) -> Sha256Digest {
        self.fingerprint(FingerprintScope::Installed)
    }

    /// The registry's own fingerprint (the one `/api/v1/resolve` matches): stored files only.
    pub fn server_fingerprint(&self) -> Sha256Digest {
        self.fingerprint(FingerprintScope::ServerFiles)
    }

    /// Number of bytes of all files (install metadata included).
    pub fn total_bytes(&self) -> u64 {
        self.all_files.iter().fold(0u64, |sum, f| sum.saturating_add(f.size))
    }

    /// Paths left out of the tree digest as install metadata.
    pub fn excluded_paths(&self) -> &[String] {
        self.manifest.excluded_paths()
    }
}

/// Why a digest could not be computed. [`TreeError::is_integrity`] separates what the input
/// itself is guilty of (links, unsafe paths, bombs, corrupt archives: exit 3) from trouble
/// reading it (missing path, permissions: exit 2). Paths and link targets come from the input,
/// so messages show them Rust-escaped (`"a\u{1b}[31m"`): a hostile name cannot drive the terminal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a skill folder or a zip, tar or tar.gz archive")]
    NotASkill { path: String },
    #[error("{path:?} is a symbolic link (to {target:?}); links are not allowed in a skill")]
    Link { path: String, target: String },
    #[error("{path:?} is a hard link entry; links are not allowed in a skill")]
    HardLink { path: String },
    #[error("{path:?} is {what}, not a regular file; special files are not allowed in a skill")]
    SpecialFile { path: String, what: &'static str },
    #[error("{path:?}: the name is not valid UTF-8")]
    NonUtf8Path { path: String },
    #[error(transparent)]
    UnsafePath(#[from] PathError),
    #[error("{path:?} appears twice in the archive (after normalising the paths)")]
    Duplicate { path: String },
    #[error("{path:?} is an encrypted zip entry; its content cannot be checked")]
    Encrypted { path: String },
    #[error("{path:?}: unsupported archive entry ({detail})")]
    UnsupportedEntry { path: String, detail: String },
    #[error("{path}: more than {limit} entries; no skill is that large (archive bomb?)")]
    TooManyEntries { path: String, limit: usize },
    #[error("{path}: more than {limit} bytes to hash; no skill is that large (archive bomb?)")]
    TooManyBytes { path: String, limit: u64 },
    #[error("{path}: corrupt or truncated {kind} archive: {detail}")]
    CorruptArchive { path: String, kind: InputKind, detail: String },
}

impl TreeError {
    /// True when the input is at fault (exit 3), false for I/O and usage problems (exit 2).
    pub fn is_integrity(&self) -> bool {
        !matches!(self, Self::NotFound { .. } | Self::Io { .. } | Self::NotASkill { .. })
    }

    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            Self::NotFound { path: path.display().to_string() }
        } else {
            Self::Io { path: path.display().to_string(), source }
        }
    }
}

impl From<DigestError> for TreeError {
    fn from(error: DigestError) -> Self {
        match error {
            DigestError::InvalidPath(e) => Self::UnsafePath(e),
            DigestError::DuplicatePath { path } => Self::Duplicate { path },
            // DigestError is non-exhaustive; a future variant is still the input's fault.
            other => Self::UnsupportedEntry { path: String::new(), detail: other.to_string() },
        }
    }
}

/// One file found while reading a skill: its digest and, for the few identity files, its bytes.
#[derive(Debug)]
pub(crate) struct HashedFile {
    pub digest: FileDigest,
    pub captured: Option<Result<Vec<u8>, u64>>,
}

/// Whether a (normalised) path may be an identity file: root or one-folder-deep `_meta.json`,
/// `SKILL.md`/`skill.md`/`skills.md`, and `.clawhub/origin.json` (or `.clawdhub/`). One folder
/// deep because the top folder of an archive is stripped only after all entries were seen.
pub(crate) fn is_hint_candidate(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let (depth, name) = match segments.as_slice() {
        [name] => (0, *name),
        [_, name] => (1, *name),
        [_, _, name] => (2, *name),
        _ => return false,
    };
    let in_clawhub = |index: usize| segments.get(index).is_some_and(|s| *s == ".clawhub" || *s == ".clawdhub");
    match name {
        "origin.json" => (depth == 1 && in_clawhub(0)) || (depth == 2 && in_clawhub(1)),
        "_meta.json" => depth <= 1,
        other => depth <= 1 && crate::engine::package::is_manifest_name(other),
    }
}

/// Most identity files captured from one input (each at most [`MAX_HINT_FILE_BYTES`]).
pub(crate) const MAX_CAPTURED_FILES: usize = 16;

/// Assembles a [`SkillDigest`] from hashed files: strips a single top folder of an archive,
/// builds the manifest, reads the hints.
pub(crate) fn assemble(
    path: &Path,
    kind: InputKind,
    mut files: Vec<HashedFile>,
    archive: Option<(Sha256Digest, u64)>,
) -> Result<SkillDigest, TreeError> {
    let mut top_folder = None;
    if kind.is_archive()
        && let Some(top) = single_top_folder(files.iter().map(|f| f.digest.path.as_str()))
    {
        let prefix = format!("{top}/");
        for file in &mut files {
            if let Some(rest) = file.digest.path.strip_prefix(&prefix) {
                file.digest.path = rest.to_owned();
            }
        }
        top_folder = Some(top);
    }
    let manifest = TreeManifest::new(files.iter().map(|f| f.digest.clone()))?;
    let hints = IdentityHints::from_files(files.iter().filter_map(|f| {
        let captured = f.captured.as_ref()?;
        Some((f.digest.path.as_str(), captured.as_ref().map(Vec::as_slice).map_err(|size| *size)))
    }));
    let mut all_files: Vec<FileDigest> = files.into_iter().map(|f| f.digest).collect();
    all_files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(SkillDigest {
        path: path.to_path_buf(),
        kind,
        all_files,
        manifest,
        archive_sha256: archive.map(|(digest, _)| digest),
        archive_size: archive.map(|(_, size)| size),
        top_folder,
        hints,
    })
}

/// The one first segment every path shares, when no path lies at the root.
fn single_top_folder<'a>(mut paths: impl Iterator<Item = &'a str>) -> Option<String> {
    let first = paths.next()?;
    let (top, _) = first.split_once('/')?;
    paths.all(|p| p.split_once('/').is_some_and(|(t, _)| t == top)).then(|| top.to_owned())
}
