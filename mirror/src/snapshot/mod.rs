//! The in-memory read model.
//!
//! Every read route answers from one immutable [`Snapshot`] held in an `ArcSwap`: a lookup
//! in a `HashMap` plus a clone of pre-serialised `Bytes`, with no database, lock or
//! serialisation on the hot path. The snapshot is rebuilt (off the request path) whenever
//! state changes, including changes committed by other processes (CLI `approve`, `sync`),
//! and then swapped atomically, so a request sees either the old or the new state, never a
//! mix.
//!
//! Only approved versions are materialised as servable entries; every other version is a
//! [`Gate`]. [`Snapshot::resolve`] turns a request for one version into a [`Resolution`]
//! (served, refused, pending or unknown): a domain value, which each route answers in its
//! own wire shape.
//!
//! `build.rs` builds a snapshot from storage, step by step.

mod build;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use skillscan::clawhub::api;

use crate::archive::FileEntry;
use crate::model::State;

/// The changelog source of every version the mirror serves (ClawHub's word for a changelog
/// written by the publisher).
pub const CHANGELOG_SOURCE: &str = "user";

/// Where a download's bytes come from.
#[derive(Debug, Clone)]
pub enum ZipBytes {
    /// Verified at snapshot build, served from memory.
    Hot(Bytes),
    /// Over the hot-cache budget: read from the blob store and verified per request.
    Cold,
    /// The pinned blob is missing or fails verification (a blob fault): never served.
    Unavailable,
}

#[derive(Debug)]
pub struct VersionView {
    pub version: String,
    pub semver: semver::Version,
    pub created_at: i64,
    pub changelog: String,
    pub license: Option<&'static str>,
    pub files: Vec<FileEntry>,
    pub archive_sha256: String,
    pub archive_size: u64,
    pub tree_digest: String,
    pub fingerprint: String,
    pub fingerprint_installed: String,
    pub zip: ZipBytes,
    pub signature: Option<Bytes>,
    pub decided_at: i64,
    pub verdict: Option<String>,
    pub rules_version: Option<String>,
    /// `GET /api/v1/skills/{slug}/versions/{version}` body.
    pub version_json: Bytes,
}

#[derive(Debug)]
pub struct SkillView {
    pub slug: String,
    pub owner: Option<String>,
    pub display_name: String,
    pub summary: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Approved versions, newest (semver) first; never empty.
    pub versions: Vec<Arc<VersionView>>,
    /// `GET /api/v1/skills/{slug}` body.
    pub detail_json: Bytes,
    /// The item for `/api/v1/skills`.
    pub list_item: api::SkillListItem,
    /// Lowercased slug, name and summary for search.
    pub haystack: String,
    /// Set while an approved version's pinned blob is missing or corrupt (a blob fault): the
    /// plain reason every route that resolves this skill answers with 503, until an operator
    /// acts. Nothing falls back to another version.
    pub unavailable: Option<String>,
}

impl SkillView {
    pub fn latest(&self) -> &Arc<VersionView> {
        &self.versions[0]
    }
    pub fn version(&self, v: &str) -> Option<&Arc<VersionView>> {
        self.versions.iter().find(|x| x.version == v)
    }
}

/// Why a non-approved version is not served.
#[derive(Debug, Clone)]
pub struct Gate {
    pub state: State,
    pub reason: String,
    pub verdict: Option<String>,
    pub reason_codes: Vec<String>,
    pub rules_version: Option<String>,
    pub decided_at: i64,
}

impl Gate {
    /// The plain-text body for a refused download (also used for 403/423 elsewhere).
    pub fn message(&self, slug: &str, version: &str) -> String {
        let reason: String = self.reason.chars().take(400).collect();
        match self.state {
            State::Rejected => {
                format!("Blocked: {slug}@{version} was rejected by the skillscan mirror: {reason}")
            }
            State::Revoked => {
                format!("Blocked: {slug}@{version} was revoked by the skillscan mirror: {reason}")
            }
            _ => format!("{slug}@{version} is pending security review on the skillscan mirror: {reason}"),
        }
    }
}

/// A slug with no approved version.
#[derive(Debug)]
pub struct BlockedSkill {
    pub slug: String,
    pub owner: Option<String>,
    pub newest_version: String,
    pub gate: Gate,
    /// Detail body: `moderation.isMalwareBlocked: true` when the newest version is refused.
    pub detail_json: Bytes,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: u64,
    pub skills: HashMap<String, Arc<SkillView>>,
    pub blocked: HashMap<String, Arc<BlockedSkill>>,
    pub gates: HashMap<String, HashMap<String, Gate>>,
    /// Skills sorted by `updatedAt` descending (the default list order).
    pub by_updated: Vec<Arc<SkillView>>,
    pub index_json: Bytes,
    pub index_sig: Option<Bytes>,
    pub pubkey: Bytes,
    /// sha256(token) → role, so token checks never touch the database.
    pub tokens: HashMap<String, String>,
    pub counts: HashMap<State, u64>,
    /// Alerts recorded, by kind (`hostile-archive`, `pinned-bytes-changed`, …).
    pub alerts: HashMap<String, u64>,
    pub hot_bytes: u64,
    /// Approved versions (`slug@version`) whose pinned blob is missing or corrupt: `/healthz`
    /// reports degraded while there is any.
    pub blob_faults: Vec<String>,
}

