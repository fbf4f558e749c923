//! The curator: ingest → pin → scan → policy → sign, manual decisions, retro-hunt and
//! update review. Synchronous on purpose: it is driven by CLI commands and, in the
//! server, from `spawn_blocking`; the hot read path never calls into it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde::Serialize;
use skillscan::clawhub::api::SortedKeys;
use thiserror::Error;

use crate::archive::{self, ArchiveError, SkillArchive};
use crate::config::Config;
use crate::digests;
use crate::evidence;
use crate::model::{HOSTILE_ARCHIVE, IntegrityAlert, State, VersionRecord, now_ms, storable};
use crate::policy::{Decision, Facts, Policy};
use crate::redact;
use crate::store::{BlobStore, Inserted, MetaStore, NewVersion, StoreError, Transition};
use crate::validate;
use crate::vetting::{
    ApprovalSigner, ApprovalStatement, Capabilities, CapabilityDelta, VetOutcome, Vetter, vet_with_timeout,
};

#[derive(Debug, Error)]
pub enum MirrorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Sign(String),
    #[error("{0}")]
    Upstream(String),
}

/// A version offered to the mirror (from upstream or an import).
#[derive(Debug, Clone)]
pub struct IngestInput {
    pub slug: String,
    pub version: String,
    pub owner: Option<String>,
    pub display_name: Option<String>,
    pub summary: Option<String>,
    pub changelog: String,
    pub published_at: i64,
    pub source: String,
    pub metadata_json: Option<String>,
    pub license: Option<String>,
    pub zip: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum IngestOutcome {
    /// A new version, now in `state`.
    New { state: State, reason: String },
    /// The same bytes are already pinned.
    Unchanged { state: State },
    /// Different bytes for a pinned version: alert recorded, original kept.
    IntegrityAlert { pinned: String, observed: String },
}

/// Result of comparing a version with the last approved version of the same skill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateReview {
    pub slug: String,
    pub version: String,
    pub base_version: Option<String>,
    pub files_added: Vec<String>,
    pub files_removed: Vec<String>,
    pub files_changed: Vec<String>,
    pub capability_delta: CapabilityDelta,
    /// Unified diffs of changed UTF-8 files (bounded), for reviewers.
    pub text_diffs: BTreeMap<String, String>,
}

/// One version as `show --json` and the admin API show it: the record, its full scan report,
/// and (when asked for) the update review.
#[derive(Debug, Serialize)]
pub struct VersionShow<'a> {
    pub version: &'a VersionRecord,
    /// The scanner's JSON report as stored; `null` when there is none or it does not parse.
    pub report: serde_json::Value,
    pub review: Option<&'a UpdateReview>,
}

impl<'a> VersionShow<'a> {
    pub fn new(version: &'a VersionRecord, review: Option<&'a UpdateReview>) -> Self {
        let report = version.report_json.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
        VersionShow { version, report, review }
    }
}

pub struct Mirror {
    pub data_dir: PathBuf,
    pub config: Config,
    pub policy: Policy,
    pub meta: Arc<dyn MetaStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub vetter: Arc<dyn Vetter>,
    pub signer: Arc<dyn ApprovalSigner>,
}

/// The body of a webhook about a version's new state (`quarantine`, `reject`, `revoke`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionEvent<'a> {
    event: &'a str,
    slug: &'a str,
    version: &'a str,
    owner: Option<&'a str>,
    state: State,
    reason: &'a str,
    verdict: Option<&'a str>,
    archive_sha256: &'a str,
    at: i64,
}

/// The body of an `integrity_alert` webhook.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IntegrityEvent<'a> {
    event: &'a str,
    /// `blob-corrupt`; absent for `pinned-bytes-changed` (the bodies it has always had).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    slug: &'a str,
    version: &'a str,
    pinned_sha256: &'a str,
    observed_sha256: &'a str,
    detail: &'a str,
    at: i64,
}

/// The body of a `security_event` webhook (a hostile archive was refused).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecurityEvent<'a> {
    event: &'a str,
    kind: &'a str,
    slug: &'a str,
    version: &'a str,
    source: &'a str,
    observed_sha256: &'a str,
    detail: &'a str,
    evidence: &'a str,
    at: i64,
}

/// A webhook body, with the sorted keys these bodies have always had.
fn webhook_body(event: &impl Serialize) -> String {
    serde_json::to_string(&SortedKeys(event)).unwrap_or_default()
}

fn webhook_payload(event: &str, rec: &VersionRecord, to: State, reason: &str, verdict: Option<&str>) -> String {
    webhook_body(&VersionEvent {
        event,
        slug: &rec.slug,
        version: &rec.version,
        owner: rec.owner.as_deref(),
        state: to,
        reason,
        verdict,
        archive_sha256: &rec.archive_sha256,
        at: now_ms(),
    })
}

impl Mirror {
    fn hooks(&self, event: &str, payload: String) -> Vec<(String, String, String)> {
        self.config
            .webhooks
            .iter()
            .filter(|w| w.events.iter().any(|e| e == event))
            // The outbox keeps a reference, not the URL (for Slack/Discord the URL is the secret).
            .map(|w| (redact::webhook_ref(&w.url), event.to_string(), payload.clone()))
            .collect()
    }

    pub fn archive_limits(&self) -> archive::Limits {
        archive::Limits { max_archive_bytes: self.config.limits.max_archive_bytes, ..Default::default() }
    }

