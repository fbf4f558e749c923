//! Reading and validating skill archives (untrusted bytes) without extracting to disk.
//!
//! The mirror serves the stored zip byte-for-byte, so it must know exactly what a client
//! will write when it extracts it. `clawhub` writes every entry to `skills/<slug>/`, so an
//! archive is only accepted when it is *flat* (`SKILL.md` at the root), has no symlinks,
//! no absolute or `..` paths, no duplicate names, and stays under the size caps. Anything
//! else is refused here: a policy refusal with a reason, never a crash.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use skillscan_signatures::identity::{is_manifest_name, preferred_manifest};

use crate::digests;
use crate::validate;

/// Caps applied while reading an archive. Defaults follow ClawHub's publish limits
/// (10 MB per file, 50 MB in total).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_archive_bytes: u64,
    pub max_entries: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 50 * 1024 * 1024,
            max_entries: 2_000,
            max_file_bytes: 10 * 1024 * 1024,
            max_total_bytes: 50 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ArchiveError {
    #[error("archive is larger than {0} bytes")]
    TooLarge(u64),
    #[error("not a readable zip archive: {0}")]
    NotZip(String),
    #[error("archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("unsafe entry name {0:?}")]
    UnsafeName(String),
    #[error("entry {0:?} is a symlink")]
    Symlink(String),
    #[error("entry {0:?} is encrypted")]
    Encrypted(String),
    #[error("duplicate entry {0:?}")]
    Duplicate(String),
    #[error("entry {0:?} is larger than {1} bytes")]
    FileTooLarge(String, u64),
    #[error("archive expands to more than {0} bytes")]
    TotalTooLarge(u64),
    #[error("entry {0:?} could not be read: {1}")]
    Corrupt(String, String),
    #[error("archive is not flat: no SKILL.md at its root")]
    NoSkillMd,
    #[error("archive has no files")]
    Empty,
}

/// One file inside a stored skill archive, as listed by `versions/{v}.files[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
}

/// The validated content of a skill archive.
#[derive(Debug, Clone)]
pub struct SkillArchive {
    /// Files by path (sorted by byte order in the map; use `entries()` for display).
    pub files: BTreeMap<String, Vec<u8>>,
    pub archive_sha256: String,
    pub archive_size: u64,
}

