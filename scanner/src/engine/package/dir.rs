//! Finding skills in directories and reading their files, without following links.

use std::fs;
use std::path::{Path, PathBuf};

use skillscan_signatures::identity::is_manifest_name;

use super::archive::Collector;
use super::model::{IssueKind, Limits, LoadError, LoadedSkill, SkillSource, Source, io_error, is_archive_name};
use super::roots::{RootSearch, Visit, root_manifest};
use super::sniff::{Magic, sniff};

/// Turns a command-line path into the skill sources it holds: a directory with `SKILL.md` is a
/// skill; a directory without one is searched (up to [`super::roots::MAX_SKILL_DEPTH`] levels)
/// for skill roots and for archives outside them; a file is an archive or a lone skill file. `-`
/// is standard input.
pub fn discover(path: &Path) -> Result<Vec<SkillSource>, LoadError> {
    if path.as_os_str() == "-" {
        return Ok(vec![SkillSource { display: "-".to_string(), source: Source::Stdin }]);
    }
    let display = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_file() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let source = if is_archive_name(&name) || sniffs_as_archive(path) {
            Source::Archive(path.to_path_buf())
        } else {
            Source::File(path.to_path_buf())
        };
        return Ok(vec![SkillSource { display, source }]);
    }
    if !meta.is_dir() {
        return Err(LoadError::Io { path: display, source: std::io::Error::other("not a regular file or directory") });
    }

    let mut roots = Vec::new();
    let mut archives = Vec::new();
    // Nested skill roots are reported on their own; unreadable subfolders are reported when the
    // skill holding them is loaded.
    let search = RootSearch { skip: &[".git"], start_can_be_root: true, search_inside_roots: true };
    search
        .walk(path, &mut |visit| match visit {
            Visit::Root(root) => roots.push(root.to_path_buf()),
            Visit::File(entry) if is_archive_name(&entry.file_name().to_string_lossy()) => archives.push(entry.path()),
            Visit::File(_) | Visit::Link(_) | Visit::Unreadable(..) => {}
        })
        .map_err(|e| io_error(path, e))?;
    if roots.is_empty() && archives.is_empty() {
        return Ok(vec![SkillSource { display, source: Source::Dir { path: path.to_path_buf(), exclude: vec![] } }]);
    }
    // Archives inside a skill are that skill's files; only loose archives are inputs of their own.
    archives.retain(|archive: &PathBuf| !roots.iter().any(|root: &PathBuf| archive.starts_with(root)));
    let shown = |p: &Path| -> String {
        match p.strip_prefix(path) {
            Ok(rel) if rel.as_os_str().is_empty() => display.clone(),
            Ok(rel) => format!("{}/{}", display.trim_end_matches('/'), rel.display()),
            Err(_) => p.display().to_string(),
        }
    };
    // Sorted component-wise, the roots nested in a root follow it directly.
    roots.sort();
    let mut sources: Vec<SkillSource> = roots
        .iter()
        .enumerate()
        .map(|(i, root)| {
            let exclude = roots[i + 1..].iter().take_while(|other| other.starts_with(root)).cloned().collect();
            SkillSource { display: shown(root), source: Source::Dir { path: root.clone(), exclude } }
        })
        .collect();
    sources.extend(archives.iter().map(|a| SkillSource { display: shown(a), source: Source::Archive(a.clone()) }));
    sources.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(sources)
}

