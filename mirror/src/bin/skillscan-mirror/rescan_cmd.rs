//! `rescan`: retro-hunt with the current rules.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::Mirror;

use crate::exit::Exit;
use crate::shared::{blocking, flush_hooks};
use crate::ui;

#[derive(Debug, Args)]
pub struct RescanArgs {
    /// Rescan pending (quarantined, held) versions too, not only approved ones.
    #[arg(long)]
    all: bool,
}

/// One line per rescanned version: its state, or its move and why.
pub async fn run(m: Arc<Mirror>, args: RescanArgs) -> Result<Exit> {
    let m2 = m.clone();
    let bar = ui::progress_bar(0, "versions");
    let shown = bar.clone();
    let res = blocking(move || {
        let progress = |done: usize, total: usize| {
            shown.set_length(total as u64);
            shown.set_position(done as u64);
        };
        Ok(m2.rescan_observed(args.all, "rescan", &progress)?)
    })
    .await;
    bar.finish_and_clear();
    let res = res?;
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
