//! `sync`: pull skills from an upstream registry; every version is scanned and decided.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use skillscan_mirror::service::IngestOutcome;
use skillscan_mirror::{Mirror, sync};

use crate::exit::Exit;
use crate::shared::{flush_hooks, resume_stuck};
use crate::ui;

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Base URL of the upstream registry (ClawHub API), e.g. https://clawhub.ai.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// Skill slug to sync (repeatable).
    #[arg(long = "slug", conflicts_with = "all", required_unless_present = "all")]
    slugs: Vec<String>,
    /// Sync every skill upstream lists (bounded by upstream.max_skills).
    #[arg(long)]
    all: bool,
}

/// One line per version offered and per failure; exits 1 when any item failed.
pub async fn run(m: Arc<Mirror>, args: SyncArgs) -> Result<Exit> {
    let SyncArgs { upstream, slugs, all } = args;
    for line in resume_stuck(&m, "sync").await? {
        println!("resumed {line}");
    }
    let bar = ui::progress_bar(0, "skills");
    let observer = |event: sync::SyncProgress<'_>| match event {
        sync::SyncProgress::Skills(total) => bar.set_length(total as u64),
        sync::SyncProgress::Working { slug, version: Some(version) } => bar.set_message(format!("{slug}@{version}")),
        sync::SyncProgress::Working { slug, version: None } => bar.set_message(slug.to_owned()),
        sync::SyncProgress::SkillDone => bar.inc(1),
    };
    let report = sync::run_observed(m.clone(), sync::SyncOptions { upstream, slugs, all }, &observer).await;
    bar.finish_and_clear();
    let report = report?;
    for (key, outcome) in &report.results {
        match outcome {
            IngestOutcome::New { state, reason } => println!("{key}: {state} ({reason})"),
            IngestOutcome::Unchanged { state } => println!("{key}: unchanged ({state})"),
            IngestOutcome::IntegrityAlert { pinned, observed } => {
                println!(
                    "{key}: INTEGRITY ALERT: upstream bytes changed (pinned {pinned}, observed {observed}); original kept"
                )
            }
        }
    }
    for f in &report.failures {
        println!(
            "{}{}: FAILED: {}",
            f.slug,
            f.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default(),
            f.error
        );
    }
    flush_hooks(&m).await;
    Ok(if report.failures.is_empty() { Exit::Success } else { Exit::SyncFailures })
}
