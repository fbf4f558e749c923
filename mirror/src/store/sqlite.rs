//! SQLite metadata store: WAL, `synchronous=FULL`, `foreign_keys=ON`.
//!
//! One connection behind a mutex per process. Writes are rare (sync, decisions); the read
//! API never touches SQLite (it serves an in-memory snapshot), so a mutex is not a
//! bottleneck. Several processes (the server and CLI commands) may open the same file;
//! SQLite's locking plus `busy_timeout` serialises them, and every state change is a
//! compare-and-set on the current state so concurrent deciders cannot clobber each other.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    AuditLog, Export, IncidentStore, Inserted, MetaStore, NewVersion, OutboxItem, OutboxRow, StoreError, TokenRecord,
    TokenRow, TokenStore, Transfer, Transition, VersionStore, WebhookOutbox,
};
use crate::model::{AuditEvent, BlobFault, IntegrityAlert, State, SyncFailure, VersionRecord, now_ms};
use crate::vetting::{CapabilitiesJson, VetOutcome};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::backend("sqlite", e)
    }
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL,
    version TEXT NOT NULL,
    owner TEXT,
    display_name TEXT NOT NULL,
    summary TEXT,
    changelog TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL,
    decided_at INTEGER,
    source TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    archive_size INTEGER NOT NULL,
    tree_digest TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    fingerprint_installed TEXT NOT NULL,
    files_json TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT NOT NULL,
    verdict TEXT,
    rules_version TEXT,
    reason_codes_json TEXT NOT NULL DEFAULT '[]',
    capabilities_json TEXT,
    report_json TEXT,
    signature TEXT,
    metadata_json TEXT,
    license TEXT,
    UNIQUE (slug, version)
);
-- Pins are immutable: the digests of a version can never change once committed.
CREATE TRIGGER IF NOT EXISTS versions_pin_immutable
BEFORE UPDATE OF slug, version, archive_sha256, tree_digest, archive_size ON versions
BEGIN SELECT RAISE(ABORT, 'pinned digests are immutable'); END;
CREATE TRIGGER IF NOT EXISTS versions_never_deleted
BEFORE DELETE ON versions
BEGIN SELECT RAISE(ABORT, 'versions are never deleted'); END;

CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    slug TEXT NOT NULL,
    version TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    reason TEXT NOT NULL,
    verdict TEXT,
    rules_version TEXT
);
-- Append-only, enforced by the database itself.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    version TEXT NOT NULL,
    pinned_sha256 TEXT NOT NULL,
    observed_sha256 TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    upstream TEXT NOT NULL,
    slug TEXT NOT NULL,
    version TEXT,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'read')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS webhook_due ON webhook_outbox (delivered_at, next_attempt_at);
-- Open blob faults (missing or corrupt pinned blobs), one per version, until an operator acts.
CREATE TABLE IF NOT EXISTS blob_faults (
    slug TEXT NOT NULL,
    version TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (slug, version)
);
-- The revision of the served state (`MetaStore::revision`): bumped by triggers inside the
-- transaction of every change, so it moves on commits from any connection or process and
-- never on a rolled-back one. Webhook delivery bookkeeping (outbox updates) does not count.
CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT OR IGNORE INTO revision (id, n) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS revision_versions_insert AFTER INSERT ON versions
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_versions_update AFTER UPDATE ON versions
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_audit_insert AFTER INSERT ON audit
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_alerts_insert AFTER INSERT ON alerts
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_sync_failures_insert AFTER INSERT ON sync_failures
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_tokens_insert AFTER INSERT ON tokens
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_tokens_update AFTER UPDATE ON tokens
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_blob_faults_insert AFTER INSERT ON blob_faults
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_blob_faults_update AFTER UPDATE ON blob_faults
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_blob_faults_delete AFTER DELETE ON blob_faults
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS revision_webhook_outbox_insert AFTER INSERT ON webhook_outbox
BEGIN UPDATE revision SET n = n + 1 WHERE id = 1; END;
"#;

const VERSION_COLS: &str = "id, slug, version, owner, display_name, summary, changelog, published_at, \
    fetched_at, decided_at, source, archive_sha256, archive_size, tree_digest, fingerprint, \
    fingerprint_installed, files_json, state, state_reason, verdict, rules_version, reason_codes_json, \
    capabilities_json, report_json, signature, metadata_json, license";

