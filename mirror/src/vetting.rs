//! Everything that touches the scanner (`skillscan`) and the signing crate
//! (`skillscan-signatures`) goes through the two traits in this module.
//!
//! Why traits: both crates were written in parallel with the mirror, and the mirror must be
//! testable without them (test doubles below) and with a scanner that fails (fail closed).
//! The real adapters live in [`crate::adapters`]; nothing else in the mirror names the
//! other crates' types.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The scanner's verdict, mirrored locally so the mirror does not need the scanner's
/// types everywhere (and so tests can use a test-double vetter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Clean,
    Caution,
    Suspicious,
    Malicious,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Caution => "caution",
            Verdict::Suspicious => "suspicious",
            Verdict::Malicious => "malicious",
        }
    }
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clean" => Ok(Verdict::Clean),
            "caution" => Ok(Verdict::Caution),
            "suspicious" => Ok(Verdict::Suspicious),
            "malicious" => Ok(Verdict::Malicious),
            other => Err(format!("unknown verdict `{other}`")),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Privilege level a skill needs, in increasing order (mirrors `skillscan::Privilege`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Privilege {
    #[default]
    ReadOnly,
    Workspace,
    Network,
    Shell,
    HostWide,
}

/// The scanner's capability manifest for one version (mirrors `skillscan::Capabilities`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CapabilitySet {
    pub hosts: BTreeSet<String>,
    pub binaries: BTreeSet<String>,
    pub env_vars: BTreeSet<String>,
    pub credential_paths: BTreeSet<String>,
    pub paths_written: BTreeSet<String>,
    pub persistence: BTreeSet<String>,
    pub install_specs: BTreeSet<String>,
    pub privilege: Privilege,
}

/// What a new version adds over the last approved one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityDelta {
    pub new_hosts: BTreeSet<String>,
    pub new_binaries: BTreeSet<String>,
    pub new_env_vars: BTreeSet<String>,
    pub new_credential_paths: BTreeSet<String>,
    pub new_paths_written: BTreeSet<String>,
    pub new_persistence: BTreeSet<String>,
    pub new_install_specs: BTreeSet<String>,
    /// `Some((from, to))` when the privilege level went up.
    pub privilege_raised: Option<(Privilege, Privilege)>,
}

impl CapabilityDelta {
    pub fn between(old: &CapabilitySet, new: &CapabilitySet) -> CapabilityDelta {
        let d = |a: &BTreeSet<String>, b: &BTreeSet<String>| b.difference(a).cloned().collect();
        CapabilityDelta {
            new_hosts: d(&old.hosts, &new.hosts),
            new_binaries: d(&old.binaries, &new.binaries),
            new_env_vars: d(&old.env_vars, &new.env_vars),
            new_credential_paths: d(&old.credential_paths, &new.credential_paths),
            new_paths_written: d(&old.paths_written, &new.paths_written),
            new_persistence: d(&old.persistence, &new.persistence),
            new_install_specs: d(&old.install_specs, &new.install_specs),
            privilege_raised: (new.privilege > old.privilege).then_some((old.privilege, new.privilege)),
        }
    }

    /// True when the update needs nothing the approved version did not already have.
    pub fn is_empty(&self) -> bool {
        self.new_hosts.is_empty()
            && self.new_binaries.is_empty()
            && self.new_env_vars.is_empty()
            && self.new_credential_paths.is_empty()
            && self.new_paths_written.is_empty()
            && self.new_persistence.is_empty()
            && self.new_install_specs.is_empty()
            && self.privilege_raised.is_none()
    }

    /// One line per addition, for `show --diff`, audit reasons and webhooks.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |label: &str, s: &BTreeSet<String>| {
            for x in s {
                out.push(format!("+ {label}: {x}"));
            }
        };
        push("host", &self.new_hosts);
        push("binary", &self.new_binaries);
        push("env var", &self.new_env_vars);
        push("credential path", &self.new_credential_paths);
        push("path written", &self.new_paths_written);
        push("persistence", &self.new_persistence);
        push("install spec", &self.new_install_specs);
        if let Some((a, b)) = self.privilege_raised {
            out.push(format!("+ privilege: {a:?} -> {b:?}"));
        }
        out
    }
}

