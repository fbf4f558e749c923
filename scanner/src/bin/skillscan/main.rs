//! The `skillscan` command line. Errors are reported here, at the edge, with anyhow; the library
//! returns typed errors.

mod ci_cmd;
mod exit;
mod install_cmd;
mod rules_cmd;
mod scan_cmd;
mod shared;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use exit::Exit;

/// Stops malicious AI-agent skills before they reach a machine.
#[derive(Parser)]
#[command(name = "skillscan", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan skills (directories, SKILL.md files, .zip/.tar.gz archives, `-` for stdin).
    Scan(scan_cmd::ScanArgs),
    /// List, explain and test the rules.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Download a skill from a ClawHub registry, verify, scan, and only then install it.
    Install(Box<install_cmd::InstallArgs>),
    /// Check every skill of a repository: pinned, unmodified, signed if required, passes the scan.
    Ci(Box<ci_cmd::CiArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::run(args),
        Command::Rules(command) => rules_cmd::run(command),
        Command::Install(args) => install_cmd::run(*args),
        Command::Ci(args) => ci_cmd::run(*args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("skillscan: error: {error:#}");
            Exit::Error.into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
