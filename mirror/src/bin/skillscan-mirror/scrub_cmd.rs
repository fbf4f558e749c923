//! `scrub`: re-hash every blob; report, alert, and exit non-zero while anything is corrupt.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;
use crate::shared::{blocking, flush_hooks};

#[derive(Debug, Args)]
pub struct ScrubArgs {}

/// One line per problem and per restored version, then a summary line.
pub async fn run(m: Arc<Mirror>, _args: ScrubArgs) -> Result<Exit> {
    let m2 = m.clone();
    let report = blocking(move || Ok(m2.scrub("scrub")?)).await?;
    for (what, why) in &report.corrupt {
        println!("{what}: CORRUPT: {why}");
    }
    for key in &report.restored {
        println!("{key}: restored (the blob verifies again; blob fault closed)");
    }
    println!("scrub: {} blobs checked, {} corrupt or missing", report.checked, report.corrupt.len());
    flush_hooks(&m).await;
    Ok(if report.corrupt.is_empty() { Exit::Success } else { Exit::Corrupt })
}