impl SkillArchive {
    /// Parse and validate `bytes`.
    pub fn read(bytes: &[u8], limits: &Limits) -> Result<SkillArchive, ArchiveError> {
        if bytes.len() as u64 > limits.max_archive_bytes {
            return Err(ArchiveError::TooLarge(limits.max_archive_bytes));
        }
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ArchiveError::NotZip(e.to_string()))?;
        if zip.len() > limits.max_entries {
            return Err(ArchiveError::TooManyEntries(limits.max_entries));
        }
        let mut files = BTreeMap::new();
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| ArchiveError::Corrupt(format!("#{i}"), e.to_string()))?;
            let raw_name = String::from_utf8(entry.name_raw().to_vec())
                .map_err(|_| ArchiveError::UnsafeName(String::from_utf8_lossy(entry.name_raw()).into_owned()))?;
            if entry.is_dir() {
                // Directory entries carry no content; clients skip them too. Still refuse
                // hostile names so nothing odd is ever listed.
                let trimmed = raw_name.trim_end_matches('/');
                validate::file_path(trimmed).map_err(|_| ArchiveError::UnsafeName(raw_name.clone()))?;
                continue;
            }
            validate::file_path(&raw_name).map_err(|_| ArchiveError::UnsafeName(raw_name.clone()))?;
            if entry.encrypted() {
                return Err(ArchiveError::Encrypted(raw_name));
            }
            if entry.is_symlink() {
                return Err(ArchiveError::Symlink(raw_name));
            }
            if entry.size() > limits.max_file_bytes {
                return Err(ArchiveError::FileTooLarge(raw_name, limits.max_file_bytes));
            }
            // Never trust the declared size: read at most one byte more than the cap.
            let mut buf = Vec::with_capacity(entry.size().min(limits.max_file_bytes) as usize);
            (&mut entry)
                .take(limits.max_file_bytes + 1)
                .read_to_end(&mut buf)
                .map_err(|e| ArchiveError::Corrupt(raw_name.clone(), e.to_string()))?;
            if buf.len() as u64 > limits.max_file_bytes {
                return Err(ArchiveError::FileTooLarge(raw_name, limits.max_file_bytes));
            }
            total += buf.len() as u64;
            if total > limits.max_total_bytes {
                return Err(ArchiveError::TotalTooLarge(limits.max_total_bytes));
            }
            // Case-insensitive duplicates would overwrite each other on macOS/Windows.
            if files.keys().any(|k: &String| k.eq_ignore_ascii_case(&raw_name)) {
                return Err(ArchiveError::Duplicate(raw_name));
            }
            files.insert(raw_name, buf);
        }
        if files.is_empty() {
            return Err(ArchiveError::Empty);
        }
        if root_manifest(&files).is_none() {
            return Err(ArchiveError::NoSkillMd);
        }
        Ok(SkillArchive { files, archive_sha256: sha256_hex(bytes), archive_size: bytes.len() as u64 })
    }

    /// The file list served by `versions/{v}.files[]`, in ClawHub's `localeCompare` order.
    pub fn entries(&self) -> Vec<FileEntry> {
        let mut v: Vec<FileEntry> = self
            .files
            .iter()
            .map(|(p, b)| FileEntry {
                path: p.clone(),
                size: b.len() as u64,
                sha256: sha256_hex(b),
                content_type: content_type(p).to_string(),
            })
            .collect();
        v.sort_by(|a, b| digests::locale_cmp(&a.path, &b.path));
        v
    }

    /// The text of the root `SKILL.md` (or the other spelling `root_manifest` picks), when it is UTF-8.
    pub fn skill_md(&self) -> Option<&str> {
        root_manifest(&self.files).and_then(|name| self.files.get(name)).and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// The root manifest among an archive's files: a [manifest name](is_manifest_name) at the root
/// (`SKILL.md` or `skills.md`, any case: the workspace's one rule, so the mirror accepts what
/// ClawHub publishes and the scanner reads), `SKILL.md` when several spellings are present
/// ([`preferred_manifest`]). Paths are canonical here, so a name without `/` is at the root.
fn root_manifest(files: &BTreeMap<String, Vec<u8>>) -> Option<&str> {
    preferred_manifest(files.keys().map(String::as_str).filter(|path| !path.contains('/') && is_manifest_name(path)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Content type by extension, as ClawHub lists them in `files[]`.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "txt" => "text/plain",
        "py" => "text/x-python",
        "sh" | "bash" => "text/x-shellscript",
        "js" | "mjs" | "cjs" => "text/javascript",
        "ts" => "text/typescript",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "toml" => "application/toml",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "ps1" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// `name` and `description` from the SKILL.md YAML front matter. A line-based reader is
/// enough here: these values only fill `displayName`/`summary` for imported skills, and
/// a malformed front matter just yields `None` (the scanner judges the content).
pub fn front_matter(md: &str) -> (Option<String>, Option<String>) {
    let md = md.strip_prefix('\u{feff}').unwrap_or(md);
    let mut lines = md.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return (None, None);
    }
    let (mut name, mut desc) = (None, None);
    for line in lines {
        if line.trim_end() == "---" {
            break;
        }
        let unquote = |v: &str| -> String {
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v);
            let v = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')).unwrap_or(v);
            v.chars().take(300).collect()
        };
        if let Some(v) = line.strip_prefix("name:") {
            name = Some(unquote(v)).filter(|s| !s.is_empty());
        } else if let Some(v) = line.strip_prefix("description:") {
            desc = Some(unquote(v)).filter(|s| !s.is_empty());
        }
    }
    (name, desc)
}

/// Build a flat, deterministic zip (ClawHub's layout: root-level files in `localeCompare`
/// order, fixed 1980-01-01 timestamps, deflate) from `files`. Used by `import DIR`.
pub fn build_zip(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, ArchiveError> {
    let mut paths: Vec<&String> = files.keys().collect();
    paths.sort_by(|a, b| digests::locale_cmp(a, b));
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for p in paths {
        let err = |e: &dyn std::fmt::Display| ArchiveError::Corrupt(p.clone(), e.to_string());
        w.start_file(p.as_str(), opts).map_err(|e| err(&e))?;
        w.write_all(&files[p]).map_err(|e| err(&e))?;
    }
    let cur = w.finish().map_err(|e| ArchiveError::Corrupt(String::new(), e.to_string()))?;
    Ok(cur.into_inner())
}

/// ClawHub's `_meta.json` (pretty-printed, 2 spaces, no trailing newline).
pub fn meta_json(owner: Option<&str>, slug: &str, version: &str, published_at: i64) -> Vec<u8> {
    let meta = skillscan::clawhub::api::ArchiveMeta {
        owner_id: owner.map(|o| format!("users:{o}")),
        published_at,
        slug: slug.to_string(),
        version: version.to_string(),
    };
    serde_json::to_vec_pretty(&meta).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `_meta.json` as it was built before it had a type: imported archives' digests depend on it.
    #[test]
    fn meta_json_keeps_its_bytes() {
        let before = serde_json::json!({"ownerId": "users:acme", "slug": "a", "version": "1.0.0", "publishedAt": 1});
        assert_eq!(meta_json(Some("acme"), "a", "1.0.0", 1), serde_json::to_vec_pretty(&before).unwrap());
        let before = serde_json::json!({"ownerId": null, "slug": "a", "version": "1.0.0", "publishedAt": 1});
        assert_eq!(meta_json(None, "a", "1.0.0", 1), serde_json::to_vec_pretty(&before).unwrap());
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for (p, b) in entries {
            w.start_file(*p, opts).unwrap();
            w.write_all(b).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn accepts_flat_skill() {
        let z = zip_of(&[("SKILL.md", b"---\nname: x\ndescription: d\n---\n"), ("scripts/a.py", b"print(1)")]);
        let a = SkillArchive::read(&z, &Limits::default()).unwrap();
        assert_eq!(a.files.len(), 2);
        assert_eq!(front_matter(a.skill_md().unwrap()), (Some("x".into()), Some("d".into())));
        let e = a.entries();
        assert_eq!(e[0].path, "scripts/a.py", "localeCompare puts scripts/ before SKILL.md");
    }

    /// Every spelling ClawHub publishes and the scanner reads is a manifest; `SKILL.md` wins.
    #[test]
    fn manifest_spellings_are_the_workspace_rule() {
        let lim = Limits::default();
        for name in ["SKILL.md", "skill.md", "Skill.md", "SKILL.MD", "skills.md", "Skills.MD"] {
            let z = zip_of(&[(name, b"---\nname: x\n---\n")]);
            let read = SkillArchive::read(&z, &lim);
            assert!(read.as_ref().is_ok_and(|a| a.skill_md().is_some()), "{name}: {:?}", read.err());
        }
        for not_a_manifest in ["SKILL.markdown", "README.md", "docs/SKILL.md"] {
            let z = zip_of(&[(not_a_manifest, b"x")]);
            assert_eq!(SkillArchive::read(&z, &lim).err(), Some(ArchiveError::NoSkillMd), "{not_a_manifest}");
        }
        let both = zip_of(&[("skills.md", b"second"), ("SKILL.md", b"first"), ("Skill.md.bak", b"no")]);
        assert_eq!(SkillArchive::read(&both, &lim).ok().as_ref().and_then(SkillArchive::skill_md), Some("first"));
    }

    #[test]
    fn refuses_hostile_archives() {
        let lim = Limits::default();
        assert!(matches!(SkillArchive::read(b"not a zip", &lim), Err(ArchiveError::NotZip(_))));
        let nested = zip_of(&[("x/SKILL.md", b"a")]);
        assert_eq!(SkillArchive::read(&nested, &lim).unwrap_err(), ArchiveError::NoSkillMd);
        let trav = zip_of(&[("SKILL.md", b"a"), ("../evil", b"b")]);
        assert!(matches!(SkillArchive::read(&trav, &lim), Err(ArchiveError::UnsafeName(_))));
        let abs = zip_of(&[("SKILL.md", b"a"), ("/etc/x", b"b")]);
        assert!(matches!(SkillArchive::read(&abs, &lim), Err(ArchiveError::UnsafeName(_))));
        let dup = zip_of(&[("SKILL.md", b"a"), ("skill.MD", b"b")]);
        assert!(matches!(SkillArchive::read(&dup, &lim), Err(ArchiveError::Duplicate(_))));
        let small = Limits { max_file_bytes: 4, ..Limits::default() };
        let big = zip_of(&[("SKILL.md", b"0123456789")]);
        assert!(matches!(SkillArchive::read(&big, &small), Err(ArchiveError::FileTooLarge(..))));
        let truncated = &zip_of(&[("SKILL.md", b"abc")])[..20];
        assert!(SkillArchive::read(truncated, &lim).is_err());
    }

    #[test]
    fn build_zip_roundtrips_and_is_deterministic() {
        let mut f = BTreeMap::new();
        f.insert("SKILL.md".to_string(), b"hello".to_vec());
        f.insert("_meta.json".to_string(), b"{}".to_vec());
        let a = build_zip(&f).unwrap();
        assert_eq!(a, build_zip(&f).unwrap());
        let back = SkillArchive::read(&a, &Limits::default()).unwrap();
        assert_eq!(back.files, f);
    }
}
