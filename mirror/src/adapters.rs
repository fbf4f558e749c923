//! The real scanner and signer behind the [`crate::vetting`] traits.
//!
//! - [`SkillscanVetter`] wraps `skillscan::Scanner` with the built-in rules and inline
//!   ignores **off** (skill authors are untrusted: a `skillscan-ignore` comment inside a
//!   skill must not silence the mirror). If the rules fail to load, [`default_vetter`]
//!   falls back to [`UnavailableVetter`], so every version is quarantined (fail closed).
//! - [`open_signer`] returns [`NativeSigner`]: `skillscan-signatures` minisign keys and
//!   signatures, with the statement rendered by `SkillStatement::to_trusted_comment`.
//!   The key is `<data>/keys/mirror.key` (unencrypted minisign secret key, 0600; the
//!   server must sign unattended) and `mirror.pub`. Keys made by the earlier interim
//!   signer (`minisign -G -W`) are read as they are. A key is generated only before the
//!   mirror has signed anything; afterwards a missing key is an error ([`KeyError`]) and
//!   only `key rotate` makes a new one.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use thiserror::Error;

use crate::vetting::{
    ApprovalSigner, ApprovalStatement, Capabilities, SignError, UnavailableSigner, UnavailableVetter, VetError,
    VetOutcome, Vetter,
};

/// The scanner the binary uses.
pub fn default_vetter() -> Arc<dyn Vetter> {
    Arc::new(LazyVetter::default())
}

/// The built-in scanner, loaded on first use. Compiling the rule set is most of the time a
/// command takes to start, and most commands never scan (decisions, listings, a sync or
/// import of unchanged versions); `serve` loads it before it listens.
#[derive(Default)]
pub struct LazyVetter {
    loaded: std::sync::OnceLock<Arc<dyn Vetter>>,
}

impl LazyVetter {
    fn get(&self) -> &Arc<dyn Vetter> {
        self.loaded.get_or_init(|| match SkillscanVetter::new() {
            Ok(v) => Arc::new(v),
            Err(e) => {
                tracing::error!("scanner rules failed to load ({e}); every version will be quarantined");
                Arc::new(UnavailableVetter)
            }
        })
    }
}

impl Vetter for LazyVetter {
    fn vet(&self, display_name: &str, zip: &[u8]) -> Result<VetOutcome, VetError> {
        self.get().vet(display_name, zip)
    }
    fn rules_version(&self) -> String {
        self.get().rules_version()
    }
}

/// `skillscan::Scanner` behind the [`Vetter`] trait.
pub struct SkillscanVetter {
    scanner: skillscan::Scanner,
}

impl SkillscanVetter {
    pub fn new() -> Result<SkillscanVetter, String> {
        let scanner = skillscan::Scanner::with_builtin_rules().map_err(|e| e.to_string())?;
        Ok(SkillscanVetter { scanner })
    }
}

