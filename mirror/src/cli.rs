//! Command-line interface definition (clap derive). The commands are run by `main.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "skillscan-mirror", version, about = "Vetted ClawHub-compatible registry mirror")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Data directory (database, blobs, keys).
    #[arg(long, global = true, env = "SKILLSCAN_MIRROR_DATA", default_value = "./skillscan-mirror-data")]
    pub data: PathBuf,
    /// Configuration file (default: <data>/config.toml if present).
    #[arg(long, global = true, env = "SKILLSCAN_MIRROR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log as JSON lines (structured logs).
    #[arg(long, global = true)]
    pub log_json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the ClawHub read API, proofs and the admin API.
    Serve {
        /// Address to listen on (overrides the config file and SKILLSCAN_MIRROR_LISTEN).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Pull skills from an upstream registry; every version is scanned and decided by policy.
    Sync {
        #[arg(long)]
        upstream: String,
        /// Skill slug to sync (repeatable).
        #[arg(long = "slug", conflicts_with = "all", required_unless_present = "all")]
        slugs: Vec<String>,
        /// Sync every skill upstream lists (bounded by upstream.max_skills).
        #[arg(long)]
        all: bool,
    },
    /// Import a skill from a zip file or a directory (air-gapped use).
    Import {
        path: PathBuf,
        #[arg(long)]
        slug: String,
        #[arg(long)]
        version: String,
        #[arg(long)]
        owner: Option<String>,
    },
    /// Approve a version (signs it).
    Approve(Decision),
    /// Reject a version.
    Reject(Decision),
    /// Revoke an approved version.
    Revoke(Decision),
    /// List stored versions.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a version: state, scan report, capabilities; `--diff` adds the update review.
    Show {
        key: String,
        #[arg(long)]
        diff: bool,
        #[arg(long)]
        json: bool,
    },
    /// Retro-hunt: rescan approved versions with the current rules (`--all`: pending ones too).
    Rescan {
        #[arg(long)]
        all: bool,
    },
    /// Print the append-only audit log.
    Audit {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print integrity alerts and recent sync failures.
    Alerts {
        #[arg(long)]
        json: bool,
    },
    /// Manage API tokens (stored hashed).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Args)]
pub struct Decision {
    /// SLUG@VERSION
    pub key: String,
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub by: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "read"])]
        role: String,
    },
    List,
    Revoke {
        #[arg(long)]
        name: String,
    },
}
