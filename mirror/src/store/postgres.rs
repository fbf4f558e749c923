//! PostgreSQL metadata store: the same tables, triggers and semantics as [`super::sqlite`], in a
//! database that several replicas share.
//!
//! # Calls from sync code, inside or outside an async context
//!
//! The traits are synchronous; callers run them on tokio's blocking pool, but may also call from
//! a plain thread or (by mistake) from inside an async task. The store owns a small tokio runtime
//! of its own (threads named `pg-io`) that runs the client's I/O and the connection pool. Each
//! call spawns its future on that runtime and waits for the answer on a `std::sync::mpsc`
//! channel. It never uses `Runtime::block_on`/`Handle::block_on` on the caller's thread: those
//! panic when the caller is already inside a runtime ("Cannot start a runtime from within a
//! runtime"), which is also why the sync `postgres` crate (a `block_on` wrapper) is not used.
//! Waiting on a channel is plain thread blocking: at worst it occupies the caller's worker, like
//! the SQLite store's mutex does. The runtime is shut down without blocking when the store is
//! dropped (`shutdown_background`), so dropping it inside an async context does not panic either.
//!
//! # Connections
//!
//! A pool of at most [`POOL_SIZE`] connections (deadpool). A connection that died (server
//! restart, `pg_terminate_backend`, network cut) is dropped from the pool and a new one made on
//! the next call; a call that hit a dead connection before it sent `COMMIT` is retried on a new
//! one (the server rolled that transaction back). A `COMMIT` whose answer was lost is never
//! retried: it may have committed, and the error says so.
//!
//! Timeouts: [`CONNECT_TIMEOUT`] for each connection (unless the URL sets `connect_timeout`),
//! `statement_timeout` ([`STATEMENT_TIMEOUT`]: a stuck database or a lock held forever fails
//! the statement instead of hanging the request), `idle_in_transaction_session_timeout` (a
//! client that vanished mid-transaction releases its locks), and [`CALL_TIMEOUT`] over a whole
//! call on our side (a network that stopped answering: the server cannot time that out).
//!
//! TLS: `sslmode=require` in the URL connects with rustls (the one TLS stack of the project)
//! and the system's root certificates, verifying the server's certificate and host name (so it
//! is stricter than libpq's `require`, which checks neither: it is libpq's `verify-full`).
//! Without it (`disable`, or the default `prefer`) the connection is plain, which is meant for
//! loopback or a private network; `prefer` does not try TLS.
//!
//! Errors never carry the connection URL (it may hold the password): a URL that does not parse
//! is reported without its text, and the client's own errors do not include it.
//!
//! # Schema and concurrency
//!
//! Versioned migrations (`mirror/migrations/postgres/NNNN_*.sql`, embedded) are applied at
//! connect, in order, in one transaction holding `pg_advisory_xact_lock(MIGRATION_LOCK)`, so
//! replicas starting together do not race; `schema_migrations(version, applied_at)` records
//! them. A database migrated by a newer build (a version this build does not know) is refused.
//!
//! Every state change is one transaction at READ COMMITTED, and writers take turns as SQLite's
//! do: each write transaction first locks the one-row `revision` table (which every write
//! updates anyway), so ids are handed out in commit order and writers cannot deadlock. The
//! decisions do not rely on that lock alone: a transition is a row-level compare-and-set
//! (`UPDATE versions ... WHERE id = $1 AND state = $from`; at READ COMMITTED a writer that
//! waited for another's row lock re-checks the condition against the committed row, so exactly
//! one of two concurrent deciders wins and the other gets [`StoreError::Conflict`]), and
//! insert-or-read is `INSERT ... ON CONFLICT DO NOTHING` (which waits for a concurrent insert of
//! the same key to commit or abort, so the row read back is the one that won). REPEATABLE READ
//! would add nothing for these single-row decisions and would fail concurrent writers with
//! serialization errors on the `revision` row; it is used only for [`Transfer::export`], whose
//! reads must all see one snapshot. Serialization failures and deadlocks (SQLSTATE 40001,
//! 40P01) are retried anyway, a bounded number of times ([`MAX_ATTEMPTS`]).
//!
//! # Tests
//!
//! [`PgStore::connect_with_schema`] creates a schema (if missing) and sets `search_path` to it
//! on every connection of the store, so each test gets a database of its own inside one
//! server and tests run in parallel; a second handle on the same schema is a second replica.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, IsolationLevel, NoTls, Row};

use super::{
    AuditLog, Export, IncidentStore, Inserted, MetaStore, NewVersion, OutboxItem, OutboxRow, StoreError, TokenRecord,
    TokenRow, TokenStore, Transfer, Transition, VersionStore, WebhookOutbox,
};
use crate::model::{AuditEvent, BlobFault, IntegrityAlert, State, SyncFailure, VersionRecord, now_ms};
use crate::vetting::{CapabilitiesJson, VetOutcome};

const BACKEND: &str = "postgres";

/// The migrations, in order: `(version, SQL)`. Append only; never edit one that was released.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("../../migrations/postgres/0001_init.sql"))];

/// The advisory lock key that serialises migrations (ASCII "skillsca").
const MIGRATION_LOCK: i64 = 0x736b_696c_6c73_6361;

/// Connections per store handle. Writes are rare and reads are served from memory; a few
/// connections let a decision go on while the server polls `revision()`.
pub const POOL_SIZE: usize = 4;
/// Time to open one connection (TCP, TLS, authentication), unless the URL sets `connect_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The server cancels any statement that runs (or waits for a lock) longer than this.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// The server ends a session left idle inside a transaction this long (releasing its locks).
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest one call may take on our side, retries included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(90);
/// Attempts of one call when it hits a serialization failure, a deadlock or a dead connection.
pub const MAX_ATTEMPTS: u32 = 5;

pub struct PgStore {
    /// `Some` until dropped; taken by `Drop` to shut it down without blocking.
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No URL here: it may hold the password.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            // Dropping a runtime blocks (and panics inside an async context); this does neither.
            rt.shutdown_background();
        }
    }
}

