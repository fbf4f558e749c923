//! Building a [`Snapshot`] from storage, in steps: group the stored versions by skill,
//! gate every version that is not approved, materialise the approved ones (zips held in
//! memory while the hot-cache budget lasts), describe each skill, then sign the index of
//! what is served.
//!
//! The detail and version bodies ([`api`] types) are serialised here, once per build, so the
//! read path only clones `Bytes`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use skillscan::clawhub::api;

use super::{
    BlockedSkill, CHANGELOG_SOURCE, Gate, SkillView, Snapshot, VersionView, ZipBytes, moderation_blocked,
    unavailable_message,
};
use crate::archive::{FileEntry, sha256_hex};
use crate::model::{State, VersionRecord, now_ms};
use crate::service::{Mirror, MirrorError};
use crate::store::StoreError;

impl Snapshot {
    /// Build a snapshot from storage. `prev` lets unchanged hot zips be reused without
    /// re-reading and re-hashing them, and an unchanged index keep its signature.
    pub fn build(mirror: &Mirror, generation: u64, prev: Option<&Snapshot>) -> Result<Snapshot, MirrorError> {
        let rows = mirror.meta.versions(None)?;
        let counts = count_by_state(&rows);
        let mut built = Builder::new(mirror, prev);
        built.open_faults = mirror.meta.blob_faults()?.into_iter().map(|f| (f.slug, f.version)).collect();
        // Slugs in name order: the hot-cache budget is spent in this order.
        for (slug, versions) in by_slug_newest_first(rows) {
            built.add_skill(slug, &versions);
        }
        let by_updated = by_updated(&built.skills);
        let (index_json, index_sig) = signed_index(mirror, prev, built.index_entries);
        let tokens = mirror.meta.tokens_with_hashes()?.into_iter().collect();
        let mut alerts: HashMap<String, u64> = HashMap::new();
        for a in mirror.meta.alerts()? {
            *alerts.entry(a.kind).or_default() += 1;
        }
        Ok(Snapshot {
            generation,
            skills: built.skills,
            blocked: built.blocked,
            gates: built.gates,
            by_updated,
            index_json,
            index_sig,
            pubkey: Bytes::from(mirror.signer.public_key()),
            tokens,
            counts,
            alerts,
            hot_bytes: built.hot_bytes,
            blob_faults: built.blob_faults,
        })
    }
}

fn count_by_state(rows: &[VersionRecord]) -> HashMap<State, u64> {
    let mut counts = HashMap::new();
    for v in rows {
        *counts.entry(v.state).or_default() += 1;
    }
    counts
}

/// Versions grouped by slug (slugs in name order), each group newest (semver) first.
fn by_slug_newest_first(rows: Vec<VersionRecord>) -> BTreeMap<String, Vec<VersionRecord>> {
    let mut by_slug: BTreeMap<String, Vec<VersionRecord>> = BTreeMap::new();
    for v in rows {
        by_slug.entry(v.slug.clone()).or_default().push(v);
    }
    for versions in by_slug.values_mut() {
        versions.sort_by_key(|v| std::cmp::Reverse(semver_of(v)));
    }
    by_slug
}

