//! Everything the mirror asks of the scanner (`skillscan`) and the signing crate
//! (`skillscan-signatures`) goes through the two traits in this module.
//!
//! Why traits: the mirror must be testable without a real scanner or key (test doubles below)
//! and with a scanner that fails (fail closed). The real adapters live in [`crate::adapters`].
//!
//! The scanner's vocabulary is used as it is: its [`Verdict`], [`Privilege`] and capability
//! manifest ([`Capabilities`]). Only their JSON differs where the mirror had its own before:
//! the mirror stores and serves capabilities with camelCase keys (the scanner's report writes
//! snake_case), through [`CapabilitiesJson`].

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

pub use skillscan::{Capabilities, Privilege, Verdict};

/// The JSON of a [`Capabilities`] in the mirror's rows and answers: camelCase keys, a missing key
/// empty (rows written before the key existed). `install_specs` is written sorted and without
/// repeats, as the mirror has always stored it ([`crate::adapters`] merges skills that way).
///
/// A serde `remote` definition: the compiler checks it field by field against the scanner's
/// type, so the two cannot drift apart.
#[derive(Serialize, Deserialize)]
#[serde(remote = "Capabilities", rename_all = "camelCase")]
pub struct CapabilitiesJson {
    #[serde(default)]
    pub hosts: BTreeSet<String>,
    #[serde(default)]
    pub binaries: BTreeSet<String>,
    #[serde(default)]
    pub env_vars: BTreeSet<String>,
    #[serde(default)]
    pub credential_paths: BTreeSet<String>,
    #[serde(default)]
    pub paths_written: BTreeSet<String>,
    #[serde(default)]
    pub persistence: BTreeSet<String>,
    #[serde(default)]
    pub install_specs: Vec<String>,
    #[serde(default)]
    pub privilege: Privilege,
}

impl CapabilitiesJson {
    /// The stored text of a manifest.
    pub fn to_json(caps: &Capabilities) -> serde_json::Result<String> {
        let mut out = Vec::new();
        CapabilitiesJson::serialize(caps, &mut serde_json::Serializer::new(&mut out))?;
        Ok(String::from_utf8(out).unwrap_or_default())
    }

    /// A manifest from its stored text.
    pub fn from_json(text: &str) -> serde_json::Result<Capabilities> {
        CapabilitiesJson::deserialize(&mut serde_json::Deserializer::from_str(text))
    }
}

/// [`CapabilitiesJson`] for an optional manifest (`#[serde(with = "…")]`).
pub mod optional_capabilities {
    use super::*;

    struct Json<'a>(&'a Capabilities);

    impl Serialize for Json<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            CapabilitiesJson::serialize(self.0, s)
        }
    }

    #[derive(Deserialize)]
    struct Owned(#[serde(with = "CapabilitiesJson")] Capabilities);

    pub fn serialize<S: Serializer>(caps: &Option<Capabilities>, s: S) -> Result<S::Ok, S::Error> {
        caps.as_ref().map(Json).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Capabilities>, D::Error> {
        Ok(Option::<Owned>::deserialize(d)?.map(|o| o.0))
    }
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
    /// The scanner's [`Capabilities::added_in`], with where the privilege was raised from.
    pub fn between(old: &Capabilities, new: &Capabilities) -> CapabilityDelta {
        let added = old.added_in(new);
        CapabilityDelta {
            new_hosts: added.hosts,
            new_binaries: added.binaries,
            new_env_vars: added.env_vars,
            new_credential_paths: added.credential_paths,
            new_paths_written: added.paths_written,
            new_persistence: added.persistence,
            new_install_specs: added.install_specs.into_iter().collect(),
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
            out.push(format!("+ privilege: {} -> {}", a.as_str(), b.as_str()));
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
    #[serde(with = "CapabilitiesJson")]
    pub capabilities: Capabilities,
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
    /// network capability), and `RETRO` (malicious, with the extra reason code `TEST-RETRO`,
    /// once the rules version contains `strict`, for retro-hunt tests).
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
            capabilities: Capabilities::default(),
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
            if strict && text.contains("RETRO") {
                o.reason_codes.push("TEST-RETRO".into());
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

    /// The text of a row written by the mirror's own capability type before it used the
    /// scanner's: read as it is, and written back byte for byte.
    #[test]
    fn stored_capabilities_keep_their_json() {
        let stored = r#"{"hosts":["api.example.invalid"],"binaries":["curl"],"envVars":[],"credentialPaths":[],"pathsWritten":[],"persistence":[],"installSpecs":["brew:jq","npm:x"],"privilege":"network"}"#;
        let caps = CapabilitiesJson::from_json(stored).unwrap();
        assert_eq!(caps.privilege, Privilege::Network);
        assert_eq!(caps.install_specs, ["brew:jq", "npm:x"]);
        assert_eq!(CapabilitiesJson::to_json(&caps).unwrap(), stored);
        // Keys missing from older rows are empty.
        let old = CapabilitiesJson::from_json(r#"{"hosts":["a"]}"#).unwrap();
        assert_eq!((old.hosts.len(), old.privilege), (1, Privilege::ReadOnly));
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Row {
            #[serde(default, with = "optional_capabilities")]
            capabilities: Option<Capabilities>,
        }
        let row = Row { capabilities: Some(caps) };
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(text, format!(r#"{{"capabilities":{stored}}}"#));
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), row);
        assert_eq!(serde_json::from_str::<Row>("{}").unwrap(), Row { capabilities: None });
        assert_eq!(serde_json::from_str::<Row>(r#"{"capabilities":null}"#).unwrap(), Row { capabilities: None });
    }

    #[test]
    fn delta_detects_new_capabilities() {
        let mut a = Capabilities::default();
        a.hosts.insert("api.example.invalid".into());
        a.install_specs.push("brew:jq".into());
        let mut b = a.clone();
        assert!(CapabilityDelta::between(&a, &b).is_empty());
        b.install_specs.push("npm:x".into());
        assert_eq!(CapabilityDelta::between(&a, &b).lines(), ["+ install spec: npm:x"]);
        b.install_specs.pop();
        b.hosts.insert("evil.example.invalid".into());
        b.privilege = Privilege::Shell;
        let d = CapabilityDelta::between(&a, &b);
        assert!(!d.is_empty());
        assert_eq!(d.lines(), vec!["+ host: evil.example.invalid", "+ privilege: read-only -> shell"]);
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
