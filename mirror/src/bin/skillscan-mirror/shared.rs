//! What every command needs: the opened mirror, a way to run its synchronous work off the
//! async runtime, and webhook delivery before the process exits.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::redact::Secret;
use skillscan_mirror::storage::{DatabaseLocation, StorageLocations};
use skillscan_mirror::{Mirror, adapters, webhooks};

/// Where a command finds the mirror: the global flags.
pub struct Place<'a> {
    /// The data directory: configuration, policy, signing key, evidence, and the embedded store.
    pub data: &'a Path,
    pub config: Option<&'a Path>,
    /// `--ca-cert`, over the configuration's.
    pub ca_cert: Option<&'a Path>,
    /// `--database` / `--blobs`, over the configuration's `[storage]`.
    pub database: Option<&'a str>,
    pub blobs: Option<&'a str>,
}

/// Open the mirror at `place` (its data directory created if missing) with its configuration,
/// policy and signing key. A lost key stops every command (see `adapters::open_signer`).
pub fn open(place: &Place<'_>) -> Result<Mirror> {
    let mut m = open_without_key(place)?;
    let signed = m.meta.signed_versions().context("counting signed versions")?;
    // Replicas share the database: each must hold the key the others sign with.
    let shared =
        matches!(StorageLocations::resolve(&m.config.storage, place.data)?.database, DatabaseLocation::Postgres(_));
    m.signer = adapters::open_signer(place.data, signed, shared)?;
    if shared && signed > 0 {
        let approved = m.meta.versions(Some(State::Approved)).context("reading approved versions")?;
        if let Some(signature) = approved.iter().find_map(|v| v.signature.as_deref()) {
            adapters::check_same_key(place.data, signature)?;
        }
    }
    Ok(m)
}

/// `backup` and `restore` copy the embedded store (one SQLite file and a directory); a shared
/// PostgreSQL database and S3 bucket are backed up with their own tools.
pub fn embedded_only(place: &Place<'_>, command: &str) -> Result<()> {
    let mut config = Config::load(place.config, place.data)?;
    override_storage(&mut config, place);
    let locations = StorageLocations::resolve(&config.storage, place.data)?;
    if !locations.is_embedded() {
        anyhow::bail!(
            "{command} copies the embedded store (SQLite and files in the data directory); this mirror uses {}: \
             back up PostgreSQL with pg_dump or its replication, and the bucket with its versioning or replication",
            locations.describe()
        );
    }
    Ok(())
}

pub fn override_storage(config: &mut Config, place: &Place<'_>) {
    if let Some(url) = place.database {
        config.storage.database = Some(Secret::new(url));
    }
    if let Some(url) = place.blobs {
        config.storage.blobs = Some(url.to_string());
    }
}

/// Open the mirror without its signing key, for the `key` commands that manage it.
pub fn open_without_key(place: &Place<'_>) -> Result<Mirror> {
    let Place { data, config, ca_cert, .. } = *place;
    // Owner only: the directory holds the database, the blobs and the signing key.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let mut config = Config::load(config, data)?;
    override_storage(&mut config, place);
    if let Some(path) = ca_cert {
        config.set_ca_cert(path);
    }
    // An unusable CA file stops here, not at the first upstream or webhook request.
    if config.ca_cert.is_some() {
        config.tls_roots(data)?;
    }
    // Fail closed: an unreadable or invalid policy stops everything.
    let policy = match config.policy_path(data) {
        Some(p) => Policy::load(&p).with_context(|| format!("policy {}", p.display()))?,
        None => Policy::default(),
    };
    let locations = StorageLocations::resolve(&config.storage, data)?;
    let meta = locations
        .database
        .open()
        .with_context(|| format!("opening the metadata database {}", locations.database.describe()))?;
    let blobs = locations
        .blobs
        .open(config.limits.max_archive_bytes)
        .with_context(|| format!("opening the blob store {}", locations.blobs.describe()))?;
    tracing::debug!(storage = %locations.describe(), "storage opened");
    Ok(Mirror {
        data_dir: data.to_path_buf(),
        config,
        policy,
        meta,
        blobs,
        vetter: adapters::default_vetter(),
        signer: adapters::no_signer(),
    })
}

/// Resume the versions a crash left in `fetched` or `scanned` (see `Mirror::resume_stuck`);
/// `sync`, `import` and `serve` do this first. Returns one line per version.
pub async fn resume_stuck(m: &Arc<Mirror>, actor: &'static str) -> Result<Vec<String>> {
    let m = m.clone();
    let resumed = blocking(move || Ok(m.resume_stuck(actor)?)).await?;
    Ok(resumed.into_iter().map(|(key, state, what)| format!("{key}: {state} ({what})")).collect())
}

/// Run the curator's synchronous work on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Leave the webhooks a command queued to `serve`'s delivery loop and say so: a command
/// never waits for a receiver (at-least-once delivery, deduplicated by event id).
pub async fn flush_hooks(m: &Mirror) {
    if m.config.webhooks.is_empty() {
        return;
    }
    let pending = webhooks::pending(m);
    if pending > 0 && !crate::ui::quiet() {
        eprintln!("webhooks: {pending} event(s) queued; `serve` delivers them");
    }
}
