//! `alerts`: integrity alerts, open blob faults and recent sync failures.

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// As JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(m: &Mirror, args: AlertsArgs) -> Result<Exit> {
    for a in m.meta.alerts()? {
        if args.json {
            println!("{}", serde_json::to_string(&a)?);
        } else {
            println!("ALERT #{} {}@{} {}: {}", a.id, a.slug, a.version, a.kind, a.detail);
        }
    }
    for f in m.meta.blob_faults()? {
        if args.json {
            println!("{}", serde_json::to_string(&f)?);
        } else {
            println!("OPEN blob fault {}@{} since {}: {}", f.slug, f.version, f.at, f.detail);
        }
    }
    for f in m.meta.sync_failures(100)? {
        if args.json {
            println!("{}", serde_json::to_string(&f)?);
        } else {
            let version = f.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default();
            println!("sync failure #{} {} {}{version}: {}", f.id, f.upstream, f.slug, f.error);
        }
    }
    Ok(Exit::Success)
}