    /// Offer a version to the mirror. See the module docs for the pipeline.
    pub fn ingest(&self, inp: IngestInput, actor: &str) -> Result<IngestOutcome, MirrorError> {
        validate::slug(&inp.slug).map_err(|e| MirrorError::Invalid(format!("{e}: {:?}", trunc(&inp.slug))))?;
        validate::version(&inp.version).map_err(|e| MirrorError::Invalid(format!("{e}: {:?}", trunc(&inp.version))))?;
        let owner = inp
            .owner
            .as_deref()
            .map(validate::owner)
            .transpose()
            .map_err(|e| MirrorError::Invalid(e.to_string()))?
            .map(String::from);
        let observed = archive::sha256_hex(&inp.zip);

        // Pinning: the first bytes accepted for slug@version are final.
        if let Some(existing) = self.meta.get_version(&inp.slug, &inp.version)? {
            return self.pinned_again(existing, inp, &observed, actor, true);
        }

        // An archive that is not a valid flat skill is refused before anything is stored
        // or pinned: a truncated or lying upstream body must not pin garbage for the
        // version (the caller records a sync failure and can retry later). One that was
        // crafted (by its structure, before any scanner rule a human could override) is a
        // security event too, and its bytes are kept as evidence.
        let limits = self.archive_limits();
        let a = match archive::check_structure(&inp.zip, &limits).and_then(|()| SkillArchive::read(&inp.zip, &limits)) {
            Ok(a) => a,
            Err(e) if e.is_hostile() => return Err(self.hostile_archive(&inp, &observed, &e, actor)),
            Err(e) => return Err(MirrorError::Invalid(format!("invalid archive: {e}"))),
        };
        let tree = digests::tree_digest(&a.files).map_err(|e| MirrorError::Invalid(format!("invalid archive: {e}")))?;
        let (files, fp, fp_inst, skill_md) = (
            a.entries(),
            digests::server_fingerprint(&a.files),
            digests::installed_fingerprint(&a.files),
            a.skill_md().map(archive::front_matter),
        );
        let (fm_name, fm_desc) = skill_md.unwrap_or((None, None));
        let display_name = inp.display_name.clone().or(fm_name).unwrap_or_else(|| inp.slug.clone());
        let new = NewVersion {
            slug: inp.slug.clone(),
            version: inp.version.clone(),
            owner: owner.clone(),
            display_name: storable(&display_name.chars().take(200).collect::<String>()),
            summary: inp.summary.clone().or(fm_desc).map(|s| storable(&s.chars().take(1000).collect::<String>())),
            changelog: storable(&inp.changelog.chars().take(10_000).collect::<String>()),
            published_at: inp.published_at,
            source: storable(&inp.source),
            archive_sha256: observed.clone(),
            archive_size: inp.zip.len() as u64,
            tree_digest: tree,
            fingerprint: fp,
            fingerprint_installed: fp_inst,
            files,
            metadata_json: inp.metadata_json.as_deref().map(storable),
            license: inp.license.as_deref().map(storable),
        };

        // Crash-safety order: blob durable first, then the row.
        let stored = self.blobs.put(&inp.zip)?;
        debug_assert_eq!(stored, observed);
        // Insert and compare in one transaction: another process may have pinned this
        // version since the check above. Its pin wins and ours is compared with it, as on
        // any later ingest (without resuming it: the winner is deciding it).
        match self.meta.insert_version(&new, actor, &format!("fetched from {}", inp.source))? {
            Inserted::New(_) => {}
            Inserted::Existing(winner) => return self.pinned_again(*winner, inp, &observed, actor, false),
        }
        let rec =
            self.meta.get_version(&inp.slug, &inp.version)?.ok_or_else(|| MirrorError::NotFound(new_key(&new)))?;

        let (state, reason) = self.decide_pending(&rec, actor, Arc::new(inp.zip))?;
        Ok(IngestOutcome::New { state, reason })
    }

    /// `slug@version` is pinned already: different bytes are an integrity alert; the
    /// identical bytes are `unchanged`, restore a missing or rotten pinned blob (closing its
    /// blob fault), and, with `resume`, finish a version a crash left undecided.
    fn pinned_again(
        &self,
        existing: VersionRecord,
        inp: IngestInput,
        observed: &str,
        actor: &str,
        resume: bool,
    ) -> Result<IngestOutcome, MirrorError> {
        if existing.archive_sha256 != observed {
            return self.integrity_alert(&existing, &inp, observed, actor);
        }
        self.restore_blob(&existing, &inp.zip, actor)?;
        if resume && matches!(existing.state, State::Fetched | State::Scanned) {
            let (state, _) = self.decide_pending(&existing, actor, Arc::new(inp.zip))?;
            return Ok(IngestOutcome::Unchanged { state });
        }
        Ok(IngestOutcome::Unchanged { state: existing.state })
    }

    /// Store `zip` (the pinned bytes of `rec`) again, which replaces a missing or rotten
    /// blob, and close the version's blob fault if one is open: the operator's way to
    /// restore it (`import` or `sync` of the identical bytes).
    fn restore_blob(&self, rec: &VersionRecord, zip: &[u8], actor: &str) -> Result<(), MirrorError> {
        self.blobs.put(zip)?;
        let reason = format!("the identical pinned bytes were stored again ({actor}); the blob verifies");
        if self.meta.clear_blob_fault(&rec.slug, &rec.version, actor, &reason)? {
            tracing::info!(slug = %rec.slug, version = %rec.version, "blob restored");
        }
        Ok(())
    }

    /// A pinned blob of `rec` is missing or fails verification (`problem`): open a blob
    /// fault and, the first time, record a `blob-corrupt` integrity alert with its audit
    /// entry and `integrity_alert` webhook. While the fault is open the skill answers 503 and
    /// `/healthz` reports degraded; nothing else moves (no other version becomes `latest`, the
    /// signed index keeps the version). Returns whether the alert is new.
    pub fn blob_fault(&self, rec: &VersionRecord, problem: &StoreError, actor: &str) -> Result<bool, MirrorError> {
        let (observed, what) = match problem {
            StoreError::BlobMissing(_) => ("missing", "is missing"),
            StoreError::BlobCorrupt(_) => ("mismatch", "fails verification (sha256 mismatch)"),
            _ => ("unreadable", "cannot be read"),
        };
        let detail = format!(
            "the stored archive of {}@{} ({}) {what}: pinned sha256 {}; it answers 503 until an \
             operator stores the identical bytes again (`import` or `sync`) or revokes it",
            rec.slug, rec.version, rec.state, rec.archive_sha256
        );
        let alert = IntegrityAlert {
            id: 0,
            at: now_ms(),
            kind: BLOB_CORRUPT.into(),
            slug: rec.slug.clone(),
            version: rec.version.clone(),
            pinned_sha256: rec.archive_sha256.clone(),
            observed_sha256: observed.into(),
            detail: detail.clone(),
        };
        let payload = webhook_body(&IntegrityEvent {
            event: "integrity_alert",
            kind: Some(BLOB_CORRUPT),
            slug: &rec.slug,
            version: &rec.version,
            pinned_sha256: &rec.archive_sha256,
            observed_sha256: observed,
            detail: &detail,
            at: alert.at,
        });
        let new = self.meta.record_blob_fault(&alert, actor, self.hooks("integrity_alert", payload))?;
        if new {
            tracing::error!(slug = %rec.slug, version = %rec.version, "integrity alert: {detail}");
        }
        Ok(new)
    }

