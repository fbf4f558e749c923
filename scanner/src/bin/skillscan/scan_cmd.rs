//! `skillscan scan`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use skillscan::engine::report::{github, human, sarif};
use skillscan::{FailOn, ScanOptions, Scanner};

use crate::exit::Exit;
use crate::shared::{Color, Format, LimitArgs, Progress, RuleArgs, load_config, use_color, write_output};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Skill directories, SKILL.md files, .zip/.tar.gz/.tgz/.tar archives, or `-` (an archive, or a SKILL.md, on stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when an active finding is at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Configuration file [default: ./skillscan.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Worker threads [default: one per CPU].
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    /// Ignore `skillscan-ignore:` comments in the scanned files.
    #[arg(long)]
    pub no_inline_ignores: bool,
    /// Show suppressed findings in human output.
    #[arg(long)]
    pub show_suppressed: bool,
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(flatten)]
    pub limits: LimitArgs,
}

pub fn run(args: ScanArgs) -> anyhow::Result<Exit> {
    let (config, _) = load_config(args.config.as_deref())?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::High);
    let rules = args.rules.load()?;
    let scanner = Scanner::new(rules, &config);
    let options = ScanOptions {
        limits: args.limits.limits(),
        inline_ignores: !args.no_inline_ignores && config.inline_ignores.unwrap_or(true),
        ..ScanOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let progress = Progress::new(args.format == Format::Human || args.output.is_some());
    let report = pool.install(|| scanner.scan_paths(&args.paths, &options, &|done, total| progress.tick(done, total)));
    progress.finish();
    let report = report?;

    let bytes = match args.format {
        Format::Json => {
            let mut text = report.to_json();
            text.push('\n');
            text.into_bytes()
        }
        Format::Sarif => {
            // URIs relative to the repository around the current folder, as code scanning resolves them.
            let cwd = std::env::current_dir().context("the current folder")?;
            let base = sarif::UriBase::around(&cwd);
            let mut text = serde_json::to_string_pretty(&sarif::render(&report, scanner.rules(), Some(&base)))?;
            text.push('\n');
            text.into_bytes()
        }
        Format::Github => {
            let mut out = Vec::new();
            github::render(&report, &mut out)?;
            out
        }
        Format::Human => {
            let mut out = Vec::new();
            let style = human::Style {
                color: use_color(args.color, args.output.as_deref()),
                show_suppressed: args.show_suppressed,
            };
            human::render(&report, style, &mut out)?;
            out
        }
    };
    write_output(args.output.as_deref(), &bytes)?;
    if args.format != Format::Human {
        for warning in &report.warnings {
            eprintln!("skillscan: warning: {warning}");
        }
    }
    Ok(if report.fails(fail_on) { Exit::Findings } else { Exit::Clean })
}