/// The parts of the snapshot that are built skill by skill.
struct Builder<'a> {
    mirror: &'a Mirror,
    prev: Option<&'a Snapshot>,
    hot_budget: u64,
    hot_bytes: u64,
    skills: HashMap<String, Arc<SkillView>>,
    blocked: HashMap<String, Arc<BlockedSkill>>,
    gates: HashMap<String, HashMap<String, Gate>>,
    index_entries: Vec<api::IndexEntry>,
    /// `(slug, version)` of the blob faults recorded before this build.
    open_faults: HashSet<(String, String)>,
    blob_faults: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(mirror: &'a Mirror, prev: Option<&'a Snapshot>) -> Self {
        Builder {
            mirror,
            prev,
            hot_budget: mirror.config.limits.hot_cache_bytes,
            hot_bytes: 0,
            skills: HashMap::new(),
            blocked: HashMap::new(),
            gates: HashMap::new(),
            index_entries: Vec::new(),
            open_faults: HashSet::new(),
            blob_faults: Vec::new(),
        }
    }

    /// One skill's versions, newest first: a gate for each version that is not approved;
    /// then either a [`SkillView`] of the approved versions that can be served, or, when
    /// none is approved, a [`BlockedSkill`] answered for the newest version.
    fn add_skill(&mut self, slug: String, versions: &[VersionRecord]) {
        let (approved, gated): (Vec<&VersionRecord>, Vec<&VersionRecord>) =
            versions.iter().partition(|v| v.state == State::Approved);
        if !gated.is_empty() {
            self.gates.insert(slug.clone(), gated.iter().map(|v| (v.version.clone(), gate_of(v))).collect());
        }
        if approved.is_empty() {
            let blocked = blocked_skill(&slug, &versions[0]);
            self.blocked.insert(slug, Arc::new(blocked));
            return;
        }
        let mut views = Vec::new();
        let mut unavailable = None;
        for v in &approved {
            // A blob that is missing or fails verification is never served, and nothing is
            // served in its place: the version stays (in `latest`, in the signed index), its
            // skill answers 503 and the fault is alerted, until an operator acts.
            let zip = self.zip_of(&slug, v);
            if matches!(zip, ZipBytes::Unavailable) {
                self.blob_faults.push(v.key());
                unavailable.get_or_insert_with(|| unavailable_message(&slug, &v.version));
            }
            self.index_entries.push(index_entry(&slug, v));
            views.push(Arc::new(version_view(&slug, v, zip)));
        }
        let skill = SkillView { unavailable, ..skill_view(&slug, &approved, views) };
        self.skills.insert(slug, Arc::new(skill));
    }

    /// Where an approved version's bytes are served from: memory while the hot-cache
    /// budget lasts (the previous snapshot's verified bytes when unchanged, else read and
    /// verified from the blob store), the blob store per request after that (present; its
    /// bytes are verified per request). [`ZipBytes::Unavailable`] when a blob fault is open
    /// or the blob is found missing or corrupt now (then reported: alerted once).
    fn zip_of(&mut self, slug: &str, v: &VersionRecord) -> ZipBytes {
        if self.open_faults.contains(&(v.slug.clone(), v.version.clone())) {
            return ZipBytes::Unavailable;
        }
        let hot = self.hot_bytes + v.archive_size <= self.hot_budget;
        let found = match self.previous_hot_zip(slug, v) {
            Some(b) if hot => Ok(ZipBytes::Hot(b)),
            _ if hot => self.mirror.blobs.get(&v.archive_sha256).map(|b| ZipBytes::Hot(Bytes::from(b))),
            _ => match self.mirror.blobs.contains(&v.archive_sha256) {
                Ok(true) => Ok(ZipBytes::Cold),
                Ok(false) => Err(StoreError::BlobMissing(v.archive_sha256.clone())),
                Err(e) => Err(e),
            },
        };
        match found {
            Ok(zip) => {
                if let ZipBytes::Hot(b) = &zip {
                    self.hot_bytes += b.len() as u64;
                }
                zip
            }
            Err(e) => {
                tracing::error!(slug = %v.slug, version = %v.version, "approved blob unusable: {e}");
                if let Err(report) = self.mirror.blob_fault(v, &e, "serve") {
                    tracing::error!(slug = %v.slug, version = %v.version, "cannot record the blob fault: {report}");
                }
                ZipBytes::Unavailable
            }
        }
    }

    /// The bytes the previous snapshot held in memory for the same pinned archive.
    fn previous_hot_zip(&self, slug: &str, v: &VersionRecord) -> Option<Bytes> {
        let pv = self.prev?.skills.get(slug)?.version(&v.version)?;
        match &pv.zip {
            ZipBytes::Hot(b) if pv.archive_sha256 == v.archive_sha256 => Some(b.clone()),
            _ => None,
        }
    }
}