    /// Resume every version a crash left in `fetched` or `scanned` (between the blob write
    /// and the decision): scan and decide it again from its pinned blob, or, when that blob
    /// is missing or corrupt, alert (`blob-corrupt`) and leave it for the operator. `sync`,
    /// `import` and `serve` call this when they start. Returns (version, state, what happened).
    pub fn resume_stuck(&self, actor: &str) -> Result<Vec<(String, State, String)>, MirrorError> {
        let mut out = Vec::new();
        for state in [State::Fetched, State::Scanned] {
            for rec in self.meta.versions(Some(state))? {
                let zip = match self.blobs.get(&rec.archive_sha256) {
                    Ok(z) => Arc::new(z),
                    Err(e) => {
                        self.blob_fault(&rec, &e, actor)?;
                        out.push((rec.key(), rec.state, format!("not resumed: pinned blob unusable ({e}); alerted")));
                        continue;
                    }
                };
                let (to, reason) = self.decide_pending(&rec, actor, zip)?;
                out.push((rec.key(), to, format!("resumed from {}: {reason}", rec.state)));
            }
        }
        Ok(out)
    }

    /// Scan and decide `rec` (new, or left in `fetched` or `scanned`). Another process that
    /// decided it meanwhile (a resume elsewhere) wins, since every transition is a
    /// compare-and-set: its state is reported instead of an error.
    fn decide_pending(
        &self,
        rec: &VersionRecord,
        actor: &str,
        zip: Arc<Vec<u8>>,
    ) -> Result<(State, String), MirrorError> {
        match self.scan_and_decide(rec, actor, zip) {
            Err(MirrorError::Store(StoreError::Conflict { .. })) => {
                let now = self.get(&rec.slug, &rec.version)?;
                Ok((now.state, format!("decided concurrently: {}", now.state_reason)))
            }
            r => r,
        }
    }

    /// Re-hash every blob: each version's pinned blob (a missing or corrupt one is a blob
    /// fault, alerted once; an open fault whose blob verifies again is closed), then every
    /// other stored blob (evidence kept by integrity alerts, orphans of interrupted writes:
    /// never served, so reported but not alerted).
    pub fn scrub(&self, actor: &str) -> Result<ScrubReport, MirrorError> {
        let mut report = ScrubReport::default();
        let open: BTreeSet<(String, String)> =
            self.meta.blob_faults()?.into_iter().map(|f| (f.slug, f.version)).collect();
        let mut pinned = BTreeSet::new();
        for rec in self.meta.versions(None)? {
            report.checked += 1;
            pinned.insert(rec.archive_sha256.clone());
            match self.blobs.get(&rec.archive_sha256) {
                Ok(_) => {
                    let reason = format!("{actor}: the pinned blob verifies again");
                    if open.contains(&(rec.slug.clone(), rec.version.clone()))
                        && self.meta.clear_blob_fault(&rec.slug, &rec.version, actor, &reason)?
                    {
                        report.restored.push(rec.key());
                    }
                }
                Err(e) => {
                    self.blob_fault(&rec, &e, actor)?;
                    report.corrupt.push((format!("{} ({})", rec.key(), rec.state), e.to_string()));
                }
            }
        }
        for sha in self.blobs.list()? {
            if pinned.contains(&sha) {
                continue;
            }
            report.checked += 1;
            if let Err(e) = self.blobs.get(&sha) {
                report.corrupt.push((format!("unpinned blob {sha}"), e.to_string()));
            }
        }
        Ok(report)
    }

    /// A crafted archive: refused, kept as evidence outside the blob store (never served),
    /// and recorded as a security event: an alert, an audit entry (`security-event`), a
    /// `security_event` webhook and the `skillscan_mirror_security_events` metric. The same
    /// bytes for the same version again (every later sync) add no second event.
    fn hostile_archive(&self, inp: &IngestInput, observed: &str, why: &ArchiveError, actor: &str) -> MirrorError {
        let evidence = evidence::keep(&self.data_dir, &inp.zip).unwrap_or_else(|e| {
            tracing::error!("cannot keep a hostile archive as evidence: {e}");
            format!("not kept: {e}")
        });
        let seen = self.meta.alerts().ok().and_then(|all| {
            all.into_iter().find(|a| {
                a.kind == HOSTILE_ARCHIVE
                    && a.slug == inp.slug
                    && a.version == inp.version
                    && a.observed_sha256 == observed
            })
        });
        let id = match seen {
            Some(a) => a.id,
            None => {
                let detail = format!(
                    "hostile archive for {}@{} from {}: {why}; refused, kept as evidence (never served): {evidence}",
                    inp.slug,
                    inp.version,
                    trunc(&inp.source)
                );
                let alert = IntegrityAlert {
                    id: 0,
                    at: now_ms(),
                    kind: HOSTILE_ARCHIVE.into(),
                    slug: inp.slug.clone(),
                    version: inp.version.clone(),
                    pinned_sha256: String::new(),
                    observed_sha256: observed.to_string(),
                    detail: detail.clone(),
                };
                let payload = webhook_body(&SecurityEvent {
                    event: "security_event",
                    kind: HOSTILE_ARCHIVE,
                    slug: &inp.slug,
                    version: &inp.version,
                    source: &inp.source,
                    observed_sha256: observed,
                    detail: &detail,
                    evidence: &evidence,
                    at: alert.at,
                });
                match self.meta.record_alert(&alert, actor, self.hooks("security_event", payload)) {
                    Ok(id) => id,
                    Err(e) => return MirrorError::Store(e),
                }
            }
        };
        tracing::warn!(slug = %inp.slug, version = %inp.version, "security event #{id}: hostile archive refused: {why}");
        MirrorError::Invalid(format!("hostile archive refused (security event #{id}, evidence {evidence}): {why}"))
    }

