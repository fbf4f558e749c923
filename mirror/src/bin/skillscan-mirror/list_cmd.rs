//! `list`: stored versions and their state.

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;
use skillscan_mirror::model::State;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(m: &Mirror, args: ListArgs) -> Result<Exit> {
    let st = args.state.map(|s| s.parse::<State>()).transpose().map_err(anyhow::Error::msg)?;
    for v in m.meta.versions(st)? {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"slug": v.slug, "version": v.version, "owner": v.owner, "state": v.state,
                    "verdict": v.verdict, "reason": v.state_reason, "archiveSha256": v.archive_sha256})
            );
        } else {
            println!(
                "{:<40} {:<12} {:<11} {}",
                v.key(),
                v.state,
                v.verdict.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                v.state_reason
            );
        }
    }
    Ok(Exit::Success)
}