fn malformed(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

fn row_to_version(r: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    let files: String = r.get(16)?;
    let state: String = r.get(17)?;
    let verdict: Option<String> = r.get(19)?;
    let codes: String = r.get(21)?;
    let caps: Option<String> = r.get(22)?;
    Ok(VersionRecord {
        id: r.get(0)?,
        slug: r.get(1)?,
        version: r.get(2)?,
        owner: r.get(3)?,
        display_name: r.get(4)?,
        summary: r.get(5)?,
        changelog: r.get(6)?,
        published_at: r.get(7)?,
        fetched_at: r.get(8)?,
        decided_at: r.get(9)?,
        source: r.get(10)?,
        archive_sha256: r.get(11)?,
        archive_size: r.get::<_, i64>(12)? as u64,
        tree_digest: r.get(13)?,
        fingerprint: r.get(14)?,
        fingerprint_installed: r.get(15)?,
        files: serde_json::from_str(&files).map_err(malformed)?,
        state: state.parse().map_err(malformed)?,
        state_reason: r.get(18)?,
        verdict: verdict.map(|v| v.parse()).transpose().map_err(malformed)?,
        rules_version: r.get(20)?,
        reason_codes: serde_json::from_str(&codes).map_err(malformed)?,
        capabilities: caps.map(|c| CapabilitiesJson::from_json(&c)).transpose().map_err(malformed)?,
        report_json: r.get(23)?,
        signature: r.get(24)?,
        metadata_json: r.get(25)?,
        license: r.get(26)?,
    })
}

fn row_to_alert(r: &Row<'_>) -> rusqlite::Result<IntegrityAlert> {
    Ok(IntegrityAlert {
        id: r.get(0)?,
        at: r.get(1)?,
        kind: r.get(2)?,
        slug: r.get(3)?,
        version: r.get(4)?,
        pinned_sha256: r.get(5)?,
        observed_sha256: r.get(6)?,
        detail: r.get(7)?,
    })
}

fn row_to_blob_fault(r: &Row<'_>) -> rusqlite::Result<BlobFault> {
    Ok(BlobFault { slug: r.get(0)?, version: r.get(1)?, archive_sha256: r.get(2)?, at: r.get(3)?, detail: r.get(4)? })
}

fn row_to_sync_failure(r: &Row<'_>) -> rusqlite::Result<SyncFailure> {
    Ok(SyncFailure {
        id: r.get(0)?,
        at: r.get(1)?,
        upstream: r.get(2)?,
        slug: r.get(3)?,
        version: r.get(4)?,
        error: r.get(5)?,
    })
}

/// Every row `sql` selects, mapped by `f`.
fn rows<T>(c: &Connection, sql: &str, f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>, StoreError> {
    let mut st = c.prepare(sql)?;
    let all = st.query_map([], f)?.collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

const ALERT_COLS: &str = "id, at, kind, slug, version, pinned_sha256, observed_sha256, detail";
const AUDIT_COLS: &str = "id, at, actor, action, slug, version, from_state, to_state, reason, verdict, rules_version";

fn row_to_audit(r: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        slug: r.get(4)?,
        version: r.get(5)?,
        from_state: r.get(6)?,
        to_state: r.get(7)?,
        reason: r.get(8)?,
        verdict: r.get(9)?,
        rules_version: r.get(10)?,
    })
}

impl SqliteStore {
    /// Open the database at `path`, creating it readable by the owner only (0600: it holds
    /// token hashes and the audit log). SQLite gives its `-wal` and `-shm` files the same mode.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// Open the database of an existing mirror; a missing file is an error, not a new mirror.
    pub fn open_existing(path: &Path) -> Result<SqliteStore, StoreError> {
        use rusqlite::OpenFlags;
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen => {
                        StoreError::io(path, std::io::Error::from(std::io::ErrorKind::NotFound))
                    }
                    other => StoreError::from(other),
                })?;
        Self::init(conn)
    }

    /// Write a consistent copy of the database to `dest` (a new file) with `VACUUM INTO`: one
    /// read transaction, so writers in other processes go on and the copy is one committed state.
    pub fn vacuum_into(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest.to_str().ok_or_else(|| {
            StoreError::io(dest, std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a UTF-8 path"))
        })?;
        self.with(|conn| {
            conn.execute("VACUUM INTO ?1", [dest])?;
            Ok(())
        })
    }

    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // WAL so readers never block the writer; FULL so a committed decision survives
        // power loss (NORMAL may lose the last commits); foreign keys for hygiene.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        redact_legacy_outbox(&conn)?;
        outbox_event_ids(&conn)?;
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A poisoned mutex only means another thread panicked mid-call; SQLite itself
        // rolled back any open transaction, so the connection is still usable.
        let mut g = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }
}