    fn integrity_alert(
        &self,
        existing: &VersionRecord,
        inp: &IngestInput,
        observed: &str,
        actor: &str,
    ) -> Result<IngestOutcome, MirrorError> {
        let zip = &inp.zip;
        // Keep the different bytes as evidence (content-addressed, never served).
        let evidence_kept = self.blobs.put(zip).is_ok();
        let tree_note = match SkillArchive::read(zip, &self.archive_limits()) {
            Ok(a) if digests::tree_digest(&a.files).as_deref() == Ok(existing.tree_digest.as_str()) => {
                "same file tree, different archive bytes"
            }
            Ok(_) => "file contents differ",
            Err(_) => "new bytes are not a valid skill archive",
        };
        // Say where the bytes came from: a sync (upstream) or an import (a local file or folder).
        let origin = if inp.source.starts_with(IMPORT_SOURCE) { "the import gave" } else { "upstream served" };
        let detail = format!(
            "{origin} different bytes for pinned {}@{} ({tree_note}); pinned sha256 {} kept, observed {}{}",
            existing.slug,
            existing.version,
            existing.archive_sha256,
            observed,
            if evidence_kept { " (stored as evidence)" } else { "" }
        );
        let alert = IntegrityAlert {
            id: 0,
            at: now_ms(),
            kind: "pinned-bytes-changed".into(),
            slug: existing.slug.clone(),
            version: existing.version.clone(),
            pinned_sha256: existing.archive_sha256.clone(),
            observed_sha256: observed.to_string(),
            detail: detail.clone(),
        };
        let payload = webhook_body(&IntegrityEvent {
            event: "integrity_alert",
            kind: None,
            slug: &existing.slug,
            version: &existing.version,
            pinned_sha256: &existing.archive_sha256,
            observed_sha256: observed,
            detail: &detail,
            at: alert.at,
        });
        self.meta.record_alert(&alert, actor, self.hooks("integrity_alert", payload))?;
        tracing::warn!(slug = %existing.slug, version = %existing.version, "integrity alert: {detail}");
        Ok(IngestOutcome::IntegrityAlert { pinned: existing.archive_sha256.clone(), observed: observed.to_string() })
    }

    /// The last approved version of `slug` other than `except`, preferring the highest
    /// semver below `except`.
    fn base_version(&self, slug: &str, except: &str) -> Result<Option<VersionRecord>, MirrorError> {
        let target = semver::Version::parse(except).ok();
        let mut approved: Vec<(semver::Version, VersionRecord)> = self
            .meta
            .versions_of(slug)?
            .into_iter()
            .filter(|v| v.state == State::Approved && v.version != except)
            .filter_map(|v| semver::Version::parse(&v.version).ok().map(|s| (s, v)))
            .collect();
        approved.sort_by(|a, b| a.0.cmp(&b.0));
        let below = target.as_ref().and_then(|t| approved.iter().rev().find(|(s, _)| s < t).map(|(_, v)| v.clone()));
        Ok(below.or_else(|| approved.last().map(|(_, v)| v.clone())))
    }

    fn scan_and_decide(
        &self,
        rec: &VersionRecord,
        actor: &str,
        zip: Arc<Vec<u8>>,
    ) -> Result<(State, String), MirrorError> {
        match vet_with_timeout(&self.vetter, &rec.display_name, zip, self.config.scan_timeout()) {
            Err(e) => {
                let reason = format!("{e}: held in quarantine (fail closed)");
                self.apply(rec, rec.state, Decision::Quarantine(reason.clone()), None, actor, "scan")?;
                Ok((State::Quarantined, reason))
            }
            Ok(outcome) => {
                let decision = self.policy_decision(rec, &outcome)?;
                let to = self.apply(rec, rec.state, decision.clone(), Some(&outcome), actor, "policy")?;
                let reason = match decision {
                    Decision::Approve(r) | Decision::Quarantine(r) | Decision::Reject(r) => r,
                };
                Ok((to, reason))
            }
        }
    }

    fn policy_decision(&self, rec: &VersionRecord, outcome: &VetOutcome) -> Result<Decision, MirrorError> {
        let version = validate::version(&rec.version).map_err(|e| MirrorError::Invalid(e.to_string()))?;
        let base = self.base_version(&rec.slug, &rec.version)?;
        let delta = base
            .as_ref()
            .map(|b| CapabilityDelta::between(&b.capabilities.clone().unwrap_or_default(), &outcome.capabilities));
        let owner_seen = match &rec.owner {
            Some(o) => self.meta.owner_has_approved(o)?,
            None => false,
        };
        let decision = self.policy.decide(&Facts {
            slug: &rec.slug,
            version: &version,
            owner: rec.owner.as_deref(),
            published_at: rec.published_at,
            now: now_ms(),
            verdict: outcome.verdict,
            scan_summary: &outcome.summary,
            owner_seen,
            update_delta: delta.as_ref(),
        });
        // A slug transfer is a classic rug-pull, so an owner change holds an update for
        // review. It comes after the policy and only ever downgrades an approval: a deny
        // entry or a verdict that maps to reject stays a rejection.
        Ok(match (decision, &base) {
            (Decision::Approve(_), Some(b)) if b.owner != rec.owner => Decision::Quarantine(format!(
                "owner changed from {} to {} since the last approved version: held for review",
                b.owner.as_deref().unwrap_or("(none)"),
                rec.owner.as_deref().unwrap_or("(none)")
            )),
            (decision, _) => decision,
        })
    }

