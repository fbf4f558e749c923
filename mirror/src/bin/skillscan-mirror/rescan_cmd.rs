//! `rescan`: retro-hunt with the current rules.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;
use crate::shared::{blocking, flush_hooks};

#[derive(Debug, Args)]
pub struct RescanArgs {
    #[arg(long)]
    all: bool,
}

/// One line per rescanned version: its state, or its move and why.
pub async fn run(m: Arc<Mirror>, args: RescanArgs) -> Result<Exit> {
    let m2 = m.clone();
    let res = blocking(move || Ok(m2.rescan(args.all, "rescan")?)).await?;
    for (key, from, to, why) in &res {
        if from == to {
            println!("{key}: {to} ({why})");
        } else {
            println!("{key}: {from} -> {to} ({why})");
        }
    }
    flush_hooks(&m).await;
    Ok(Exit::Success)
}
