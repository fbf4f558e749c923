//! Skill digests, minisign-compatible signatures, trust store and `skills.lock`.
//!
//! This crate only computes over bytes and readers that callers hand it: it never walks
//! the filesystem, opens archives or spawns tasks. The scanner crate walks folders and
//! reads archives, then feeds [`digest::FileDigest`]s into [`digest::TreeManifest`].
//!
//! Modules, from the bottom up (each imports only modules listed before it; `validate` holds
//! the crate-private text helpers everything uses):
//! - [`identity`]: [`Slug`], [`Version`], [`Owner`], [`SkillPath`] and [`is_manifest_name`], the
//!   one definition of a valid skill name and path for all crates, with the registry's
//!   stricter rules by name.
//! - [`digest`]: SHA-256 helpers, path normalisation, the tree digest (Go `h1:`-style, hex)
//!   and the ClawHub bundle fingerprint (JS `localeCompare` order).
//! - [`minisign`]: the exact minisign key and signature file formats, signing and verifying.
//! - [`statement`]: the trusted comment that binds a signature to one skill version.
//! - [`trust`]: the TOML trust store (keys, validity windows, revocations).
//! - [`lock`]: the canonical `skills.lock` file.
//! - [`error`]: every error type re-exported in one place; each is defined beside the module
//!   that returns it, with messages meant for end users.
//!
//! Every type is `Send + Sync`, so callers can hash files on a thread pool and build the
//! [`TreeManifest`] from the results (input order does not matter).
//!
//! # Signing and verifying a skill version
//!
//! ```
//! use skillscan_signatures::digest::{FileDigest, TreeManifest, sha256};
//! use skillscan_signatures::minisign::{SecretKey, SignatureFile, sign};
//! use skillscan_signatures::statement::{ExpectedSubject, SkillStatement};
//! use skillscan_signatures::trust::TrustStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let archive: &[u8] = b"PK\x03\x04 the exact zip bytes";
//! let manifest = TreeManifest::new([FileDigest::from_bytes("SKILL.md", b"# Weather\n")])?;
//!
//! // Mirror side: bind slug, version and digests into the trusted comment, then sign.
//! let statement = SkillStatement {
//!     slug: "weather-brief".into(),
//!     version: "1.0.0".into(),
//!     archive_sha256: Some(sha256(archive)),
//!     tree_digest: manifest.tree_digest(),
//!     timestamp: 1_767_225_600,
//!     file: Some("weather-brief-1.0.0.zip".into()),
//! };
//! let (secret, public) = SecretKey::generate()?;
//! let minisig = sign(&secret, archive, &statement.to_trusted_comment()?, "skillscan approval")?
//!     .to_file_string();
//!
//! // Installer side: verify with the trust store, then check what was signed.
//! let trust = TrustStore::single(public, "acme mirror");
//! let signature = SignatureFile::parse(&minisig)?;
//! let key = trust.verify(archive, &signature, 1_767_225_700)?;
//! assert_eq!(key.name, "acme mirror");
//! SkillStatement::parse(&signature.trusted_comment)?.check(&ExpectedSubject {
//!     slug: "weather-brief".into(),
//!     version: "1.0.0".into(),
//!     archive_sha256: Some(sha256(archive)),
//!     tree_digest: Some(manifest.tree_digest()),
//! })?;
//! # Ok(())
//! # }
//! ```

pub mod digest;
pub mod error;
pub mod identity;
pub mod lock;
pub mod minisign;
pub mod statement;
pub mod trust;
mod validate;

pub use digest::{FileDigest, Sha256Digest, TreeDiff, TreeManifest};
pub use identity::{Owner, SkillPath, Slug, Version, is_manifest_name, preferred_manifest};
pub use lock::{LockedSkill, SkillsLock, UNSCANNED, UNVERSIONED};
pub use minisign::{KeyId, PublicKey, SecretKey, SignatureFile};
pub use statement::{ExpectedSubject, SkillStatement};
pub use trust::{TrustStore, TrustedKey};