    /// Apply a decision to a version currently in `from`. Approval signs first and falls
    /// back to quarantine if signing fails (fail closed). Returns the new state.
    fn apply(
        &self,
        rec: &VersionRecord,
        from: State,
        decision: Decision,
        scan: Option<&VetOutcome>,
        actor: &str,
        action: &str,
    ) -> Result<State, MirrorError> {
        let mut from = from;
        // A version decided from `scanned` (resumed after a crash, or re-run by `rescan
        // --all`) keeps the scan it was decided on.
        let decided_scan = if from == State::Scanned { scan } else { None };
        // Record the scan as its own step so the audit log shows fetched → scanned → decision.
        if let Some(s) = scan
            && from == State::Fetched
        {
            self.meta.transition(&Transition {
                id: rec.id,
                from,
                to: State::Scanned,
                actor,
                action: "scan",
                reason: &format!("scanned: verdict {} (score {})", s.verdict, s.score),
                scan: Some(s),
                signature: None,
                webhooks: vec![],
            })?;
            from = State::Scanned;
        }
        let verdict = scan.map(|s| s.verdict.as_str()).or(rec.verdict.map(|v| v.as_str()));
        let (to, reason, signature, event) = match decision {
            Decision::Approve(reason) => match self.sign(rec) {
                Ok(sig) => (State::Approved, reason, Some(sig), None),
                Err(e) => {
                    (State::Quarantined, format!("{reason}; but {e}: held (fail closed)"), None, Some("quarantine"))
                }
            },
            Decision::Quarantine(reason) => (State::Quarantined, reason, None, Some("quarantine")),
            Decision::Reject(reason) => (State::Rejected, reason, None, Some("reject")),
        };
        if to == from {
            return Ok(to);
        }
        let webhooks = event.map(|e| self.hooks(e, webhook_payload(e, rec, to, &reason, verdict))).unwrap_or_default();
        self.meta.transition(&Transition {
            id: rec.id,
            from,
            to,
            actor,
            action,
            reason: &reason,
            scan: decided_scan,
            signature: signature.as_deref(),
            webhooks,
        })?;
        tracing::info!(slug = %rec.slug, version = %rec.version, %from, %to, "{reason}");
        Ok(to)
    }

    fn sign(&self, rec: &VersionRecord) -> Result<String, MirrorError> {
        self.sign_with(self.signer.as_ref(), rec)
    }

    /// Key rotation: sign every approved version with `signer` (the new key) and store the
    /// signatures in one audited transaction (`re-sign` per version, one `key-rotate`).
    /// Nothing is stored unless every version could be signed. Returns how many were.
    pub fn resign_all(&self, signer: &dyn ApprovalSigner, actor: &str, reason: &str) -> Result<usize, MirrorError> {
        if actor.trim().is_empty() {
            return Err(MirrorError::Invalid("a key rotation needs --by".into()));
        }
        let approved = self.meta.versions(Some(State::Approved))?;
        let signatures = approved
            .iter()
            .map(|rec| Ok((rec.id, self.sign_with(signer, rec)?)))
            .collect::<Result<Vec<_>, MirrorError>>()?;
        self.meta.resign(&signatures, actor, reason)?;
        Ok(signatures.len())
    }

    fn sign_with(&self, signer: &dyn ApprovalSigner, rec: &VersionRecord) -> Result<String, MirrorError> {
        let bytes = self.blobs.get(&rec.archive_sha256)?;
        let st = ApprovalStatement {
            slug: rec.slug.clone(),
            version: rec.version.clone(),
            archive_sha256: rec.archive_sha256.clone(),
            tree_digest: rec.tree_digest.clone(),
            timestamp: now_ms() / 1000,
            file: format!("{}-{}.zip", rec.slug, rec.version),
        };
        signer.sign_archive(&st, &bytes).map_err(|e| MirrorError::Sign(e.to_string()))
    }

    /// Why the policy refuses this version, if it does: a `[[deny]]` entry matches it, or
    /// its stored verdict maps to `reject`. Approving such a version needs an override.
    pub fn policy_objection(&self, rec: &VersionRecord) -> Option<String> {
        let denied = validate::version(&rec.version)
            .ok()
            .and_then(|v| self.policy.denied(&rec.slug, &v, rec.owner.as_deref()).map(str::to_string));
        let rejected = rec.verdict.filter(|v| self.policy.action_for(*v) == crate::policy::Action::Reject);
        let findings = findings_count(rec);
        let verdict = rec.verdict.map_or_else(|| "none".to_string(), |v| v.to_string());
        let counted = format!("verdict {verdict} with {findings} finding{}", if findings == 1 { "" } else { "s" });
        match (denied, rejected) {
            (Some(d), _) => Some(format!("denied by policy: {d}; {counted}")),
            (None, Some(_)) => Some(format!("{counted}, which the policy maps to reject")),
            (None, None) => None,
        }
    }

