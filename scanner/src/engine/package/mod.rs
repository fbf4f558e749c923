//! Loading skills from directories, lone `SKILL.md` files, zip and tar archives, or stdin (an
//! archive or a `SKILL.md`) —
//! into memory, never onto disk, within limits, turning every anomaly into a [`LoadIssue`].
//!
//! An attacker writes the input. So: symlinks and special files are reported, never followed or
//! opened; archive entry paths are validated, never joined onto a real path; every read is bounded
//! (`Limits`); archives inside archives are opened only to a fixed depth; and a limit or a corrupt
//! structure stops only the part that hit it while the rest of the skill is still scanned.
//!
//! The module reads from the bottom up: [`sniff`] (what bytes are) and `model` (the
//! vocabulary below), [`roots`] (what a skill root is, the walker, the split of an input into
//! skills), `archive` (zip, tar, gzip in memory), `dir` (folders, discovery), and [`load`] here
//! on top. Each imports only modules before it.

mod archive;
mod dir;
mod model;
pub mod roots;
pub mod sniff;

use std::io::Read;

pub use dir::discover;
pub use model::{
    IssueKind, Limits, LoadError, LoadIssue, LoadedFile, LoadedSkill, SkillSource, Source, is_archive_name,
    unsafe_path_reason,
};
pub use roots::{MAX_SKILL_DEPTH, is_skill_root, root_manifest};
/// Names that make a directory a skill root: the one rule of the workspace, defined with the
/// other skill names in the signatures crate.
pub use skillscan_signatures::identity::is_manifest_name;

use model::io_error;

/// Loads one source. Archives may hold several skills, so this returns a list.
pub fn load(source: &SkillSource, limits: &Limits) -> Result<Vec<LoadedSkill>, LoadError> {
    match &source.source {
        Source::Dir { path, exclude } => Ok(vec![dir::load_dir(&source.display, path, exclude, limits)]),
        Source::File(path) => Ok(vec![dir::load_single_file(&source.display, path, limits)?]),
        Source::Archive(path) => {
            let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
            let size = file.metadata().map_err(|e| io_error(path, e))?.len();
            Ok(archive::load_archive_file(&source.display, file, size, limits))
        }
        Source::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(limits.max_archive_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(LoadError::Stdin)?;
            let too_large = bytes.len() as u64 > limits.max_archive_bytes;
            // Standard input is an archive, or else the text of one `SKILL.md`: loaded exactly as
            // that file alone in a folder would be (`skillscan scan - < SKILL.md`).
            let archive =
                matches!(sniff::sniff(&bytes), Some(sniff::Magic::Zip | sniff::Magic::Gzip | sniff::Magic::Tar));
            let mut skills = if archive || bytes.is_empty() {
                archive::load_archive_bytes(&source.display, &bytes, limits)
            } else {
                let name = "SKILL.md".to_string();
                vec![dir::load_single_reader(&source.display, name, &bytes[..], bytes.len() as u64, limits)]
            };
            if too_large && let Some(first) = skills.first_mut() {
                first.issues.push(LoadIssue {
                    kind: IssueKind::TotalTooLarge,
                    path: String::new(),
                    detail: format!(
                        "standard input is larger than {} bytes; only that much was read",
                        limits.max_archive_bytes
                    ),
                });
            }
            Ok(skills)
        }
        Source::Bytes { name, bytes } => Ok(archive::load_archive_bytes(name, bytes, limits)),
    }
}
