//! The `skillscan-mirror` command line: one `*_cmd.rs` per command, errors reported here,
//! at the edge, and exit codes in [`exit`]. The library does the work.

mod alerts_cmd;
mod audit_cmd;
mod backup_cmd;
mod decide_cmd;
mod exit;
mod import_cmd;
mod key_cmd;
mod list_cmd;
mod migrate_cmd;
mod rescan_cmd;
mod scrub_cmd;
mod serve_cmd;
mod shared;
mod show_cmd;
mod sync_cmd;
mod token_cmd;
mod ui;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand};
use skillscan_mirror::model::State;

use exit::Exit;

#[derive(Debug, Parser)]
#[command(name = "skillscan-mirror", version, about = "Vetted ClawHub-compatible registry mirror")]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Data directory (database, blobs, keys).
    #[arg(long, global = true, env = "SKILLSCAN_MIRROR_DATA", default_value = "./skillscan-mirror-data")]
    data: PathBuf,
    /// Configuration file (default: <data>/config.toml if present).
    #[arg(long, global = true, env = "SKILLSCAN_MIRROR_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines (structured logs).
    #[arg(long, global = true)]
    log_json: bool,
    /// PEM file of an extra certificate authority trusted for HTTPS to the upstream and to
    /// webhook receivers, besides the bundled and the system's roots [default: the config's ca_cert].
    #[arg(long, global = true, value_name = "FILE", env = "SKILLSCAN_MIRROR_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// Metadata database: `sqlite:PATH` or `postgres://HOST/DB` (several replicas share one
    /// PostgreSQL) [default: the config's [storage] database, else sqlite:<data>/mirror.db].
    #[arg(long, global = true, value_name = "URL", env = "SKILLSCAN_MIRROR_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Blob store: a directory or `s3://bucket[/prefix]` (credentials from the AWS_* environment)
    /// [default: the config's [storage] blobs, else the data directory].
    #[arg(long, global = true, value_name = "URL", env = "SKILLSCAN_MIRROR_BLOBS", hide_env_values = true)]
    blobs: Option<String>,
    /// Say less: errors only in the log, no progress bars or notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say more: -v logs at info level, -vv at debug (SKILLSCAN_MIRROR_LOG overrides both).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the ClawHub read API, proofs and the admin API.
    Serve(serve_cmd::ServeArgs),
    /// Pull skills from an upstream registry; every version is scanned and decided by policy.
    Sync(sync_cmd::SyncArgs),
    /// Import a skill from a zip file or a directory (air-gapped use).
    Import(import_cmd::ImportArgs),
    /// Approve a version (signs it); `--override` for a version the policy refuses.
    Approve(decide_cmd::ApproveArgs),
    /// Reject a version.
    Reject(decide_cmd::DecisionArgs),
    /// Revoke an approved version.
    Revoke(decide_cmd::DecisionArgs),
    /// List stored versions.
    List(list_cmd::ListArgs),
    /// Show a version: state, scan report, capabilities; `--diff` adds the update review.
    Show(show_cmd::ShowArgs),
    /// Retro-hunt: rescan approved versions with the current rules (`--all`: pending ones too).
    Rescan(rescan_cmd::RescanArgs),
    /// Re-hash every stored blob; alert on and report missing or corrupt ones (exit 3).
    Scrub(scrub_cmd::ScrubArgs),
    /// Print the append-only audit log.
    Audit(audit_cmd::AuditArgs),
    /// Print integrity alerts, open blob faults and recent sync failures.
    Alerts(alerts_cmd::AlertsArgs),
    /// Manage the signing key: `init` (first key), `rotate` (new key, re-signs approvals).
    Key {
        #[command(subcommand)]
        action: key_cmd::KeyAction,
    },
    /// Copy the database, blobs, evidence, keys and config into a new directory, consistently,
    /// while `serve` runs.
    Backup(backup_cmd::BackupArgs),
    /// Restore a backup into the data directory (`--data`), which must not exist or be empty.
    Restore(backup_cmd::RestoreArgs),
    /// Copy this mirror into other backends (SQLite + files to PostgreSQL + S3): every blob
    /// re-hashed and every signature verified before the rows are written.
    Migrate(migrate_cmd::MigrateArgs),
    /// Manage API tokens (stored hashed).
    Token {
        #[command(subcommand)]
        action: token_cmd::TokenAction,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command with --dir.
    Manpage {
        /// Write skillscan-mirror.1 and one page per command into DIR instead of printing
        /// skillscan-mirror.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

impl Command {
    /// Commands that only read the mirror: they never create a data directory.
    fn reads_only(&self) -> bool {
        matches!(
            self,
            Command::List(_)
                | Command::Show(_)
                | Command::Audit(_)
                | Command::Alerts(_)
                | Command::Migrate(_)
                | Command::Token { action: token_cmd::TokenAction::List }
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::set_quiet(cli.global.quiet);
    // Generated from the definition; no data directory, no runtime.
    match &cli.command {
        Command::Completions { shell } => return ui::completions(*shell, Cli::command()),
        Command::Manpage { dir } => return ui::manpage(dir.as_deref(), Cli::command()),
        _ => {}
    }
    init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return Exit::Error.into();
        }
    };
    match rt.block_on(run(cli)) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Error.into()
        }
    }
}

