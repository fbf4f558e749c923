//! `skillscan scan`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use skillscan::engine::report::baseline::Baseline;
use skillscan::engine::report::{github, html, human, markdown, sarif};
use skillscan::engine::timings::Timings;
use skillscan::{FailOn, ScanOptions, Scanner, Severity};

use crate::exit::Exit;
use crate::shared::{Color, LimitArgs, Progress, ReportFormat, RuleArgs, load_config, use_color, write_output};
use crate::ui;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Skill directories, SKILL.md files, .zip/.tar.gz/.tgz/.tar archives, or `-` (an archive, or a SKILL.md, on stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
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
    /// Human, Markdown and HTML output list only skills whose worst finding is at or above
    /// LEVEL (info, low, medium, high, critical), and only their findings at or above it. The
    /// summary, JSON, SARIF and the exit code still count everything.
    #[arg(long, value_name = "LEVEL")]
    pub min_severity: Option<Severity>,
    /// Report only findings that are not in FILE, an earlier `--format json` report (matched by
    /// the SARIF fingerprint: skill, rule, file, matched text). Verdicts and the exit code then
    /// count only new findings; known ones stay in JSON and SARIF, suppressed as `baseline`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Colour in human output: auto (a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces it), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// After the report, print to standard error where the time went: per phase (load,
    /// views, literals, trees, rules, analyzers, verdict), the costliest rules (regex runs and
    /// bytes searched) and each analyzer.
    #[arg(long)]
    pub timings: bool,
}

pub fn run(args: ScanArgs) -> anyhow::Result<Exit> {
    let (config, config_path) = load_config(args.config.as_deref())?;
    match &config_path {
        Some(path) => ui::detail!("configuration {}", path.display()),
        None => ui::detail!("no configuration file: defaults"),
    }
    // Read before scanning: a bad baseline is an error, found before the wait.
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::High);
    let rules = args.rules.load()?;
    ui::detail!("rules {} ({} rules)", rules.version, rules.rules.len());
    let timings =
        args.timings.then(|| Arc::new(Timings::new(rules.rules.len(), &skillscan::engine::analyzers::names())));
    let scanner = Scanner::new(rules, &config);
    let options = ScanOptions {
        limits: args.limits.limits(),
        inline_ignores: !args.no_inline_ignores && config.inline_ignores.unwrap_or(true),
        timings: timings.clone(),
        ..ScanOptions::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let progress = Progress::new(args.format == ReportFormat::Human || args.output.is_some());
    let started = Instant::now();
    let report = pool.install(|| scanner.scan_paths(&args.paths, &options, &|done, total| progress.tick(done, total)));
    let wall = started.elapsed();
    progress.finish();
    let mut report = report?;
    if let Some(baseline) = &baseline {
        baseline.apply(&mut report);
    }

    let bytes = match args.format {
        ReportFormat::Json => {
            let mut text = report.to_json();
            text.push('\n');
            text.into_bytes()
        }
        ReportFormat::Sarif => {
            // URIs relative to the repository around the current folder, as code scanning resolves them.
            let cwd = std::env::current_dir().context("the current folder")?;
            let base = sarif::UriBase::around(&cwd);
            let mut text = serde_json::to_string_pretty(&sarif::render(&report, scanner.rules(), Some(&base)))?;
            text.push('\n');
            text.into_bytes()
        }
        ReportFormat::Github => {
            let mut out = Vec::new();
            github::render(&report, &mut out)?;
            out
        }
        ReportFormat::Human => {
            let mut out = Vec::new();
            let style = human::Style {
                color: use_color(args.color, args.output.as_deref()),
                show_suppressed: args.show_suppressed,
                min_severity: args.min_severity,
            };
            human::render(&report, style, &mut out)?;
            out
        }
        ReportFormat::Markdown => {
            let options = markdown::Options { min_severity: args.min_severity, ..markdown::Options::default() };
            markdown::to_string(&report, options).into_bytes()
        }
        ReportFormat::Html => {
            let options = html::Options { min_severity: args.min_severity, title: None };
            html::render(&report, &options, None).into_bytes()
        }
    };
    write_output(args.output.as_deref(), &bytes)?;
    if let Some(timings) = &timings {
        let rules = scanner.rules();
        eprintln!(
            "skillscan: timings: {:.3} s wall on {} worker threads; time per phase, summed over them",
            wall.as_secs_f64(),
            pool.current_num_threads()
        );
        eprint!("{}", timings.render(|i| rules.rules.get(i).map_or_else(String::new, |r| r.id.clone()), 25));
    }
    if args.format != ReportFormat::Human {
        for warning in &report.warnings {
            eprintln!("skillscan: warning: {warning}");
        }
        if let Some(summary) = &report.baseline {
            eprintln!("skillscan: {} finding(s) already in the baseline {} set aside", summary.baselined, summary.file);
        }
    }
    Ok(if report.fails(fail_on) { Exit::Findings } else { Exit::Clean })
}
