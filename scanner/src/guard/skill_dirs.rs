//! Finding skill folders below a skills folder the way OpenClaw does (`clawhub-protocol.md`
//! §4.4): a folder holding `SKILL.md` (or `skill.md`, `skills.md`) up to
//! [`MAX_SKILL_DEPTH`](crate::engine::package::MAX_SKILL_DEPTH) levels deep, so
//! `skills/@owner/slug` is found. Shared by `skillscan ci` and `skillscan inventory`; the walk,
//! the depth and the skill-root rule are the engine's ([`crate::engine::package::roots`]), the
//! same `scan` discovers skills with.
//!
//! Nothing is followed: a link to a folder is returned as a link for the caller to judge (ci
//! refuses it, inventory checks whether it stays inside the skills folder), and a skill folder
//! is not searched further (folders nested in it are part of it).

use std::fs;
use std::path::{Path, PathBuf};

use crate::engine::package::roots::{RootSearch, Visit};

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
    let search = RootSearch { skip: &SKIPPED, start_can_be_root: false, search_inside_roots: false };
    let started = search.walk(base, &mut |visit| match visit {
        Visit::Root(dir) => walk.skills.push(dir.to_path_buf()),
        // Only a link to a folder could stand where a skill folder is (one stat, no read).
        Visit::Link(entry) if fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) => {
            let path = entry.path();
            let target = link_target(&path);
            walk.links.push((path, target));
        }
        Visit::Unreadable(dir, error) => walk.unreadable.push((dir.to_path_buf(), error.to_string())),
        Visit::Link(_) | Visit::File(_) => {}
    });
    if let Err(error) = started {
        walk.unreadable.push((base.to_path_buf(), error.to_string()));
    }
    walk.skills.sort();
    walk
}