impl Vetter for SkillscanVetter {
    fn vet(&self, display_name: &str, zip: &[u8]) -> Result<VetOutcome, VetError> {
        let opts = skillscan::ScanOptions { inline_ignores: false, ..Default::default() };
        let report = self.scanner.scan_archive_bytes(display_name, zip, &opts);
        if report.skills.is_empty() {
            // Nothing recognisable as a skill: not "clean", a scan failure (fail closed).
            return Err(VetError::Failed("the scanner found no skill in the archive".into()));
        }
        let verdict = report.skills.iter().map(|s| s.verdict).max().unwrap_or(skillscan::Verdict::Malicious);
        let score = report.skills.iter().map(|s| s.score).max().unwrap_or(0);
        let mut active: Vec<&skillscan::Finding> =
            report.skills.iter().flat_map(|s| s.findings.iter()).filter(|f| f.is_active()).collect();
        active.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule_id.cmp(&b.rule_id)));
        let mut seen = BTreeSet::new();
        let reason_codes: Vec<String> =
            active.iter().filter(|f| seen.insert(f.rule_id.clone())).map(|f| f.rule_id.clone()).collect();
        let top: Vec<String> = active
            .iter()
            .take(3)
            .map(|f| {
                let msg: String = f.message.chars().take(120).collect();
                if f.line > 0 {
                    format!("{} {msg} ({}:{})", f.rule_id, f.file, f.line)
                } else {
                    format!("{} {msg} ({})", f.rule_id, f.file)
                }
            })
            .collect();
        let summary = if top.is_empty() {
            format!("no findings (rules {})", report.tool.rules_version)
        } else {
            let more = active.len().saturating_sub(top.len());
            let tail = if more > 0 { format!("; and {more} more") } else { String::new() };
            format!("{}{tail}", top.join("; "))
        };
        // One manifest for the archive: every skill's facts, the highest privilege, and the
        // install specs sorted without repeats (as the mirror has always stored them).
        let mut caps = Capabilities::default();
        for s in &report.skills {
            let c = &s.capabilities;
            caps.hosts.extend(c.hosts.iter().cloned());
            caps.binaries.extend(c.binaries.iter().cloned());
            caps.env_vars.extend(c.env_vars.iter().cloned());
            caps.credential_paths.extend(c.credential_paths.iter().cloned());
            caps.paths_written.extend(c.paths_written.iter().cloned());
            caps.persistence.extend(c.persistence.iter().cloned());
            caps.install_specs.extend(c.install_specs.iter().cloned());
            caps.privilege = caps.privilege.max(c.privilege);
        }
        caps.install_specs.sort();
        caps.install_specs.dedup();
        Ok(VetOutcome {
            verdict,
            score,
            rules_version: report.tool.rules_version.clone(),
            reason_codes,
            summary,
            capabilities: caps,
            report_json: report.to_json(),
        })
    }

    fn rules_version(&self) -> String {
        self.scanner.rules().version.clone()
    }
}

/// Why the signing key cannot be used. The mirror refuses to start on any of these rather
/// than sign with a new identity that earlier signatures would not verify against.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error(
        "the signing key {path} is missing, but {signed} approved version(s) were signed with it; \
         restore the keys/ directory from a backup, or run `skillscan-mirror key rotate --by NAME` \
         to make a new key and re-sign every approved version (clients must then pin the new public key)"
    )]
    Lost { path: String, signed: usize },
    #[error("no signing key at {path}; run `skillscan-mirror key init` to create one")]
    Missing { path: String },
    #[error("a signing key already exists at {path}; use `skillscan-mirror key rotate --by NAME` to replace it")]
    Exists { path: String },
    #[error("a key rotation was interrupted ({path} exists); run `skillscan-mirror key rotate --by NAME` to finish it")]
    InterruptedRotation { path: String },
    #[error("signing key {path}: {detail}")]
    Key { path: String, detail: String },
    #[error(
        "no signing key at {path}, and this mirror's storage is shared by replicas, so none is made by \
         itself: every replica must hold the same key. Run `skillscan-mirror key init` on one replica (on \
         a mirror that has signed nothing yet) and copy its keys/ directory (0600) to the others"
    )]
    MissingOnSharedStore { path: String },
    #[error(
        "the signing key {path} (key id {local}) is not the key that signed this mirror's approvals (key id \
         {signed}): replicas must share one key; copy keys/ from a replica whose key signed them"
    )]
    NotTheMirrorsKey { path: String, local: String, signed: String },
}

fn key_err(path: &Path, detail: impl std::fmt::Display) -> KeyError {
    KeyError::Key { path: path.display().to_string(), detail: detail.to_string() }
}

