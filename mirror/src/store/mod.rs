//! Storage behind traits: [`BlobStore`] for immutable, content-addressed archive bytes and
//! [`MetaStore`] for everything else. The embedded defaults are [`blobs::FsBlobStore`] and
//! [`sqlite::SqliteStore`]; a shared SQL database and S3-compatible object storage (with
//! conditional create, so blobs stay write-once) can implement the same traits to run
//! several replicas.
//!
//! Crash-safety contract: a blob is durable (fsynced and renamed into place, directory
//! fsynced) *before* any row referencing it is committed, and rows are committed with
//! `synchronous=FULL`. So a crash at any instant leaves at worst an orphan blob, never a
//! row pointing at a missing blob, and never loses a committed approval.

pub mod blobs;
pub mod postgres;
pub mod s3;
pub mod sqlite;

use thiserror::Error;

use crate::model::{AuditEvent, BlobFault, IntegrityAlert, State, SyncFailure, VersionRecord};
use crate::vetting::VetOutcome;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The backend failed (connection lost, disk full, constraint it enforces itself); the
    /// message is the backend's own, already free of credentials.
    #[error("{backend} error: {message}")]
    Backend { backend: &'static str, message: String },
    #[error("blob {0} not found")]
    BlobMissing(String),
    #[error("blob {0} is corrupt (hash mismatch)")]
    BlobCorrupt(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("state of {key} changed concurrently (expected {expected})")]
    Conflict { key: String, expected: State },
    #[error("stored data is malformed: {0}")]
    Malformed(String),
}

impl StoreError {
    pub fn backend(backend: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend { backend, message: e.to_string() }
    }

    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.as_ref().display().to_string(), source }
    }
}

/// Immutable, content-addressed bytes.
pub trait BlobStore: Send + Sync {
    /// Store `bytes`; returns their sha256 hex. Durable when this returns.
    fn put(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// Read and verify the bytes whose sha256 is `sha256`.
    fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError>;
    fn contains(&self, sha256: &str) -> Result<bool, StoreError>;
    /// The sha256 of every stored blob (what `scrub` walks beyond the version rows). Stores
    /// that cannot list report none.
    fn list(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
    /// The backend's name (`files`, `s3`), for `/status` and logs.
    fn backend(&self) -> &'static str {
        "files"
    }
}

/// What [`MetaStore::insert_version`] found: the row it inserted, or the row another writer
/// committed first for the same `slug@version` (read in the same transaction, so the caller
/// compares its bytes with the pin that won).
#[derive(Debug, Clone)]
pub enum Inserted {
    New(i64),
    Existing(Box<VersionRecord>),
}

/// A version as first seen, before any decision.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub slug: String,
    pub version: String,
    pub owner: Option<String>,
    pub display_name: String,
    pub summary: Option<String>,
    pub changelog: String,
    pub published_at: i64,
    pub source: String,
    pub archive_sha256: String,
    pub archive_size: u64,
    pub tree_digest: String,
    pub fingerprint: String,
    pub fingerprint_installed: String,
    pub files: Vec<crate::archive::FileEntry>,
    pub metadata_json: Option<String>,
    pub license: Option<String>,
}

/// A queued webhook delivery, written in the same transaction as the state change that
/// caused it (transactional outbox: an alert is never lost and never sent for a change
/// that did not commit).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    /// Which configured webhook: [`crate::redact::webhook_ref`] of its URL (scheme, host
    /// and a digest), never the URL itself, which may be the secret.
    pub target: String,
    pub event: String,
    /// Identifies the event to receivers (`X-Skillscan-Event-Id`): the same on every retry,
    /// so at-least-once delivery can be deduplicated.
    pub event_id: String,
    pub payload: String,
    pub attempts: u32,
}

/// One state change, applied atomically with its audit event and webhooks.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub id: i64,
    pub from: State,
    pub to: State,
    pub actor: &'a str,
    pub action: &'a str,
    pub reason: &'a str,
    pub scan: Option<&'a VetOutcome>,
    pub signature: Option<&'a str>,
    pub webhooks: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub revoked: bool,
}

