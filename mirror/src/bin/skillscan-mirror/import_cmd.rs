//! `import`: ingest a skill from a zip file or a directory (air-gapped use).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;
use crate::shared::{blocking, flush_hooks, resume_stuck};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The skill: a ClawHub zip or a skill folder.
    path: PathBuf,
    /// Slug to store it as.
    #[arg(long)]
    slug: String,
    /// Version to store it as (semver).
    #[arg(long)]
    version: String,
    /// Owner handle to record.
    #[arg(long)]
    owner: Option<String>,
}

/// Prints the ingest outcome as one JSON line (versions resumed first go to stderr).
pub async fn run(m: Arc<Mirror>, args: ImportArgs) -> Result<Exit> {
    let ImportArgs { path, slug, version, owner } = args;
    for line in resume_stuck(&m, "import").await? {
        eprintln!("resumed {line}");
    }
    let m2 = m.clone();
    let outcome = blocking(move || {
        let input = Mirror::import_input(&path, &slug, &version, owner.as_deref())?;
        Ok(m2.ingest(input, "import")?)
    })
    .await?;
    println!("{}", serde_json::to_string(&outcome)?);
    flush_hooks(&m).await;
    Ok(Exit::Success)
}