/// One version of one skill, as a client asks for it (validated by the route).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    pub slug: String,
    /// `ownerHandle`, lowercased: a skill of another owner is unknown.
    pub owner: Option<String>,
    /// An exact version; `None` asks for the latest approved one.
    pub version: Option<String>,
}

/// The mirror's decision for a [`Lookup`]. Routes map it to their own wire shape: a
/// download answers a refusal with 403 text, the install resolver with 403 JSON, `verify`
/// with a `fail` envelope.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// An approved version: served.
    Served(Arc<SkillView>, Arc<VersionView>),
    /// Rejected or revoked; the reason is [`Gate::message`] (the same on every route).
    Refused(String),
    /// Not decided yet (fetched, scanned or quarantined); the reason is [`Gate::message`].
    Pending(String),
    /// The skill has an approved version whose stored archive failed an integrity check:
    /// 503 with [`SkillView::unavailable`], never another version in its place.
    Unavailable(String),
    /// No such skill (for this owner), or no such version of it.
    Unknown(Unknown),
}

/// What a [`Resolution::Unknown`] did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    Skill,
    Version,
}

impl Snapshot {
    pub fn gate(&self, slug: &str, version: &str) -> Option<&Gate> {
        self.gates.get(slug).and_then(|m| m.get(version))
    }

    /// The served skill `slug`, when `owner` (if given) owns it.
    pub fn served_skill(&self, slug: &str, owner: Option<&str>) -> Option<&Arc<SkillView>> {
        self.skills.get(slug).filter(|s| owner_matches(owner, s.owner.as_deref()))
    }

    /// The skill `slug` with no approved version, when `owner` (if given) owns it.
    pub fn blocked_skill(&self, slug: &str, owner: Option<&str>) -> Option<&Arc<BlockedSkill>> {
        self.blocked.get(slug).filter(|b| owner_matches(owner, b.owner.as_deref()))
    }

    /// Decide what to answer for `lookup`. Without a version, a skill with no approved
    /// version is answered for its newest version.
    pub fn resolve(&self, lookup: &Lookup) -> Resolution {
        let (slug, owner) = (lookup.slug.as_str(), lookup.owner.as_deref());
        if let Some(skill) = self.served_skill(slug, owner) {
            if let Some(why) = &skill.unavailable {
                return Resolution::Unavailable(why.clone());
            }
            return match &lookup.version {
                None => Resolution::Served(skill.clone(), skill.latest().clone()),
                Some(v) => match skill.version(v) {
                    Some(served) => Resolution::Served(skill.clone(), served.clone()),
                    None => self.gated(slug, v),
                },
            };
        }
        if let Some(b) = self.blocked_skill(slug, owner) {
            return self.gated(slug, lookup.version.as_deref().unwrap_or(&b.newest_version));
        }
        Resolution::Unknown(Unknown::Skill)
    }

    /// A version that is not served: refused, pending, or unknown.
    fn gated(&self, slug: &str, version: &str) -> Resolution {
        match self.gate(slug, version) {
            Some(g) if g.state.is_refused() => Resolution::Refused(g.message(slug, version)),
            Some(g) => Resolution::Pending(g.message(slug, version)),
            None => Resolution::Unknown(Unknown::Version),
        }
    }
}

/// The 503 text of a skill whose approved `slug@version` has a blob fault.
pub fn unavailable_message(slug: &str, version: &str) -> String {
    format!(
        "{slug}@{version} is temporarily unavailable on the skillscan mirror: its stored archive failed an \
         integrity check (blob-corrupt) and the operators have been alerted"
    )
}

/// `ownerHandle` scoping: no owner asked for matches every skill; handles compare
/// case-insensitively.
fn owner_matches(want: Option<&str>, have: Option<&str>) -> bool {
    match want {
        None => true,
        Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
    }
}

/// The moderation block of a refused skill: malware-blocked, the one refusal `clawhub install
/// --force` cannot bypass, with the mirror's reason as its summary.
pub fn moderation_blocked(gate: &Gate, slug: &str, version: &str) -> api::Moderation {
    let reason_codes = if gate.reason_codes.is_empty() {
        vec![format!("skillscan.{}", gate.state)]
    } else {
        gate.reason_codes.clone()
    };
    api::Moderation {
        engine_version: gate.rules_version.clone(),
        is_malware_blocked: true,
        is_suspicious: true,
        reason_codes,
        summary: Some(gate.message(slug, version)),
        updated_at: Some(gate.decided_at),
        verdict: Some("malicious".into()),
    }
}
