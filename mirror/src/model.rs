//! Domain types shared by storage, the curator service and the read API: a version's
//! lifecycle [`State`], the stored [`VersionRecord`] and the audit, alert and sync-failure
//! rows. They are built from the vetting outcome ([`crate::vetting`]) and the archive's
//! file list ([`crate::archive`]), which sit below this module.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::archive::FileEntry;
use crate::vetting::{Capabilities, Verdict, optional_capabilities};

/// Lifecycle of one `slug@version` in the mirror.
///
/// `fetched → scanned → quarantined | approved | rejected`, and `approved → revoked`.
/// A quarantined version can be approved or rejected by a human; a rejected one can be
/// approved by a human too (an explicit override, audited). Nothing is ever deleted: the
/// pinned bytes stay as evidence whatever the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Fetched,
    Scanned,
    Quarantined,
    Approved,
    Rejected,
    Revoked,
}

impl State {
    pub const ALL: [State; 6] =
        [State::Fetched, State::Scanned, State::Quarantined, State::Approved, State::Rejected, State::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Fetched => "fetched",
            State::Scanned => "scanned",
            State::Quarantined => "quarantined",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Revoked => "revoked",
        }
    }

    /// Not yet decided: the read API answers 423 for these.
    pub fn is_pending(self) -> bool {
        matches!(self, State::Fetched | State::Scanned | State::Quarantined)
    }

    /// Refused by policy or a human: the read API answers 403 for these.
    pub fn is_refused(self) -> bool {
        matches!(self, State::Rejected | State::Revoked)
    }

    /// Which manual transitions are allowed. Revocation only applies to approved
    /// versions (it is the "we shipped it and now take it back" event); re-approving a
    /// revoked version is allowed but must be an explicit, audited human decision.
    pub fn can_transition(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Fetched, Scanned | Quarantined | Rejected)
                | (Scanned, Quarantined | Approved | Rejected)
                | (Quarantined, Approved | Rejected)
                | (Rejected, Approved | Quarantined)
                | (Approved, Revoked)
                | (Revoked, Approved)
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            format!("unknown state `{s}` (expected one of fetched, scanned, quarantined, approved, rejected, revoked)")
        })
    }
}

/// A stored version row. Digests are pinned at first ingest and never change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    pub id: i64,
    pub slug: String,
    pub version: String,
    pub owner: Option<String>,
    pub display_name: String,
    pub summary: Option<String>,
    pub changelog: String,
    /// Upstream publish time (ms since epoch); the import time for imports.
    pub published_at: i64,
    pub fetched_at: i64,
    pub decided_at: Option<i64>,
    pub source: String,
    pub archive_sha256: String,
    pub archive_size: u64,
    /// `sha256:<hex>` over the sorted `path\0sha256\n` lines of every file (`_meta.json` included).
    pub tree_digest: String,
    /// ClawHub bundle fingerprint over the files without `_meta.json` (what `/resolve` matches).
    pub fingerprint: String,
    /// The same fingerprint including `_meta.json`, i.e. what `clawhub` computes for a pristine install.
    pub fingerprint_installed: String,
    pub files: Vec<FileEntry>,
    pub state: State,
    pub state_reason: String,
    pub verdict: Option<Verdict>,
    pub rules_version: Option<String>,
    pub reason_codes: Vec<String>,
    #[serde(default, with = "optional_capabilities")]
    pub capabilities: Option<Capabilities>,
    pub report_json: Option<String>,
    /// minisign signature (`.minisig` text) over the archive bytes; present iff approved once.
    pub signature: Option<String>,
    /// Upstream `metadata` object (must carry `setup`), kept verbatim for the detail route.
    pub metadata_json: Option<String>,
    pub license: Option<String>,
}

impl VersionRecord {
    pub fn key(&self) -> String {
        format!("{}@{}", self.slug, self.version)
    }
}

/// One append-only audit event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub slug: String,
    pub version: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: String,
    pub verdict: Option<String>,
    pub rules_version: Option<String>,
}

/// An integrity alert: different bytes for a version that is already pinned
/// (`pinned-bytes-changed`), a pinned blob that is missing or fails verification
/// (`blob-corrupt`), or a crafted archive that was refused ([`HOSTILE_ARCHIVE`], a security
/// event: `pinned_sha256` is empty, nothing was pinned).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityAlert {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub slug: String,
    pub version: String,
    pub pinned_sha256: String,
    pub observed_sha256: String,
    pub detail: String,
}

/// An approved (or pending) version whose pinned blob is missing or fails verification.
/// Open until an operator acts (see `Mirror::restore_blob`); while open, the skill answers
/// 503 and `/healthz` reports degraded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BlobFault {
    pub slug: String,
    pub version: String,
    pub archive_sha256: String,
    pub at: i64,
    pub detail: String,
}

/// The alert kind of a refused hostile archive.
pub const HOSTILE_ARCHIVE: &str = "hostile-archive";

impl IntegrityAlert {
    /// The audit action the alert is recorded under.
    pub fn audit_action(&self) -> &'static str {
        if self.kind == HOSTILE_ARCHIVE { "security-event" } else { "integrity-alert" }
    }
}

/// Recorded when a sync item fails (network, malformed upstream data, size caps...).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncFailure {
    pub id: i64,
    pub at: i64,
    pub upstream: String,
    pub slug: String,
    pub version: Option<String>,
    pub error: String,
}

/// Milliseconds since the Unix epoch (ClawHub's time unit).
/// `text` as every metadata backend can store it: NUL, which PostgreSQL's text type refuses
/// (and SQLite keeps), becomes U+FFFD. Applied to text from upstream and from people before it
/// reaches a store, so a hostile changelog is kept the same way on every backend instead of
/// failing the whole row on one of them.
pub fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
