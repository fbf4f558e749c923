//! `skillscan completions SHELL` and `skillscan manpage`: generated from the command-line
//! definition, so they never drift from it.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use clap_complete::Shell;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// Write skillscan.1 and one page per command (skillscan-scan.1, …) into DIR instead of
    /// printing skillscan.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs, mut command: clap::Command) -> anyhow::Result<Exit> {
    let name = command.get_name().to_owned();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout().lock());
    Ok(Exit::Clean)
}

pub fn manpage(args: ManpageArgs, command: clap::Command) -> anyhow::Result<Exit> {
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir).with_context(|| format!("writing pages into {}", dir.display()))?;
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout().lock())?,
    }
    Ok(Exit::Clean)
}