/// Why a call failed, before it becomes a [`StoreError`]: the client's error is kept to decide
/// whether a retry is safe.
enum Fail {
    Pg(tokio_postgres::Error),
    /// `COMMIT` itself failed: retried only if the server certainly rolled back.
    Commit(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Fail {
        Fail::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

fn malformed(e: impl std::fmt::Display) -> Fail {
    Fail::Store(StoreError::Malformed(e.to_string()))
}

/// The client's error, for a [`StoreError`]: the server's message and SQLSTATE, or the
/// client's description with its causes (`error performing TLS handshake: invalid peer
/// certificate: UnknownIssuer`). None of them holds the connection URL: the client's only
/// error quoting the URL is the one of parsing it, which `PgStore::open` reports without it.
fn pg_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
    }
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    message
}

fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    StoreError::backend(BACKEND, pg_message(e))
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => pg_error(&e),
        PoolError::Timeout(kind) => {
            StoreError::backend(BACKEND, format!("timed out waiting for a connection ({kind:?})"))
        }
        other => StoreError::backend(BACKEND, other),
    }
}

enum Retry {
    No,
    /// Serialization failure or deadlock: the transaction was rolled back.
    Again,
    /// The connection died before `COMMIT` was sent: the transaction was rolled back.
    Reconnect,
}

fn is_serialization(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// Errors of a connection that is gone: closed socket, or the server ending the session
/// (administrator or crash shutdown, `pg_terminate_backend`, connection exceptions).
fn is_connection_lost(e: &tokio_postgres::Error, closed: bool) -> bool {
    if closed || e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || c.code().starts_with("08")
        }
        // No SQLSTATE: an I/O error on the socket.
        None => e.as_db_error().is_none() && std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

fn classify(f: Fail, closed: bool) -> (StoreError, Retry) {
    match f {
        Fail::Store(e) => (e, Retry::No),
        Fail::Pg(e) if is_serialization(&e) => (pg_error(&e), Retry::Again),
        Fail::Pg(e) if is_connection_lost(&e, closed) => (pg_error(&e), Retry::Reconnect),
        Fail::Pg(e) => (pg_error(&e), Retry::No),
        Fail::Commit(e) if is_serialization(&e) => (pg_error(&e), Retry::Again),
        // The server answered with an error (a deferred trigger failed, a timeout): rolled back.
        Fail::Commit(e) if e.as_db_error().is_some() => (pg_error(&e), Retry::No),
        // No answer: the commit may have happened or not, so it is not repeated.
        Fail::Commit(e) => (
            StoreError::backend(
                BACKEND,
                format!("COMMIT failed, it may or may not have committed: {}", pg_message(&e)),
            ),
            Retry::No,
        ),
    }
}

/// After a failed attempt: drop a dead connection from the pool, back off before another try.
async fn after_failure(client: Object, retry: &Retry, attempt: u32) {
    if client.is_closed() || matches!(retry, Retry::Reconnect) {
        drop(Object::take(client));
    } else {
        drop(client);
    }
    if matches!(retry, Retry::Again) {
        tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
    }
}

/// What kind of transaction a call runs in.
#[derive(Clone, Copy)]
struct TxKind {
    level: IsolationLevel,
    read_only: bool,
    /// Take the writers' lock first (see [`lock_writers`]).
    lock_writers: bool,
}

/// A state change: READ COMMITTED, under the writers' lock.
const WRITE: TxKind = TxKind { level: IsolationLevel::ReadCommitted, read_only: false, lock_writers: true };
/// Several reads that must see one committed state.
const SNAPSHOT: TxKind = TxKind { level: IsolationLevel::RepeatableRead, read_only: true, lock_writers: false };
/// Schema changes, which take their own (advisory) lock: the `revision` table may not exist yet.
const MIGRATION: TxKind = TxKind { level: IsolationLevel::ReadCommitted, read_only: false, lock_writers: false };

/// Writers take turns, as SQLite's do (`BEGIN IMMEDIATE`): every write transaction first locks
/// the one `revision` row, which every write also updates. So row ids are handed out in commit
/// order (a reader never sees audit event or outbox row N+1 committed before N, and "the newest
/// N" by id are the last N committed), the compare-and-sets never wait on each other half-way,
/// and no two writers can deadlock. Writes are rare; reads take no lock.
async fn lock_writers(tx: &tokio_postgres::Transaction<'_>) -> Result<(), Fail> {
    tx.query_one("SELECT n FROM revision WHERE id = 1 FOR UPDATE", &[]).await?;
    Ok(())
}

/// Run `$body` (a block using `$tx`, a `&Transaction`, evaluating to `Result<T, Fail>`) in one
/// transaction ([`WRITE`] unless another [`TxKind`] is given) and commit it; retried on
/// serialization failures, deadlocks and connections lost before `COMMIT`. Evaluates to
/// `Result<T, StoreError>`.
macro_rules! in_tx {
    ($pool:expr, |$tx:ident| $body:block) => {
        in_tx!($pool, WRITE, |$tx| $body)
    };
    ($pool:expr, $kind:expr, |$tx:ident| $body:block) => {
        async {
            let kind: TxKind = $kind;
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let mut client = $pool.get().await.map_err(pool_error)?;
                let outcome: Result<_, Fail> = async {
                    let $tx = client
                        .build_transaction()
                        .isolation_level(kind.level)
                        .read_only(kind.read_only)
                        .start()
                        .await?;
                    if kind.lock_writers {
                        lock_writers(&$tx).await?;
                    }
                    let value: Result<_, Fail> = async {
                        let $tx = &$tx;
                        $body
                    }
                    .await;
                    let value = value?;
                    $tx.commit().await.map_err(Fail::Commit)?;
                    Ok(value)
                }
                .await;
                match outcome {
                    Ok(v) => return Ok(v),
                    Err(f) => {
                        let (e, retry) = classify(f, client.is_closed());
                        if matches!(retry, Retry::No) || attempt >= MAX_ATTEMPTS {
                            return Err(e);
                        }
                        after_failure(client, &retry, attempt).await;
                    }
                }
            }
        }
        .await
    };
}

/// Run `$body` (a block using `$c`, a `&ClientWrapper`, evaluating to `Result<T, Fail>`): reads,
/// one statement each, retried like [`in_tx`] (a read is safe to repeat).
macro_rules! read {
    ($pool:expr, |$c:ident| $body:block) => {
        async {
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let client = $pool.get().await.map_err(pool_error)?;
                let outcome: Result<_, Fail> = async {
                    // A `Client` (through `Deref`) with `prepare_cached` for the polled reads.
                    let $c: &deadpool_postgres::ClientWrapper = &client;
                    $body
                }
                .await;
                match outcome {
                    Ok(v) => return Ok(v),
                    Err(f) => {
                        let (e, retry) = classify(f, client.is_closed());
                        if matches!(retry, Retry::No) || attempt >= MAX_ATTEMPTS {
                            return Err(e);
                        }
                        after_failure(client, &retry, attempt).await;
                    }
                }
            }
        }
        .await
    };
}

