//! `audit`: the append-only audit log.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Only the last N entries.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

pub fn run(m: &Mirror, args: AuditArgs) -> Result<Exit> {
    for e in m.meta.audit(args.limit)? {
        if args.json {
            println!("{}", serde_json::to_string(&e)?);
        } else {
            println!(
                "#{} {} {} {} {}@{} {} -> {} verdict={} rules={} : {}",
                e.id,
                httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_millis(e.at.max(0) as u64)),
                e.actor,
                e.action,
                e.slug,
                e.version,
                e.from_state.as_deref().unwrap_or("-"),
                e.to_state.as_deref().unwrap_or("-"),
                e.verdict.as_deref().unwrap_or("-"),
                e.rules_version.as_deref().unwrap_or("-"),
                e.reason
            );
        }
    }
    Ok(Exit::Success)
}