    /// `approve|reject|revoke SLUG@VERSION --reason TEXT --by NAME`. Approving a version
    /// the policy refuses ([`Mirror::policy_objection`]) needs `override_policy` and is
    /// audited as `override` with the verdict and the findings count.
    pub fn decide(
        &self,
        slug: &str,
        version: &str,
        to: State,
        reason: &str,
        by: &str,
        override_policy: bool,
    ) -> Result<VersionRecord, MirrorError> {
        let rec = self.get(slug, version)?;
        let (reason, by) = (&*storable(reason), &*storable(by));
        if reason.trim().is_empty() || by.trim().is_empty() {
            return Err(MirrorError::Invalid("a decision needs --reason and --by".into()));
        }
        if !rec.state.can_transition(to) || !matches!(to, State::Approved | State::Rejected | State::Revoked) {
            return Err(MirrorError::Conflict(format!("cannot move {} from {} to {}", rec.key(), rec.state, to)));
        }
        if rec.state == State::Fetched {
            return Err(MirrorError::Conflict(format!(
                "{} has no usable scan ({}); rescan it first",
                rec.key(),
                rec.state_reason
            )));
        }
        let reason = format!("{} (by {by})", reason.trim());
        match to {
            State::Revoked => self.revoke(&rec, &reason, by, "revoke")?,
            State::Approved => {
                let (reason, action) = match (self.policy_objection(&rec), override_policy) {
                    (Some(why), false) => {
                        return Err(MirrorError::Conflict(format!(
                            "{} is refused by policy ({why}); approving it needs --override",
                            rec.key()
                        )));
                    }
                    (Some(why), true) => (format!("override: {why}; {reason}"), "override"),
                    (None, _) => (reason, "approve"),
                };
                let st = self.apply(&rec, rec.state, Decision::Approve(reason), None, by, action)?;
                if st != State::Approved {
                    return Err(MirrorError::Sign(format!("{} could not be signed; left quarantined", rec.key())));
                }
            }
            _ => {
                self.apply(&rec, rec.state, Decision::Reject(reason), None, by, "reject")?;
            }
        }
        self.get(slug, version)
    }

    fn revoke(&self, rec: &VersionRecord, reason: &str, actor: &str, action: &str) -> Result<(), MirrorError> {
        let hooks = self
            .hooks("revoke", webhook_payload("revoke", rec, State::Revoked, reason, rec.verdict.map(|v| v.as_str())));
        self.meta.transition(&Transition {
            id: rec.id,
            from: State::Approved,
            to: State::Revoked,
            actor,
            action,
            reason,
            scan: None,
            signature: None,
            webhooks: hooks,
        })?;
        Ok(())
    }

    pub fn get(&self, slug: &str, version: &str) -> Result<VersionRecord, MirrorError> {
        validate::slug(slug).map_err(|e| MirrorError::Invalid(e.to_string()))?;
        self.meta.get_version(slug, version)?.ok_or_else(|| MirrorError::NotFound(format!("{slug}@{version}")))
    }

    /// Retro-hunt: re-run the current rules over approved versions (and, with `all`, over
    /// pending ones, which re-enter the policy: this is how a version quarantined by a
    /// scanner outage or `min_age` gets approved later).
    pub fn rescan(&self, all: bool, actor: &str) -> Result<Vec<(String, State, State, String)>, MirrorError> {
        self.rescan_observed(all, actor, &|_, _| {})
    }