/// A schema name [`PgStore::connect_with_schema`] accepts: a plain lower-case identifier, so
/// it needs no quoting in `search_path` or SQL.
fn valid_schema(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
        && !s.starts_with("pg_")
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://` or `postgresql://`, libpq's URL form:
    /// `postgres://user:password@host:port/db?sslmode=require&connect_timeout=5`) and apply
    /// the migrations it lacks. The tables live in the role's default schema (`search_path`).
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        Self::open(url, None)
    }

    /// Like [`PgStore::connect`], with every table in `schema` (created if missing; a plain
    /// lower-case identifier): each connection of the store sets `search_path` to it and
    /// nothing else. Tests give each test a fresh random schema, so they run in parallel on one
    /// database without seeing each other; two stores on the same schema are two replicas.
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        if !valid_schema(schema) {
            return Err(StoreError::backend(
                BACKEND,
                format!("schema name {schema:?} is not a plain lower-case identifier"),
            ));
        }
        Self::open(url, Some(schema))
    }

    fn open(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::backend(BACKEND, "the database URL must start with postgres:// or postgresql://"));
        }
        // The parser's message may quote part of the URL (an option name cut out of a password
        // holding `?`): say only that it did not parse, and what is commonly at fault.
        let mut config: Config = url.parse().map_err(|_| {
            StoreError::backend(
                BACKEND,
                "the database URL does not parse (not shown: it may hold a password); percent-encode \
                 special characters in the password, and use only options this client knows (sslmode is \
                 disable, prefer or require; sslrootcert, sslcert and sslkey are not supported)",
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("skillscan-mirror");
        }
        // Dead peers are noticed within minutes, not the kernel's default two hours.
        config.keepalives(true).keepalives_idle(Duration::from_secs(60));
        // Server settings for every session: our timeouts first, so that the URL's own
        // `options` (e.g. `options=-c%20statement_timeout%3D5000`) override them; the schema
        // of `connect_with_schema` last, so nothing overrides it.
        let mut options = format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            STATEMENT_TIMEOUT.as_millis(),
            IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
        );
        if let Some(own) = config.get_options() {
            options.push(' ');
            options.push_str(own);
        }
        if let Some(schema) = schema {
            options.push_str(&format!(" -c search_path={schema}"));
        }
        config.options(&options);

        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            Manager::from_config(config, tls_connector()?, manager_config)
        } else {
            Manager::from_config(config, NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(STATEMENT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pg-io")
            .enable_all()
            .build()
            .map_err(|e| StoreError::backend(BACKEND, format!("cannot start the I/O runtime: {e}")))?;
        let store = PgStore { rt: Some(rt), pool };
        let schema = schema.map(str::to_owned);
        store.call(move |pool| async move { migrate(&pool, schema.as_deref()).await })?;
        Ok(store)
    }

    /// Run `f` on the store's runtime and wait for its answer on a channel (see the module
    /// documentation: never `block_on` on the caller's thread).
    fn call<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let Some(rt) = &self.rt else {
            return Err(StoreError::backend(BACKEND, "the store is shut down"));
        };
        let (send, recv) = mpsc::sync_channel(1);
        let fut = f(self.pool.clone());
        rt.spawn(async move {
            let r = match tokio::time::timeout(CALL_TIMEOUT, fut).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::backend(
                    BACKEND,
                    format!("no answer from the database within {} s", CALL_TIMEOUT.as_secs()),
                )),
            };
            let _ = send.send(r);
        });
        // A task that panicked drops its sender: an error, not a panic here.
        recv.recv().unwrap_or_else(|_| Err(StoreError::backend(BACKEND, "the database call was aborted")))
    }

    /// The migrations recorded in `schema_migrations` (for tests and `/status`).
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let row = c.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?;
                row.try_get::<_, i32>(0).map_err(malformed)
            })
        })
    }
}

/// rustls with the system's root certificates (`sslmode=require`).
fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(StoreError::backend(BACKEND, "sslmode=require: no usable root certificate on this system"));
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::backend(BACKEND, format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Apply the migrations the database lacks, in order, in one transaction under an advisory
/// lock (replicas starting together wait for each other; the second finds nothing to do).
async fn migrate(pool: &Pool, schema: Option<&str>) -> Result<(), StoreError> {
    in_tx!(pool, MIGRATION, |tx| {
        tx.query_one("SELECT pg_advisory_xact_lock($1)::text", &[&MIGRATION_LOCK]).await?;
        if let Some(schema) = schema {
            // `schema` is a checked plain identifier (valid_schema).
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        let mut applied = Vec::new();
        for row in tx.query("SELECT version FROM schema_migrations", &[]).await? {
            applied.push(row.try_get::<_, i32>(0).map_err(malformed)?);
        }
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if let Some(newer) = applied.iter().copied().find(|v| *v > known) {
            return Err(Fail::Store(StoreError::Malformed(format!(
                "the database schema is at migration {newer}, newer than this build knows ({known}): upgrade skillscan-mirror"
            ))));
        }
        for (version, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(sql).await?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[version, &now_ms()])
                .await?;
        }
        Ok(())
    })
}

macro_rules! version_cols {
    () => {
        "id, slug, version, owner, display_name, summary, changelog, published_at, \
         fetched_at, decided_at, source, archive_sha256, archive_size, tree_digest, fingerprint, \
         fingerprint_installed, files_json, state, state_reason, verdict, rules_version, reason_codes_json, \
         capabilities_json, report_json, signature, metadata_json, license"
    };
}

/// Column `i` of `r`, or [`StoreError::Malformed`] if it is missing or of another type.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, Fail> {
    r.try_get(i).map_err(|e| malformed(format!("column {i}: {e}")))
}

