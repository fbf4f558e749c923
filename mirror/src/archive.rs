//! Reading and validating skill archives (untrusted bytes) without extracting to disk.
//!
//! The mirror serves the stored zip byte-for-byte, so it must know exactly what a client
//! will write when it extracts it. `clawhub` writes every entry to `skills/<slug>/`, so an
//! archive is only accepted when it is *flat* (`SKILL.md` at the root), has no symlinks,
//! no absolute or `..` paths, no duplicate names, and stays under the size caps. Anything
//! else is refused here: a policy refusal with a reason, never a crash.
//!
//! Before the zip library reads anything, [`check_structure`] walks the raw records: zip
//! readers disagree about ambiguous archives (several end records, a local header that
//! names another file than the central directory, entries hidden between listed ones,
//! entries sharing bytes), so the mirror only accepts archives that every reader reads
//! the same way. A refusal of that kind, or a traversal, symlink, encrypted entry, bomb or
//! directory entry with data, is [hostile](ArchiveError::is_hostile): ingest records it as
//! a security event, not a plain failure.

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
    #[error("entry {0:?}: local header and central directory disagree ({1})")]
    HeaderMismatch(String, String),
    #[error("more than one end-of-central-directory record")]
    MultipleEndRecords,
    #[error("directory entry {0:?} carries data")]
    DirectoryWithData(String),
    #[error("entry {0:?} expands {1}:1 (zip bomb)")]
    Bomb(String, u64),
    #[error("ambiguous archive layout: {0}")]
    Layout(String),
}

impl ArchiveError {
    /// Whether this refusal means the archive was crafted (a security event), rather than
    /// damaged, truncated or simply not a skill (a plain failure).
    pub fn is_hostile(&self) -> bool {
        match self {
            ArchiveError::UnsafeName(_)
            | ArchiveError::Symlink(_)
            | ArchiveError::Encrypted(_)
            | ArchiveError::Duplicate(_)
            | ArchiveError::TooManyEntries(_)
            | ArchiveError::FileTooLarge(..)
            | ArchiveError::TotalTooLarge(_)
            | ArchiveError::HeaderMismatch(..)
            | ArchiveError::MultipleEndRecords
            | ArchiveError::DirectoryWithData(_)
            | ArchiveError::Bomb(..)
            | ArchiveError::Layout(_) => true,
            ArchiveError::TooLarge(_)
            | ArchiveError::NotZip(_)
            | ArchiveError::Corrupt(..)
            | ArchiveError::NoSkillMd
            | ArchiveError::Empty => false,
        }
    }
}

/// An entry that expands more than this many times its compressed size, to more than
/// [`BOMB_MIN_BYTES`], is a bomb (deflate of ordinary text stays far below it).
pub const BOMB_RATIO: u64 = 200;
pub const BOMB_MIN_BYTES: u64 = 1024 * 1024;

const SIG_LOCAL: &[u8] = b"PK\x03\x04";
const SIG_CENTRAL: &[u8] = b"PK\x01\x02";
const SIG_END: &[u8] = b"PK\x05\x06";
const SIG_DESCRIPTOR: &[u8] = b"PK\x07\x08";
/// Flag bits: 0 encrypted, 3 sizes in a data descriptor after the data, 6 strong encryption.
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG: u16 = 1 << 6;
/// Compression method 99: WinZip AES.
const METHOD_AES: u16 = 99;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// One central directory record, as much of it as the walk compares.
struct Central<'a> {
    name: &'a [u8],
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
}

impl Central<'_> {
    fn shown(&self) -> String {
        String::from_utf8_lossy(self.name).chars().take(100).collect()
    }
}