/// Versions, their pins and their decisions. Every state change is a compare-and-set on the
/// current state, committed in one transaction with its audit row and queued webhooks.
pub trait VersionStore: Send + Sync {
    /// Insert-or-read, atomically: a `slug@version` that is already pinned is returned, not
    /// an error.
    fn insert_version(&self, v: &NewVersion, actor: &str, reason: &str) -> Result<Inserted, StoreError>;
    fn get_version(&self, slug: &str, version: &str) -> Result<Option<VersionRecord>, StoreError>;
    fn versions(&self, state: Option<State>) -> Result<Vec<VersionRecord>, StoreError>;
    fn versions_of(&self, slug: &str) -> Result<Vec<VersionRecord>, StoreError>;
    /// Move `t.id` from `t.from` to `t.to`; [`StoreError::Conflict`] (and nothing written) if
    /// its state is no longer `t.from`.
    fn transition(&self, t: &Transition<'_>) -> Result<(), StoreError>;
    /// Record a new scan result without changing state (retro-hunt that still passes).
    fn update_scan(&self, id: i64, scan: &VetOutcome, actor: &str) -> Result<(), StoreError>;
    fn owner_has_approved(&self, owner: &str) -> Result<bool, StoreError>;
    /// The audit action (`approve`, `override`, `policy`, …) of the latest move of
    /// `slug@version` into `approved`.
    fn approval_action(&self, slug: &str, version: &str) -> Result<Option<String>, StoreError>;
    /// How many versions carry a signature (approved at least once).
    fn signed_versions(&self) -> Result<usize, StoreError>;
    /// Replace the signatures of approved versions after a key rotation, in one
    /// transaction: an audit row `re-sign` per version and one `key-rotate` row (slug and
    /// version `-`) with `reason`.
    fn resign(&self, signatures: &[(i64, String)], actor: &str, reason: &str) -> Result<(), StoreError>;
}

/// The audit log: append-only (the backend itself refuses updates and deletes); rows are
/// written only by the other traits' state changes, in their transactions.
pub trait AuditLog: Send + Sync {
    /// The newest `limit` events (all without a limit), oldest first.
    fn audit(&self, limit: Option<usize>) -> Result<Vec<AuditEvent>, StoreError>;
}

/// What went wrong and must be seen: integrity alerts, open blob faults, sync failures.
pub trait IncidentStore: Send + Sync {
    /// Record an integrity alert, audited under `actor` (the command that saw it).
    fn record_alert(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<i64, StoreError>;
    fn alerts(&self) -> Result<Vec<IntegrityAlert>, StoreError>;
    /// Open a blob fault for `a.slug@a.version` and, only if none was open, record the alert
    /// `a` with its audit entry and webhooks, in one transaction. Returns whether it was new.
    fn record_blob_fault(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<bool, StoreError>;
    /// Blob faults not yet resolved by an operator.
    fn blob_faults(&self) -> Result<Vec<BlobFault>, StoreError>;
    /// Close the blob fault of `slug@version` (audited as `blob-restored`). Returns whether
    /// one was open.
    fn clear_blob_fault(&self, slug: &str, version: &str, actor: &str, reason: &str) -> Result<bool, StoreError>;
    fn record_sync_failure(&self, f: &SyncFailure) -> Result<(), StoreError>;
    /// The newest `limit` sync failures, newest first.
    fn sync_failures(&self, limit: usize) -> Result<Vec<SyncFailure>, StoreError>;
}

/// API tokens, kept as sha256 hashes only.
pub trait TokenStore: Send + Sync {
    /// [`StoreError::AlreadyExists`] if the name is taken.
    fn insert_token(&self, name: &str, role: &str, token_sha256: &str) -> Result<i64, StoreError>;
    fn find_token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError>;
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;
    /// `(sha256(token), role)` of every live token, for the server's in-memory check.
    fn tokens_with_hashes(&self) -> Result<Vec<(String, String)>, StoreError>;
}

/// The webhook outbox: rows queued by state changes, delivered at least once.
pub trait WebhookOutbox: Send + Sync {
    /// Undelivered rows due at `now` with fewer than `max_attempts` attempts, oldest first.
    fn due_webhooks(&self, now: i64, max_attempts: u32) -> Result<Vec<OutboxItem>, StoreError>;
    fn webhook_delivered(&self, id: i64, now: i64) -> Result<(), StoreError>;
    fn webhook_failed(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<(), StoreError>;
}

/// A token row as stored (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub token_sha256: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An outbox row as stored, delivery bookkeeping included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub created_at: i64,
    pub target: String,
    pub event: String,
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    pub event_id: String,
}

/// Every row of a metadata store, ids and times kept, as one committed state: what
/// `migrate` copies from one backend to another.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Export {
    pub versions: Vec<VersionRecord>,
    pub audit: Vec<AuditEvent>,
    pub alerts: Vec<IntegrityAlert>,
    pub sync_failures: Vec<SyncFailure>,
    pub tokens: Vec<TokenRow>,
    pub outbox: Vec<OutboxRow>,
    pub blob_faults: Vec<BlobFault>,
}

/// Copying a whole store between backends.
pub trait Transfer: Send + Sync {
    /// Every row, read in one transaction (a consistent state while other writers go on).
    fn export(&self) -> Result<Export, StoreError>;
    /// Write `e` into this store, which must hold no version, audit event or token yet
    /// ([`StoreError::AlreadyExists`] otherwise), in one transaction: a failed import leaves
    /// it empty. Ids are kept, and new rows are numbered after them.
    fn import(&self, e: &Export) -> Result<(), StoreError>;
}

/// All metadata of a mirror, in one backend. The conformance suite
/// (`mirror/tests/it/conformance.rs`) is what every backend must pass.
pub trait MetaStore: VersionStore + AuditLog + IncidentStore + TokenStore + WebhookOutbox + Transfer {
    /// The revision of the served state: moves forward on every commit that changes what a
    /// replica serves or shows (versions, decisions, audit, alerts, faults, tokens, queued
    /// webhooks), from any writer (this handle, another process, another machine), and on
    /// nothing else (reads, a refused compare-and-set, webhook delivery bookkeeping). A
    /// replica rebuilds its snapshot when the revision it last built from differs.
    fn revision(&self) -> Result<u64, StoreError>;
    /// The backend's name (`sqlite`, `postgres`), for `/status` and logs.
    fn backend(&self) -> &'static str;
}

/// Every storage trait, for code that calls a concrete store's methods (`use
/// skillscan_mirror::store::prelude::*`); through `dyn MetaStore` they need no import.
pub mod prelude {
    pub use super::{AuditLog, BlobStore, IncidentStore, MetaStore, TokenStore, Transfer, VersionStore, WebhookOutbox};
}
