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
//! **One set of trust flags.** `verify`, `ci`, `install` and `inventory` flatten [`TrustArgs`]
//! (`--trusted-keys FILE`, `--public-key FILE|KEY`) and fall back to the `[trust]` table of
//! their `skillscan.toml` ([`TrustArgs::resolve`]): a flag replaces the whole table's keys, a
//! path in the table is relative to the config file. A trust store and a single key are the two
//! shapes of trust ([`LoadedTrust`]); a minisign `.pub` file named as a trust store is read as the
//! single key it is.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use skillscan::engine::config::TrustConfig;
use skillscan::guard::caps::{MAX_FILE_LIST_BYTES, MAX_KEY_FILE_BYTES};
use skillscan::guard::integrity::Trust;
use skillscan_signatures::minisign::PublicKey;
use skillscan_signatures::{SkillsLock, TrustStore};

use crate::files::{read_text, read_text_if_exists};

/// Who may sign: a trust store or a single public key (`[trust]` in skillscan.toml otherwise).
#[derive(Debug, Clone, Default, Args)]
pub struct TrustArgs {
    /// Trust store (TOML): keys with validity windows and revocations; its require_signature
    /// decides whether an unsigned skill fails. A minisign public key file (.pub) is accepted
    /// too, as --public-key [default: [trust] trusted_keys in skillscan.toml].
    #[arg(long, value_name = "FILE", conflicts_with = "public_key")]
    pub trusted_keys: Option<PathBuf>,
    /// One trusted public key: a minisign .pub file (such as a mirror's
    /// /.well-known/skillscan.pub) or the key line itself (RWQ…); a signature is then required
    /// [default: [trust] public_key in skillscan.toml].
    #[arg(long, value_name = "FILE|KEY")]
    pub public_key: Option<PathBuf>,
}

/// What [`TrustArgs::resolve`] read, and where from (for messages).
#[derive(Debug)]
pub struct LoadedTrust {
    pub keys: LoadedKeys,
    /// `--public-key mirror.pub`, `[trust] trusted_keys in ./skillscan.toml`…
    pub origin: String,
}

/// A trust store or a single key.
#[derive(Debug)]
pub enum LoadedKeys {
    Store(TrustStore),
    Key(PublicKey),
}

impl LoadedTrust {
    pub fn trust(&self) -> Trust<'_> {
        match &self.keys {
            LoadedKeys::Store(store) => Trust::Store(store),
            LoadedKeys::Key(key) => Trust::Key(key),
        }
    }
}

impl TrustArgs {
    /// The keys the flags name, else those of `[trust]` in the config (`config_path`, paths
    /// relative to its folder); `None` when neither names any.
    pub fn resolve(&self, config: &TrustConfig, config_path: Option<&Path>) -> anyhow::Result<Option<LoadedTrust>> {
        if let Some(path) = &self.trusted_keys {
            let keys = load_trust_file(path)?;
            return Ok(Some(LoadedTrust { keys, origin: format!("--trusted-keys {}", path.display()) }));
        }
        if let Some(value) = &self.public_key {
            let key = load_public_key(value, Path::new(""))?;
            return Ok(Some(LoadedTrust {
                keys: LoadedKeys::Key(key),
                origin: format!("--public-key {}", value.display()),
            }));
        }
        let config_dir = config_path.and_then(Path::parent).unwrap_or(Path::new(""));
        let in_config = |key: &str| match config_path {
            Some(path) => format!("[trust] {key} in {}", path.display()),
            None => format!("[trust] {key}"),
        };
        if let Some(value) = &config.trusted_keys {
            let keys = load_trust_file(&config_dir.join(value)).with_context(|| in_config("trusted_keys"))?;
            return Ok(Some(LoadedTrust { keys, origin: in_config("trusted_keys") }));
        }
        if let Some(value) = &config.public_key {
            let key = load_public_key(Path::new(value), config_dir).with_context(|| in_config("public_key"))?;
            return Ok(Some(LoadedTrust { keys: LoadedKeys::Key(key), origin: in_config("public_key") }));
        }
        Ok(None)
    }
}

/// A trust store file, or a minisign public key file named as one (read as that single key).
pub fn load_trust_file(path: &Path) -> anyhow::Result<LoadedKeys> {
    let text = read_text(path, "trust store", MAX_KEY_FILE_BYTES)?;
    if looks_like_public_key(&text) {
        let key = PublicKey::parse(&text)
            .with_context(|| format!("{} looks like a minisign public key but is not one", path.display()))?;
        return Ok(LoadedKeys::Key(key));
    }
    let store = TrustStore::parse(&text).with_context(|| {
        format!(
            "trust store {}: not a trust store (TOML with [[key]] entries) nor a minisign public key file",
            path.display()
        )
    })?;
    Ok(LoadedKeys::Store(store))
}

/// A minisign public key: a key file (`untrusted comment:` line, key line) or a bare key line.
/// A trust store is TOML, never one line without `=`, and never starts with the comment.
fn looks_like_public_key(text: &str) -> bool {
    let text = text.trim_start_matches('\u{feff}').trim();
    text.starts_with("untrusted comment:") || (!text.contains('\n') && !text.contains('=') && text.starts_with("RW"))
}