    /// [`Mirror::rescan`], calling `progress(done, total)` as versions are decided (the
    /// library prints nothing; a front end draws it).
    pub fn rescan_observed(
        &self,
        all: bool,
        actor: &str,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<(String, State, State, String)>, MirrorError> {
        let mut out = Vec::new();
        let eligible: Vec<VersionRecord> = self
            .meta
            .versions(None)?
            .into_iter()
            .filter(|rec| rec.state == State::Approved || (all && rec.state.is_pending()))
            .collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut done = 0;
        progress(done, eligible.len());
        // Scans run a batch at a time, on one thread per core; decisions are then taken one by
        // one in store order, as before. A batch bounds the archives held in memory at once.
        for batch in eligible.chunks(workers * 4) {
            let scanned = self.read_and_vet(batch, workers);
            for (rec, scanned) in batch.iter().zip(scanned) {
                self.rescan_one(rec, scanned, actor, &mut out)?;
                done += 1;
                progress(done, eligible.len());
            }
        }
        Ok(out)
    }

    /// Reads and scans each version's archive on up to `workers` threads; results come back in
    /// the order of `records`. Plain threads, not the scanner's rayon pool: a pool worker blocked
    /// on a scan that needs the pool would starve it.
    fn read_and_vet(
        &self,
        records: &[VersionRecord],
        workers: usize,
    ) -> Vec<Result<Result<VetOutcome, crate::vetting::VetError>, StoreError>> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<_>>> = records.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers.min(records.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rec) = records.get(i) else { break };
                        let result = self.blobs.get(&rec.archive_sha256).map(|zip| {
                            vet_with_timeout(&self.vetter, &rec.display_name, Arc::new(zip), self.config.scan_timeout())
                        });
                        *results[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|slot| {
                slot.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).unwrap_or_else(|| {
                    Ok(Err(crate::vetting::VetError::Failed("the scan thread ended without a result".into())))
                })
            })
            .collect()
    }

    /// Decides one rescanned version (see [`Mirror::rescan`]).
    fn rescan_one(
        &self,
        rec: &VersionRecord,
        scanned: Result<Result<VetOutcome, crate::vetting::VetError>, StoreError>,
        actor: &str,
        out: &mut Vec<(String, State, State, String)>,
    ) -> Result<(), MirrorError> {
        let r = match scanned {
            Ok(r) => r,
            Err(e) => {
                self.blob_fault(rec, &e, actor)?;
                out.push((rec.key(), rec.state, rec.state, format!("blob unreadable: {e} (alerted)")));
                return Ok(());
            }
        };
        match (rec.state, r) {
            (State::Approved, Err(e)) => {
                // A scanner outage must not revoke everything; it is reported instead.
                out.push((rec.key(), rec.state, rec.state, format!("rescan failed: {e} (kept)")));
            }
            (State::Approved, Ok(o)) => {
                let action = self.policy.action_for(o.verdict);
                let denied = validate::version(&rec.version)
                    .ok()
                    .and_then(|v| self.policy.denied(&rec.slug, &v, rec.owner.as_deref()).map(str::to_string));
                let refused = action == crate::policy::Action::Reject || denied.is_some();
                // A human approved this over the policy's objection: only new rules that
                // find something the approval did not see take it back.
                let overridden = self.meta.approval_action(&rec.slug, &rec.version)?.as_deref() == Some("override");
                let unseen: Vec<&str> =
                    o.reason_codes.iter().filter(|c| !rec.reason_codes.contains(c)).map(String::as_str).collect();
                let rules_changed = rec.rules_version.as_deref() != Some(o.rules_version.as_str());
                self.meta.update_scan(rec.id, &o, actor)?;
                let finds_new = rules_changed && !unseen.is_empty();
                if refused && overridden && !finds_new {
                    out.push((
                        rec.key(),
                        rec.state,
                        rec.state,
                        format!(
                            "still {} ({}); kept: approved with --override, nothing new found",
                            o.verdict, o.rules_version
                        ),
                    ));
                } else if refused && overridden {
                    let reason = format!(
                        "retro-hunt: rules {} found what the override did not see: {}: {}",
                        o.rules_version,
                        unseen.join(", "),
                        o.summary
                    );
                    self.revoke(rec, &reason, actor, "rescan")?;
                    out.push((rec.key(), State::Approved, State::Revoked, reason));
                } else if refused {
                    let reason = match denied {
                        Some(d) => format!("retro-hunt: now denied by policy: {d}"),
                        None => {
                            format!("retro-hunt: rules {} now say {}: {}", o.rules_version, o.verdict, o.summary)
                        }
                    };
                    self.revoke(rec, &reason, actor, "rescan")?;
                    out.push((rec.key(), State::Approved, State::Revoked, reason));
                } else {
                    out.push((rec.key(), rec.state, rec.state, format!("still {} ({})", o.verdict, o.rules_version)));
                }
            }
            (_, Err(e)) => out.push((rec.key(), rec.state, rec.state, format!("rescan failed: {e} (kept)"))),
            (from, Ok(o)) => {
                let decision = self.policy_decision(rec, &o)?;
                let to = self.apply(rec, from, decision.clone(), Some(&o), actor, "rescan")?;
                if to == from {
                    self.meta.update_scan(rec.id, &o, actor)?;
                }
                out.push((rec.key(), from, to, reason_of(&decision).to_string()));
            }
        }
        Ok(())
    }

    /// Update review: file diff and capability delta against the last approved version.
    pub fn review(&self, slug: &str, version: &str) -> Result<UpdateReview, MirrorError> {
        let rec = self.get(slug, version)?;
        let base = self.base_version(slug, version)?;
        let new_files: BTreeMap<String, String> =
            rec.files.iter().map(|f| (f.path.clone(), f.sha256.clone())).collect();
        let old_files: BTreeMap<String, String> = base
            .as_ref()
            .map(|b| b.files.iter().map(|f| (f.path.clone(), f.sha256.clone())).collect())
            .unwrap_or_default();
        let added: Vec<String> = new_files.keys().filter(|p| !old_files.contains_key(*p)).cloned().collect();
        let removed: Vec<String> = old_files.keys().filter(|p| !new_files.contains_key(*p)).cloned().collect();
        let changed: Vec<String> = new_files
            .iter()
            .filter(|(p, h)| old_files.get(*p).is_some_and(|o| o != *h))
            .map(|(p, _)| p.clone())
            .collect();
        let delta = CapabilityDelta::between(
            &base.as_ref().and_then(|b| b.capabilities.clone()).unwrap_or_default(),
            &rec.capabilities.clone().unwrap_or_default(),
        );
        let text_diffs = match &base {
            Some(b) => self.text_diffs(b, &rec, added.iter().chain(&changed).chain(&removed)),
            None => BTreeMap::new(),
        };
        Ok(UpdateReview {
            slug: rec.slug,
            version: rec.version,
            base_version: base.map(|b| b.version),
            files_added: added,
            files_removed: removed,
            files_changed: changed,
            capability_delta: delta,
            text_diffs,
        })
    }

    /// Unified diffs, `old` to `new`, of the given paths whose both sides are UTF-8 text
    /// (bounded: 512 KiB per file pair). Empty when either archive cannot be read.
    fn text_diffs<'p>(
        &self,
        old: &VersionRecord,
        new: &VersionRecord,
        paths: impl Iterator<Item = &'p String>,
    ) -> BTreeMap<String, String> {
        let mut text_diffs = BTreeMap::new();
        let lim = self.archive_limits();
        let read = |sha: &str| self.blobs.get(sha).ok().and_then(|zip| SkillArchive::read(&zip, &lim).ok());
        let (Some(oa), Some(na)) = (read(&old.archive_sha256), read(&new.archive_sha256)) else {
            return text_diffs;
        };
        let empty = Vec::new();
        for p in paths {
            let o = oa.files.get(p).unwrap_or(&empty);
            let n = na.files.get(p).unwrap_or(&empty);
            if let (Ok(os), Ok(ns)) = (std::str::from_utf8(o), std::str::from_utf8(n))
                && os.len() + ns.len() < 512 * 1024
            {
                let d = similar::TextDiff::from_lines(os, ns)
                    .unified_diff()
                    .header(&format!("a/{p}"), &format!("b/{p}"))
                    .to_string();
                text_diffs.insert(p.clone(), d);
            }
        }
        text_diffs
    }

    /// Build the ingest input for `import PATH` (a zip file, stored byte-for-byte, or a
    /// directory, packed into a flat ClawHub-style zip with `_meta.json`).
    ///
    /// Packing a directory is deterministic: entries sorted, fixed zip timestamps and
    /// modes, and `_meta.json`'s `publishedAt` fixed at [`IMPORT_PUBLISHED_AT`], so the
    /// same folder always gives the same bytes (re-importing it is `unchanged`, not an
    /// integrity alert). The import time is recorded on the version row instead.
    pub fn import_input(
        path: &Path,
        slug: &str,
        version: &str,
        owner: Option<&str>,
    ) -> Result<IngestInput, MirrorError> {
        let now = now_ms();
        let zip = if path.is_dir() {
            let mut files = BTreeMap::new();
            collect_dir(path, path, &mut files)?;
            files.insert("_meta.json".to_string(), archive::meta_json(owner, slug, version, IMPORT_PUBLISHED_AT));
            archive::build_zip(&files).map_err(|e| MirrorError::Invalid(e.to_string()))?
        } else {
            std::fs::read(path).map_err(|e| MirrorError::Invalid(format!("cannot read {}: {e}", path.display())))?
        };
        Ok(IngestInput {
            slug: slug.to_string(),
            version: version.to_string(),
            owner: owner.map(str::to_string),
            display_name: None,
            summary: None,
            changelog: String::new(),
            published_at: now,
            source: format!("{IMPORT_SOURCE}{}", path.display()),
            metadata_json: None,
            license: None,
            zip,
        })
    }
}

