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

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::archive::FileEntry;
use crate::model::{State, VersionRecord};
use crate::service::Mirror;

/// Where a download's bytes come from.
#[derive(Debug, Clone)]
pub enum ZipBytes {
    /// Verified at snapshot build, served from memory.
    Hot(Bytes),
    /// Over the hot-cache budget: read from the blob store and verified per request.
    Cold,
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
    /// The list-item object for `/api/v1/skills`.
    pub list_item: Value,
    /// Lowercased slug, name and summary for search.
    pub haystack: String,
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
    pub hot_bytes: u64,
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

/// `ownerHandle` scoping: no owner asked for matches every skill; handles compare
/// case-insensitively.
fn owner_matches(want: Option<&str>, have: Option<&str>) -> bool {
    match want {
        None => true,
        Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
    }
}

fn license_of(l: &Option<String>) -> Option<&'static str> {
    // The CLI schema accepts only "MIT-0" or null.
    (l.as_deref() == Some("MIT-0")).then_some("MIT-0")
}

/// `metadata` must be null or an object with a `setup` array (CLI schema).
fn metadata_value(m: &Option<String>) -> Value {
    m.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(|v| v.get("setup").is_some_and(Value::is_array))
        .unwrap_or(Value::Null)
}

fn owner_value(owner: &Option<String>) -> Value {
    match owner {
        Some(h) => json!({"handle": h, "userId": null, "displayName": h, "image": null}),
        None => Value::Null,
    }
}

pub fn moderation_blocked(gate: &Gate, slug: &str, version: &str) -> Value {
    json!({
        "isSuspicious": true,
        "isMalwareBlocked": true,
        "verdict": "malicious",
        "reasonCodes": if gate.reason_codes.is_empty() { vec![format!("skillscan.{}", gate.state)] } else { gate.reason_codes.clone() },
        "summary": gate.message(slug, version),
        "engineVersion": gate.rules_version,
        "updatedAt": gate.decided_at,
    })
}

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

fn semver_of(v: &VersionRecord) -> semver::Version {
    semver::Version::parse(&v.version).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
}