/// The mirror's signing key under `<data>/keys/`. A key is generated here only on an
/// embedded mirror that has never signed anything (`signed_versions == 0`, the first start);
/// once approvals exist, a missing key is [`KeyError::Lost`] and nothing is generated. On
/// storage shared by replicas (`shared`), nothing is ever generated: a replica making a key of
/// its own would sign with a key the others do not have.
pub fn open_signer(data_dir: &Path, signed_versions: usize, shared: bool) -> Result<Arc<dyn ApprovalSigner>, KeyError> {
    let keys = KeyFiles::new(data_dir);
    if keys.pending.exists() {
        return Err(KeyError::InterruptedRotation { path: keys.pending.display().to_string() });
    }
    match NativeSigner::open(data_dir) {
        Ok(s) => Ok(Arc::new(s)),
        Err(KeyError::Missing { path }) if signed_versions > 0 => Err(KeyError::Lost { path, signed: signed_versions }),
        Err(KeyError::Missing { path }) if shared => Err(KeyError::MissingOnSharedStore { path }),
        Err(KeyError::Missing { .. }) => {
            let s = NativeSigner::generate(data_dir)?;
            tracing::info!("generated the mirror signing key in {}", keys.dir.display());
            Ok(Arc::new(s))
        }
        Err(e) => Err(e),
    }
}

/// The signer of a command that must not sign (`key init`/`key rotate` bring their own).
/// Check that the key in `data_dir` made `signature` (any approval's `.minisig`): the key ids
/// must agree. A replica holding another key than the one its peers sign with is refused.
pub fn check_same_key(data_dir: &Path, signature: &str) -> Result<(), KeyError> {
    use skillscan_signatures::minisign::{PublicKey, SignatureFile};
    let keys = KeyFiles::new(data_dir);
    let text = fs::read_to_string(&keys.public).map_err(|e| key_err(&keys.public, e))?;
    let local = PublicKey::parse(&text).map_err(|e| key_err(&keys.public, e))?.key_id;
    let signed =
        SignatureFile::parse(signature).map_err(|e| key_err(&keys.public, format!("a stored signature: {e}")))?;
    if signed.key_id != local {
        return Err(KeyError::NotTheMirrorsKey {
            path: keys.secret.display().to_string(),
            local: local.to_string(),
            signed: signed.key_id.to_string(),
        });
    }
    Ok(())
}

/// Check that `signature` (a `.minisig`) is the mirror key's approval of exactly these bytes
/// as `slug@version`: a good signature by `public_key` whose trusted statement names this slug,
/// version and the bytes' sha256. The error says what failed.
pub fn verify_approval(
    public_key: &str,
    slug: &str,
    version: &str,
    archive: &[u8],
    signature: &str,
) -> Result<(), String> {
    use skillscan_signatures::minisign::{PublicKey, SignatureFile, verify};
    use skillscan_signatures::statement::{ExpectedSubject, SkillStatement};
    let key = PublicKey::parse(public_key).map_err(|e| format!("public key: {e}"))?;
    let sig = SignatureFile::parse(signature).map_err(|e| format!("signature: {e}"))?;
    verify(&key, archive, &sig).map_err(|e| format!("signature does not verify: {e}"))?;
    let statement = SkillStatement::parse(&sig.trusted_comment).map_err(|e| format!("signed statement: {e}"))?;
    let expected = ExpectedSubject {
        slug: slug.to_string(),
        version: version.to_string(),
        archive_sha256: Some(skillscan_signatures::digest::sha256(archive)),
        tree_digest: None,
    };
    statement.check(&expected).map_err(|e| format!("signed statement is about something else: {e}"))
}

pub fn no_signer() -> Arc<dyn ApprovalSigner> {
    Arc::new(UnavailableSigner)
}

/// Paths of the key files.
struct KeyFiles {
    dir: std::path::PathBuf,
    secret: std::path::PathBuf,
    public: std::path::PathBuf,
    /// The new key of a rotation in progress.
    pending: std::path::PathBuf,
}

impl KeyFiles {
    fn new(data_dir: &Path) -> KeyFiles {
        let dir = data_dir.join("keys");
        KeyFiles {
            secret: dir.join("mirror.key"),
            public: dir.join("mirror.pub"),
            pending: dir.join("mirror.key.new"),
            dir,
        }
    }

    /// `keys/`, mode 0700.
    fn create_dir(&self) -> Result<(), KeyError> {
        fs::create_dir_all(&self.dir).map_err(|e| key_err(&self.dir, e))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(|e| key_err(&self.dir, e))
    }
}