/// The alert kind of a pinned blob that is missing or fails verification.
pub const BLOB_CORRUPT: &str = "blob-corrupt";

/// What `scrub` found.
#[derive(Debug, Default)]
pub struct ScrubReport {
    /// Blobs re-hashed (each version's pinned blob, then every other stored blob).
    pub checked: usize,
    /// What is missing or corrupt, and why.
    pub corrupt: Vec<(String, String)>,
    /// Versions whose open blob fault was closed because their blob verifies again.
    pub restored: Vec<String>,
}

/// `publishedAt` in the `_meta.json` of a packed directory: 1980-01-01T00:00:00Z in
/// milliseconds, the zip epoch that the packed entries' timestamps use too.
pub const IMPORT_PUBLISHED_AT: i64 = 315_532_800_000;

/// The `source` prefix of imported versions.
const IMPORT_SOURCE: &str = "import:";

/// Directory walk for imports: regular files only (symlinks skipped, as `clawhub publish`
/// does), dot-segments skipped, paths relative with `/`.
fn collect_dir(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), MirrorError> {
    let rd = std::fs::read_dir(dir).map_err(|e| MirrorError::Invalid(format!("cannot read {}: {e}", dir.display())))?;
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "_meta.json" && dir == root {
            continue;
        }
        let ft = e.file_type().map_err(|err| MirrorError::Invalid(err.to_string()))?;
        if ft.is_dir() {
            collect_dir(root, &e.path(), out)?;
        } else if ft.is_file() {
            let rel = e.path().strip_prefix(root).map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or(name);
            let bytes = std::fs::read(e.path()).map_err(|err| MirrorError::Invalid(err.to_string()))?;
            out.insert(rel, bytes);
        }
    }
    Ok(())
}

/// The active findings of the stored scan report; the number of distinct rule ids when the
/// report does not list them.
fn findings_count(rec: &VersionRecord) -> usize {
    let report: Option<serde_json::Value> = rec.report_json.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let skills = report.as_ref().and_then(|r| r.get("skills")).and_then(serde_json::Value::as_array);
    match skills {
        Some(skills) => skills
            .iter()
            .filter_map(|s| s.get("findings").and_then(serde_json::Value::as_array))
            .flatten()
            .filter(|f| f.get("suppressed").is_none_or(serde_json::Value::is_null))
            .count(),
        None => rec.reason_codes.len(),
    }
}

fn reason_of(d: &Decision) -> &str {
    match d {
        Decision::Approve(r) | Decision::Quarantine(r) | Decision::Reject(r) => r,
    }
}

fn trunc(s: &str) -> String {
    s.chars().take(80).collect()
}

fn new_key(n: &NewVersion) -> String {
    format!("{}@{}", n.slug, n.version)
}

/// A parsed `SLUG@VERSION` argument.
pub fn parse_key(s: &str) -> Result<(String, String), MirrorError> {
    let (slug, version) =
        s.rsplit_once('@').ok_or_else(|| MirrorError::Invalid(format!("expected SLUG@VERSION, got {:?}", trunc(s))))?;
    validate::slug(slug).map_err(|e| MirrorError::Invalid(e.to_string()))?;
    validate::version(version).map_err(|e| MirrorError::Invalid(e.to_string()))?;
    Ok((slug.to_string(), version.to_string()))
}

/// Sets of capabilities as sorted lists, for printing.
pub fn caps_lines(c: &Capabilities) -> Vec<String> {
    let mut out = vec![format!("privilege: {}", c.privilege.as_str())];
    let mut push = |label: &str, s: Vec<&str>| {
        if !s.is_empty() {
            out.push(format!("{label}: {}", s.join(", ")));
        }
    };
    push("hosts", c.hosts.iter().map(String::as_str).collect());
    push("binaries", c.binaries.iter().map(String::as_str).collect());
    push("env vars", c.env_vars.iter().map(String::as_str).collect());
    push("credential paths", c.credential_paths.iter().map(String::as_str).collect());
    push("paths written", c.paths_written.iter().map(String::as_str).collect());
    push("persistence", c.persistence.iter().map(String::as_str).collect());
    push("install specs", c.install_specs.iter().map(String::as_str).collect());
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The webhook bodies, as they were built before they had types.
    #[test]
    fn webhook_bodies_keep_their_bytes() {
        let version = VersionEvent {
            event: "reject",
            slug: "crypto-tracker",
            version: "1.0.0",
            owner: None,
            state: State::Rejected,
            reason: "malicious",
            verdict: Some("malicious"),
            archive_sha256: "ab",
            at: 7,
        };
        let before = json!({
            "event": "reject", "slug": "crypto-tracker", "version": "1.0.0", "owner": null, "state": "rejected",
            "reason": "malicious", "verdict": "malicious", "archiveSha256": "ab", "at": 7,
        });
        assert_eq!(webhook_body(&version), before.to_string());
        let integrity = IntegrityEvent {
            event: "integrity_alert",
            kind: None,
            slug: "a",
            version: "1.0.0",
            pinned_sha256: "ab",
            observed_sha256: "cd",
            detail: "d",
            at: 7,
        };
        let before = json!({
            "event": "integrity_alert", "slug": "a", "version": "1.0.0",
            "pinnedSha256": "ab", "observedSha256": "cd", "detail": "d", "at": 7,
        });
        assert_eq!(webhook_body(&integrity), before.to_string());
    }
}