/// The result of vetting one archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VetOutcome {
    pub verdict: Verdict,
    pub score: u32,
    pub rules_version: String,
    /// Rule ids of the findings, deduplicated (served as `moderation.reasonCodes`).
    pub reason_codes: Vec<String>,
    /// A one-line human summary (served as `moderation.summary` and in 403 bodies).
    pub summary: String,
    pub capabilities: CapabilitySet,
    /// The scanner's full versioned JSON report, stored verbatim for `show`.
    pub report_json: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VetError {
    #[error("scanner unavailable: {0}")]
    Unavailable(String),
    #[error("scanner failed: {0}")]
    Failed(String),
    #[error("scanner timed out after {0:?}")]
    Timeout(Duration),
}

/// Scans a skill archive. Implementations must be pure with respect to the bytes given.
pub trait Vetter: Send + Sync {
    fn vet(&self, display_name: &str, zip: &[u8]) -> Result<VetOutcome, VetError>;
    /// Version of the rules currently loaded (recorded with every decision).
    fn rules_version(&self) -> String;
}

/// Runs `vetter` on a separate thread and gives up after `timeout`. A timed-out scan is a
/// scanner error, so the version stays quarantined (fail closed). The worker thread is
/// detached; a scanner stuck forever costs one thread, not the mirror.
pub fn vet_with_timeout(
    vetter: &Arc<dyn Vetter>,
    display_name: &str,
    zip: Arc<Vec<u8>>,
    timeout: Duration,
) -> Result<VetOutcome, VetError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let v = Arc::clone(vetter);
    let name = display_name.to_string();
    std::thread::Builder::new()
        .name("skillscan-vet".into())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| v.vet(&name, &zip)))
                .unwrap_or_else(|_| Err(VetError::Failed("scanner panicked".into())));
            let _ = tx.send(r);
        })
        .map_err(|e| VetError::Unavailable(e.to_string()))?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => Err(VetError::Timeout(timeout)),
    }
}

/// The statement a per-version signature binds (rendered by the signing crate as the
/// minisign trusted comment, so `minisign -V` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStatement {
    pub slug: String,
    pub version: String,
    pub archive_sha256: String,
    pub tree_digest: String,
    pub timestamp: i64,
    pub file: String,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignError {
    #[error("signing unavailable: {0}")]
    Unavailable(String),
    #[error("signing failed: {0}")]
    Failed(String),
}

/// Produces minisign signatures with the mirror's key.
pub trait ApprovalSigner: Send + Sync {
    /// The minisign public key file (`untrusted comment: …\nRW…\n`).
    fn public_key(&self) -> String;
    /// Signs an approved archive; returns the `.minisig` text.
    fn sign_archive(&self, statement: &ApprovalStatement, archive: &[u8]) -> Result<String, SignError>;
    /// Signs arbitrary bytes (the approved-versions index) with a trusted comment.
    fn sign_bytes(&self, trusted_comment: &str, bytes: &[u8]) -> Result<String, SignError>;
}

/// The vetter used when no scanner is built in: every scan fails, so every version stays
/// quarantined. This is what fail-closed means before the scanner crate is wired.
pub struct UnavailableVetter;

impl Vetter for UnavailableVetter {
    fn vet(&self, _: &str, _: &[u8]) -> Result<VetOutcome, VetError> {
        Err(VetError::Unavailable("no scanner built into this skillscan-mirror".into()))
    }
    fn rules_version(&self) -> String {
        "none".into()
    }
}

/// A signer that cannot sign: approvals then fail closed (stay quarantined).
pub struct UnavailableSigner;

impl ApprovalSigner for UnavailableSigner {
    fn public_key(&self) -> String {
        String::new()
    }
    fn sign_archive(&self, _: &ApprovalStatement, _: &[u8]) -> Result<String, SignError> {
        Err(SignError::Unavailable("no signing key".into()))
    }
    fn sign_bytes(&self, _: &str, _: &[u8]) -> Result<String, SignError> {
        Err(SignError::Unavailable("no signing key".into()))
    }
}

/// Test doubles, public so the workspace tests and the load benchmark can use them.
pub mod doubles {
    use super::*;
    use std::sync::Mutex;

    /// A vetter backed by a closure over the archive bytes.
    pub struct FnVetter<F>(pub F);

    impl<F> Vetter for FnVetter<F>
    where
        F: Fn(&[u8]) -> Result<VetOutcome, VetError> + Send + Sync,
    {
        fn vet(&self, _: &str, zip: &[u8]) -> Result<VetOutcome, VetError> {
            (self.0)(zip)
        }
        fn rules_version(&self) -> String {
            "test-rules-1".into()
        }
    }

    /// A vetter that reads the archive's files and decides from marker words in them:
    /// `MALICIOUS`, `SUSPICIOUS`, `CAUTION`, `SCANFAIL` (scanner error), `HOST:<name>` (a
    /// network capability), and `RETRO` (malicious once the rules version contains
    /// `strict`, for retro-hunt tests).
    pub struct MarkerVetter {
        pub rules_version: Mutex<String>,
    }

