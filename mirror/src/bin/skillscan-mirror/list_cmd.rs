//! `list`: stored versions and their state.

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use skillscan::clawhub::api::SortedKeys;
use skillscan_mirror::Mirror;
use skillscan_mirror::model::{State, VersionRecord};
use skillscan_mirror::vetting::Verdict;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only versions in this state (fetched, scanned, quarantined, approved, rejected, revoked).
    #[arg(long)]
    state: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn run(m: &Mirror, args: ListArgs) -> Result<Exit> {
    let st = args.state.map(|s| s.parse::<State>()).transpose().map_err(anyhow::Error::msg)?;
    for v in m.meta.versions(st)? {
        if args.json {
            println!("{}", serde_json::to_string(&SortedKeys(Line::of(&v)))?);
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

/// One version in `list --json` (one JSON object per line).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    slug: &'a str,
    version: &'a str,
    owner: Option<&'a str>,
    state: State,
    verdict: Option<Verdict>,
    reason: &'a str,
    archive_sha256: &'a str,
}

impl<'a> Line<'a> {
    fn of(v: &'a VersionRecord) -> Self {
        Line {
            slug: &v.slug,
            version: &v.version,
            owner: v.owner.as_deref(),
            state: v.state,
            verdict: v.verdict,
            reason: &v.state_reason,
            archive_sha256: &v.archive_sha256,
        }
    }
}