/// `--public-key` or `[trust] public_key`: a key file (relative to `base` unless absolute), or
/// the key line itself when no such file exists.
pub fn load_public_key(value: &Path, base: &Path) -> anyhow::Result<PublicKey> {
    let path = base.join(value);
    if std::fs::metadata(&path).is_ok() {
        let text = read_text(&path, "public key", MAX_KEY_FILE_BYTES)?;
        return PublicKey::parse(&text).with_context(|| {
            if text.contains("[[key]]") {
                format!("public key {}: this is a trust store; give it as --trusted-keys", path.display())
            } else {
                format!("public key {}", path.display())
            }
        });
    }
    let text = value.to_string_lossy();
    if looks_like_public_key(&text) {
        return PublicKey::parse(&text).with_context(|| format!("public key {text:?}: not a valid minisign key line"));
    }
    bail!("public key {}: no such file, and not a minisign public key line (RWQ…)", path.display())
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

#[cfg(test)]
mod tests {
    use skillscan_signatures::minisign::SecretKey;

    use super::*;

    fn key() -> PublicKey {
        SecretKey::generate().map(|(_, public)| public).unwrap_or_else(|e| panic!("{e}"))
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn a_pub_file_named_as_a_trust_store_is_its_single_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let public = key();
        let file = write(dir.path(), "mirror.pub", &public.to_file_string("minisign public key"));
        assert!(matches!(load_trust_file(&file), Ok(LoadedKeys::Key(k)) if k == public));
        let bare = write(dir.path(), "bare.pub", &format!("{}\n", public.to_base64()));
        assert!(matches!(load_trust_file(&bare), Ok(LoadedKeys::Key(k)) if k == public));
        let store = write(
            dir.path(),
            "keys.toml",
            &format!("[[key]]\nname = \"m\"\npublic_key = \"{}\"\n", public.to_base64()),
        );
        assert!(matches!(load_trust_file(&store), Ok(LoadedKeys::Store(_))));

        // Garbage names the file and both formats; a broken .pub says what it looked like.
        let garbage = write(dir.path(), "junk.toml", "this is [not toml\n");
        let error = format!("{:#}", load_trust_file(&garbage).err().unwrap_or_else(|| panic!("accepted")));
        assert!(error.contains("junk.toml") && error.contains("nor a minisign public key"), "{error}");
        let broken = write(dir.path(), "broken.pub", "untrusted comment: x\nRWQnotbase64!!\n");
        let error = format!("{:#}", load_trust_file(&broken).err().unwrap_or_else(|| panic!("accepted")));
        assert!(error.contains("broken.pub looks like a minisign public key"), "{error}");
    }

    #[test]
    fn a_public_key_is_a_file_or_the_key_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let public = key();
        write(dir.path(), "mirror.pub", &public.to_file_string("c"));
        assert_eq!(load_public_key(Path::new("mirror.pub"), dir.path()).ok(), Some(public));
        assert_eq!(load_public_key(Path::new(&public.to_base64()), dir.path()).ok(), Some(public));
        let error =
            format!("{:#}", load_public_key(Path::new("missing.pub"), dir.path()).err().unwrap_or_else(|| panic!("?")));
        assert!(error.contains("missing.pub: no such file"), "{error}");
        let store = write(
            dir.path(),
            "keys.toml",
            &format!("[[key]]\nname = \"m\"\npublic_key = \"{}\"\n", public.to_base64()),
        );
        let error = format!("{:#}", load_public_key(&store, Path::new("")).err().unwrap_or_else(|| panic!("?")));
        assert!(error.contains("give it as --trusted-keys"), "{error}");
    }

    #[test]
    fn flags_override_the_trust_table_and_paths_are_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (config_key, flag_key) = (key(), key());
        write(dir.path(), "config.pub", &config_key.to_file_string("c"));
        let flag_file = write(dir.path(), "flag.pub", &flag_key.to_file_string("c"));
        let config_path = dir.path().join("skillscan.toml");
        let table = TrustConfig { public_key: Some("config.pub".into()), ..TrustConfig::default() };
        let key_of = |loaded: Option<LoadedTrust>| match loaded.map(|l| l.keys) {
            Some(LoadedKeys::Key(key)) => Some(key),
            _ => None,
        };
        let none = TrustArgs::default();
        assert_eq!(key_of(none.resolve(&table, Some(&config_path)).ok().flatten()), Some(config_key));
        let flag = TrustArgs { public_key: Some(flag_file.clone()), ..TrustArgs::default() };
        assert_eq!(key_of(flag.resolve(&table, Some(&config_path)).ok().flatten()), Some(flag_key));
        let flag = TrustArgs { trusted_keys: Some(flag_file), ..TrustArgs::default() };
        assert_eq!(key_of(flag.resolve(&table, Some(&config_path)).ok().flatten()), Some(flag_key));
        let table = TrustConfig { trusted_keys: Some("config.pub".into()), ..TrustConfig::default() };
        let loaded = none.resolve(&table, Some(&config_path)).ok().flatten();
        assert_eq!(loaded.as_ref().map(|l| l.origin.contains("[trust] trusted_keys")), Some(true));
        assert_eq!(key_of(loaded), Some(config_key));
        assert!(none.resolve(&TrustConfig::default(), Some(&config_path)).ok().flatten().is_none());
    }
}
