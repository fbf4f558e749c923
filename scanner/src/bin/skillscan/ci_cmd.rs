//! `skillscan ci`: pins, signatures and the scan for every skill of a repository or workspace.
//! The checks are [`skillscan::guard::ci`]; this file finds the configuration, lock and keys, and prints.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use skillscan::engine::report::baseline::Baseline;
use skillscan::engine::report::human;
use skillscan::guard::ci::{CiOptions, check_repository, render};
use skillscan::guard::integrity::IntegrityLimits;
use skillscan::{Config, FailOn, ScanOptions, Scanner, Severity};

use crate::exit::Exit;
use crate::shared::{Color, LimitArgs, ReportFormat, RuleArgs, use_color, write_output};
use crate::trust::{LoadedTrust, TrustArgs, load_lock_if_exists};

#[derive(Debug, Args)]
pub struct CiArgs {
    /// Repository or workspace root [default: the current folder].
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file [default: PATH/skillscan.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 when an active finding is at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// The pins [default: the config's [ci] lock, else skills.lock next to the config, else PATH/skills.lock].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Every skill must carry a signature by a trusted key (also `[ci] require_signatures`).
    #[arg(long)]
    pub require_signatures: bool,
    /// Human, Markdown and HTML output list only skills whose worst finding is at or above
    /// LEVEL (info, low, medium, high, critical), and only their findings at or above it.
    #[arg(long, value_name = "LEVEL")]
    pub min_severity: Option<Severity>,
    /// Count only scan findings that are not in FILE, an earlier `scan` or `ci --format json`
    /// report; integrity checks are never baselined.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Colour in human output: auto (a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces it), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(flatten)]
    pub limits: LimitArgs,
}

pub fn run(args: CiArgs) -> anyhow::Result<Exit> {
    let root = &args.path;
    if !root.is_dir() {
        bail!("{}: not a folder", root.display());
    }
    // The repository's own config, not the one of the folder the command runs in.
    let config_path = match &args.config {
        Some(path) => Some(path.clone()),
        None => Some(root.join("skillscan.toml")).filter(|p| p.is_file()),
    };
    let config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let config_dir = config_path.as_deref().and_then(Path::parent).unwrap_or(root).to_path_buf();
    let relative_to_config = |value: &str| {
        let path = Path::new(value);
        if path.is_absolute() { path.to_path_buf() } else { config_dir.join(path) }
    };

    let lock_path = match (&args.lock, &config.ci.lock) {
        (Some(path), _) => path.clone(),
        (None, Some(value)) => relative_to_config(value),
        (None, None) => config_dir.join("skills.lock"),
    };
    let lock = match load_lock_if_exists(&lock_path)? {
        Some(lock) => Some(lock),
        None if args.lock.is_some() || config.ci.lock.is_some() => {
            bail!(
                "{}: no such file (named by {})",
                lock_path.display(),
                if args.lock.is_some() { "--lock" } else { "[ci] lock" }
            )
        }
        None => None,
    };

    let trust = args.trust.resolve(&config.trust, config_path.as_deref())?;
    let require_signatures = args.require_signatures || config.ci.require_signatures;
    if require_signatures && trust.is_none() {
        bail!(
            "signatures are required but no trusted keys are configured (--trusted-keys, --public-key, or \
             trusted_keys or public_key in the [trust] table of skillscan.toml)"
        );
    }

    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::High);
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    let scanner = Scanner::new(args.rules.load()?, &config);
    let scan_options = ScanOptions {
        limits: args.limits.limits(),
        inline_ignores: config.inline_ignores.unwrap_or(true),
        ..ScanOptions::default()
    };
    let options = CiOptions {
        lock: lock.as_ref().map(|l| (l, lock_path.as_path())),
        trust: trust.as_ref().map(LoadedTrust::trust),
        require_signatures,
        now: skillscan::clawhub::state::now_millis() / 1000,
        limits: IntegrityLimits::default(),
    };
    let mut report = check_repository(root, &root.display().to_string(), &scanner, &scan_options, &options)?;
    if let Some(baseline) = &baseline {
        baseline.apply(&mut report.scan);
    }

    let bytes = match args.format {
        ReportFormat::Json => render::json(&report, fail_on).into_bytes(),
        ReportFormat::Sarif => {
            let mut text = serde_json::to_string_pretty(&render::sarif(&report, scanner.rules()))?;
            text.push('\n');
            text.into_bytes()
        }
        ReportFormat::Github => {
            let mut out = Vec::new();
            render::github(&report, &mut out)?;
            out
        }
        ReportFormat::Human => {
            let mut out = Vec::new();
            let style = human::Style {
                color: use_color(args.color, args.output.as_deref()),
                show_suppressed: false,
                min_severity: args.min_severity,
            };
            render::human(&report, style, fail_on, &mut out)?;
            out
        }
        ReportFormat::Markdown => render::markdown(&report, fail_on, args.min_severity).into_bytes(),
        ReportFormat::Html => render::html(&report, fail_on, args.min_severity).into_bytes(),
    };
    write_output(args.output.as_deref(), &bytes)?;
    if args.format != ReportFormat::Human {
        for warning in report.warnings.iter().chain(&report.scan.warnings) {
            eprintln!("skillscan: warning: {warning}");
        }
        if let Some(summary) = &report.scan.baseline {
            eprintln!("skillscan: {} finding(s) already in the baseline {} set aside", summary.baselined, summary.file);
        }
        // The reason for a failing exit, even when the report went to a file.
        for skill in &report.skills {
            for problem in &skill.problems {
                eprintln!("skillscan: {}: {}: {}", skill.root, problem.code, problem.message);
            }
        }
        for problem in &report.problems {
            eprintln!("skillscan: {}: {}", problem.code, problem.message);
        }
    }
    Ok(match report.exit_code(fail_on) {
        3 => Exit::Integrity,
        2 => Exit::Error,
        1 => Exit::Findings,
        _ => Exit::Clean,
    })
}
