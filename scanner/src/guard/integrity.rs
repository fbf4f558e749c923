//! Integrity of skills on disk: digests of skill folders and archives, identity hints, and the
//! checks behind `skillscan verify` (signature, `skills.lock` pin, `origin.json` fingerprint).
//!
//! The [`skillscan_signatures`] crate owns the formats (tree digest, minisign files, statements,
//! trust store, lock); this module walks folders and reads archives to feed it. It is separate
//! from [`crate::engine::package`], the scanner's loader, on purpose: the loader reads files into memory
//! and truncates them at 10 MiB so the scan stays bounded, which is right for finding threats and
//! wrong for hashing. Here every byte of every file is streamed through SHA-256, nothing is held
//! in memory but a 64 KiB buffer per worker, and anything that could make two readers see two
//! different skills is an error instead of a finding:
//!
//! - **Folders** are walked without following links. A symlink, a device, FIFO or socket, a name
//!   that is not UTF-8 or that [`skillscan_signatures::digest::normalize_path`] refuses (`\`,
//!   control characters...) is an error naming the path. The folder given on the command line
//!   may itself be a link (the user named it); nothing below it is followed. Files are hashed in
//!   parallel (rayon), each opened with `O_NOFOLLOW | O_NONBLOCK` and checked to still be a
//!   regular file, so swapping a file for a link or a FIFO between walk and hash fails too.
//!   Empty folders are not part of a skill (a zip has no entry for them either).
//! - **Archives** (zip, tar, tar.gz; recognised by content, not name) are streamed entry by
//!   entry. Links, special files, encrypted entries, unsafe paths and duplicate paths are errors.
//!   Zips are read through their central directory, as ClawHub's CLI (fflate `unzipSync`) does.
//!   Reading is bounded by [`IntegrityLimits`] (entries, and bytes hashed — for tar also bytes
//!   decompressed, headers included), so a bomb is an error after a bounded amount of work.
//!   Tar GNU long names and PAX headers are read under a 1 MiB bound (the `tar` crate would
//!   buffer them whole); a PAX `size` record is refused, since files that large exceed the limits
//!   anyway and honouring it differently from other readers would let one archive show two trees.
//! - **One top folder**: an archive with no file at its root whose files all sit under a single
//!   folder (`weather-brief/SKILL.md`, what `tar czf x.tgz weather-brief` makes) is read as if that
//!   folder were the root, so it digests the same as the folder and as ClawHub's flat zip. One
//!   level only; an archive of several skills is digested as one tree.
//! - **Excluded paths** are the install metadata that
//!   [`skillscan_signatures::digest::is_install_metadata`] defines (root `_meta.json`, anything
//!   under `.clawhub/` or `.clawdhub/`): they are still hashed (for the ClawHub fingerprint and so
//!   nothing is read unchecked) but are not part of the tree digest. Nothing else is skipped — not
//!   `.git/`, not dotfiles: the digest covers what is on disk.
//!
//! Identity hints (slug, owner, version, registry, fingerprint) come from `.clawhub/origin.json`
//! (legacy `.clawdhub/`), the root `_meta.json` (ClawHub's download shape and the skills archive
//! shape) and the `SKILL.md` front matter; see [`hints`]. They are written by whoever wrote the
//! files, so they only suggest defaults and what to look up in a lock; they never vouch.

//!
//! The module reads from the bottom up: [`hints`], `digest` (limits, [`SkillDigest`],
//! [`TreeError`], assembling a digest), `walk` and `archive` (the readers), [`verify`] (the
//! checks), and the entry points here on top. Each imports only modules before it.

mod archive;
mod digest;
pub mod hints;
pub mod verify;
mod walk;

use std::path::{Path, PathBuf};

use skillscan_signatures::minisign::SignatureFile;

pub use digest::{
    DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_BYTES, InputKind, IntegrityLimits, MAX_HINT_FILE_BYTES, SkillDigest,
    TreeError,
};
pub use hints::{FrontMatterHints, HintError, IdentityHints, MetaHints, OriginHints};
pub use verify::{IntegrityFailure, SignatureEvidence, SignedOver, Trust, VerifyOptions, VerifyReport, verify_skill};