fn row_to_version(r: &Row) -> Result<VersionRecord, Fail> {
    let files: String = col(r, 16)?;
    let state: String = col(r, 17)?;
    let verdict: Option<String> = col(r, 19)?;
    let codes: String = col(r, 21)?;
    let caps: Option<String> = col(r, 22)?;
    let size: i64 = col(r, 12)?;
    Ok(VersionRecord {
        id: col(r, 0)?,
        slug: col(r, 1)?,
        version: col(r, 2)?,
        owner: col(r, 3)?,
        display_name: col(r, 4)?,
        summary: col(r, 5)?,
        changelog: col(r, 6)?,
        published_at: col(r, 7)?,
        fetched_at: col(r, 8)?,
        decided_at: col(r, 9)?,
        source: col(r, 10)?,
        archive_sha256: col(r, 11)?,
        archive_size: u64::try_from(size).map_err(|_| malformed(format!("archive size {size} is negative")))?,
        tree_digest: col(r, 13)?,
        fingerprint: col(r, 14)?,
        fingerprint_installed: col(r, 15)?,
        files: serde_json::from_str(&files).map_err(malformed)?,
        state: state.parse().map_err(malformed)?,
        state_reason: col(r, 18)?,
        verdict: verdict.map(|v| v.parse()).transpose().map_err(malformed)?,
        rules_version: col(r, 20)?,
        reason_codes: serde_json::from_str(&codes).map_err(malformed)?,
        capabilities: caps.map(|c| CapabilitiesJson::from_json(&c)).transpose().map_err(malformed)?,
        report_json: col(r, 23)?,
        signature: col(r, 24)?,
        metadata_json: col(r, 25)?,
        license: col(r, 26)?,
    })
}

fn row_to_audit(r: &Row) -> Result<AuditEvent, Fail> {
    Ok(AuditEvent {
        id: col(r, 0)?,
        at: col(r, 1)?,
        actor: col(r, 2)?,
        action: col(r, 3)?,
        slug: col(r, 4)?,
        version: col(r, 5)?,
        from_state: col(r, 6)?,
        to_state: col(r, 7)?,
        reason: col(r, 8)?,
        verdict: col(r, 9)?,
        rules_version: col(r, 10)?,
    })
}

fn row_to_alert(r: &Row) -> Result<IntegrityAlert, Fail> {
    Ok(IntegrityAlert {
        id: col(r, 0)?,
        at: col(r, 1)?,
        kind: col(r, 2)?,
        slug: col(r, 3)?,
        version: col(r, 4)?,
        pinned_sha256: col(r, 5)?,
        observed_sha256: col(r, 6)?,
        detail: col(r, 7)?,
    })
}

fn row_to_sync_failure(r: &Row) -> Result<SyncFailure, Fail> {
    Ok(SyncFailure {
        id: col(r, 0)?,
        at: col(r, 1)?,
        upstream: col(r, 2)?,
        slug: col(r, 3)?,
        version: col(r, 4)?,
        error: col(r, 5)?,
    })
}

fn row_to_blob_fault(r: &Row) -> Result<BlobFault, Fail> {
    Ok(BlobFault {
        slug: col(r, 0)?,
        version: col(r, 1)?,
        archive_sha256: col(r, 2)?,
        at: col(r, 3)?,
        detail: col(r, 4)?,
    })
}

fn attempts(id: i64, n: i64) -> Result<u32, Fail> {
    u32::try_from(n).map_err(|_| malformed(format!("outbox row {id}: {n} attempts")))
}

const SELECT_AUDIT: &str =
    "SELECT id, at, actor, action, slug, version, from_state, to_state, reason, verdict, rules_version FROM audit";
const SELECT_ALERTS: &str =
    "SELECT id, at, kind, slug, version, pinned_sha256, observed_sha256, detail FROM alerts ORDER BY id";
const SELECT_BLOB_FAULTS: &str =
    "SELECT slug, version, archive_sha256, at, detail FROM blob_faults ORDER BY slug, version";

fn row_to_token(r: &Row) -> Result<TokenRecord, Fail> {
    Ok(TokenRecord { id: col(r, 0)?, name: col(r, 1)?, role: col(r, 2)?, created_at: col(r, 3)?, revoked: col(r, 4)? })
}

/// A new event id: 128 random bits, hex (as the SQLite store makes them). Falls back to time
/// and a counter if the OS has no randomness to give (an id must be unique, not secret).
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

async fn insert_audit(tx: &tokio_postgres::Transaction<'_>, a: AuditRow<'_>) -> Result<(), Fail> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, slug, version, from_state, to_state, reason, verdict, rules_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &now_ms(),
            &a.actor,
            &a.action,
            &a.slug,
            &a.version,
            &a.from.map(State::as_str),
            &a.to.map(State::as_str),
            &a.reason,
            &a.verdict,
            &a.rules,
        ],
    )
    .await?;
    Ok(())
}

/// Queue `hooks` (target, event, payload). One event sent to several webhooks has one id.
async fn enqueue(tx: &tokio_postgres::Transaction<'_>, hooks: &[(String, String, String)]) -> Result<(), Fail> {
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
             VALUES ($1, $2, $3, $4, $1, $5)",
            &[&now, url, event, payload, &id],
        )
        .await?;
    }
    Ok(())
}

/// A scan result as the columns store it.
struct ScanCols {
    verdict: &'static str,
    rules_version: String,
    codes: String,
    caps: String,
    report_json: String,
}

impl ScanCols {
    fn new(s: &VetOutcome) -> Result<ScanCols, StoreError> {
        Ok(ScanCols {
            verdict: s.verdict.as_str(),
            rules_version: s.rules_version.clone(),
            codes: serde_json::to_string(&s.reason_codes).map_err(|e| StoreError::Malformed(e.to_string()))?,
            caps: CapabilitiesJson::to_json(&s.capabilities).map_err(|e| StoreError::Malformed(e.to_string()))?,
            report_json: s.report_json.clone(),
        })
    }
}

const UPDATE_SCAN: &str = "UPDATE versions SET verdict = $2, rules_version = $3, reason_codes_json = $4, \
    capabilities_json = $5, report_json = $6 WHERE id = $1 RETURNING slug, version, state";

