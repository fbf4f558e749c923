//! Options several commands share: rules, config, limits, output.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use skillscan::engine::package::Limits;
use skillscan::engine::rules::RuleSources;
use skillscan::{Config, RuleSet};

use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// The formats of a scan report (`scan`, `ci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For a terminal: one block per skill and a summary table.
    Human,
    /// The versioned report (docs/schemas/scan-report.schema.json).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
    /// GitHub-flavoured Markdown, for a pull request comment or $GITHUB_STEP_SUMMARY.
    Markdown,
    /// One self-contained HTML page (inline style and script, no network) with filters.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Directory of extra rule files; a rule with a built-in rule's id replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Indicator file replacing the built-in indicators of compromise.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
}

impl RuleArgs {
    pub fn load(&self) -> anyhow::Result<RuleSet> {
        let mut sources = RuleSources::builtin();
        if let Some(dir) = &self.rules {
            sources.add_dir(dir).with_context(|| format!("loading rules from {}", dir.display()))?;
        }
        if let Some(ioc) = &self.ioc {
            sources.set_indicators(ioc).with_context(|| format!("loading indicators from {}", ioc.display()))?;
        }
        Ok(sources.compile()?)
    }
}

#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Most files and links read from one input (nested archives included).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    pub max_entries: usize,
    /// Bytes read from one file; the rest is reported as not analysed.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: u64,
    /// Bytes read from one input in total.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_total_bytes)]
    pub max_total_bytes: u64,
    /// Compression ratio above which an archive entry is reported as a bomb.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,
    /// Archives inside archives opened before giving up.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    pub max_depth: u32,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_entries: self.max_entries,
            max_file_bytes: self.max_file_bytes,
            max_total_bytes: self.max_total_bytes,
            max_ratio: self.max_ratio,
            max_depth: self.max_depth,
            ..Limits::default()
        }
    }
}

/// `--config FILE`, else `./skillscan.toml` when present, else defaults. Never a file inside
/// the scanned skills: those are written by the party being checked.
pub fn load_config(explicit: Option<&Path>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    if let Some(path) = explicit {
        return Ok((Config::load(path)?, Some(path.to_path_buf())));
    }
    let default = PathBuf::from("skillscan.toml");
    if default.is_file() {
        return Ok((Config::load(&default)?, Some(default)));
    }
    Ok((Config::default(), None))
}

/// Where output goes: a file (written whole at the end) or stdout.
pub fn write_output(output: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Colour in a human report: `--color always`/`never`, else (auto) only on stdout and as
/// anstream decides: a terminal, `NO_COLOR` off, `CLICOLOR_FORCE` on.
pub fn use_color(color: Color, output: Option<&Path>) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => output.is_none() && ui::stdout_color(anstream::ColorChoice::Auto),
    }
}

/// The scan's progress bar (inputs done of all, with an ETA) on stderr: only on a terminal,
/// not with `--quiet`, and only when `enabled` (the report does not go to stdout as JSON).
pub struct Progress {
    enabled: bool,
    /// Made at the first tick, when the number of inputs is known.
    bar: std::sync::OnceLock<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        Progress { enabled, bar: std::sync::OnceLock::new() }
    }

    pub fn tick(&self, done: usize, total: usize) {
        let bar = self.bar.get_or_init(|| {
            if self.enabled { ui::progress_bar(total as u64, "inputs") } else { ProgressBar::hidden() }
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
