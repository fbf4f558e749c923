//! `skillscan inventory`: list the agent skills installed on this host ([`skillscan::guard::inventory`]).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};
use skillscan::guard::inventory::{InventoryOptions, inventory, render};
use skillscan::{FailOn, ScanOptions, Scanner};

use crate::exit::Exit;
use crate::shared::{Color, RuleArgs, load_config, use_color, write_output};
use crate::trust::{LoadedTrust, TrustArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Treat DIR as the home directory and inspect nothing outside it (a fake or mounted home).
    /// Default: $HOME, and $OPENCLAW_STATE_DIR when set.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InventoryFormat::Human)]
    pub format: InventoryFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The vetted mirror's URL; skills installed from any other registry are flagged
    /// [default: [trust] mirror in skillscan.toml].
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Configuration file [default: ./skillscan.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 when a skill has an active finding at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// List and verify only; do not scan the skills.
    #[arg(long)]
    pub no_scan: bool,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Colour in human output: auto (a terminal, unless NO_COLOR is set; CLICOLOR_FORCE forces it), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn run(args: InventoryArgs) -> anyhow::Result<Exit> {
    let (config, config_path) = load_config(args.config.as_deref())?;
    let (home, contained) = match &args.root {
        Some(root) => (root.clone(), true),
        None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => (PathBuf::from(home), false),
            None => bail!("HOME is not set; pass --root DIR"),
        },
    };
    if !home.is_dir() {
        bail!("{}: not a folder", home.display());
    }
    // On a real host OpenClaw may keep its state elsewhere; a fake root stays self-contained.
    let extra_state_dirs = if contained {
        Vec::new()
    } else {
        std::env::var_os("OPENCLAW_STATE_DIR").filter(|d| !d.is_empty()).map(PathBuf::from).into_iter().collect()
    };
    let trust = args.trust.resolve(&config.trust, config_path.as_deref())?;
    let mirror = args.mirror.clone().or(config.trust.mirror.clone());
    if let Some(url) = &mirror {
        skillscan::clawhub::client::validate_registry_url(url)?;
    }
    let scanner = if args.no_scan { None } else { Some(Scanner::new(args.rules.load()?, &config)) };
    let options = InventoryOptions {
        home,
        contained,
        extra_state_dirs,
        mirror,
        trust: trust.as_ref().map(LoadedTrust::trust),
        scanner: scanner.as_ref(),
        scan_options: ScanOptions::default(),
        fail_on: args.fail_on.or(config.fail_on).unwrap_or(FailOn::High),
        now: skillscan::clawhub::state::now_millis() / 1000,
    };
    let result = inventory(&options)?;
    let bytes = match args.format {
        InventoryFormat::Json => render::json(&result).into_bytes(),
        InventoryFormat::Human => {
            let mut out = Vec::new();
            render::human(&result, use_color(args.color, args.output.as_deref()), &mut out)?;
            out
        }
    };
    write_output(args.output.as_deref(), &bytes)?;
    Ok(match result.exit_code() {
        3 => Exit::Integrity,
        1 => Exit::Findings,
        _ => Exit::Clean,
    })
}