impl VersionStore for PgStore {
    fn insert_version(&self, v: &NewVersion, actor: &str, reason: &str) -> Result<Inserted, StoreError> {
        let v = v.clone();
        let (actor, reason) = (actor.to_owned(), reason.to_owned());
        let files = serde_json::to_string(&v.files).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let size = i64::try_from(v.archive_size)
            .map_err(|_| StoreError::Malformed(format!("archive size {} is too large", v.archive_size)))?;
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                // ON CONFLICT waits for a concurrent insert of the same key to commit or abort, so
                // the row read below is the one that won.
                let inserted = tx
                    .query_opt(
                        "INSERT INTO versions (slug, version, owner, display_name, summary, changelog, published_at,
                           fetched_at, source, archive_sha256, archive_size, tree_digest, fingerprint,
                           fingerprint_installed, files_json, state, state_reason, metadata_json, license)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'fetched', $16, $17, $18)
                         ON CONFLICT (slug, version) DO NOTHING RETURNING id",
                        &[
                            &v.slug,
                            &v.version,
                            &v.owner,
                            &v.display_name,
                            &v.summary,
                            &v.changelog,
                            &v.published_at,
                            &now_ms(),
                            &v.source,
                            &v.archive_sha256,
                            &size,
                            &v.tree_digest,
                            &v.fingerprint,
                            &v.fingerprint_installed,
                            &files,
                            &reason,
                            &v.metadata_json,
                            &v.license,
                        ],
                    )
                    .await?;
                let Some(row) = inserted else {
                    // Pinned by another writer: hand back what won, for the caller to compare.
                    // (A new statement at READ COMMITTED sees the row that made ON CONFLICT fire.)
                    let existing = tx
                        .query_opt(
                            concat!("SELECT ", version_cols!(), " FROM versions WHERE slug = $1 AND version = $2"),
                            &[&v.slug, &v.version],
                        )
                        .await?
                        .ok_or_else(|| malformed(format!("{}@{} conflicted but cannot be read", v.slug, v.version)))?;
                    return Ok(Inserted::Existing(Box::new(row_to_version(&existing)?)));
                };
                let id: i64 = col(&row, 0)?;
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: "fetch",
                        slug: &v.slug,
                        version: &v.version,
                        from: None,
                        to: Some(State::Fetched),
                        reason: &reason,
                        verdict: None,
                        rules: None,
                    },
                )
                .await?;
                Ok(Inserted::New(id))
            })
        })
    }

    fn get_version(&self, slug: &str, version: &str) -> Result<Option<VersionRecord>, StoreError> {
        let (slug, version) = (slug.to_owned(), version.to_owned());
        self.call(move |pool| async move {
            read!(pool, |c| {
                let row = c
                    .query_opt(
                        concat!("SELECT ", version_cols!(), " FROM versions WHERE slug = $1 AND version = $2"),
                        &[&slug, &version],
                    )
                    .await?;
                row.as_ref().map(row_to_version).transpose()
            })
        })
    }

    fn versions(&self, state: Option<State>) -> Result<Vec<VersionRecord>, StoreError> {
        let state = state.map(State::as_str);
        self.call(move |pool| async move {
            read!(pool, |c| {
                let rows = c
                    .query(
                        concat!(
                            "SELECT ",
                            version_cols!(),
                            " FROM versions WHERE ($1::TEXT IS NULL OR state = $1::TEXT) ORDER BY slug, id"
                        ),
                        &[&state],
                    )
                    .await?;
                rows.iter().map(row_to_version).collect()
            })
        })
    }

    fn versions_of(&self, slug: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let slug = slug.to_owned();
        self.call(move |pool| async move {
            read!(pool, |c| {
                let rows = c
                    .query(concat!("SELECT ", version_cols!(), " FROM versions WHERE slug = $1 ORDER BY id"), &[&slug])
                    .await?;
                rows.iter().map(row_to_version).collect()
            })
        })
    }

    fn transition(&self, t: &Transition<'_>) -> Result<(), StoreError> {
        let (id, from, to) = (t.id, t.from, t.to);
        let (actor, action, reason) = (t.actor.to_owned(), t.action.to_owned(), t.reason.to_owned());
        let scan = t.scan.map(ScanCols::new).transpose()?;
        let signature = t.signature.map(str::to_owned);
        let webhooks = t.webhooks.clone();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                // The compare-and-set: at READ COMMITTED a writer that waited for a concurrent
                // decision's row lock re-checks `state` against the row that decision committed.
                let decided = (!to.is_pending()).then(now_ms);
                let row = tx
                    .query_opt(
                        "UPDATE versions SET state = $2, state_reason = $3, decided_at = COALESCE($4, decided_at)
                         WHERE id = $1 AND state = $5 RETURNING slug, version",
                        &[&id, &to.as_str(), &reason, &decided, &from.as_str()],
                    )
                    .await?;
                let Some(row) = row else {
                    let found = tx.query_opt("SELECT slug, version FROM versions WHERE id = $1", &[&id]).await?;
                    return Err(Fail::Store(match found {
                        None => StoreError::NotFound(format!("version id {id}")),
                        Some(r) => {
                            let (slug, version): (String, String) = (col(&r, 0)?, col(&r, 1)?);
                            StoreError::Conflict { key: format!("{slug}@{version}"), expected: from }
                        }
                    }));
                };
                let (slug, version): (String, String) = (col(&row, 0)?, col(&row, 1)?);
                if let Some(s) = &scan {
                    tx.execute(UPDATE_SCAN, &[&id, &s.verdict, &s.rules_version, &s.codes, &s.caps, &s.report_json])
                        .await?;
                }
                if let Some(sig) = &signature {
                    tx.execute("UPDATE versions SET signature = $2 WHERE id = $1", &[&id, sig]).await?;
                }
                let r = tx.query_one("SELECT verdict, rules_version FROM versions WHERE id = $1", &[&id]).await?;
                let (verdict, rules): (Option<String>, Option<String>) = (col(&r, 0)?, col(&r, 1)?);
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: &action,
                        slug: &slug,
                        version: &version,
                        from: Some(from),
                        to: Some(to),
                        reason: &reason,
                        verdict: verdict.as_deref(),
                        rules: rules.as_deref(),
                    },
                )
                .await?;
                enqueue(tx, &webhooks).await?;
                Ok(())
            })
        })
    }

    fn update_scan(&self, id: i64, s: &VetOutcome, actor: &str) -> Result<(), StoreError> {
        let scan = ScanCols::new(s)?;
        let actor = actor.to_owned();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let row = tx
                    .query_opt(
                        UPDATE_SCAN,
                        &[&id, &scan.verdict, &scan.rules_version, &scan.codes, &scan.caps, &scan.report_json],
                    )
                    .await?;
                let Some(row) = row else {
                    return Err(Fail::Store(StoreError::NotFound(format!("version id {id}"))));
                };
                let (slug, version, state): (String, String, String) = (col(&row, 0)?, col(&row, 1)?, col(&row, 2)?);
                let st: State = state.parse().map_err(malformed)?;
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: "rescan",
                        slug: &slug,
                        version: &version,
                        from: Some(st),
                        to: Some(st),
                        reason: &format!("rescanned: {}", scan.verdict),
                        verdict: Some(scan.verdict),
                        rules: Some(&scan.rules_version),
                    },
                )
                .await?;
                Ok(())
            })
        })
    }

    fn owner_has_approved(&self, owner: &str) -> Result<bool, StoreError> {
        let owner = owner.to_owned();
        self.call(move |pool| async move {
            read!(pool, |c| {
                let row = c
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM versions WHERE owner = $1 AND state IN ('approved', 'revoked'))",
                        &[&owner],
                    )
                    .await?;
                col(&row, 0)
            })
        })
    }

    fn approval_action(&self, slug: &str, version: &str) -> Result<Option<String>, StoreError> {
        let (slug, version) = (slug.to_owned(), version.to_owned());
        self.call(move |pool| async move {
            read!(pool, |c| {
                let row = c
                    .query_opt(
                        "SELECT action FROM audit WHERE slug = $1 AND version = $2 AND to_state = 'approved'
                           AND (from_state IS NULL OR from_state <> 'approved') ORDER BY id DESC LIMIT 1",
                        &[&slug, &version],
                    )
                    .await?;
                row.as_ref().map(|r| col(r, 0)).transpose()
            })
        })
    }

    fn signed_versions(&self) -> Result<usize, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let row = c.query_one("SELECT COUNT(*) FROM versions WHERE signature IS NOT NULL", &[]).await?;
                let n: i64 = col(&row, 0)?;
                Ok(usize::try_from(n.max(0)).unwrap_or(usize::MAX))
            })
        })
    }

    fn resign(&self, signatures: &[(i64, String)], actor: &str, reason: &str) -> Result<(), StoreError> {
        let signatures = signatures.to_vec();
        let (actor, reason) = (actor.to_owned(), reason.to_owned());
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                for (id, sig) in &signatures {
                    let row = tx
                        .query_opt(
                            "UPDATE versions SET signature = $2 WHERE id = $1 AND state = 'approved'
                             RETURNING slug, version, verdict, rules_version",
                            &[id, sig],
                        )
                        .await?;
                    let Some(row) = row else {
                        return Err(Fail::Store(StoreError::Conflict {
                            key: format!("version id {id}"),
                            expected: State::Approved,
                        }));
                    };
                    let (slug, version): (String, String) = (col(&row, 0)?, col(&row, 1)?);
                    let (verdict, rules): (Option<String>, Option<String>) = (col(&row, 2)?, col(&row, 3)?);
                    insert_audit(
                        tx,
                        AuditRow {
                            actor: &actor,
                            action: "re-sign",
                            slug: &slug,
                            version: &version,
                            from: Some(State::Approved),
                            to: Some(State::Approved),
                            reason: &reason,
                            verdict: verdict.as_deref(),
                            rules: rules.as_deref(),
                        },
                    )
                    .await?;
                }
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: "key-rotate",
                        slug: "-",
                        version: "-",
                        from: None,
                        to: None,
                        reason: &reason,
                        verdict: None,
                        rules: None,
                    },
                )
                .await?;
                Ok(())
            })
        })
    }
}