impl Snapshot {
    /// Build a snapshot from storage. `prev` lets unchanged hot zips be reused without
    /// re-reading and re-hashing them.
    pub fn build(
        mirror: &Mirror,
        generation: u64,
        prev: Option<&Snapshot>,
    ) -> Result<Snapshot, crate::service::MirrorError> {
        let all = mirror.meta.versions(None)?;
        let mut counts: HashMap<State, u64> = HashMap::new();
        let mut by_slug: HashMap<String, Vec<VersionRecord>> = HashMap::new();
        for v in all {
            *counts.entry(v.state).or_default() += 1;
            by_slug.entry(v.slug.clone()).or_default().push(v);
        }
        let budget = mirror.config.limits.hot_cache_bytes;
        let mut hot_bytes = 0u64;
        let mut skills = HashMap::new();
        let mut blocked = HashMap::new();
        let mut gates: HashMap<String, HashMap<String, Gate>> = HashMap::new();
        let mut index_entries = Vec::new();

        let mut slugs: Vec<String> = by_slug.keys().cloned().collect();
        slugs.sort();
        for slug in slugs {
            let mut versions = by_slug.remove(&slug).unwrap_or_default();
            versions.sort_by_key(|v| std::cmp::Reverse(semver_of(v)));
            let mut approved = Vec::new();
            for v in &versions {
                if v.state == State::Approved {
                    approved.push(v);
                } else {
                    gates.entry(slug.clone()).or_default().insert(
                        v.version.clone(),
                        Gate {
                            state: v.state,
                            reason: v.state_reason.clone(),
                            verdict: v.verdict.map(|x| x.as_str().to_string()),
                            reason_codes: v.reason_codes.clone(),
                            rules_version: v.rules_version.clone(),
                            decided_at: v.decided_at.unwrap_or(v.fetched_at),
                        },
                    );
                }
            }
            if approved.is_empty() {
                let newest = &versions[0];
                let gate = gates[&slug][&newest.version].clone();
                let moderation = if gate.state.is_refused() {
                    moderation_blocked(&gate, &slug, &newest.version)
                } else {
                    Value::Null
                };
                let detail = json!({
                    "skill": {
                        "slug": slug, "displayName": newest.display_name, "summary": newest.summary, "icon": null,
                        "description": null, "topics": [], "tags": {"latest": newest.version},
                        "stats": {"downloads": 0, "stars": 0, "versions": 1, "comments": 0},
                        "createdAt": newest.published_at, "updatedAt": newest.published_at,
                    },
                    "latestVersion": {"version": newest.version, "createdAt": newest.published_at, "changelog": newest.changelog, "license": license_of(&newest.license)},
                    "metadata": null,
                    "owner": owner_value(&newest.owner),
                    "moderation": moderation,
                });
                blocked.insert(
                    slug.clone(),
                    Arc::new(BlockedSkill {
                        slug: slug.clone(),
                        owner: newest.owner.clone(),
                        newest_version: newest.version.clone(),
                        gate,
                        detail_json: to_bytes(&detail),
                    }),
                );
                continue;
            }

            let mut views = Vec::new();
            for v in &approved {
                let prev_zip = prev
                    .and_then(|p| p.skills.get(&slug))
                    .and_then(|s| s.version(&v.version))
                    .filter(|pv| pv.archive_sha256 == v.archive_sha256)
                    .and_then(|pv| match &pv.zip {
                        ZipBytes::Hot(b) => Some(b.clone()),
                        ZipBytes::Cold => None,
                    });
                let zip = if hot_bytes + v.archive_size <= budget {
                    match prev_zip {
                        Some(b) => Some(b),
                        // A blob that fails verification is not served at all: the version
                        // is left out of the snapshot (and logged) rather than served corrupt.
                        None => match mirror.blobs.get(&v.archive_sha256) {
                            Ok(b) => Some(Bytes::from(b)),
                            Err(e) => {
                                tracing::error!(slug = %v.slug, version = %v.version, "approved blob unusable: {e}");
                                continue;
                            }
                        },
                    }
                } else {
                    None
                };
                let zip = match zip {
                    Some(b) => {
                        hot_bytes += b.len() as u64;
                        ZipBytes::Hot(b)
                    }
                    None => ZipBytes::Cold,
                };
                let version_json = json!({
                    "skill": {"slug": slug, "displayName": v.display_name},
                    "version": {
                        "version": v.version, "createdAt": v.published_at, "changelog": v.changelog,
                        "changelogSource": "user", "license": license_of(&v.license), "files": v.files,
                    },
                });
                index_entries.push(json!({
                    "slug": slug, "owner": v.owner, "version": v.version, "archiveSha256": v.archive_sha256,
                    "treeDigest": v.tree_digest, "approvedAt": v.decided_at,
                }));
                views.push(Arc::new(VersionView {
                    version: v.version.clone(),
                    semver: semver_of(v),
                    created_at: v.published_at,
                    changelog: v.changelog.clone(),
                    license: license_of(&v.license),
                    files: v.files.clone(),
                    archive_sha256: v.archive_sha256.clone(),
                    archive_size: v.archive_size,
                    tree_digest: v.tree_digest.clone(),
                    fingerprint: v.fingerprint.clone(),
                    fingerprint_installed: v.fingerprint_installed.clone(),
                    zip,
                    signature: v.signature.clone().map(Bytes::from),
                    decided_at: v.decided_at.unwrap_or(v.fetched_at),
                    verdict: v.verdict.map(|x| x.as_str().to_string()),
                    rules_version: v.rules_version.clone(),
                    version_json: to_bytes(&version_json),
                }));
            }
            if views.is_empty() {
                continue;
            }
            let latest_rec = approved[0];
            let latest = &views[0];
            let created_at = approved.iter().map(|v| v.published_at).min().unwrap_or(latest.created_at);
            let updated_at = latest.created_at;
            let skill_obj = json!({
                "slug": slug, "displayName": latest_rec.display_name, "summary": latest_rec.summary, "icon": null,
                "description": null, "topics": [], "tags": {"latest": latest.version},
                "stats": {"downloads": 0, "stars": 0, "versions": views.len(), "comments": 0},
                "createdAt": created_at, "updatedAt": updated_at,
            });
            let latest_obj = json!({
                "version": latest.version, "createdAt": latest.created_at, "changelog": latest.changelog, "license": latest.license,
            });
            let detail = json!({
                "skill": skill_obj,
                "latestVersion": latest_obj,
                "metadata": metadata_value(&latest_rec.metadata_json),
                "owner": owner_value(&latest_rec.owner),
                "moderation": null,
            });
            let mut list_item = skill_obj.clone();
            if let Some(o) = list_item.as_object_mut() {
                o.insert("latestVersion".into(), latest_obj);
                o.insert("metadata".into(), metadata_value(&latest_rec.metadata_json));
                o.insert("ownerHandle".into(), json!(latest_rec.owner));
            }
            let haystack = format!(
                "{} {} {}",
                slug,
                latest_rec.display_name.to_lowercase(),
                latest_rec.summary.as_deref().unwrap_or("").to_lowercase()
            );
            skills.insert(
                slug.clone(),
                Arc::new(SkillView {
                    slug: slug.clone(),
                    owner: latest_rec.owner.clone(),
                    display_name: latest_rec.display_name.clone(),
                    summary: latest_rec.summary.clone(),
                    created_at,
                    updated_at,
                    versions: views,
                    detail_json: to_bytes(&detail),
                    list_item,
                    haystack,
                }),
            );
        }
        let mut by_updated: Vec<Arc<SkillView>> = skills.values().cloned().collect();
        by_updated.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.slug.cmp(&b.slug)));

        let index = json!({
            "schema": "skillscan.mirror.index.v1",
            "count": index_entries.len(),
            "versions": index_entries,
        });
        let index_json = to_bytes(&index);
        let index_sig = match prev {
            Some(p) if p.index_json == index_json && p.index_sig.is_some() => p.index_sig.clone(),
            _ => {
                let tc = format!(
                    "skillscan-mirror index v1 count={} sha256={} timestamp={}",
                    index["count"],
                    crate::archive::sha256_hex(&index_json),
                    crate::model::now_ms() / 1000
                );
                match mirror.signer.sign_bytes(&tc, &index_json) {
                    Ok(s) => Some(Bytes::from(s)),
                    Err(e) => {
                        tracing::warn!("index not signed: {e}");
                        None
                    }
                }
            }
        };
        let tokens = mirror.meta.tokens_with_hashes()?.into_iter().collect();
        Ok(Snapshot {
            generation,
            skills,
            blocked,
            gates,
            by_updated,
            index_json,
            index_sig,
            pubkey: Bytes::from(mirror.signer.public_key()),
            tokens,
            counts,
            hot_bytes,
        })
    }
}