fn fsync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Minisign signing with `skillscan-signatures`.
pub struct NativeSigner {
    secret: skillscan_signatures::minisign::SecretKey,
    pubkey_text: String,
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", path.display()))
}

impl NativeSigner {
    /// Load the existing key ([`KeyError::Missing`] if there is none) and make sure
    /// `mirror.pub` matches it.
    pub fn open(data_dir: &Path) -> Result<NativeSigner, KeyError> {
        let keys = KeyFiles::new(data_dir);
        if !keys.secret.exists() {
            return Err(KeyError::Missing { path: keys.secret.display().to_string() });
        }
        keys.create_dir()?;
        fs::set_permissions(&keys.secret, fs::Permissions::from_mode(0o600)).map_err(|e| key_err(&keys.secret, e))?;
        let signer = Self::load(&keys.secret)?;
        signer.write_public(&keys)?;
        Ok(signer)
    }

    /// Create a new key (`key init`, first start); [`KeyError::Exists`] if there is one.
    pub fn generate(data_dir: &Path) -> Result<NativeSigner, KeyError> {
        let keys = KeyFiles::new(data_dir);
        keys.create_dir()?;
        if keys.secret.exists() {
            return Err(KeyError::Exists { path: keys.secret.display().to_string() });
        }
        // Write a private temp file, then publish it with hard_link, which fails if
        // another process won the race (we then load theirs).
        let tmp = keys.dir.join(format!("mirror.key.{}.tmp", std::process::id()));
        new_secret_file(&tmp)?;
        let _ = fs::hard_link(&tmp, &keys.secret);
        let _ = fs::remove_file(&tmp);
        fsync_dir(&keys.dir);
        Self::open(data_dir)
    }

    /// Start (or resume) a rotation: the new key, kept in `mirror.key.new` until
    /// [`NativeSigner::finish_rotation`] puts it in place.
    pub fn begin_rotation(data_dir: &Path) -> Result<NativeSigner, KeyError> {
        let keys = KeyFiles::new(data_dir);
        keys.create_dir()?;
        if !keys.pending.exists() {
            let tmp = keys.dir.join(format!("mirror.key.new.{}.tmp", std::process::id()));
            new_secret_file(&tmp)?;
            fs::rename(&tmp, &keys.pending).map_err(|e| key_err(&keys.pending, e))?;
            fsync_dir(&keys.dir);
        }
        Self::load(&keys.pending)
    }

    /// End a rotation once the approved versions are re-signed: the old secret key (if
    /// any) is kept as `mirror.key.retired-<ms>` (0600), the new one becomes `mirror.key`
    /// and `mirror.pub` is rewritten.
    pub fn finish_rotation(data_dir: &Path) -> Result<NativeSigner, KeyError> {
        let keys = KeyFiles::new(data_dir);
        if keys.secret.exists() {
            let retired = keys.dir.join(format!("mirror.key.retired-{}", crate::model::now_ms()));
            fs::rename(&keys.secret, &retired).map_err(|e| key_err(&retired, e))?;
        }
        fs::rename(&keys.pending, &keys.secret).map_err(|e| key_err(&keys.secret, e))?;
        fsync_dir(&keys.dir);
        Self::open(data_dir)
    }

    fn load(path: &Path) -> Result<NativeSigner, KeyError> {
        use skillscan_signatures::minisign::SecretKey;
        let text = fs::read_to_string(path).map_err(|e| key_err(path, e))?;
        // The parse error never carries the key material.
        let secret = SecretKey::parse(&text, None).map_err(|e| key_err(path, e))?;
        let public = secret.public_key();
        let pubkey_text = public.to_file_string(&public.default_comment());
        Ok(NativeSigner { secret, pubkey_text })
    }

