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
//!   signer (`minisign -G -W`) are read as they are.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::Verdict;
use crate::vetting::{
    ApprovalSigner, ApprovalStatement, CapabilitySet, Privilege, SignError, UnavailableSigner,
    UnavailableVetter, VetError, VetOutcome, Vetter,
};

/// The scanner the binary uses.
pub fn default_vetter() -> Arc<dyn Vetter> {
    match SkillscanVetter::new() {
        Ok(v) => Arc::new(v),
        Err(e) => {
            tracing::error!(
                "scanner rules failed to load ({e}); every version will be quarantined"
            );
            Arc::new(UnavailableVetter)
        }
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

fn verdict_of(v: skillscan::Verdict) -> Verdict {
    match v {
        skillscan::Verdict::Clean => Verdict::Clean,
        skillscan::Verdict::Caution => Verdict::Caution,
        skillscan::Verdict::Suspicious => Verdict::Suspicious,
        skillscan::Verdict::Malicious => Verdict::Malicious,
    }
}

fn privilege_of(p: skillscan::Privilege) -> Privilege {
    match p {
        skillscan::Privilege::ReadOnly => Privilege::ReadOnly,
        skillscan::Privilege::Workspace => Privilege::Workspace,
        skillscan::Privilege::Network => Privilege::Network,
        skillscan::Privilege::Shell => Privilege::Shell,
        skillscan::Privilege::HostWide => Privilege::HostWide,
    }
}

impl Vetter for SkillscanVetter {
    fn vet(&self, display_name: &str, zip: &[u8]) -> Result<VetOutcome, VetError> {
        let opts = skillscan::ScanOptions {
            inline_ignores: false,
            ..Default::default()
        };
        let report = self.scanner.scan_archive_bytes(display_name, zip, &opts);
        if report.skills.is_empty() {
            // Nothing recognisable as a skill: not "clean", a scan failure (fail closed).
            return Err(VetError::Failed(
                "the scanner found no skill in the archive".into(),
            ));
        }
        let verdict = report
            .skills
            .iter()
            .map(|s| verdict_of(s.verdict))
            .max()
            .unwrap_or(Verdict::Malicious);
        let score = report.skills.iter().map(|s| s.score).max().unwrap_or(0);
        let mut active: Vec<&skillscan::Finding> = report
            .skills
            .iter()
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.is_active())
            .collect();
        active.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        let mut seen = BTreeSet::new();
        let reason_codes: Vec<String> = active
            .iter()
            .filter(|f| seen.insert(f.rule_id.clone()))
            .map(|f| f.rule_id.clone())
            .collect();
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
            let tail = if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            };
            format!("{}{tail}", top.join("; "))
        };
        let mut caps = CapabilitySet::default();
        for s in &report.skills {
            let c = &s.capabilities;
            caps.hosts.extend(c.hosts.iter().cloned());
            caps.binaries.extend(c.binaries.iter().cloned());
            caps.env_vars.extend(c.env_vars.iter().cloned());
            caps.credential_paths
                .extend(c.credential_paths.iter().cloned());
            caps.paths_written.extend(c.paths_written.iter().cloned());
            caps.persistence.extend(c.persistence.iter().cloned());
            caps.install_specs.extend(c.install_specs.iter().cloned());
            caps.privilege = caps.privilege.max(privilege_of(c.privilege));
        }
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

/// Open (creating on first use) the mirror's signing key under `<data>/keys/`.
pub fn open_signer(data_dir: &Path) -> Arc<dyn ApprovalSigner> {
    match NativeSigner::open_or_create(data_dir) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            tracing::warn!("no signing key available ({e}); approvals will stay quarantined");
            Arc::new(UnavailableSigner)
        }
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
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl NativeSigner {
    pub fn open_or_create(data_dir: &Path) -> Result<NativeSigner, String> {
        use skillscan_signatures::minisign::{KdfParams, SecretKey};
        let dir = data_dir.join("keys");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        let key = dir.join("mirror.key");
        let pubf = dir.join("mirror.pub");
        if !key.exists() {
            // Write a private temp file, then publish it with hard_link, which fails if
            // another process won the race (we then load theirs).
            let (secret, _) = SecretKey::generate().map_err(|e| e.to_string())?;
            let text = secret
                .to_file_string(None, KdfParams::default())
                .map_err(|e| e.to_string())?;
            let tmp = dir.join(format!("mirror.key.{}.tmp", std::process::id()));
            let _ = fs::remove_file(&tmp);
            write_private(&tmp, &text)?;
            let _ = fs::hard_link(&tmp, &key);
            let _ = fs::remove_file(&tmp);
            if let Ok(d) = fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            tracing::info!("generated the mirror signing key in {}", dir.display());
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
        let text = fs::read_to_string(&key).map_err(|e| format!("{}: {e}", key.display()))?;
        let secret =
            SecretKey::parse(&text, None).map_err(|e| format!("{}: {e}", key.display()))?;
        let public = secret.public_key();
        let pubkey_text = public.to_file_string(&public.default_comment());
        // The public key is derived from the secret key: (re)write it if missing or stale.
        if fs::read_to_string(&pubf).ok().as_deref() != Some(pubkey_text.as_str()) {
            let tmp = dir.join(format!("mirror.pub.{}.tmp", std::process::id()));
            fs::write(&tmp, &pubkey_text)
                .and_then(|_| fs::rename(&tmp, &pubf))
                .map_err(|e| e.to_string())?;
        }
        Ok(NativeSigner {
            secret,
            pubkey_text,
        })
    }
}

impl ApprovalSigner for NativeSigner {
    fn public_key(&self) -> String {
        self.pubkey_text.clone()
    }

    fn sign_archive(&self, st: &ApprovalStatement, archive: &[u8]) -> Result<String, SignError> {
        use skillscan_signatures::digest::{Sha256Digest, sha256};
        use skillscan_signatures::statement::SkillStatement;
        let tree: Sha256Digest = st
            .tree_digest
            .parse()
            .map_err(|e| SignError::Failed(format!("tree digest: {e}")))?;
        let statement = SkillStatement {
            slug: st.slug.clone(),
            version: st.version.clone(),
            archive_sha256: Some(sha256(archive)),
            tree_digest: tree,
            timestamp: st.timestamp.max(0) as u64,
            file: Some(st.file.clone()),
        };
        let tc = statement
            .to_trusted_comment()
            .map_err(|e| SignError::Failed(e.to_string()))?;
        self.sign_bytes(&tc, archive)
    }

    fn sign_bytes(&self, trusted_comment: &str, bytes: &[u8]) -> Result<String, SignError> {
        skillscan_signatures::minisign::sign(
            &self.secret,
            bytes,
            trusted_comment,
            "signature from skillscan-mirror",
        )
        .map(|s| s.to_file_string())
        .map_err(|e| SignError::Failed(e.to_string()))
    }
}

/// Renders the approval statement as the minisign trusted comment, in the
/// `skillscan-signatures` statement format (`key:value` fields separated by tabs, one line),
/// so installers parse it the same way whichever signer produced it. It binds name,
/// version and both digests, so a signature cannot be replayed for another artifact.
pub fn trusted_comment(st: &ApprovalStatement) -> String {
    format!(
        "timestamp:{}\tfile:{}\tskillscan:1\tslug:{}\tversion:{}\tsha256:{}\ttree:{}",
        st.timestamp, st.file, st.slug, st.version, st.archive_sha256, st.tree_digest
    )
}

pub struct MinisignCliSigner {
    bin: PathBuf,
    key: PathBuf,
    pubkey_text: String,
    tmp: PathBuf,
    nonce: AtomicU64,
}

fn minisign_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SKILLSCAN_MIRROR_MINISIGN") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| Path::new(d).join("minisign"))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

impl MinisignCliSigner {
    pub fn open_or_create(data_dir: &Path) -> Result<MinisignCliSigner, String> {
        let bin = minisign_bin().ok_or(
            "minisign binary not found (install minisign or set SKILLSCAN_MIRROR_MINISIGN)",
        )?;
        let dir = data_dir.join("keys");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
        let key = dir.join("mirror.key");
        let pubf = dir.join("mirror.pub");
        if !key.exists() {
            // Generate in a private temp dir, then publish with hard_link, which fails if
            // another process won the race (we then use theirs).
            let n = crate::model::now_ms() as u64 ^ (std::process::id() as u64) << 20;
            let tmpdir = dir.join(format!("gen-{n:x}"));
            fs::create_dir(&tmpdir).map_err(|e| e.to_string())?;
            let (tk, tp) = (tmpdir.join("k"), tmpdir.join("p"));
            let r = run(Command::new(&bin)
                .arg("-G")
                .arg("-W")
                .arg("-s")
                .arg(&tk)
                .arg("-p")
                .arg(&tp));
            if let Err(e) = r {
                let _ = fs::remove_dir_all(&tmpdir);
                return Err(format!("minisign -G failed: {e}"));
            }
            fs::set_permissions(&tk, fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            let _ = fs::hard_link(&tk, &key);
            let _ = fs::remove_dir_all(&tmpdir);
            tracing::info!("generated the mirror signing key in {}", dir.display());
        }
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
        if !pubf.exists() {
            // The public key is derived from the secret key, so it can always be recreated.
            let tmp = dir.join(format!("pub-{}.tmp", std::process::id()));
            run(Command::new(&bin)
                .arg("-R")
                .arg("-s")
                .arg(&key)
                .arg("-p")
                .arg(&tmp))
            .map_err(|e| format!("minisign -R failed: {e}"))?;
            fs::rename(&tmp, &pubf).map_err(|e| e.to_string())?;
        }
        let pubkey_text = fs::read_to_string(&pubf).map_err(|e| e.to_string())?;
        let tmp = data_dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        Ok(MinisignCliSigner {
            bin,
            key,
            pubkey_text,
            tmp,
            nonce: AtomicU64::new(0),
        })
    }

    fn sign(&self, trusted: &str, bytes: &[u8]) -> Result<String, SignError> {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let base = self.tmp.join(format!("sign-{}-{n}", std::process::id()));
        let (msg, sig) = (base.with_extension("msg"), base.with_extension("minisig"));
        let res = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&msg)
                .map_err(|e| SignError::Failed(e.to_string()))?;
            f.write_all(bytes)
                .map_err(|e| SignError::Failed(e.to_string()))?;
            drop(f);
            run(Command::new(&self.bin)
                .arg("-S")
                .arg("-s")
                .arg(&self.key)
                .arg("-m")
                .arg(&msg)
                .arg("-x")
                .arg(&sig)
                .arg("-c")
                .arg("signature from skillscan-mirror")
                .arg("-t")
                .arg(trusted))
            .map_err(|e| SignError::Failed(format!("minisign -S: {e}")))?;
            fs::read_to_string(&sig).map_err(|e| SignError::Failed(e.to_string()))
        })();
        let _ = fs::remove_file(&msg);
        let _ = fs::remove_file(&sig);
        res
    }
}

impl ApprovalSigner for MinisignCliSigner {
    fn public_key(&self) -> String {
        self.pubkey_text.clone()
    }
    fn sign_archive(&self, st: &ApprovalStatement, archive: &[u8]) -> Result<String, SignError> {
        self.sign(&trusted_comment(st), archive)
    }
    fn sign_bytes(&self, trusted_comment: &str, bytes: &[u8]) -> Result<String, SignError> {
        if trusted_comment.contains(['\n', '\r', '\t']) {
            return Err(SignError::Failed("trusted comment must be one line".into()));
        }
        self.sign(trusted_comment, bytes)
    }
}