/// Outbox rows written before webhook URLs were redacted held the full URL (for Slack or
/// Discord, the secret): replace each with its reference, which delivery resolves the same way.
fn redact_legacy_outbox(conn: &Connection) -> Result<(), StoreError> {
    let mut st = conn.prepare("SELECT id, url FROM webhook_outbox WHERE url NOT LIKE '% #%'")?;
    let legacy = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in legacy.collect::<Result<Vec<_>, _>>()? {
        conn.execute(
            "UPDATE webhook_outbox SET url = ?2 WHERE id = ?1",
            params![row.0, crate::redact::webhook_ref(&row.1)],
        )?;
    }
    Ok(())
}

/// Outbox rows carry an event id (older databases lack the column): add it, and give rows
/// queued before it an id of their own, stable from now on.
fn outbox_event_ids(conn: &Connection) -> Result<(), StoreError> {
    let has: bool =
        conn.prepare("SELECT 1 FROM pragma_table_info('webhook_outbox') WHERE name = 'event_id'")?.exists([])?;
    if !has {
        conn.execute_batch("ALTER TABLE webhook_outbox ADD COLUMN event_id TEXT")?;
    }
    conn.execute("UPDATE webhook_outbox SET event_id = 'outbox-' || id WHERE event_id IS NULL", [])?;
    Ok(())
}

/// A new event id: 128 random bits, hex. Falls back to time and a counter if the OS has no
/// randomness to give (an id must be unique, not secret).
fn new_event_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        b[..8].copy_from_slice(&now_ms().to_be_bytes());
        b[8..].copy_from_slice(&FALLBACK.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    }
    format!("evt_{}", hex::encode(b))
}

/// One audit row (the `audit` table is append-only, enforced by triggers).
struct AuditRow<'a> {
    actor: &'a str,
    action: &'a str,
    slug: &'a str,
    version: &'a str,
    from: Option<State>,
    to: Option<State>,
    reason: &'a str,
    verdict: Option<&'a str>,
    rules: Option<&'a str>,
}

fn insert_audit(tx: &rusqlite::Transaction<'_>, a: AuditRow<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, slug, version, from_state, to_state, reason, verdict, rules_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            now_ms(),
            a.actor,
            a.action,
            a.slug,
            a.version,
            a.from.map(State::as_str),
            a.to.map(State::as_str),
            a.reason,
            a.verdict,
            a.rules
        ],
    )?;
    Ok(())
}

/// Queue `hooks` (target, event, payload). One event sent to several webhooks has one id.
fn enqueue(tx: &rusqlite::Transaction<'_>, hooks: &[(String, String, String)]) -> rusqlite::Result<()> {
    let now = now_ms();
    let mut ids: Vec<(&str, &str, String)> = Vec::new();
    for (url, event, payload) in hooks {
        let id = match ids.iter().find(|(e, p, _)| e == event && p == payload) {
            Some((_, _, id)) => id.clone(),
            None => {
                let id = new_event_id();
                ids.push((event, payload, id.clone()));
                id
            }
        };
        tx.execute(
            "INSERT INTO webhook_outbox (created_at, url, event, payload, next_attempt_at, event_id)
             VALUES (?1, ?2, ?3, ?4, ?1, ?5)",
            params![now, url, event, payload, id],
        )?;
    }
    Ok(())
}