impl AuditLog for PgStore {
    fn audit(&self, limit: Option<usize>) -> Result<Vec<AuditEvent>, StoreError> {
        // LIMIT NULL is no limit.
        let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        self.call(move |pool| async move {
            read!(pool, |c| {
                let rows = c
                    .query(
                        "SELECT id, at, actor, action, slug, version, from_state, to_state, reason, verdict, rules_version
                         FROM (SELECT * FROM audit ORDER BY id DESC LIMIT $1) AS newest ORDER BY id",
                        &[&limit],
                    )
                    .await?;
                rows.iter().map(row_to_audit).collect()
            })
        })
    }
}

const INSERT_ALERT: &str = "INSERT INTO alerts (at, kind, slug, version, pinned_sha256, observed_sha256, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

impl IncidentStore for PgStore {
    fn record_alert(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<i64, StoreError> {
        let a = a.clone();
        let actor = actor.to_owned();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let row = tx
                    .query_one(
                        INSERT_ALERT,
                        &[&a.at, &a.kind, &a.slug, &a.version, &a.pinned_sha256, &a.observed_sha256, &a.detail],
                    )
                    .await?;
                let id: i64 = col(&row, 0)?;
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: a.audit_action(),
                        slug: &a.slug,
                        version: &a.version,
                        from: None,
                        to: None,
                        reason: &a.detail,
                        verdict: None,
                        rules: None,
                    },
                )
                .await?;
                enqueue(tx, &webhooks).await?;
                Ok(id)
            })
        })
    }

    fn alerts(&self) -> Result<Vec<IntegrityAlert>, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let rows = c.query(SELECT_ALERTS, &[]).await?;
                rows.iter().map(row_to_alert).collect()
            })
        })
    }

    fn record_blob_fault(
        &self,
        a: &IntegrityAlert,
        actor: &str,
        webhooks: Vec<(String, String, String)>,
    ) -> Result<bool, StoreError> {
        let a = a.clone();
        let actor = actor.to_owned();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                // ON CONFLICT waits for a concurrent opening of the same fault: one of them opens it.
                let opened = tx
                    .execute(
                        "INSERT INTO blob_faults (slug, version, archive_sha256, at, detail) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (slug, version) DO NOTHING",
                        &[&a.slug, &a.version, &a.pinned_sha256, &a.at, &a.detail],
                    )
                    .await?;
                if opened == 0 {
                    return Ok(false);
                }
                tx.query_one(
                    INSERT_ALERT,
                    &[&a.at, &a.kind, &a.slug, &a.version, &a.pinned_sha256, &a.observed_sha256, &a.detail],
                )
                .await?;
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: "integrity-alert",
                        slug: &a.slug,
                        version: &a.version,
                        from: None,
                        to: None,
                        reason: &a.detail,
                        verdict: None,
                        rules: None,
                    },
                )
                .await?;
                enqueue(tx, &webhooks).await?;
                Ok(true)
            })
        })
    }

    fn blob_faults(&self) -> Result<Vec<BlobFault>, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let rows = c.query(SELECT_BLOB_FAULTS, &[]).await?;
                rows.iter().map(row_to_blob_fault).collect()
            })
        })
    }

    fn clear_blob_fault(&self, slug: &str, version: &str, actor: &str, reason: &str) -> Result<bool, StoreError> {
        let (slug, version, actor, reason) = (slug.to_owned(), version.to_owned(), actor.to_owned(), reason.to_owned());
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let closed =
                    tx.execute("DELETE FROM blob_faults WHERE slug = $1 AND version = $2", &[&slug, &version]).await?;
                if closed == 0 {
                    return Ok(false);
                }
                insert_audit(
                    tx,
                    AuditRow {
                        actor: &actor,
                        action: "blob-restored",
                        slug: &slug,
                        version: &version,
                        from: None,
                        to: None,
                        reason: &reason,
                        verdict: None,
                        rules: None,
                    },
                )
                .await?;
                Ok(true)
            })
        })
    }

    fn record_sync_failure(&self, f: &SyncFailure) -> Result<(), StoreError> {
        let f = f.clone();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                tx.execute(
                    "INSERT INTO sync_failures (at, upstream, slug, version, error) VALUES ($1, $2, $3, $4, $5)",
                    &[&f.at, &f.upstream, &f.slug, &f.version, &f.error],
                )
                .await?;
                Ok(())
            })
        })
    }

    fn sync_failures(&self, limit: usize) -> Result<Vec<SyncFailure>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |pool| async move {
            read!(pool, |c| {
                let rows = c
                    .query(
                        "SELECT id, at, upstream, slug, version, error FROM sync_failures ORDER BY id DESC LIMIT $1",
                        &[&limit],
                    )
                    .await?;
                rows.iter().map(row_to_sync_failure).collect()
            })
        })
    }
}