fn sniffs_as_archive(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    let n = std::io::Read::read(&mut file, &mut head).unwrap_or(0);
    matches!(sniff(&head[..n]), Some(Magic::Zip | Magic::Gzip | Magic::Tar))
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<fs::DirEntry>> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

/// Loads every file below `root` (except nested skill roots and `.git`), without following links.
pub(super) fn load_dir(display: &str, root: &Path, exclude: &[PathBuf], limits: &Limits) -> LoadedSkill {
    let mut collector = Collector::new(limits);
    let mut has_manifest = false;
    walk(&mut collector, root, "", exclude, &mut has_manifest);
    if !has_manifest && collector.stopped() {
        read_unread_root_manifest(&mut collector, root, &mut has_manifest);
    }
    if !has_manifest {
        collector.issue(
            IssueKind::NoManifest,
            "",
            "no SKILL.md in this folder; its files were scanned as one skill".to_string(),
        );
    }
    LoadedSkill { root: display.to_string(), files: collector.files, issues: collector.issues }
}

/// After a limit stopped the walk before the root manifest: reads it anyway (a regular file only,
/// within the per-file limit), so files sorted ahead of `SKILL.md` cannot hide it.
fn read_unread_root_manifest(collector: &mut Collector<'_>, root: &Path, has_manifest: &mut bool) {
    let Some(name) = root_manifest(root) else { return };
    let path = root.join(&name);
    let (Ok(meta), Ok(file)) = (fs::symlink_metadata(&path), fs::File::open(&path)) else { return };
    if !meta.is_file() {
        return;
    }
    collector.read_manifest_past_limits(name, file, meta.len(), None);
    *has_manifest = true;
}

fn walk(collector: &mut Collector<'_>, dir: &Path, rel: &str, exclude: &[PathBuf], has_manifest: &mut bool) {
    let entries = match sorted_entries(dir) {
        Ok(entries) => entries,
        Err(error) => {
            collector.issue(IssueKind::Unreadable, rel, format!("directory unreadable: {error}"));
            return;
        }
    };
    for entry in entries {
        if collector.stopped() {
            return;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let rel_path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(error) => {
                collector.issue(IssueKind::Unreadable, &rel_path, format!("cannot stat: {error}"));
                continue;
            }
        };
        let file_type = meta.file_type();
        if file_type.is_dir() {
            if name == ".git" || exclude.iter().any(|e| e == &path) {
                continue;
            }
            walk(collector, &path, &rel_path, exclude, has_manifest);
            continue;
        }
        if !collector.admit_entry(None) {
            return;
        }
        if file_type.is_symlink() {
            let target = fs::read_link(&path).map(|t| t.display().to_string()).unwrap_or_default();
            let target = crate::engine::text::escape_snippet(&target, 200);
            collector.issue(IssueKind::Link, &rel_path, format!("symbolic link to `{target}` (not followed)"));
            continue;
        }
        if !file_type.is_file() {
            // Opening a FIFO would block forever; devices and sockets are not skill content.
            collector.issue(
                IssueKind::SpecialFile,
                &rel_path,
                "special file (device, FIFO or socket); not opened".to_string(),
            );
            continue;
        }
        if rel.is_empty() && is_manifest_name(&name) {
            *has_manifest = true;
        }
        match fs::File::open(&path) {
            Ok(file) => collector.read_file(rel_path, file, meta.len(), None, 0),
            Err(error) => collector.issue(IssueKind::Unreadable, &rel_path, format!("cannot open: {error}")),
        }
    }
}

/// Loads a lone file (typically a `SKILL.md`) as a one-file skill.
pub(super) fn load_single_file(display: &str, path: &Path, limits: &Limits) -> Result<LoadedSkill, LoadError> {
    let file = fs::File::open(path).map_err(|e| io_error(path, e))?;
    let size = file.metadata().map_err(|e| io_error(path, e))?.len();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "SKILL.md".to_string());
    Ok(load_single_reader(display, name, file, size, limits))
}

/// Loads one file's content as a one-file skill whose only file is `name`: a lone file given by
/// path, or a `SKILL.md` piped to standard input.
pub(super) fn load_single_reader(
    display: &str,
    name: String,
    reader: impl std::io::Read,
    size: u64,
    limits: &Limits,
) -> LoadedSkill {
    let mut collector = Collector::new(limits);
    collector.admit_entry(None);
    collector.read_file(name, reader, size, None, 0);
    LoadedSkill { root: display.to_string(), files: collector.files, issues: collector.issues }
}