    /// The public key is derived from the secret key: (re)write it if missing or stale.
    fn write_public(&self, keys: &KeyFiles) -> Result<(), KeyError> {
        if fs::read_to_string(&keys.public).ok().as_deref() != Some(self.pubkey_text.as_str()) {
            let tmp = keys.dir.join(format!("mirror.pub.{}.tmp", std::process::id()));
            fs::write(&tmp, &self.pubkey_text)
                .and_then(|_| fs::rename(&tmp, &keys.public))
                .map_err(|e| key_err(&keys.public, e))?;
        }
        Ok(())
    }
}

/// Generate a secret key into a new file at `path` (created 0600, never existing before).
fn new_secret_file(path: &Path) -> Result<(), KeyError> {
    use skillscan_signatures::minisign::{KdfParams, SecretKey};
    let (secret, _) = SecretKey::generate().map_err(|e| key_err(path, e))?;
    let text = secret.to_file_string(None, KdfParams::default()).map_err(|e| key_err(path, e))?;
    let _ = fs::remove_file(path);
    write_private(path, &text).map_err(|e| key_err(path, e))
}

impl ApprovalSigner for NativeSigner {
    fn public_key(&self) -> String {
        self.pubkey_text.clone()
    }

    fn sign_archive(&self, st: &ApprovalStatement, archive: &[u8]) -> Result<String, SignError> {
        use skillscan_signatures::digest::{Sha256Digest, sha256};
        use skillscan_signatures::statement::SkillStatement;
        let tree: Sha256Digest = st.tree_digest.parse().map_err(|e| SignError::Failed(format!("tree digest: {e}")))?;
        let statement = SkillStatement {
            slug: st.slug.clone(),
            version: st.version.clone(),
            archive_sha256: Some(sha256(archive)),
            tree_digest: tree,
            timestamp: st.timestamp.max(0) as u64,
            file: Some(st.file.clone()),
        };
        let tc = statement.to_trusted_comment().map_err(|e| SignError::Failed(e.to_string()))?;
        self.sign_bytes(&tc, archive)
    }

    fn sign_bytes(&self, trusted_comment: &str, bytes: &[u8]) -> Result<String, SignError> {
        skillscan_signatures::minisign::sign(&self.secret, bytes, trusted_comment, "signature from skillscan-mirror")
            .map(|s| s.to_file_string())
            .map_err(|e| SignError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skillscan_signatures::digest::sha256;
    use skillscan_signatures::minisign::{PublicKey, SignatureFile, verify};
    use skillscan_signatures::statement::{ExpectedSubject, SkillStatement};

    #[test]
    fn native_signer_generates_a_private_key_and_signs_verifiable_statements() {
        let d = tempfile::tempdir().unwrap();
        let s = NativeSigner::generate(d.path()).unwrap();
        let key = d.path().join("keys/mirror.key");
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(d.path().join("keys")).unwrap().permissions().mode() & 0o777, 0o700);
        let archive = b"PK\x03\x04 zip bytes";
        let tree = "ab".repeat(32);
        let st = ApprovalStatement {
            slug: "weather-brief".into(),
            version: "1.0.0".into(),
            archive_sha256: sha256(archive).to_string(),
            tree_digest: tree.clone(),
            timestamp: 1_767_225_600,
            file: "weather-brief-1.0.0.zip".into(),
        };
        let sig = SignatureFile::parse(&s.sign_archive(&st, archive).unwrap()).unwrap();
        let public = PublicKey::parse(&s.public_key()).unwrap();
        verify(&public, &archive[..], &sig).unwrap();
        assert!(verify(&public, &b"other bytes"[..], &sig).is_err());
        SkillStatement::parse(&sig.trusted_comment)
            .unwrap()
            .check(&ExpectedSubject {
                slug: "weather-brief".into(),
                version: "1.0.0".into(),
                archive_sha256: Some(sha256(archive)),
                tree_digest: Some(tree.parse().unwrap()),
            })
            .unwrap();
        // Reopening uses the same key.
        let again = NativeSigner::open(d.path()).unwrap();
        assert_eq!(again.public_key(), s.public_key());
        assert!(s.sign_bytes("two\nlines", b"x").is_err());
    }
}