impl TokenStore for PgStore {
    fn insert_token(&self, name: &str, role: &str, token_sha256: &str) -> Result<i64, StoreError> {
        let (name, role, hash) = (name.to_owned(), role.to_owned(), token_sha256.to_owned());
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let inserted = tx
                    .query_one(
                        "INSERT INTO tokens (name, role, token_sha256, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                        &[&name, &role, &hash, &now_ms()],
                    )
                    .await;
                match inserted {
                    Ok(row) => col(&row, 0),
                    // As the SQLite store: any constraint the row breaks (the name or the hash
                    // taken, a role outside admin/read) is reported as the name being taken.
                    Err(e) if e.code().is_some_and(|c| c.code().starts_with("23")) => {
                        Err(Fail::Store(StoreError::AlreadyExists(format!("token {name}"))))
                    }
                    Err(e) => Err(Fail::Pg(e)),
                }
            })
        })
    }

    fn find_token(&self, token_sha256: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = token_sha256.to_owned();
        self.call(move |pool| async move {
            read!(pool, |c| {
                let row = c
                    .query_opt(
                        "SELECT id, name, role, created_at, revoked_at IS NOT NULL FROM tokens WHERE token_sha256 = $1",
                        &[&hash],
                    )
                    .await?;
                row.as_ref().map(row_to_token).transpose()
            })
        })
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let rows = c
                    .query("SELECT id, name, role, created_at, revoked_at IS NOT NULL FROM tokens ORDER BY id", &[])
                    .await?;
                rows.iter().map(row_to_token).collect()
            })
        })
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let n = tx
                    .execute(
                        "UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                        &[&name, &now_ms()],
                    )
                    .await?;
                Ok(n > 0)
            })
        })
    }

    fn tokens_with_hashes(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                let rows =
                    c.query("SELECT token_sha256, role FROM tokens WHERE revoked_at IS NULL ORDER BY id", &[]).await?;
                rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
            })
        })
    }
}

impl WebhookOutbox for PgStore {
    fn due_webhooks(&self, now: i64, max_attempts: u32) -> Result<Vec<OutboxItem>, StoreError> {
        let max_attempts = i64::from(max_attempts);
        self.call(move |pool| async move {
            read!(pool, |c| {
                // Polled by the delivery loop: prepared once per connection.
                let st = c
                    .prepare_cached(
                        "SELECT id, url, event, payload, attempts, event_id FROM webhook_outbox
                         WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND attempts < $2 ORDER BY id LIMIT 100",
                    )
                    .await?;
                let rows = c.query(&st, &[&now, &max_attempts]).await?;
                rows.iter()
                    .map(|r| {
                        let id: i64 = col(r, 0)?;
                        Ok(OutboxItem {
                            id,
                            target: col(r, 1)?,
                            event: col(r, 2)?,
                            payload: col(r, 3)?,
                            attempts: attempts(id, col(r, 4)?)?,
                            event_id: col::<Option<String>>(r, 5)?.unwrap_or_else(|| format!("outbox-{id}")),
                        })
                    })
                    .collect()
            })
        })
    }

    fn webhook_delivered(&self, id: i64, now: i64) -> Result<(), StoreError> {
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                tx.execute(
                    "UPDATE webhook_outbox SET delivered_at = $2, attempts = attempts + 1 WHERE id = $1",
                    &[&id, &now],
                )
                .await?;
                Ok(())
            })
        })
    }

    fn webhook_failed(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        let error = error.to_owned();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                tx.execute(
                    "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1",
                    &[&id, &next_attempt_at, &error],
                )
                .await?;
                Ok(())
            })
        })
    }
}

/// The tables with a serial id, whose sequences an import moves past the ids it wrote.
const SERIAL_TABLES: &[&str] = &["versions", "audit", "alerts", "sync_failures", "tokens", "webhook_outbox"];

impl Transfer for PgStore {
    fn export(&self) -> Result<Export, StoreError> {
        self.call(|pool| async move {
            // One REPEATABLE READ transaction: every table as of one snapshot, while writers go on.
            in_tx!(pool, SNAPSHOT, |tx| {
                let mut e = Export::default();
                for r in tx.query(concat!("SELECT ", version_cols!(), " FROM versions ORDER BY id"), &[]).await? {
                    e.versions.push(row_to_version(&r)?);
                }
                for r in tx.query(&format!("{SELECT_AUDIT} ORDER BY id"), &[]).await? {
                    e.audit.push(row_to_audit(&r)?);
                }
                for r in tx.query(SELECT_ALERTS, &[]).await? {
                    e.alerts.push(row_to_alert(&r)?);
                }
                let failures = "SELECT id, at, upstream, slug, version, error FROM sync_failures ORDER BY id";
                for r in tx.query(failures, &[]).await? {
                    e.sync_failures.push(row_to_sync_failure(&r)?);
                }
                let tokens = "SELECT id, name, role, token_sha256, created_at, revoked_at FROM tokens ORDER BY id";
                for r in tx.query(tokens, &[]).await? {
                    e.tokens.push(TokenRow {
                        id: col(&r, 0)?,
                        name: col(&r, 1)?,
                        role: col(&r, 2)?,
                        token_sha256: col(&r, 3)?,
                        created_at: col(&r, 4)?,
                        revoked_at: col(&r, 5)?,
                    });
                }
                let outbox = "SELECT id, created_at, url, event, payload, attempts, next_attempt_at, delivered_at,
                    last_error, event_id FROM webhook_outbox ORDER BY id";
                for r in tx.query(outbox, &[]).await? {
                    let id: i64 = col(&r, 0)?;
                    e.outbox.push(OutboxRow {
                        id,
                        created_at: col(&r, 1)?,
                        target: col(&r, 2)?,
                        event: col(&r, 3)?,
                        payload: col(&r, 4)?,
                        attempts: attempts(id, col(&r, 5)?)?,
                        next_attempt_at: col(&r, 6)?,
                        delivered_at: col(&r, 7)?,
                        last_error: col(&r, 8)?,
                        event_id: col::<Option<String>>(&r, 9)?.unwrap_or_else(|| format!("outbox-{id}")),
                    });
                }
                for r in tx.query(SELECT_BLOB_FAULTS, &[]).await? {
                    e.blob_faults.push(row_to_blob_fault(&r)?);
                }
                Ok(e)
            })
        })
    }