impl VersionStore for SqliteStore {
    fn insert_version(&self, v: &NewVersion, actor: &str, reason: &str) -> Result<Inserted, StoreError> {
        self.with(|c| {
            // IMMEDIATE: the write lock is taken before the insert, so the row another writer
            // committed first is the one read back below.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let files = serde_json::to_string(&v.files).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let inserted = tx.execute(
                "INSERT INTO versions (slug, version, owner, display_name, summary, changelog, published_at, fetched_at,
                   source, archive_sha256, archive_size, tree_digest, fingerprint, fingerprint_installed, files_json,
                   state, state_reason, metadata_json, license)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'fetched', ?16, ?17, ?18)
                 ON CONFLICT (slug, version) DO NOTHING",
                params![
                    v.slug, v.version, v.owner, v.display_name, v.summary, v.changelog, v.published_at, now_ms(),
                    v.source, v.archive_sha256, v.archive_size as i64, v.tree_digest, v.fingerprint,
                    v.fingerprint_installed, files, reason, v.metadata_json, v.license
                ],
            )?;
            if inserted == 0 {
                // Pinned by another writer: hand back what won, for the caller to compare.
                let existing = tx.query_row(
                    &format!("SELECT {VERSION_COLS} FROM versions WHERE slug = ?1 AND version = ?2"),
                    params![v.slug, v.version],
                    row_to_version,
                )?;
                return Ok(Inserted::Existing(Box::new(existing)));
            }
            let id = tx.last_insert_rowid();
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: "fetch",
                    slug: &v.slug,
                    version: &v.version,
                    from: None,
                    to: Some(State::Fetched),
                    reason,
                    verdict: None,
                    rules: None,
                },
            )?;
            tx.commit()?;
            Ok(Inserted::New(id))
        })
    }

    fn get_version(&self, slug: &str, version: &str) -> Result<Option<VersionRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                &format!("SELECT {VERSION_COLS} FROM versions WHERE slug = ?1 AND version = ?2"),
                params![slug, version],
                row_to_version,
            )
            .optional()?)
        })
    }

    fn versions(&self, state: Option<State>) -> Result<Vec<VersionRecord>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {VERSION_COLS} FROM versions WHERE (?1 IS NULL OR state = ?1) ORDER BY slug, id"
            ))?;
            let rows = st.query_map(params![state.map(State::as_str)], row_to_version)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn versions_of(&self, slug: &str) -> Result<Vec<VersionRecord>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(&format!("SELECT {VERSION_COLS} FROM versions WHERE slug = ?1 ORDER BY id"))?;
            let rows = st.query_map(params![slug], row_to_version)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn transition(&self, t: &Transition<'_>) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row: Option<(String, String, String)> = tx
                .query_row("SELECT slug, version, state FROM versions WHERE id = ?1", params![t.id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((slug, version, cur)) = row else {
                return Err(StoreError::NotFound(format!("version id {}", t.id)));
            };
            if cur != t.from.as_str() {
                return Err(StoreError::Conflict { key: format!("{slug}@{version}"), expected: t.from });
            }
            if let Some(s) = t.scan {
                let caps = CapabilitiesJson::to_json(&s.capabilities).map_err(|e| StoreError::Malformed(e.to_string()))?;
                let codes = serde_json::to_string(&s.reason_codes).map_err(|e| StoreError::Malformed(e.to_string()))?;
                tx.execute(
                    "UPDATE versions SET verdict = ?2, rules_version = ?3, reason_codes_json = ?4, capabilities_json = ?5,
                       report_json = ?6 WHERE id = ?1",
                    params![t.id, s.verdict.as_str(), s.rules_version, codes, caps, s.report_json],
                )?;
            }
            if let Some(sig) = t.signature {
                tx.execute("UPDATE versions SET signature = ?2 WHERE id = ?1", params![t.id, sig])?;
            }
            let decided = (!t.to.is_pending()).then(now_ms);
            tx.execute(
                "UPDATE versions SET state = ?2, state_reason = ?3, decided_at = COALESCE(?4, decided_at) WHERE id = ?1",
                params![t.id, t.to.as_str(), t.reason, decided],
            )?;
            let (verdict, rules): (Option<String>, Option<String>) =
                tx.query_row("SELECT verdict, rules_version FROM versions WHERE id = ?1", params![t.id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            insert_audit(
                &tx,
                AuditRow {
                    actor: t.actor,
                    action: t.action,
                    slug: &slug,
                    version: &version,
                    from: Some(t.from),
                    to: Some(t.to),
                    reason: t.reason,
                    verdict: verdict.as_deref(),
                    rules: rules.as_deref(),
                },
            )?;
            enqueue(&tx, &t.webhooks)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn update_scan(&self, id: i64, s: &VetOutcome, actor: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let caps = CapabilitiesJson::to_json(&s.capabilities).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let codes = serde_json::to_string(&s.reason_codes).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let n = tx.execute(
                "UPDATE versions SET verdict = ?2, rules_version = ?3, reason_codes_json = ?4, capabilities_json = ?5,
                   report_json = ?6 WHERE id = ?1",
                params![id, s.verdict.as_str(), s.rules_version, codes, caps, s.report_json],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("version id {id}")));
            }
            let (slug, version, state): (String, String, String) =
                tx.query_row("SELECT slug, version, state FROM versions WHERE id = ?1", params![id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            let st: State = state.parse().map_err(StoreError::Malformed)?;
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: "rescan",
                    slug: &slug,
                    version: &version,
                    from: Some(st),
                    to: Some(st),
                    reason: &format!("rescanned: {}", s.verdict),
                    verdict: Some(s.verdict.as_str()),
                    rules: Some(&s.rules_version),
                },
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn owner_has_approved(&self, owner: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM versions WHERE owner = ?1 AND state IN ('approved', 'revoked'))",
                params![owner],
                |r| r.get::<_, bool>(0),
            )?)
        })
    }

    fn approval_action(&self, slug: &str, version: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT action FROM audit WHERE slug = ?1 AND version = ?2 AND to_state = 'approved'
                   AND (from_state IS NULL OR from_state != 'approved') ORDER BY id DESC LIMIT 1",
                params![slug, version],
                |r| r.get::<_, String>(0),
            )
            .optional()?)
        })
    }

    fn signed_versions(&self) -> Result<usize, StoreError> {
        self.with(|c| {
            let n: i64 = c.query_row("SELECT COUNT(*) FROM versions WHERE signature IS NOT NULL", [], |r| r.get(0))?;
            Ok(n.max(0) as usize)
        })
    }

    fn resign(&self, signatures: &[(i64, String)], actor: &str, reason: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for (id, sig) in signatures {
                let row: Option<(String, String, Option<String>, Option<String>)> = tx
                    .query_row(
                        "SELECT slug, version, verdict, rules_version FROM versions WHERE id = ?1 AND state = 'approved'",
                        params![id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()?;
                let Some((slug, version, verdict, rules)) = row else {
                    return Err(StoreError::Conflict { key: format!("version id {id}"), expected: State::Approved });
                };
                tx.execute("UPDATE versions SET signature = ?2 WHERE id = ?1", params![id, sig])?;
                insert_audit(
                    &tx,
                    AuditRow {
                        actor,
                        action: "re-sign",
                        slug: &slug,
                        version: &version,
                        from: Some(State::Approved),
                        to: Some(State::Approved),
                        reason,
                        verdict: verdict.as_deref(),
                        rules: rules.as_deref(),
                    },
                )?;
            }
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: "key-rotate",
                    slug: "-",
                    version: "-",
                    from: None,
                    to: None,
                    reason,
                    verdict: None,
                    rules: None,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
    }
}

impl AuditLog for SqliteStore {
    fn audit(&self, limit: Option<usize>) -> Result<Vec<AuditEvent>, StoreError> {
        self.with(|c| {
            let lim = limit.map(|l| l as i64).unwrap_or(-1);
            let mut st = c.prepare(&format!(
                "SELECT {AUDIT_COLS} FROM (SELECT * FROM audit ORDER BY id DESC LIMIT ?1) ORDER BY id"
            ))?;
            let rows = st.query_map(params![lim], row_to_audit)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl IncidentStore for SqliteStore {
    fn record_alert(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<i64, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO alerts (at, kind, slug, version, pinned_sha256, observed_sha256, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![a.at, a.kind, a.slug, a.version, a.pinned_sha256, a.observed_sha256, a.detail],
            )?;
            let id = tx.last_insert_rowid();
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: a.audit_action(),
                    slug: &a.slug,
                    version: &a.version,
                    from: None,
                    to: None,
                    reason: &a.detail,
                    verdict: None,
                    rules: None,
                },
            )?;
            enqueue(&tx, &webhooks)?;
            tx.commit()?;
            Ok(id)
        })
    }

    fn alerts(&self) -> Result<Vec<IntegrityAlert>, StoreError> {
        self.with(|c| rows(c, &format!("SELECT {ALERT_COLS} FROM alerts ORDER BY id"), row_to_alert))
    }

    fn record_blob_fault(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let opened = tx.execute(
                "INSERT INTO blob_faults (slug, version, archive_sha256, at, detail) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (slug, version) DO NOTHING",
                params![a.slug, a.version, a.pinned_sha256, a.at, a.detail],
            )?;
            if opened == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO alerts (at, kind, slug, version, pinned_sha256, observed_sha256, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![a.at, a.kind, a.slug, a.version, a.pinned_sha256, a.observed_sha256, a.detail],
            )?;
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: "integrity-alert",
                    slug: &a.slug,
                    version: &a.version,
                    from: None,
                    to: None,
                    reason: &a.detail,
                    verdict: None,
                    rules: None,
                },
            )?;
            enqueue(&tx, &webhooks)?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn blob_faults(&self) -> Result<Vec<BlobFault>, StoreError> {
        self.with(|c| {
            rows(
                c,
                "SELECT slug, version, archive_sha256, at, detail FROM blob_faults ORDER BY slug, version",
                row_to_blob_fault,
            )
        })
    }

    fn clear_blob_fault(&self, slug: &str, version: &str, actor: &str, reason: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let closed =
                tx.execute("DELETE FROM blob_faults WHERE slug = ?1 AND version = ?2", params![slug, version])?;
            if closed == 0 {
                return Ok(false);
            }
            insert_audit(
                &tx,
                AuditRow {
                    actor,
                    action: "blob-restored",
                    slug,
                    version,
                    from: None,
                    to: None,
                    reason,
                    verdict: None,
                    rules: None,
                },
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn record_sync_failure(&self, f: &SyncFailure) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sync_failures (at, upstream, slug, version, error) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![f.at, f.upstream, f.slug, f.version, f.error],
            )?;
            Ok(())
        })
    }

    fn sync_failures(&self, limit: usize) -> Result<Vec<SyncFailure>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, at, upstream, slug, version, error FROM sync_failures ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st.query_map(params![limit as i64], row_to_sync_failure)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl TokenStore for SqliteStore {
    fn insert_token(&self, name: &str, role: &str, token_sha256: &str) -> Result<i64, StoreError> {
        self.with(|c| {
            match c.execute(
                "INSERT INTO tokens (name, role, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role, token_sha256, now_ms()],
            ) {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Err(StoreError::AlreadyExists(format!("token {name}")))
                }
                r => {
                    r?;
                    Ok(c.last_insert_rowid())
                }
            }
        })
    }

    fn find_token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT id, name, role, created_at, revoked_at IS NOT NULL FROM tokens WHERE token_sha256 = ?1",
                params![token_sha256],
                |r| {
                    Ok(TokenRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        role: r.get(2)?,
                        created_at: r.get(3)?,
                        revoked: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT id, name, role, created_at, revoked_at IS NOT NULL FROM tokens ORDER BY id")?;
            let rows = st.query_map([], |r| {
                Ok(TokenRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                    created_at: r.get(3)?,
                    revoked: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now_ms()],
            )? > 0)
        })
    }

    fn tokens_with_hashes(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT token_sha256, role FROM tokens WHERE revoked_at IS NULL")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl WebhookOutbox for SqliteStore {
    fn due_webhooks(&self, now: i64, max_attempts: u32) -> Result<Vec<OutboxItem>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, url, event, payload, attempts, event_id FROM webhook_outbox
                 WHERE delivered_at IS NULL AND next_attempt_at <= ?1 AND attempts < ?2 ORDER BY id LIMIT 100",
            )?;
            let rows = st.query_map(params![now, max_attempts], |r| {
                Ok(OutboxItem {
                    id: r.get(0)?,
                    target: r.get(1)?,
                    event: r.get(2)?,
                    payload: r.get(3)?,
                    attempts: r.get(4)?,
                    event_id: r
                        .get::<_, Option<String>>(5)?
                        .unwrap_or_else(|| format!("outbox-{}", r.get::<_, i64>(0).unwrap_or(0))),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn webhook_delivered(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(())
        })
    }

    fn webhook_failed(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, next_attempt_at, error],
            )?;
            Ok(())
        })
    }
}

