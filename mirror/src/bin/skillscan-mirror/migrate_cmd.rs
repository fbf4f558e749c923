//! `migrate`: copy this mirror into other backends (see `skillscan_mirror::migrate`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use skillscan_mirror::config::Config;
use skillscan_mirror::migrate;
use skillscan_mirror::redact::Secret;
use skillscan_mirror::storage::{BlobLocation, DatabaseLocation, StorageLocations};

use crate::exit::Exit;
use crate::shared::{self, Place};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Source database [default: this mirror's: --database, the config's, else sqlite:<data>/mirror.db].
    #[arg(long, value_name = "URL", hide_env_values = true)]
    pub from: Option<String>,
    /// Source blobs [default: this mirror's: --blobs, the config's, else the data directory].
    #[arg(long, value_name = "URL")]
    pub blobs_from: Option<String>,
    /// Target database (`postgres://HOST/DB` or `sqlite:PATH`); it must hold no mirror yet.
    #[arg(long, value_name = "URL", env = "SKILLSCAN_MIRROR_MIGRATE_TO", hide_env_values = true)]
    pub to: String,
    /// Target blobs (`s3://bucket[/prefix]` or a directory) [default: the source blobs].
    #[arg(long, value_name = "URL")]
    pub blobs_to: Option<String>,
    /// The mirror's minisign public key, to verify every signature [default: <data>/keys/mirror.pub].
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
}

pub async fn run(place: &Place<'_>, args: MigrateArgs) -> Result<Exit> {
    let mut config = Config::load(place.config, place.data)?;
    shared::override_storage(&mut config, place);
    if let Some(from) = &args.from {
        config.storage.database = Some(Secret::new(from.clone()));
    }
    if let Some(from) = &args.blobs_from {
        config.storage.blobs = Some(from.clone());
    }
    let source = StorageLocations::resolve(&config.storage, place.data)?;
    let target = StorageLocations {
        database: DatabaseLocation::parse(&args.to, place.data)?,
        blobs: match &args.blobs_to {
            Some(url) => BlobLocation::parse(url, place.data, &config.storage)?,
            None => source.blobs.clone(),
        },
    };
    let key_path = args.public_key.clone().unwrap_or_else(|| place.data.join("keys/mirror.pub"));
    let public_key = match std::fs::read_to_string(&key_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.public_key.is_none() => None,
        Err(e) => return Err(e).with_context(|| format!("reading the public key {}", key_path.display())),
    };
    if !crate::ui::quiet() {
        eprintln!("migrate: from {} to {}", source.describe(), target.describe());
    }
    let max_blob_bytes = config.limits.max_archive_bytes;
    let report = shared::blocking(move || {
        let meta_from = source.database.open().context("opening the source database")?;
        let blobs_from = source.blobs.open(max_blob_bytes).context("opening the source blobs")?;
        let meta_to = target.database.open().context("opening the target database")?;
        let blobs_to = target.blobs.open(max_blob_bytes).context("opening the target blobs")?;
        let bar = crate::ui::progress_bar(0, "versions");
        let progress = |done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        };
        let report =
            migrate::migrate(&*meta_from, &*blobs_from, &*meta_to, &*blobs_to, public_key.as_deref(), &progress)?;
        bar.finish_and_clear();
        Ok(report)
    })
    .await?;
    println!(
        "migrated {} versions ({} blobs, {} bytes, each re-hashed at both ends), {} signatures verified, {} audit \
         events, {} tokens",
        report.versions,
        report.blobs,
        report.blob_bytes,
        report.signatures_verified,
        report.audit_events,
        report.tokens
    );
    for key in &report.faulted_not_copied {
        println!("  {key}: under an open blob fault, its blob was not copied (the fault was)");
    }
    Ok(Exit::Success)
}