    fn import(&self, e: &Export) -> Result<(), StoreError> {
        // The columns the rows need, converted and checked before the transaction: a size out
        // of range is malformed input, not a database error.
        let mut versions = Vec::with_capacity(e.versions.len());
        for v in &e.versions {
            let files = serde_json::to_string(&v.files).map_err(|x| StoreError::Malformed(x.to_string()))?;
            let codes = serde_json::to_string(&v.reason_codes).map_err(|x| StoreError::Malformed(x.to_string()))?;
            let caps = v
                .capabilities
                .as_ref()
                .map(CapabilitiesJson::to_json)
                .transpose()
                .map_err(|x| StoreError::Malformed(x.to_string()))?;
            let size = i64::try_from(v.archive_size)
                .map_err(|_| StoreError::Malformed(format!("archive size {} is too large", v.archive_size)))?;
            versions.push((v.clone(), files, codes, caps, size));
        }
        let e = e.clone();
        self.call(move |pool| async move {
            in_tx!(pool, |tx| {
                let held = tx
                    .query_one(
                        "SELECT (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM audit) + (SELECT COUNT(*) FROM tokens)
                   + (SELECT COUNT(*) FROM alerts) + (SELECT COUNT(*) FROM sync_failures)
                   + (SELECT COUNT(*) FROM webhook_outbox) + (SELECT COUNT(*) FROM blob_faults)",
                        &[],
                    )
                    .await?;
                if col::<i64>(&held, 0)? > 0 {
                    return Err(Fail::Store(StoreError::AlreadyExists("a mirror in the target database".into())));
                }
                // Each statement prepared once: one round trip per row.
                let st = tx
                    .prepare(concat!(
                        "INSERT INTO versions (",
                        version_cols!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                         $19, $20, $21, $22, $23, $24, $25, $26, $27)"
                    ))
                    .await?;
                for (v, files, codes, caps, size) in &versions {
                    let verdict = v.verdict.map(|x| x.as_str());
                    tx.execute(
                        &st,
                        &[
                            &v.id,
                            &v.slug,
                            &v.version,
                            &v.owner,
                            &v.display_name,
                            &v.summary,
                            &v.changelog,
                            &v.published_at,
                            &v.fetched_at,
                            &v.decided_at,
                            &v.source,
                            &v.archive_sha256,
                            size,
                            &v.tree_digest,
                            &v.fingerprint,
                            &v.fingerprint_installed,
                            files,
                            &v.state.as_str(),
                            &v.state_reason,
                            &verdict,
                            &v.rules_version,
                            codes,
                            caps,
                            &v.report_json,
                            &v.signature,
                            &v.metadata_json,
                            &v.license,
                        ],
                    )
                    .await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO audit (id, at, actor, action, slug, version, from_state, to_state, reason, verdict,
                           rules_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .await?;
                for a in &e.audit {
                    tx.execute(
                        &st,
                        &[
                            &a.id,
                            &a.at,
                            &a.actor,
                            &a.action,
                            &a.slug,
                            &a.version,
                            &a.from_state,
                            &a.to_state,
                            &a.reason,
                            &a.verdict,
                            &a.rules_version,
                        ],
                    )
                    .await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO alerts (id, at, kind, slug, version, pinned_sha256, observed_sha256, detail)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .await?;
                for a in &e.alerts {
                    tx.execute(
                        &st,
                        &[&a.id, &a.at, &a.kind, &a.slug, &a.version, &a.pinned_sha256, &a.observed_sha256, &a.detail],
                    )
                    .await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO sync_failures (id, at, upstream, slug, version, error) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .await?;
                for f in &e.sync_failures {
                    tx.execute(&st, &[&f.id, &f.at, &f.upstream, &f.slug, &f.version, &f.error]).await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO tokens (id, name, role, token_sha256, created_at, revoked_at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .await?;
                for t in &e.tokens {
                    tx.execute(&st, &[&t.id, &t.name, &t.role, &t.token_sha256, &t.created_at, &t.revoked_at]).await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO webhook_outbox (id, created_at, url, event, payload, attempts, next_attempt_at,
                           delivered_at, last_error, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .await?;
                for o in &e.outbox {
                    tx.execute(
                        &st,
                        &[
                            &o.id,
                            &o.created_at,
                            &o.target,
                            &o.event,
                            &o.payload,
                            &i64::from(o.attempts),
                            &o.next_attempt_at,
                            &o.delivered_at,
                            &o.last_error,
                            &o.event_id,
                        ],
                    )
                    .await?;
                }
                let st = tx
                    .prepare(
                        "INSERT INTO blob_faults (slug, version, archive_sha256, at, detail) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .await?;
                for f in &e.blob_faults {
                    tx.execute(&st, &[&f.slug, &f.version, &f.archive_sha256, &f.at, &f.detail]).await?;
                }
                // New rows are numbered after the imported ones (explicit ids do not move a
                // sequence). `table` is one of our own constant names.
                for table in SERIAL_TABLES {
                    tx.query_one(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                             COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                        ),
                        &[],
                    )
                    .await?;
                }
                Ok(())
            })
        })
    }
}

impl MetaStore for PgStore {
    fn revision(&self) -> Result<u64, StoreError> {
        self.call(|pool| async move {
            read!(pool, |c| {
                // Polled by every replica (every 250 ms): prepared once per connection, so each
                // poll is one round trip.
                let st = c.prepare_cached("SELECT n FROM revision WHERE id = 1").await?;
                let row = c.query_one(&st, &[]).await?;
                let n: i64 = col(&row, 0)?;
                u64::try_from(n).map_err(|_| malformed(format!("revision {n} is negative")))
            })
        })
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}
