//! Finding the skills a command-line path names, for the integrity commands, and reporting
//! what goes wrong with one.

use std::path::Path;

use skillscan::guard::integrity::{self, SkillTarget, TreeError};

use crate::exit::Exit;

/// Prints a digest error and returns its exit code: 3 when the input is at fault (link, unsafe
/// path, bomb, corrupt archive), 2 when it could not be read.
pub fn report_tree_error(display: &str, error: &TreeError) -> Exit {
    if error.is_integrity() {
        eprintln!("skillscan: integrity: {display}: {error}");
        Exit::Integrity
    } else {
        eprintln!("skillscan: error: {error}");
        Exit::Error
    }
}

/// The worse of two exit codes: integrity failures outrank errors, which outrank the rest.
pub fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Clean => 0,
        Exit::Findings => 1,
        Exit::Error => 2,
        Exit::Integrity => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// The skills under `path`: the path itself when it is an archive or a folder with `SKILL.md`
/// at its root (nested skill folders stay part of it), otherwise every skill folder and loose
/// archive found below it, as `scan` finds them (or the folder itself when it holds none).
pub fn targets(path: &Path, search_below_skills: bool) -> Result<Vec<SkillTarget>, TreeError> {
    let display = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TreeError::NotFound { path: display.clone() },
        _ => TreeError::Io { path: display.clone(), source: e },
    })?;
    if meta.is_file() {
        return Ok(vec![SkillTarget { display, path: path.to_path_buf(), is_archive: true }]);
    }
    if !search_below_skills && skillscan::engine::package::is_skill_root(path) {
        return Ok(vec![SkillTarget { display, path: path.to_path_buf(), is_archive: false }]);
    }
    integrity::discover(path)
}
