-- The mirror's metadata in PostgreSQL: the same tables, constraints and guarantees as the SQLite
-- store (mirror/src/store/sqlite.rs). Applied once, in a transaction, by PgStore::connect.
--
-- Text that is ordered (slugs, versions) uses the "C" collation: byte order, as SQLite sorts,
-- whatever locale the database was created with.

CREATE TABLE versions (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    owner TEXT,
    display_name TEXT NOT NULL,
    summary TEXT,
    changelog TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    decided_at BIGINT,
    source TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    archive_size BIGINT NOT NULL,
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
CREATE INDEX versions_state ON versions (state);
CREATE INDEX versions_owner ON versions (owner);

-- Pins are immutable: the digests of a version can never change once committed.
CREATE FUNCTION versions_pin_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pinned digests are immutable' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER versions_pin_immutable
BEFORE UPDATE OF slug, version, archive_sha256, tree_digest, archive_size ON versions
FOR EACH ROW EXECUTE FUNCTION versions_pin_immutable();

CREATE FUNCTION versions_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'versions are never deleted' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER versions_never_deleted BEFORE DELETE ON versions
FOR EACH ROW EXECUTE FUNCTION versions_never_deleted();
-- TRUNCATE fires no row trigger: refuse it too.
CREATE TRIGGER versions_never_truncated BEFORE TRUNCATE ON versions
FOR EACH STATEMENT EXECUTE FUNCTION versions_never_deleted();

CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    slug TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    from_state TEXT,
    to_state TEXT,
    reason TEXT NOT NULL,
    verdict TEXT,
    rules_version TEXT
);
CREATE INDEX audit_slug_version ON audit (slug, version);

-- Append-only, enforced by the database itself.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    slug TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    pinned_sha256 TEXT NOT NULL,
    observed_sha256 TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE sync_failures (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    upstream TEXT NOT NULL,
    slug TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C",
    error TEXT NOT NULL
);

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'read')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE webhook_outbox (
    id BIGSERIAL PRIMARY KEY,
    created_at BIGINT NOT NULL,
    -- The webhook's reference (crate::redact::webhook_ref), never its URL.
    url TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    event_id TEXT NOT NULL
);
CREATE INDEX webhook_due ON webhook_outbox (delivered_at, next_attempt_at);

-- Open blob faults (missing or corrupt pinned blobs), one per version, until an operator acts.
CREATE TABLE blob_faults (
    slug TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    archive_sha256 TEXT NOT NULL,
    at BIGINT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (slug, version)
);

-- The revision of the served state (MetaStore::revision): bumped inside the transaction of every
-- change, so it moves on commits from any connection or replica and never on a rolled-back one.
-- Webhook delivery bookkeeping (outbox updates) does not count.
--
-- Row-level (as SQLite's triggers are), so a statement that changes no row (a refused
-- compare-and-set, `ON CONFLICT DO NOTHING`, revoking a revoked token) does not move it; a
-- statement-level trigger would. Deferred to commit, so the one row every writer updates is
-- locked last and for the shortest time even by a writer that did not lock it first (PgStore's
-- writers do: they take turns on this row, see `lock_writers` in mirror/src/store/postgres.rs).
CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
INSERT INTO revision (id, n) VALUES (1, 0);

CREATE FUNCTION bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE revision SET n = n + 1 WHERE id = 1;
    -- For replicas that LISTEN instead of polling revision(): one notification per transaction
    -- and schema (identical payloads in a transaction are delivered once), then read revision().
    PERFORM pg_notify('skillscan_revision', current_schema());
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER revision_versions AFTER INSERT OR UPDATE ON versions
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_audit AFTER INSERT ON audit
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_alerts AFTER INSERT ON alerts
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_sync_failures AFTER INSERT ON sync_failures
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_tokens AFTER INSERT OR UPDATE ON tokens
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_blob_faults AFTER INSERT OR UPDATE OR DELETE ON blob_faults
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE CONSTRAINT TRIGGER revision_webhook_outbox AFTER INSERT ON webhook_outbox
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_revision();
