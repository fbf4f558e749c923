//! `backup` and `restore`: a consistent copy of the data directory while `serve` runs, and
//! its way back into a fresh directory (see `skillscan_mirror::backup`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use skillscan_mirror::backup;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Directory to write the backup into; created, and refused if it exists and is not empty.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A directory written by `backup`; every file is checked against its manifest first.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
}

pub async fn backup(data: PathBuf, args: BackupArgs) -> Result<Exit> {
    let to = args.to.clone();
    let manifest = tokio::task::spawn_blocking(move || backup::backup(&data, &args.to))
        .await
        .context("the backup task stopped")?
        .with_context(|| format!("backup into {}", to.display()))?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!("backup: {} files, {} bytes in {}", manifest.files.len(), bytes, to.display());
    Ok(Exit::Success)
}

pub async fn restore(data: PathBuf, args: RestoreArgs) -> Result<Exit> {
    let shown = data.clone();
    let from = args.from.clone();
    let copied = tokio::task::spawn_blocking(move || backup::restore(&args.from, &data))
        .await
        .context("the restore task stopped")?
        .with_context(|| format!("restore from {}", from.display()))?;
    println!("restore: {} files, {} bytes into {}", copied.files, copied.bytes, shown.display());
    Ok(Exit::Success)
}