fn gate_of(v: &VersionRecord) -> Gate {
    Gate {
        state: v.state,
        reason: v.state_reason.clone(),
        verdict: v.verdict.map(|x| x.as_str().to_string()),
        reason_codes: v.reason_codes.clone(),
        rules_version: v.rules_version.clone(),
        decided_at: v.decided_at.unwrap_or(v.fetched_at),
    }
}

/// A skill with no approved version, described by its newest version (`moderation` says
/// malware-blocked when that version is refused).
fn blocked_skill(slug: &str, newest: &VersionRecord) -> BlockedSkill {
    let gate = gate_of(newest);
    let moderation = gate.state.is_refused().then(|| moderation_blocked(&gate, slug, &newest.version));
    let detail = api::SkillDetailResponse {
        latest_version: Some(latest_version(newest)),
        metadata: None,
        moderation,
        owner: owner_of(&newest.owner),
        skill: Some(skill_of(slug, newest, 1, newest.published_at, newest.published_at)),
    };
    BlockedSkill {
        slug: slug.to_string(),
        owner: newest.owner.clone(),
        newest_version: newest.version.clone(),
        gate,
        detail_json: to_bytes(&detail),
    }
}

/// An approved version as served, with its `versions/{version}` body.
fn version_view(slug: &str, v: &VersionRecord, zip: ZipBytes) -> VersionView {
    let version_json = api::VersionDetailResponse {
        skill: Some(api::VersionSkill { display_name: Some(v.display_name.clone()), slug: Some(slug.to_string()) }),
        version: Some(api::VersionDetail {
            changelog: v.changelog.clone(),
            changelog_source: Some(CHANGELOG_SOURCE.into()),
            created_at: Some(v.published_at),
            files: v.files.iter().map(file_of).collect(),
            license: license_of(&v.license).map(str::to_string),
            version: v.version.clone(),
        }),
    };
    VersionView {
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
    }
}

/// A served skill: its served versions (`views`, newest first, never empty), described by
/// its newest approved version (`approved[0]`, served or not) with its detail body, its
/// list item and its search text.
fn skill_view(slug: &str, approved: &[&VersionRecord], views: Vec<Arc<VersionView>>) -> SkillView {
    let latest_rec = approved[0];
    let latest = &views[0];
    let created_at = approved.iter().map(|v| v.published_at).min().unwrap_or(latest.created_at);
    let updated_at = latest.created_at;
    // Described by the newest approved record, versioned by the newest served one.
    let skill = api::Skill {
        tags: tags(&latest.version),
        ..skill_of(slug, latest_rec, views.len() as u64, created_at, updated_at)
    };
    let latest_version = api::LatestVersion {
        changelog: latest.changelog.clone(),
        created_at: latest.created_at,
        license: latest.license.map(str::to_string),
        version: latest.version.clone(),
    };
    let metadata = metadata_of(&latest_rec.metadata_json);
    let list_item = api::SkillListItem {
        created_at: skill.created_at,
        description: skill.description.clone(),
        display_name: skill.display_name.clone(),
        icon: skill.icon.clone(),
        latest_version: Some(latest_version.clone()),
        metadata: metadata.clone(),
        owner_handle: latest_rec.owner.clone(),
        slug: slug.to_string(),
        stats: skill.stats.clone(),
        summary: skill.summary.clone(),
        tags: skill.tags.clone(),
        topics: skill.topics.clone(),
        updated_at: skill.updated_at,
    };
    let detail = api::SkillDetailResponse {
        latest_version: Some(latest_version),
        metadata,
        moderation: None,
        owner: owner_of(&latest_rec.owner),
        skill: Some(skill),
    };
    let haystack = format!(
        "{} {} {}",
        slug,
        latest_rec.display_name.to_lowercase(),
        latest_rec.summary.as_deref().unwrap_or("").to_lowercase()
    );
    SkillView {
        slug: slug.to_string(),
        owner: latest_rec.owner.clone(),
        display_name: latest_rec.display_name.clone(),
        summary: latest_rec.summary.clone(),
        created_at,
        updated_at,
        versions: views,
        detail_json: to_bytes(&detail),
        list_item,
        haystack,
        unavailable: None,
    }
}

