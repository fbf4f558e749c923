//! The `skillscan` command line. Errors are reported here, at the edge, with anyhow; the library
//! returns typed errors.

// jemalloc instead of the system allocator: on the dev corpus with one worker, 5-8% less CPU
// time, for a peak RSS of 181-187 MB instead of 170 MB (mimalloc saved 6% but took 260 MB).
// Unix only: the crate does not build on Windows with MSVC.
#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod ci_cmd;
mod completions_cmd;
mod digest_cmd;
mod exit;
mod files;
mod install_cmd;
mod inventory_cmd;
mod key_cmd;
mod password;
mod pin_cmd;
mod rules_cmd;
mod scan_cmd;
mod schema_cmd;
mod shared;
mod sign_cmd;
mod skills;
mod trust;
mod ui;
mod verify_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use exit::Exit;

/// Stops malicious AI-agent skills before they reach a machine.
#[derive(Parser)]
#[command(name = "skillscan", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(subcommand)]
    command: Command,
}

/// `-q`/`-v`, accepted before or after the subcommand.
#[derive(clap::Args)]
struct Verbosity {
    /// Say less on stderr: no progress bars, no notes; errors, failures and warnings remain.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Say more on stderr: which configuration and rules, what was fetched and checked.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Scan skills (directories, SKILL.md files, .zip/.tar.gz archives, `-` for stdin).
    Scan(scan_cmd::ScanArgs),
    /// List, explain and test the rules.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(key_cmd::KeyCommand),
    /// Sign a skill archive or folder (writes PATH.minisig; a folder also gets PATH.manifest).
    // `--version` is the skill's version here (issue 3's interface), not the tool's.
    #[command(disable_version_flag = true)]
    Sign(sign_cmd::SignArgs),
    /// Verify a skill against its signature, its skills.lock pin and its origin.json fingerprint.
    Verify(verify_cmd::VerifyArgs),
    /// Pin skills in skills.lock: digests, identity, scan verdict.
    #[command(disable_version_flag = true)]
    Pin(pin_cmd::PinArgs),
    /// Print tree digests, archive sha256 and ClawHub fingerprints.
    Digest(digest_cmd::DigestArgs),
    /// Download a skill from a ClawHub registry, verify, scan, and only then install it.
    Install(Box<install_cmd::InstallArgs>),
    /// Check every skill of a repository: pinned, unmodified, signed if required, passes the scan.
    Ci(Box<ci_cmd::CiArgs>),
    /// List the agent skills installed on this host, with source, pin, signature and scan status.
    Inventory(Box<inventory_cmd::InventoryArgs>),
    /// Print the JSON Schema of the scan report, of a rule file or of skillscan.toml.
    Schema(schema_cmd::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions_cmd::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --dir.
    Manpage(completions_cmd::ManpageArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ui::set_level(match (cli.verbosity.quiet, cli.verbosity.verbose) {
        (true, _) => ui::Level::Quiet,
        (_, true) => ui::Level::Verbose,
        _ => ui::Level::Normal,
    });
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::run(args),
        Command::Rules(command) => rules_cmd::run(command),
        Command::Key(command) => key_cmd::run(command),
        Command::Sign(args) => sign_cmd::run(args),
        Command::Verify(args) => verify_cmd::run(args),
        Command::Pin(args) => pin_cmd::run(args),
        Command::Digest(args) => digest_cmd::run(args),
        Command::Install(args) => install_cmd::run(*args),
        Command::Ci(args) => ci_cmd::run(*args),
        Command::Inventory(args) => inventory_cmd::run(*args),
        Command::Schema(args) => schema_cmd::run(args),
        Command::Completions(args) => completions_cmd::completions(args, Cli::command()),
        Command::Manpage(args) => completions_cmd::manpage(args, Cli::command()),
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (duplicate flags such as `--version`) only at runtime.
    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// Every command and every argument a user can see explains itself in `--help` (and so in
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
        walk(&command, "skillscan", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }
}
