//! What the command line says besides its output: `-q` (no notes, no progress), progress bars
//! on a terminal, and the generated completions and manual pages.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exit::Exit;

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress bar of `total` steps (`unit`: "skills", "versions") on stderr with an ETA;
/// hidden unless stderr is a terminal and the command is not quiet.
pub fn progress_bar(total: u64, unit: &str) -> ProgressBar {
    if quiet() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = format!("{{bar:30}} {{pos}}/{{len}} {unit}  {{elapsed}} elapsed, ETA {{eta}}  {{wide_msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("##-"));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn completions(shell: clap_complete::Shell, mut command: clap::Command) -> ExitCode {
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, &mut std::io::stdout().lock());
    Exit::Success.into()
}

pub fn manpage(dir: Option<&Path>, command: clap::Command) -> ExitCode {
    let result = match dir {
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir)),
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("error: writing the manual page: {e}");
            Exit::Error.into()
        }
    }
}