/// Skills sorted by `updatedAt` descending, then slug (the default list order).
fn by_updated(skills: &HashMap<String, Arc<SkillView>>) -> Vec<Arc<SkillView>> {
    let mut by_updated: Vec<Arc<SkillView>> = skills.values().cloned().collect();
    by_updated.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.slug.cmp(&b.slug)));
    by_updated
}

fn index_entry(slug: &str, v: &VersionRecord) -> api::IndexEntry {
    api::IndexEntry {
        approved_at: v.decided_at,
        archive_sha256: v.archive_sha256.clone(),
        owner: v.owner.clone(),
        slug: slug.to_string(),
        tree_digest: v.tree_digest.clone(),
        version: v.version.clone(),
    }
}

/// The index of served versions and its signature: the previous one while the index is
/// unchanged, else a new one (none, logged, when the signer cannot sign).
fn signed_index(mirror: &Mirror, prev: Option<&Snapshot>, entries: Vec<api::IndexEntry>) -> (Bytes, Option<Bytes>) {
    let index = api::IndexResponse { count: entries.len(), schema: api::INDEX_SCHEMA.into(), versions: entries };
    let index_json = to_bytes(&index);
    let index_sig = match prev {
        Some(p) if p.index_json == index_json && p.index_sig.is_some() => p.index_sig.clone(),
        _ => {
            let tc = format!(
                "skillscan-mirror index v1 count={} sha256={} timestamp={}",
                index.count,
                sha256_hex(&index_json),
                now_ms() / 1000
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
    (index_json, index_sig)
}

fn license_of(l: &Option<String>) -> Option<&'static str> {
    // The CLI schema accepts only "MIT-0" or null.
    (l.as_deref() == Some("MIT-0")).then_some("MIT-0")
}

/// A skill as a record describes it, at `versions` served versions.
fn skill_of(slug: &str, v: &VersionRecord, versions: u64, created_at: i64, updated_at: i64) -> api::Skill {
    api::Skill {
        created_at,
        description: None,
        display_name: Some(v.display_name.clone()),
        icon: None,
        slug: Some(slug.to_string()),
        stats: api::Stats { versions, ..api::Stats::default() },
        summary: v.summary.clone(),
        tags: tags(&v.version),
        topics: vec![],
        updated_at,
    }
}

/// The only tag the mirror maintains.
fn tags(latest: &str) -> api::Tags {
    [("latest".to_string(), latest.to_string())].into()
}

fn latest_version(v: &VersionRecord) -> api::LatestVersion {
    api::LatestVersion {
        changelog: v.changelog.clone(),
        created_at: v.published_at,
        license: license_of(&v.license).map(str::to_string),
        version: v.version.clone(),
    }
}

fn file_of(f: &FileEntry) -> api::VersionFile {
    api::VersionFile {
        content_type: f.content_type.clone(),
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        size: f.size,
    }
}

/// The stored upstream `metadata`, when it is what the CLI accepts (else none: `null`).
fn metadata_of(m: &Option<String>) -> Option<Value> {
    m.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()).filter(api::valid_metadata)
}

/// The owner as the detail shows it: a handle is all the mirror knows.
fn owner_of(owner: &Option<String>) -> Option<api::Owner> {
    owner.as_ref().map(|h| api::Owner {
        display_name: Some(h.clone()),
        handle: Some(h.clone()),
        image: None,
        user_id: None,
    })
}

fn to_bytes(v: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

fn semver_of(v: &VersionRecord) -> semver::Version {
    semver::Version::parse(&v.version).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
}