    impl Default for MarkerVetter {
        fn default() -> Self {
            MarkerVetter { rules_version: Mutex::new("test-rules-1".into()) }
        }
    }

    pub fn outcome(verdict: Verdict, rules: &str) -> VetOutcome {
        VetOutcome {
            verdict,
            score: match verdict {
                Verdict::Clean => 0,
                Verdict::Caution => 10,
                Verdict::Suspicious => 50,
                Verdict::Malicious => 100,
            },
            rules_version: rules.into(),
            reason_codes: vec![],
            summary: format!("test scanner: {verdict}"),
            capabilities: CapabilitySet::default(),
            report_json: "{}".into(),
        }
    }

    impl Vetter for MarkerVetter {
        fn vet(&self, _: &str, zip: &[u8]) -> Result<VetOutcome, VetError> {
            let rules = self.rules_version.lock().map(|g| g.clone()).unwrap_or_default();
            let arch = crate::archive::SkillArchive::read(zip, &Default::default())
                .map_err(|e| VetError::Failed(e.to_string()))?;
            let text: String = arch.files.values().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
            if text.contains("SCANFAIL") {
                return Err(VetError::Failed("marker SCANFAIL".into()));
            }
            let strict = rules.contains("strict");
            let verdict = if text.contains("MALICIOUS") || (strict && text.contains("RETRO")) {
                Verdict::Malicious
            } else if text.contains("SUSPICIOUS") {
                Verdict::Suspicious
            } else if text.contains("CAUTION") {
                Verdict::Caution
            } else {
                Verdict::Clean
            };
            let mut o = outcome(verdict, &rules);
            if verdict >= Verdict::Suspicious {
                o.reason_codes = vec!["TEST001".into()];
            }
            for word in text.split_whitespace() {
                if let Some(h) = word.strip_prefix("HOST:") {
                    o.capabilities.hosts.insert(h.to_string());
                    o.capabilities.privilege = Privilege::Network;
                }
            }
            Ok(o)
        }
        fn rules_version(&self) -> String {
            self.rules_version.lock().map(|g| g.clone()).unwrap_or_default()
        }
    }

    /// A signer producing recognisable fake signatures (not minisign-valid).
    pub struct FakeSigner;

    impl ApprovalSigner for FakeSigner {
        fn public_key(&self) -> String {
            "untrusted comment: fake test key\nRWFAKE\n".into()
        }
        fn sign_archive(&self, st: &ApprovalStatement, archive: &[u8]) -> Result<String, SignError> {
            Ok(format!(
                "untrusted comment: fake\nFAKESIG\ntrusted comment: {}@{} sha256={} len={}\nFAKEGLOBAL\n",
                st.slug,
                st.version,
                st.archive_sha256,
                archive.len()
            ))
        }
        fn sign_bytes(&self, tc: &str, bytes: &[u8]) -> Result<String, SignError> {
            Ok(format!("untrusted comment: fake\nFAKESIG\ntrusted comment: {tc} len={}\nFAKEGLOBAL\n", bytes.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_detects_new_capabilities() {
        let mut a = CapabilitySet::default();
        a.hosts.insert("api.example.invalid".into());
        let mut b = a.clone();
        assert!(CapabilityDelta::between(&a, &b).is_empty());
        b.hosts.insert("evil.example.invalid".into());
        b.privilege = Privilege::Shell;
        let d = CapabilityDelta::between(&a, &b);
        assert!(!d.is_empty());
        assert_eq!(d.lines(), vec!["+ host: evil.example.invalid", "+ privilege: ReadOnly -> Shell"]);
        // Removing capabilities is never "new".
        assert!(CapabilityDelta::between(&b, &a).is_empty());
    }

    struct Slow;
    impl Vetter for Slow {
        fn vet(&self, _: &str, _: &[u8]) -> Result<VetOutcome, VetError> {
            std::thread::sleep(Duration::from_secs(5));
            Ok(doubles::outcome(Verdict::Clean, "x"))
        }
        fn rules_version(&self) -> String {
            "x".into()
        }
    }

    #[test]
    fn timeout_is_an_error() {
        let v: Arc<dyn Vetter> = Arc::new(Slow);
        let r = vet_with_timeout(&v, "x", Arc::new(vec![]), Duration::from_millis(50));
        assert!(matches!(r, Err(VetError::Timeout(_))));
    }
}
