//! Passwords for secret keys: from a file, or typed at a terminal without echo. Never from an
//! argument (it would show in `ps` and shell history) and never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use skillscan::guard::caps::MAX_KEY_FILE_BYTES;

use crate::files::read_text;

/// Reads a password file: its whole content, less one final line break (`\n` or `\r\n`), so
/// `echo secret > F` works. An empty password is refused.
pub fn from_file(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let text = Zeroizing::new(read_text(path, "password file", MAX_KEY_FILE_BYTES)?);
    let password = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if password.is_empty() {
        bail!("password file {} is empty", path.display());
    }
    Ok(Zeroizing::new(password.as_bytes().to_vec()))
}

/// Whether we can ask a person: standard input is a terminal.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks for a password on the terminal (`/dev/tty`) with echo off.
pub fn prompt(message: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let line = read_hidden_line(message).context("cannot read a password from the terminal")?;
    if line.is_empty() {
        bail!("empty password");
    }
    Ok(Zeroizing::new(line.as_bytes().to_vec()))
}

/// Asks twice and insists both match (for a new key).
pub fn prompt_new() -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let first = prompt("Password for the new secret key: ")?;
    let second = prompt("Password (again): ")?;
    if *first != *second {
        bail!("the passwords do not match");
    }
    Ok(first)
}

#[cfg(unix)]
fn read_hidden_line(message: &str) -> std::io::Result<Zeroizing<String>> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let original = tcgetattr(&tty)?;
    let mut silent = original.clone();
    silent.local_modes.remove(LocalModes::ECHO);
    silent.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Flush, &silent)?;
    let result = (|| -> std::io::Result<Zeroizing<String>> {
        (&tty).write_all(message.as_bytes())?;
        (&tty).flush()?;
        let mut line = Zeroizing::new(String::new());
        std::io::BufReader::new(&tty).read_line(&mut line)?;
        Ok(line)
    })();
    // Restore echo whatever happened.
    let restored = tcsetattr(&tty, OptionalActions::Flush, &original);
    let mut line: Zeroizing<String> = result?;
    restored?;
    let trimmed_len = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed_len);
    Ok(line)
}

#[cfg(not(unix))]
fn read_hidden_line(_message: &str) -> std::io::Result<Zeroizing<String>> {
    Err(std::io::Error::other("password prompts need a Unix terminal; use --password-file"))
}
