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
    /// Why (recorded in the audit log and shown to clients).
    #[arg(long)]
    reason: String,
    /// Who decides (recorded in the audit log).
    #[arg(long)]
    by: String,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    decision: DecisionArgs,
    /// Approve even though the policy refuses the version (a deny entry matches it or its
    /// verdict maps to reject); audited as `override` with the verdict and findings count.
    #[arg(long = "override")]
    override_policy: bool,
}

/// `approve`: see [`run`].
pub async fn approve(m: Arc<Mirror>, a: ApproveArgs) -> Result<Exit> {
    decide(m, a.decision, State::Approved, a.override_policy).await
}

/// `reject` and `revoke`: see [`run`].
pub async fn run(m: Arc<Mirror>, d: DecisionArgs, to: State) -> Result<Exit> {
    decide(m, d, to, false).await
}

/// Move the version to `to` (approval signs it) and print its new state and verdict.
async fn decide(m: Arc<Mirror>, d: DecisionArgs, to: State, override_policy: bool) -> Result<Exit> {
    let (slug, version) = parse_key(&d.key)?;
    let m2 = m.clone();
    let rec = blocking(move || Ok(m2.decide(&slug, &version, to, &d.reason, &d.by, override_policy)?)).await?;
    println!("{}: {} ({})", rec.key(), rec.state, rec.state_reason);
    let verdict = rec.verdict.map_or_else(|| "none".to_string(), |v| v.to_string());
    println!("verdict: {verdict} (rules {})", rec.rules_version.as_deref().unwrap_or("none"));
    flush_hooks(&m).await;
    Ok(Exit::Success)
}
