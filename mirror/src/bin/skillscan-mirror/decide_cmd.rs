//! `approve`, `reject` and `revoke`: a human decision on one version.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;
use skillscan_mirror::model::State;
use skillscan_mirror::service::parse_key;

use crate::exit::Exit;
use crate::shared::{blocking, flush_hooks};

#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// SLUG@VERSION
    key: String,
    #[arg(long)]
    reason: String,
    #[arg(long)]
    by: String,
}

/// Move the version to `to` (approval signs it) and print its new state.
pub async fn run(m: Arc<Mirror>, d: DecisionArgs, to: State) -> Result<Exit> {
    let (slug, version) = parse_key(&d.key)?;
    let m2 = m.clone();
    let rec = blocking(move || Ok(m2.decide(&slug, &version, to, &d.reason, &d.by)?)).await?;
    println!("{}: {} ({})", rec.key(), rec.state, rec.state_reason);
    flush_hooks(&m).await;
    Ok(Exit::Success)
}
