//! What every command needs: the opened mirror, a way to run its synchronous work off the
//! async runtime, and webhook delivery before the process exits.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use skillscan_mirror::config::Config;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::{Mirror, adapters, webhooks};

/// Open the mirror in `data` (created if missing) with its configuration, policy and
/// signing key. A lost key stops every command (see `adapters::open_signer`).
pub fn open(data: &Path, config: Option<&Path>, ca_cert: Option<&Path>) -> Result<Mirror> {
    let mut m = open_without_key(data, config, ca_cert)?;
    let signed = m.meta.signed_versions().context("counting signed versions")?;
    m.signer = adapters::open_signer(data, signed)?;
    Ok(m)
}

/// Open the mirror without its signing key, for the `key` commands that manage it.
/// `ca_cert` (`--ca-cert`) overrides the configuration's.
pub fn open_without_key(data: &Path, config: Option<&Path>, ca_cert: Option<&Path>) -> Result<Mirror> {
    // Owner only: the directory holds the database, the blobs and the signing key.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let mut config = Config::load(config, data)?;
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
    let meta = SqliteStore::open(&data.join("mirror.db")).context("opening the metadata database")?;
    let blobs = FsBlobStore::open(data).context("opening the blob store")?;
    Ok(Mirror {
        data_dir: data.to_path_buf(),
        config,
        policy,
        meta: Arc::new(meta),
        blobs: Arc::new(blobs),
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
