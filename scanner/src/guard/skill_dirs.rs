//! Finding skill folders below a skills folder the way OpenClaw does (`clawhub-protocol.md`
//! §4.4): a folder holding `SKILL.md` (or `skill.md`, `skills.md`) up to 6 levels deep, so
//! `skills/@owner/slug` is found. Shared by `skillscan ci` and `skillscan inventory`.
//!
//! Nothing is followed: a link to a folder is returned as a link for the caller to judge (ci
//! refuses it, inventory checks whether it stays inside the skills folder), and a skill folder
//! is not searched further (folders nested in it are part of it).

use std::fs;
use std::path::{Path, PathBuf};

/// OpenClaw discovers `SKILL.md` this deep below a skills folder.
pub const MAX_DEPTH: usize = 6;

/// Folders never searched: version control, dependencies, ClawHub's own state.
const SKIPPED: [&str; 4] =
    [".git", "node_modules", crate::clawhub::state::STATE_DIR, crate::clawhub::state::LEGACY_STATE_DIR];

/// What a search found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Skill folders, sorted.
    pub skills: Vec<PathBuf>,
    /// Links to folders (where a skill folder could have been), with their target as written.
    pub links: Vec<(PathBuf, String)>,
    /// Folders that could not be listed, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// The target of a link, escaped for messages.
pub fn link_target(path: &Path) -> String {
    fs::read_link(path).map(|t| crate::engine::text::escape_snippet(&t.display().to_string(), 200)).unwrap_or_default()
}

/// Searches `base` (itself never a skill: it is the skills folder).
pub fn find(base: &Path) -> Walk {
    let mut walk = Walk::default();
    visit(base, base, 0, &mut walk);
    walk.skills.sort();
    walk
}

fn visit(base: &Path, dir: &Path, depth: usize, walk: &mut Walk) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            walk.unreadable.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let is_skill = entries.iter().any(|e| {
        crate::engine::package::is_manifest_name(&e.file_name().to_string_lossy())
            && e.file_type().is_ok_and(|t| t.is_file())
    });
    if is_skill && dir != base {
        walk.skills.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    for entry in entries {
        let Ok(file_type) = entry.file_type() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if SKIPPED.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        if file_type.is_symlink() {
            // Only a link to a folder could stand where a skill folder is (one stat, no read).
            if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                let target = link_target(&path);
                walk.links.push((path, target));
            }
        } else if file_type.is_dir() {
            visit(base, &path, depth + 1, walk);
        }
    }
}
