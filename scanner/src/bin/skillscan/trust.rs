//! Trust stores, public keys and `skills.lock` files named on the command line or in
//! `skillscan.toml`: every command reads them here, the same way, with one size cap per kind of
//! file ([`skillscan::guard::caps`]).
//!
//! A file a person names is read as any command-line tool reads it: a link is followed, and a
//! missing file is an error unless the command has a default for it (`pin` creates its lock,
//! `ci` looks for one beside its config). Files the library finds by itself are read by the
//! library, without following links: `install`'s own `<workdir>/skills.lock` (also a destination:
//! a link there is refused), the locks `inventory` finds in a home, the signatures beside skills.
//!
//! `verify` and `install` take the same pair of flags, [`TrustArgs`]. `ci` and `inventory` take
//! only `--trusted-keys`, with a default from their config section, and call
//! [`load_trust_store`] on whichever path applies.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use skillscan::guard::caps::{MAX_FILE_LIST_BYTES, MAX_KEY_FILE_BYTES};
use skillscan::guard::integrity::Trust;
use skillscan_signatures::minisign::PublicKey;
use skillscan_signatures::{SkillsLock, TrustStore};

use crate::files::{read_text, read_text_if_exists};

/// Who may sign: a trust store or a single public key.
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    /// Trust store (TOML): keys with validity windows and revocations; its require_signature
    /// decides whether an unsigned skill is refused.
    #[arg(long, value_name = "FILE", conflicts_with = "public_key")]
    pub trusted_keys: Option<PathBuf>,
    /// A single trusted public key (minisign format, such as a mirror's
    /// /.well-known/skillscan.pub); a signature is then required.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
}

/// What [`TrustArgs::load`] read.
#[derive(Debug)]
pub enum LoadedTrust {
    Store(TrustStore),
    Key(PublicKey),
}

impl LoadedTrust {
    pub fn trust(&self) -> Trust<'_> {
        match self {
            LoadedTrust::Store(store) => Trust::Store(store),
            LoadedTrust::Key(key) => Trust::Key(key),
        }
    }
}

impl TrustArgs {
    /// The trust store or key given, `None` when neither was.
    pub fn load(&self) -> anyhow::Result<Option<LoadedTrust>> {
        if let Some(path) = &self.trusted_keys {
            return Ok(Some(LoadedTrust::Store(load_trust_store(path)?)));
        }
        if let Some(path) = &self.public_key {
            return Ok(Some(LoadedTrust::Key(load_public_key(path)?)));
        }
        Ok(None)
    }
}

pub fn load_trust_store(path: &Path) -> anyhow::Result<TrustStore> {
    let text = read_text(path, "trust store", MAX_KEY_FILE_BYTES)?;
    TrustStore::parse(&text).with_context(|| format!("trust store {}", path.display()))
}

pub fn load_public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = read_text(path, "public key", MAX_KEY_FILE_BYTES)?;
    PublicKey::parse(&text).with_context(|| format!("public key {}", path.display()))
}

/// A lock file that must exist.
pub fn load_lock(path: &Path) -> anyhow::Result<SkillsLock> {
    parse_lock(path, &read_text(path, "lock file", MAX_FILE_LIST_BYTES)?)
}

/// A lock file that may not exist yet: `None` then.
pub fn load_lock_if_exists(path: &Path) -> anyhow::Result<Option<SkillsLock>> {
    read_text_if_exists(path, "lock file", MAX_FILE_LIST_BYTES)?.map(|text| parse_lock(path, &text)).transpose()
}

fn parse_lock(path: &Path, text: &str) -> anyhow::Result<SkillsLock> {
    SkillsLock::parse(text).with_context(|| format!("lock file {}", path.display()))
}