/// Where an installed skill keeps the mirror's signature, written by `skillscan install` and
/// checked by `verify`, `ci` and `inventory` ([`SignedOver::InstalledArchive`]). Under
/// `.clawhub/`, so it is install metadata: outside the tree digest and ClawHub's fingerprint.
pub const INSTALLED_SIGNATURE_FILE: &str = ".clawhub/skillscan.minisig";

/// A signature file found beside or inside a skill could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFileError {
    /// Unreadable, a link, not a regular file, too large, not UTF-8.
    #[error("{0}")]
    Unreadable(String),
    /// Read, but not a minisign signature.
    #[error("{path}: {message}")]
    Garbled { path: String, message: String },
}

/// Reads and parses a signature file the library found itself (links are not followed, the
/// size is capped); `Ok(None)` when there is none.
pub fn read_signature_file(path: &Path) -> Result<Option<SignatureFile>, SignatureFileError> {
    let text = crate::clawhub::state::read_state_file_limited(path, crate::guard::caps::MAX_SIGNATURE_FILE_BYTES)
        .map_err(|e| SignatureFileError::Unreadable(e.to_string()))?;
    text.map(|text| {
        SignatureFile::parse(&text)
            .map_err(|e| SignatureFileError::Garbled { path: path.display().to_string(), message: e.to_string() })
    })
    .transpose()
}

/// The mirror's signature an installed skill folder keeps ([`INSTALLED_SIGNATURE_FILE`]), if any.
pub fn load_installed_signature(skill_dir: &Path) -> Result<Option<SignatureFile>, SignatureFileError> {
    read_signature_file(&skill_dir.join(INSTALLED_SIGNATURE_FILE))
}

/// Digests a skill folder or archive file (recognised by content).
pub fn digest_path(path: &Path, limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    let meta = std::fs::metadata(path).map_err(|e| TreeError::io(path, e))?;
    if meta.is_dir() {
        walk::digest_dir(path, limits)
    } else if meta.is_file() {
        archive::digest_archive_file(path, limits)
    } else {
        Err(TreeError::NotASkill { path: path.display().to_string() })
    }
}

/// Digests a skill folder.
pub fn digest_dir(path: &Path, limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    walk::digest_dir(path, limits)
}

/// Digests an archive file (zip, tar or tar.gz, recognised by content).
pub fn digest_archive_file(path: &Path, limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    archive::digest_archive_file(path, limits)
}

/// Digests an archive held in memory (a download being installed); `name` labels errors.
pub fn digest_archive_bytes(name: &str, bytes: &[u8], limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    archive::digest_archive_bytes(name, bytes, limits)
}

/// A skill found under a command-line path: a folder or an archive file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillTarget {
    /// How to show it (the path as found under the given path).
    pub display: String,
    pub path: PathBuf,
    pub is_archive: bool,
}

/// The skills under a command-line path, found the way `skillscan scan` finds them: a folder with
/// `SKILL.md` is a skill, a folder without one is searched (6 levels) for skill folders and loose
/// archives (and is itself the skill when it holds neither), a file is an archive. Nested skill
/// folders are reported on their own *and* stay part of the folder above them: a digest covers
/// everything under its root.
pub fn discover(path: &Path) -> Result<Vec<SkillTarget>, TreeError> {
    use crate::engine::package::{LoadError, Source};
    if path.as_os_str() == "-" {
        return Err(TreeError::NotASkill { path: "-".to_owned() });
    }
    let sources = crate::engine::package::discover(path).map_err(|e| match e {
        LoadError::NotFound { path } => TreeError::NotFound { path },
        LoadError::Io { path, source } => TreeError::Io { path, source },
        LoadError::Stdin(source) => TreeError::Io { path: "-".to_owned(), source },
    })?;
    sources
        .into_iter()
        .map(|source| match source.source {
            Source::Dir { path, .. } => Ok(SkillTarget { display: source.display, path, is_archive: false }),
            Source::Archive(path) => Ok(SkillTarget { display: source.display, path, is_archive: true }),
            // A lone file that is not an archive: `SKILL.md` alone is not something we can pin.
            Source::File(path) => Err(TreeError::NotASkill { path: path.display().to_string() }),
            Source::Stdin | Source::Bytes { .. } => Err(TreeError::NotASkill { path: source.display }),
        })
        .collect()
}

#[cfg(test)]
mod tests;
