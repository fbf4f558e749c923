//! Skill digests, minisign-compatible signatures, trust store and `skills.lock`.
//!
//! This crate only computes over bytes and readers that callers hand it: it never walks
//! the filesystem, opens archives or spawns tasks. The scanner crate walks folders and
//! reads archives, then feeds [`digest::FileDigest`]s into [`digest::TreeManifest`].
//!
//! Modules:
//! - [`digest`]: SHA-256 helpers, path normalisation, the tree digest (Go `h1:`-style, hex)
//!   and the ClawHub bundle fingerprint (JS `localeCompare` order).
//! - [`minisign`]: the exact minisign key and signature file formats, signing and verifying.
//! - [`statement`]: the trusted comment that binds a signature to one skill version.
//! - [`trust`]: the TOML trust store (keys, validity windows, revocations).
//! - [`lock`]: the canonical `skills.lock` file.
//! - [`error`]: every error type, with user-facing messages.

pub mod digest;
pub mod error;
pub mod lock;
pub mod minisign;
pub mod statement;
pub mod trust;
mod validate;

pub use digest::{FileDigest, Sha256Digest, TreeDiff, TreeManifest};
pub use lock::{LockedSkill, SkillsLock};
pub use minisign::{KeyId, PublicKey, SecretKey, SignatureFile};
pub use statement::{ExpectedSubject, SkillStatement};
pub use trust::{TrustStore, TrustedKey};
