//! What a skill root is and how far below a folder one is looked for: the one rule, the one
//! depth and the one folder walker behind every search for skills.
//!
//! A **skill root** is a folder holding a manifest ([`is_manifest_name`]: `SKILL.md` or
//! `skills.md`, any case) as a regular file, at most [`MAX_SKILL_DEPTH`] folders below where
//! the search starts. That is what OpenClaw loads (`clawhub-protocol.md` §4.4), so
//! `skills/@owner/slug` is found. The rule serves:
//!
//! - `scan`'s discovery of skills in a folder ([`super::discover`], which `pin`, `sign`, `verify`
//!   and `digest` share) and the split of a loaded archive into skills (`split_into_skills`,
//!   through [`manifest_root`]);
//! - the protection suite's search of skills folders (`guard::skill_dirs`, for `ci` and
//!   `inventory`), and its "is this folder a skill itself" checks ([`is_skill_root`]).
//!
//! The searches differ in what they are for, so [`RootSearch`] has three knobs (which folders to
//! skip, whether the start folder can be a skill, whether a skill is searched for skills nested
//! in it); the walk, the depth and the root rule are the same. Nothing is followed: a link is
//! reported to the caller as a link, never entered.

use std::fs;
use std::io;
use std::path::Path;

use skillscan_signatures::identity::{is_manifest_name, preferred_manifest};

use super::model::{IssueKind, LoadIssue, LoadedFile, LoadedSkill, unsafe_path_reason};

/// How many folders below the searched folder a skill root can be: OpenClaw's own limit when it
/// discovers `SKILL.md` below a skills folder.
pub const MAX_SKILL_DEPTH: usize = 6;

/// The manifest a folder holds as a regular file (not a link, not a folder), in the spelling
/// every crate reads ([`preferred_manifest`]); `None` when it holds none or cannot be listed.
pub fn root_manifest(dir: &Path) -> Option<String> {
    let entries: Vec<fs::DirEntry> = fs::read_dir(dir).ok()?.filter_map(Result::ok).collect();
    manifest_among(&entries)
}

/// Whether `dir` is a skill root: it holds a manifest as a regular file.
pub fn is_skill_root(dir: &Path) -> bool {
    root_manifest(dir).is_some()
}

/// The skill root a file path of an archive or in-memory tree makes: the folder of a manifest at
/// most [`MAX_SKILL_DEPTH`] folders deep (`""` for the top), or `None` for any other path.
pub fn manifest_root(path: &str) -> Option<&str> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let depth = if dir.is_empty() { 0 } else { dir.split('/').count() };
    (is_manifest_name(name) && depth <= MAX_SKILL_DEPTH).then_some(dir)
}

fn manifest_among(entries: &[fs::DirEntry]) -> Option<String> {
    let names: Vec<String> = entries
        .iter()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    preferred_manifest(names.iter().map(String::as_str)).map(str::to_owned)
}

/// How a search walks.
#[derive(Debug, Clone, Copy)]
pub struct RootSearch<'a> {
    /// Entries never looked at (`.git`, dependency folders, state folders).
    pub skip: &'a [&'a str],
    /// Whether the folder searched can itself be a skill root (`scan DIR`), or is a folder of
    /// skills that is never one (`skills/` for `ci` and `inventory`).
    pub start_can_be_root: bool,
    /// Whether a skill root is searched further for skill roots nested in it (`scan` reports
    /// them on their own) or is a leaf (an installed skill's subfolders are part of it).
    pub search_inside_roots: bool,
}