fn init_logging(cli: &Cli) {
    let default = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => "error",
        (_, 0) if matches!(cli.command, Command::Serve(_)) => "info",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKILLSCAN_MIRROR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only for a person at a terminal: never in a log file, a pipe or journald.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if cli.global.log_json {
        b.json().init();
    } else {
        b.init();
    }
}

/// Open the mirror, then hand it to the command.
async fn run(cli: Cli) -> Result<Exit> {
    let data = &cli.global.data;
    if cli.command.reads_only() && !data.is_dir() {
        anyhow::bail!(
            "no data directory at {}: this command only reads a mirror (`serve`, `sync`, `import` or `key init` \
             create one; pass --data or set SKILLSCAN_MIRROR_DATA to use another)",
            data.display()
        );
    }
    // Neither opens the mirror: a backup copies the keys without loading them, and a restore
    // writes into a directory that holds no mirror yet.
    let place = shared::Place {
        data,
        config: cli.global.config.as_deref(),
        ca_cert: cli.global.ca_cert.as_deref(),
        database: cli.global.database.as_deref(),
        blobs: cli.global.blobs.as_deref(),
    };
    let command = match cli.command {
        Command::Backup(args) => {
            shared::embedded_only(&place, "backup")?;
            return backup_cmd::backup(data.clone(), args).await;
        }
        Command::Restore(args) => {
            shared::embedded_only(&place, "restore")?;
            return backup_cmd::restore(data.clone(), args).await;
        }
        Command::Migrate(args) => return migrate_cmd::run(&place, args).await,
        other => other,
    };
    if let Command::Key { action } = command {
        let m = Arc::new(shared::open_without_key(&place)?);
        return key_cmd::run(m, action).await;
    }
    let m = Arc::new(shared::open(&place)?);
    match command {
        Command::Serve(args) => serve_cmd::run(m, args).await,
        Command::Sync(args) => sync_cmd::run(m, args).await,
        Command::Import(args) => import_cmd::run(m, args).await,
        Command::Approve(a) => decide_cmd::approve(m, a).await,
        Command::Reject(d) => decide_cmd::run(m, d, State::Rejected).await,
        Command::Revoke(d) => decide_cmd::run(m, d, State::Revoked).await,
        Command::List(args) => list_cmd::run(&m, args),
        Command::Show(args) => show_cmd::run(&m, args),
        Command::Rescan(args) => rescan_cmd::run(m, args).await,
        Command::Scrub(args) => scrub_cmd::run(m, args).await,
        Command::Audit(args) => audit_cmd::run(&m, args),
        Command::Alerts(args) => alerts_cmd::run(&m, args),
        Command::Token { action } => token_cmd::run(&m, action),
        Command::Key { .. }
        | Command::Completions { .. }
        | Command::Manpage { .. }
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Migrate(_) => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (conflicting or missing argument ids) only at runtime.
    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// Every command and every option a user can see explains itself in `--help` (and so in
    /// the manual page and the completions).
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if command.get_about().is_none() && path.contains(' ') {
                missing.push(format!("command `{path}`"));
            }
            for arg in command.get_arguments() {
                let builtin = matches!(
                    arg.get_action(),
                    clap::ArgAction::Help
                        | clap::ArgAction::HelpShort
                        | clap::ArgAction::HelpLong
                        | clap::ArgAction::Version
                );
                if !arg.is_hide_set() && !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("`{path}` argument `{}`", arg.get_id()));
                }
            }
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = super::Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "skillscan-mirror", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }
}
