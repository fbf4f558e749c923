//! What the command line says besides its output: how much (`-q`/`-v`), progress bars, and
//! whether stdout gets colour.
//!
//! - `--quiet` leaves stderr to errors, failures and warnings about the result: no progress,
//!   no notes, no details. `--verbose` adds details (which configuration and rules, what was
//!   fetched and checked). The level is set once, in `main`, and read everywhere through
//!   [`note!`] and [`detail!`].
//! - Progress bars (with an ETA) are drawn on stderr only when it is a terminal and not quiet;
//!   elsewhere (pipes, CI logs, tests) they are hidden.
//! - Colour goes through anstream: `--color auto` colours stdout only when it is a terminal,
//!   `NO_COLOR` (non-empty) turns it off and `CLICOLOR_FORCE` forces it; `always`/`never` win.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much the command says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        1 => Level::Normal,
        _ => Level::Verbose,
    }
}

pub fn quiet() -> bool {
    level() == Level::Quiet
}

pub fn verbose() -> bool {
    level() == Level::Verbose
}

/// `skillscan: note: …` on stderr, unless `--quiet`.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!("skillscan: note: {}", format_args!($($arg)*));
        }
    };
}

/// `skillscan: …` on stderr, only with `--verbose`.
macro_rules! detail {
    ($($arg:tt)*) => {
        if $crate::ui::verbose() {
            eprintln!("skillscan: {}", format_args!($($arg)*));
        }
    };
}

pub(crate) use {detail, note};

/// A progress bar of `total` steps on stderr with an ETA; hidden unless stderr is a terminal
/// and the command is not quiet. `unit` names a step ("inputs", "skills").
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

/// The colour choice for stdout under `--color`: `auto` leaves it to anstream (a terminal,
/// `NO_COLOR`, `CLICOLOR_FORCE`).
pub fn stdout_color(choice: anstream::ColorChoice) -> bool {
    anstream::AutoStream::new(std::io::stdout(), choice).current_choice() != anstream::ColorChoice::Never
}