/// What the walk reports, in walk order (folders by name, depth first).
#[derive(Debug)]
pub enum Visit<'a> {
    /// A skill root.
    Root(&'a Path),
    /// A regular file in a folder the walk listed.
    File(&'a fs::DirEntry),
    /// A symbolic link (to anything), not followed.
    Link(&'a fs::DirEntry),
    /// A folder below the start that could not be listed.
    Unreadable(&'a Path, io::Error),
}

impl RootSearch<'_> {
    /// Walks `start`, reporting each skill root, file, link and unreadable folder to `visit`.
    /// Only a start folder that cannot be listed is an error.
    pub fn walk(&self, start: &Path, visit: &mut dyn FnMut(Visit<'_>)) -> io::Result<()> {
        let entries = sorted_entries(start)?;
        self.visit_entries(start, entries, 0, visit);
        Ok(())
    }

    fn visit_dir(&self, dir: &Path, depth: usize, visit: &mut dyn FnMut(Visit<'_>)) {
        match sorted_entries(dir) {
            Ok(entries) => self.visit_entries(dir, entries, depth, visit),
            Err(error) => visit(Visit::Unreadable(dir, error)),
        }
    }

    fn visit_entries(&self, dir: &Path, entries: Vec<fs::DirEntry>, depth: usize, visit: &mut dyn FnMut(Visit<'_>)) {
        if (depth > 0 || self.start_can_be_root) && manifest_among(&entries).is_some() {
            visit(Visit::Root(dir));
            if !self.search_inside_roots {
                return;
            }
        }
        for entry in &entries {
            let Ok(file_type) = entry.file_type() else { continue };
            if self.skip.iter().any(|skipped| entry.file_name() == **skipped) {
                continue;
            }
            if file_type.is_symlink() {
                visit(Visit::Link(entry));
            } else if file_type.is_dir() {
                if depth < MAX_SKILL_DEPTH {
                    self.visit_dir(&entry.path(), depth + 1, visit);
                }
            } else if file_type.is_file() {
                visit(Visit::File(entry));
            }
        }
    }
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

/// Splits one loaded input into skills: every directory holding a manifest (at most
/// [`MAX_SKILL_DEPTH`] levels deep, [`manifest_root`]) is a skill root, and each file belongs to the deepest root above it. Files of nested
/// archives stay with the skill that carries the archive. Files outside every root form a
/// pseudo-skill at the input's root (with a `NoManifest` issue), so nothing goes unscanned.
pub(super) fn split_into_skills(display: &str, files: Vec<LoadedFile>, issues: Vec<LoadIssue>) -> Vec<LoadedSkill> {
    let mut roots: Vec<String> = files
        .iter()
        .filter(|f| !f.path.contains('!'))
        .filter(|f| unsafe_path_reason(&f.path).is_none())
        .filter_map(|f| manifest_root(&f.path).map(str::to_owned))
        .collect();
    roots.sort();
    roots.dedup();
    let has_top_root = roots.iter().any(|r| r.is_empty());

    let mut skills: Vec<LoadedSkill> = roots
        .iter()
        .map(|root| LoadedSkill {
            root: if root.is_empty() { display.to_string() } else { format!("{display}!/{root}") },
            files: Vec::new(),
            issues: Vec::new(),
        })
        .collect();
    let mut orphans = LoadedSkill { root: display.to_string(), files: Vec::new(), issues: Vec::new() };

    let owner_of = |path: &str| -> Option<usize> {
        roots
            .iter()
            .enumerate()
            .filter(|(_, root)| root.is_empty() || path.starts_with(&format!("{root}/")))
            .max_by_key(|(_, root)| root.len())
            .map(|(i, _)| i)
    };
    let relative = |path: &str, root: &str| -> String {
        if root.is_empty() { path.to_string() } else { path[root.len() + 1..].to_string() }
    };

    for mut file in files {
        match owner_of(&file.path) {
            Some(i) => {
                file.path = relative(&file.path, &roots[i]);
                skills[i].files.push(file);
            }
            None => orphans.files.push(file),
        }
    }
    let mut input_wide = Vec::new();
    for mut issue in issues {
        match owner_of(&issue.path) {
            Some(i) if !issue.path.is_empty() || roots[i].is_empty() => {
                issue.path = relative(&issue.path, &roots[i]);
                skills[i].issues.push(issue);
            }
            _ if issue.path.is_empty() => input_wide.push(issue),
            _ => orphans.issues.push(issue),
        }
    }

    // With a manifest at the top, every file has an owner; otherwise the files outside every
    // root (or all files, when there is no manifest at all) are scanned as a pseudo-skill.
    if !has_top_root && (!orphans.files.is_empty() || !orphans.issues.is_empty() || skills.is_empty()) {
        orphans.issues.push(LoadIssue {
            kind: IssueKind::NoManifest,
            path: String::new(),
            detail: if skills.is_empty() {
                "no SKILL.md found; the files were scanned as one skill".to_string()
            } else {
                format!("{} file(s) lie outside every skill folder (no SKILL.md above them)", orphans.files.len())
            },
        });
        skills.insert(0, orphans);
    }
    // Input-wide issues (a truncated archive…) go to the first skill reported.
    if let Some(first) = skills.first_mut() {
        first.issues.append(&mut input_wide);
    }
    skills
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn file(path: &str) -> LoadedFile {
        LoadedFile { path: path.into(), bytes: Arc::from(&b"x"[..]), size: 1, truncated: false }
    }

    #[test]
    fn flat_archive_is_one_skill() {
        let skills = split_into_skills("x.zip", vec![file("SKILL.md"), file("scripts/a.sh")], vec![]);
        assert_eq!(skills.len(), 1);
        assert_eq!(skills[0].root, "x.zip");
        assert_eq!(skills[0].files.len(), 2);
    }

    #[test]
    fn nested_roots_are_separate_and_orphans_are_kept() {
        let skills = split_into_skills(
            "x.tgz",
            vec![file("README.md"), file("a/SKILL.md"), file("a/run.sh"), file("a/sub/skill.md"), file("a/sub/t.py")],
            vec![],
        );
        let roots: Vec<_> = skills.iter().map(|s| s.root.as_str()).collect();
        assert_eq!(roots, ["x.tgz", "x.tgz!/a", "x.tgz!/a/sub"]);
        assert_eq!(skills[0].files[0].path, "README.md");
        assert!(skills[0].issues.iter().any(|i| i.kind == IssueKind::NoManifest));
        let paths: Vec<_> = skills[2].files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["skill.md", "t.py"]);
    }

    #[test]
    fn empty_input_is_reported_as_a_skill_without_manifest() {
        let skills = split_into_skills("e.zip", vec![], vec![]);
        assert_eq!(skills.len(), 1);
        assert_eq!(skills[0].issues[0].kind, IssueKind::NoManifest);
    }

    #[test]
    fn manifest_roots_of_paths() {
        assert_eq!(manifest_root("SKILL.md"), Some(""));
        assert_eq!(manifest_root("a/Skill.md"), Some("a"));
        assert_eq!(manifest_root("1/2/3/4/5/6/skills.md"), Some("1/2/3/4/5/6"));
        assert_eq!(manifest_root("1/2/3/4/5/6/7/SKILL.md"), None);
        assert_eq!(manifest_root("a/README.md"), None);
    }

    #[test]
    fn one_walk_two_searches() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |path: &str| {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap_or(dir.path())).unwrap_or_else(|e| panic!("{e}"));
            fs::write(path, "x").unwrap_or_else(|e| panic!("{e}"));
        };
        for path in ["SKILL.md", "a/SKILL.md", "a/nested/skill.md", "b/c/d/e/f/g/SKILL.md", "h/1/2/3/4/5/6/SKILL.md"] {
            write(path);
        }
        write("node_modules/x/SKILL.md");
        write("loose.zip");
        let roots = |search: RootSearch<'_>| {
            let mut roots = Vec::new();
            let mut files = Vec::new();
            let result = search.walk(dir.path(), &mut |visit| match visit {
                Visit::Root(path) => roots.push(path.strip_prefix(dir.path()).unwrap_or(path).display().to_string()),
                Visit::File(entry) => files.push(entry.file_name().to_string_lossy().into_owned()),
                Visit::Link(_) | Visit::Unreadable(..) => {}
            });
            assert!(result.is_ok());
            (roots, files)
        };
        let (scan_roots, scan_files) =
            roots(RootSearch { skip: &[".git"], start_can_be_root: true, search_inside_roots: true });
        assert_eq!(scan_roots, ["", "a", "a/nested", "b/c/d/e/f/g", "node_modules/x"]);
        assert!(scan_files.contains(&"loose.zip".to_owned()));
        let (installed, _) =
            roots(RootSearch { skip: &["node_modules"], start_can_be_root: false, search_inside_roots: false });
        assert_eq!(installed, ["a", "b/c/d/e/f/g"]);
        assert!(is_skill_root(dir.path()));
        assert!(!is_skill_root(&dir.path().join("b")));
        assert_eq!(root_manifest(&dir.path().join("a/nested")).as_deref(), Some("skill.md"));
    }
}