impl Transfer for SqliteStore {
    fn export(&self) -> Result<Export, StoreError> {
        self.with(|c| {
            // One read transaction: under WAL, a consistent state while writers go on.
            let tx = c.transaction()?;
            let e = Export {
                versions: rows(&tx, &format!("SELECT {VERSION_COLS} FROM versions ORDER BY id"), row_to_version)?,
                audit: rows(&tx, &format!("SELECT {AUDIT_COLS} FROM audit ORDER BY id"), row_to_audit)?,
                alerts: rows(&tx, &format!("SELECT {ALERT_COLS} FROM alerts ORDER BY id"), row_to_alert)?,
                sync_failures: rows(
                    &tx,
                    "SELECT id, at, upstream, slug, version, error FROM sync_failures ORDER BY id",
                    row_to_sync_failure,
                )?,
                tokens: rows(
                    &tx,
                    "SELECT id, name, role, token_sha256, created_at, revoked_at FROM tokens ORDER BY id",
                    |r| {
                        Ok(TokenRow {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            role: r.get(2)?,
                            token_sha256: r.get(3)?,
                            created_at: r.get(4)?,
                            revoked_at: r.get(5)?,
                        })
                    },
                )?,
                outbox: rows(
                    &tx,
                    "SELECT id, created_at, url, event, payload, attempts, next_attempt_at, delivered_at, last_error,
                       event_id FROM webhook_outbox ORDER BY id",
                    |r| {
                        Ok(OutboxRow {
                            id: r.get(0)?,
                            created_at: r.get(1)?,
                            target: r.get(2)?,
                            event: r.get(3)?,
                            payload: r.get(4)?,
                            attempts: r.get(5)?,
                            next_attempt_at: r.get(6)?,
                            delivered_at: r.get(7)?,
                            last_error: r.get(8)?,
                            event_id: r
                                .get::<_, Option<String>>(9)?
                                .unwrap_or_else(|| format!("outbox-{}", r.get::<_, i64>(0).unwrap_or(0))),
                        })
                    },
                )?,
                blob_faults: rows(
                    &tx,
                    "SELECT slug, version, archive_sha256, at, detail FROM blob_faults ORDER BY slug, version",
                    row_to_blob_fault,
                )?,
            };
            tx.commit()?;
            Ok(e)
        })
    }