/// Refuse an archive that zip readers could read differently, or that is crafted to hurt
/// them, by its raw structure: exactly one end-of-central-directory record, ending the
/// file; a central directory that ends where that record starts; local entries that start
/// at byte 0 and follow each other with no gap and no overlap up to the central directory;
/// each local header naming the same file, method, flags, CRC and sizes as its central
/// record (or its data descriptor); no encryption; no directory entry with data; no entry
/// beyond the caps or expanding more than [`BOMB_RATIO`]:1. Zip64 is refused (skills are far
/// below 4 GiB). Reads bytes only, never panics.
pub fn check_structure(bytes: &[u8], limits: &Limits) -> Result<(), ArchiveError> {
    let layout = |m: &str| ArchiveError::Layout(m.to_string());
    let truncated = || ArchiveError::NotZip("truncated central directory".into());
    // Every end record: a signature followed by a whole record for disk 0.
    let ends: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == SIG_END)
        .map(|(p, _)| p)
        .filter(|&p| {
            let comment = u16_at(bytes, p + 20).map(usize::from);
            comment.is_some_and(|c| p + 22 + c <= bytes.len())
                && u16_at(bytes, p + 4) == Some(0)
                && u16_at(bytes, p + 6) == Some(0)
                && u16_at(bytes, p + 8) == u16_at(bytes, p + 10)
        })
        .collect();
    let end = match ends.as_slice() {
        [] => return Err(ArchiveError::NotZip("no end-of-central-directory record".into())),
        [end] => *end,
        _ => return Err(ArchiveError::MultipleEndRecords),
    };
    let field16 = |at: usize| u16_at(bytes, end + at).ok_or_else(truncated);
    let field32 = |at: usize| u32_at(bytes, end + at).ok_or_else(truncated);
    let (count, cd_size, cd_offset, comment) = (field16(10)?, field32(12)?, field32(16)?, field16(20)?);
    if end + 22 + usize::from(comment) != bytes.len() {
        return Err(layout("data after the end-of-central-directory record"));
    }
    if count == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(layout("zip64 archives are not accepted"));
    }
    let (cd_start, cd_end) = (cd_offset as usize, cd_offset as usize + cd_size as usize);
    if cd_end != end {
        return Err(layout("the central directory does not end where the end record starts"));
    }
    if usize::from(count) > limits.max_entries {
        return Err(ArchiveError::TooManyEntries(limits.max_entries));
    }

    let mut central = Vec::with_capacity(usize::from(count));
    let mut at = cd_start;
    for _ in 0..count {
        if bytes.get(at..at + 4) != Some(SIG_CENTRAL) {
            return Err(layout("the central directory holds fewer records than the end record says"));
        }
        let f16 = |o: usize| u16_at(bytes, at + o).ok_or_else(truncated);
        let f32 = |o: usize| u32_at(bytes, at + o).ok_or_else(truncated);
        let (name_len, extra_len, comment_len) = (usize::from(f16(28)?), usize::from(f16(30)?), usize::from(f16(32)?));
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or_else(truncated)?;
        let (compressed, size, local_offset) = (f32(20)?, f32(24)?, f32(42)?);
        if [compressed, size, local_offset].contains(&u32::MAX) {
            return Err(layout("zip64 archives are not accepted"));
        }
        central.push(Central {
            name,
            flags: f16(8)?,
            method: f16(10)?,
            crc: f32(16)?,
            compressed: u64::from(compressed),
            size: u64::from(size),
            local_offset: u64::from(local_offset),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    if at != cd_end {
        return Err(layout("the central directory is larger than its records"));
    }

    // The local entries, in file order: contiguous from byte 0 to the central directory.
    central.sort_by_key(|c| c.local_offset);
    let mut cursor: u64 = 0;
    let mut total: u64 = 0;
    for c in &central {
        let name = c.shown();
        if c.flags & (FLAG_ENCRYPTED | FLAG_STRONG) != 0 || c.method == METHOD_AES {
            return Err(ArchiveError::Encrypted(name));
        }
        // An empty deflate stream is 2 bytes: some writers deflate directory entries too.
        if c.name.ends_with(b"/") && (c.size > 0 || c.compressed > 2) {
            return Err(ArchiveError::DirectoryWithData(name));
        }
        if c.local_offset < cursor {
            return Err(layout(&format!("entry {name:?} overlaps the entry before it")));
        }
        if c.local_offset > cursor {
            return Err(layout(&format!("unlisted bytes before entry {name:?}")));
        }
        let lo = c.local_offset as usize;
        if bytes.get(lo..lo + 4) != Some(SIG_LOCAL) {
            return Err(ArchiveError::HeaderMismatch(
                name,
                "no local header where the central directory points".into(),
            ));
        }
        let l16 = |o: usize| u16_at(bytes, lo + o).ok_or_else(truncated);
        let l32 = |o: usize| u32_at(bytes, lo + o).ok_or_else(truncated);
        let (flags, method, crc, compressed, size) = (l16(6)?, l16(8)?, l32(14)?, l32(18)?, l32(22)?);
        let (name_len, extra_len) = (usize::from(l16(26)?), usize::from(l16(28)?));
        let mismatch = |what: &str| ArchiveError::HeaderMismatch(name.clone(), what.to_string());
        if bytes.get(lo + 30..lo + 30 + name_len) != Some(c.name) {
            return Err(mismatch("the names differ"));
        }
        if method != c.method {
            return Err(mismatch("the compression methods differ"));
        }
        if (flags ^ c.flags) & (FLAG_ENCRYPTED | FLAG_DESCRIPTOR | FLAG_STRONG) != 0 {
            return Err(mismatch("the flags differ"));
        }
        let same = |local: u32, central: u64| u64::from(local) == central;
        let deferred = c.flags & FLAG_DESCRIPTOR != 0;
        // With a data descriptor the local header may leave CRC and sizes at zero.
        let agree = |local: u32, central: u64| same(local, central) || (deferred && local == 0);
        if !(agree(crc, u64::from(c.crc)) && agree(compressed, c.compressed) && agree(size, c.size)) {
            return Err(mismatch("the CRC or sizes differ"));
        }
        let mut next = (lo + 30 + name_len + extra_len) as u64 + c.compressed;
        if deferred {
            let d = next as usize;
            let d = if bytes.get(d..d + 4) == Some(SIG_DESCRIPTOR) { d + 4 } else { d };
            let described = (u32_at(bytes, d), u32_at(bytes, d + 4), u32_at(bytes, d + 8));
            if described != (Some(c.crc), Some(c.compressed as u32), Some(c.size as u32)) {
                return Err(mismatch("the data descriptor differs"));
            }
            next = d as u64 + 12;
        }
        if next > cd_offset as u64 {
            return Err(layout(&format!("entry {name:?} runs into the central directory")));
        }
        if c.size > BOMB_MIN_BYTES && c.size / c.compressed.max(1) > BOMB_RATIO {
            return Err(ArchiveError::Bomb(name, c.size / c.compressed.max(1)));
        }
        if c.size > limits.max_file_bytes {
            return Err(ArchiveError::FileTooLarge(name, limits.max_file_bytes));
        }
        total += c.size;
        if total > limits.max_total_bytes {
            return Err(ArchiveError::TotalTooLarge(limits.max_total_bytes));
        }
        cursor = next;
    }
    if cursor != cd_offset as u64 {
        return Err(layout("unlisted bytes before the central directory"));
    }
    Ok(())
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
                // hostile names so nothing odd is ever listed, and data nobody would see.
                let trimmed = raw_name.trim_end_matches('/');
                validate::file_path(trimmed).map_err(|_| ArchiveError::UnsafeName(raw_name.clone()))?;
                if entry.size() > 0 || entry.compressed_size() > 2 {
                    return Err(ArchiveError::DirectoryWithData(raw_name));
                }
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
    fn structure_accepts_what_writers_write() {
        let lim = Limits::default();
        let mut f = BTreeMap::new();
        f.insert("SKILL.md".to_string(), b"---\nname: x\n---\n".to_vec());
        f.insert("scripts/a.py".to_string(), b"print(1)\n".to_vec());
        assert_eq!(check_structure(&build_zip(&f).unwrap(), &lim), Ok(()));
        assert_eq!(check_structure(&zip_of(&[("SKILL.md", b"a"), ("docs/", b"")]), &lim), Ok(()));
        // A streamed zip: sizes in data descriptors after each entry's data.
        let mut w = zip::ZipWriter::new_stream(Vec::new());
        for (p, b) in [("SKILL.md", &b"hello"[..]), ("b.txt", b"world")] {
            w.start_file(p, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(b).unwrap();
        }
        let streamed = w.finish().unwrap().into_inner();
        assert_eq!(check_structure(&streamed, &lim), Ok(()));
    }

    #[test]
    fn structure_refuses_ambiguous_layouts_and_damage_is_not_hostile() {
        let lim = Limits::default();
        let z = zip_of(&[("SKILL.md", b"a")]);
        let mut prefixed = b"#!/bin/sh\nexit 0\n".to_vec();
        prefixed.extend_from_slice(&z);
        let refused = check_structure(&prefixed, &lim).unwrap_err();
        assert!(matches!(refused, ArchiveError::Layout(_)) && refused.is_hostile(), "{refused:?}");
        let mut trailing = z.clone();
        trailing.extend_from_slice(b"junk");
        assert!(check_structure(&trailing, &lim).is_err());
        for cut in [0, 10, z.len() / 2, z.len() - 1] {
            let e = check_structure(&z[..cut], &lim).unwrap_err();
            assert!(!e.is_hostile(), "cut at {cut}: {e:?}");
        }
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