    fn import(&self, e: &Export) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let held: i64 = tx.query_row(
                "SELECT (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM tokens)
                   + (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM sync_failures)
                   + (SELECT COUNT(*) FROM webhook_outbox) + (SELECT COUNT(*) FROM blob_faults)",
                [],
                |r| r.get(0),
            )?;
            if held > 0 {
                return Err(StoreError::AlreadyExists("a mirror in the target database".into()));
            }
            for v in &e.versions {
                let files = serde_json::to_string(&v.files).map_err(|x| StoreError::Malformed(x.to_string()))?;
                let codes = serde_json::to_string(&v.reason_codes).map_err(|x| StoreError::Malformed(x.to_string()))?;
                let caps = v
                    .capabilities
                    .as_ref()
                    .map(CapabilitiesJson::to_json)
                    .transpose()
                    .map_err(|x| StoreError::Malformed(x.to_string()))?;
                tx.execute(
                    &format!(
                        "INSERT INTO versions ({VERSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
                         ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)"
                    ),
                    params![
                        v.id,
                        v.slug,
                        v.version,
                        v.owner,
                        v.display_name,
                        v.summary,
                        v.changelog,
                        v.published_at,
                        v.fetched_at,
                        v.decided_at,
                        v.source,
                        v.archive_sha256,
                        v.archive_size as i64,
                        v.tree_digest,
                        v.fingerprint,
                        v.fingerprint_installed,
                        files,
                        v.state.as_str(),
                        v.state_reason,
                        v.verdict.map(|x| x.as_str()),
                        v.rules_version,
                        codes,
                        caps,
                        v.report_json,
                        v.signature,
                        v.metadata_json,
                        v.license
                    ],
                )?;
            }
            for a in &e.audit {
                tx.execute(
                    "INSERT INTO audit (id, at, actor, action, slug, version, from_state, to_state, reason, verdict,
                       rules_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        a.id,
                        a.at,
                        a.actor,
                        a.action,
                        a.slug,
                        a.version,
                        a.from_state,
                        a.to_state,
                        a.reason,
                        a.verdict,
                        a.rules_version
                    ],
                )?;
            }
            for a in &e.alerts {
                tx.execute(
                    "INSERT INTO alerts (id, at, kind, slug, version, pinned_sha256, observed_sha256, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![a.id, a.at, a.kind, a.slug, a.version, a.pinned_sha256, a.observed_sha256, a.detail],
                )?;
            }
            for f in &e.sync_failures {
                tx.execute(
                    "INSERT INTO sync_failures (id, at, upstream, slug, version, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![f.id, f.at, f.upstream, f.slug, f.version, f.error],
                )?;
            }
            for t in &e.tokens {
                tx.execute(
                    "INSERT INTO tokens (id, name, role, token_sha256, created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![t.id, t.name, t.role, t.token_sha256, t.created_at, t.revoked_at],
                )?;
            }
            for o in &e.outbox {
                tx.execute(
                    "INSERT INTO webhook_outbox (id, created_at, url, event, payload, attempts, next_attempt_at,
                       delivered_at, last_error, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        o.id,
                        o.created_at,
                        o.target,
                        o.event,
                        o.payload,
                        o.attempts,
                        o.next_attempt_at,
                        o.delivered_at,
                        o.last_error,
                        o.event_id
                    ],
                )?;
            }
            for f in &e.blob_faults {
                tx.execute(
                    "INSERT INTO blob_faults (slug, version, archive_sha256, at, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![f.slug, f.version, f.archive_sha256, f.at, f.detail],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

impl MetaStore for SqliteStore {
    fn revision(&self) -> Result<u64, StoreError> {
        let n: i64 = self.with(|c| Ok(c.query_row("SELECT n FROM revision WHERE id = 1", [], |r| r.get(0))?))?;
        u64::try_from(n).map_err(|_| StoreError::Malformed(format!("revision {n} is negative")))
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn new_version(slug: &str, version: &str) -> NewVersion {
        NewVersion {
            slug: slug.into(),
            version: version.into(),
            owner: Some("acme".into()),
            display_name: "X".into(),
            summary: None,
            changelog: String::new(),
            published_at: 1,
            source: "test".into(),
            archive_sha256: "a".repeat(64),
            archive_size: 1,
            tree_digest: "sha256:x".into(),
            fingerprint: "f".into(),
            fingerprint_installed: "g".into(),
            files: vec![],
            metadata_json: None,
            license: None,
        }
    }

    #[test]
    fn audit_is_append_only_and_pins_immutable() {
        let s = SqliteStore::open_in_memory().unwrap();
        let Inserted::New(id) = s.insert_version(&new_version("a", "1.0.0"), "t", "r").unwrap() else {
            panic!("a new version was not inserted")
        };
        // A second insert of the same slug@version hands back the pinned row instead.
        let other = NewVersion { archive_sha256: "b".repeat(64), ..new_version("a", "1.0.0") };
        match s.insert_version(&other, "t", "r").unwrap() {
            Inserted::Existing(v) => assert_eq!((v.id, v.archive_sha256.as_str()), (id, "a".repeat(64).as_str())),
            Inserted::New(_) => panic!("a pinned version was inserted twice"),
        }
        s.with(|c| {
            assert!(c.execute("DELETE FROM audit", []).is_err());
            assert!(c.execute("UPDATE audit SET reason = 'x'", []).is_err());
            assert!(c.execute("UPDATE versions SET archive_sha256 = 'b'", []).is_err());
            assert!(c.execute("DELETE FROM versions", []).is_err());
            Ok(())
        })
        .unwrap();
        let t = Transition {
            id,
            from: State::Scanned,
            to: State::Approved,
            actor: "t",
            action: "approve",
            reason: "r",
            scan: None,
            signature: None,
            webhooks: vec![],
        };
        assert!(matches!(s.transition(&t), Err(StoreError::Conflict { .. })));
        let t = Transition { from: State::Fetched, to: State::Quarantined, ..t };
        s.transition(&t).unwrap();
        assert_eq!(s.get_version("a", "1.0.0").unwrap().unwrap().state, State::Quarantined);
        assert_eq!(s.audit(None).unwrap().len(), 2);
    }
}
