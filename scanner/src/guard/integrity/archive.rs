//! Skill archives: zip, tar and tar.gz, streamed entry by entry through SHA-256, under limits.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::path::Path;

use skillscan_signatures::digest::{FileDigest, Sha256Digest, normalize_path, sha256, sha256_reader};

use super::digest::{
    HashedFile, InputKind, IntegrityLimits, MAX_CAPTURED_FILES, MAX_HINT_FILE_BYTES, SkillDigest, TreeError, assemble,
    is_hint_candidate,
};
use crate::engine::package::sniff::{Magic, sniff};

/// GNU long names and PAX records longer than this are refused (paths are at most 4096 bytes).
const MAX_EXTENSION_BYTES: u64 = 1 << 20;

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

pub(super) fn digest_archive_file(path: &Path, limits: &IntegrityLimits) -> Result<SkillDigest, TreeError> {
    let kind = sniff_file(path)?;
    // The archive's own digest and its entries are two independent passes over the file; run
    // them on two threads.
    let (whole, files) = rayon::join(
        || -> Result<(Sha256Digest, u64), TreeError> {
            let file = File::open(path).map_err(|e| TreeError::io(path, e))?;
            sha256_reader(file).map_err(|e| TreeError::io(path, e))
        },
        || -> Result<Vec<HashedFile>, TreeError> {
            let file = File::open(path).map_err(|e| TreeError::io(path, e))?;
            read_entries(path, kind, BufReader::with_capacity(64 * 1024, file), limits)
        },
    );
    assemble(path, kind, files?, Some(whole?))
}

pub(super) fn digest_archive_bytes(
    name: &str,
    bytes: &[u8],
    limits: &IntegrityLimits,
) -> Result<SkillDigest, TreeError> {
    let path = Path::new(name);
    let kind = kind_of(sniff(bytes)).ok_or_else(|| TreeError::NotASkill { path: name.to_owned() })?;
    let files = read_entries(path, kind, Cursor::new(bytes), limits)?;
    assemble(path, kind, files, Some((sha256(bytes), bytes.len() as u64)))
}

fn kind_of(magic: Option<Magic>) -> Option<InputKind> {
    match magic? {
        Magic::Zip => Some(InputKind::Zip),
        Magic::Gzip => Some(InputKind::TarGz),
        Magic::Tar => Some(InputKind::Tar),
        _ => None,
    }
}

fn sniff_file(path: &Path) -> Result<InputKind, TreeError> {
    let mut head = Vec::with_capacity(512);
    File::open(path).and_then(|f| f.take(512).read_to_end(&mut head)).map_err(|e| TreeError::io(path, e))?;
    kind_of(sniff(&head)).ok_or_else(|| TreeError::NotASkill { path: path.display().to_string() })
}

fn read_entries<R: Read + Seek>(
    path: &Path,
    kind: InputKind,
    reader: R,
    limits: &IntegrityLimits,
) -> Result<Vec<HashedFile>, TreeError> {
    let mut budget = Budget::new(path, limits);
    match kind {
        InputKind::Zip => read_zip(path, reader, &mut budget),
        InputKind::Tar => read_tar(path, kind, reader, &mut budget),
        InputKind::TarGz => read_tar(path, kind, flate2::read::MultiGzDecoder::new(reader), &mut budget),
        InputKind::Directory => Err(TreeError::NotASkill { path: path.display().to_string() }),
    }
}

/// Counts entries and bytes against the limits, and decides which files to keep in memory.
struct Budget<'a> {
    path: &'a Path,
    limits: &'a IntegrityLimits,
    entries: usize,
    bytes: u64,
    captured: usize,
}

impl<'a> Budget<'a> {
    fn new(path: &'a Path, limits: &'a IntegrityLimits) -> Self {
        Self { path, limits, entries: 0, bytes: 0, captured: 0 }
    }

    fn entry(&mut self) -> Result<(), TreeError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(TreeError::TooManyEntries {
                path: self.path.display().to_string(),
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    fn too_many_bytes(&self) -> TreeError {
        TreeError::TooManyBytes { path: self.path.display().to_string(), limit: self.limits.max_total_bytes }
    }

    /// Hashes one file's content, reading at most the remaining byte budget (plus one byte to
    /// notice the overrun). `corrupt` maps a read error (bad CRC, truncated stream).
    fn hash(
        &mut self,
        relative: String,
        content: impl Read,
        corrupt: impl Fn(io::Error) -> TreeError,
    ) -> Result<HashedFile, TreeError> {
        let remaining = self.limits.max_total_bytes.saturating_sub(self.bytes);
        let mut bounded = content.take(remaining.saturating_add(1));
        let capture = self.captured < MAX_CAPTURED_FILES && is_hint_candidate(&relative);
        let (digest, captured) = if capture {
            self.captured += 1;
            let mut bytes = Vec::new();
            (&mut bounded).take(MAX_HINT_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(&corrupt)?;
            if bytes.len() as u64 <= MAX_HINT_FILE_BYTES {
                let size = bytes.len() as u64;
                // Nothing may follow: the take above stopped at the end of the entry.
                (FileDigest { path: relative, sha256: sha256(&bytes), size }, Some(Ok(bytes)))
            } else {
                // Too large to parse: hash what was read plus the rest, streaming.
                let (sha256, size) = sha256_reader(Cursor::new(bytes).chain(bounded)).map_err(&corrupt)?;
                (FileDigest { path: relative, sha256, size }, Some(Err(size)))
            }
        } else {
            let (sha256, size) = sha256_reader(bounded).map_err(&corrupt)?;
            (FileDigest { path: relative, sha256, size }, None)
        };
        if digest.size > remaining {
            return Err(self.too_many_bytes());
        }
        self.bytes += digest.size;
        Ok(HashedFile { digest, captured })
    }
}

fn corrupt(path: &Path, kind: InputKind) -> impl Fn(String) -> TreeError + '_ {
    move |detail| TreeError::CorruptArchive { path: path.display().to_string(), kind, detail }
}

/// Validates a directory entry's name (an unsafe name is refused even though nothing is read).
fn check_dir_name(name: &str) -> Result<(), TreeError> {
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        return Ok(());
    }
    normalize_path(trimmed)?;
    Ok(())
}

fn read_zip<R: Read + Seek>(path: &Path, reader: R, budget: &mut Budget<'_>) -> Result<Vec<HashedFile>, TreeError> {
    let corrupt = corrupt(path, InputKind::Zip);
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| corrupt(e.to_string()))?;
    if archive.len() > budget.limits.max_entries {
        return Err(TreeError::TooManyEntries { path: path.display().to_string(), limit: budget.limits.max_entries });
    }
    let mut files = Vec::new();
    for index in 0..archive.len() {
        budget.entry()?;
        let (name, is_dir, encrypted, link, mode) = {
            let entry = archive.by_index_raw(index).map_err(|e| corrupt(format!("entry {index}: {e}")))?;
            let name = std::str::from_utf8(entry.name_raw())
                .map_err(|_| TreeError::NonUtf8Path { path: String::from_utf8_lossy(entry.name_raw()).into_owned() })?
                .to_owned();
            let mode = entry.unix_mode().map(|m| m & S_IFMT);
            (name, entry.is_dir() || mode == Some(S_IFDIR), entry.encrypted(), entry.is_symlink(), mode)
        };
        if is_dir {
            check_dir_name(&name)?;
            continue;
        }
        let relative = normalize_path(&name)?;
        if encrypted {
            return Err(TreeError::Encrypted { path: relative });
        }
        if link || mode == Some(S_IFLNK) {
            // A zip symlink's target is its content: a bounded prefix names it in the message.
            let mut target = Vec::new();
            if let Ok(entry) = archive.by_index(index) {
                let _ = entry.take(1024).read_to_end(&mut target);
            }
            return Err(TreeError::Link { path: relative, target: String::from_utf8_lossy(&target).into_owned() });
        }
        if let Some(mode) = mode.filter(|m| *m != 0 && *m != S_IFREG) {
            return Err(TreeError::SpecialFile { path: relative, what: special_mode(mode) });
        }
        let entry = archive.by_index(index).map_err(|e| corrupt(format!("\"{relative}\": {e}")))?;
        let detail_path = relative.clone();
        files.push(budget.hash(relative, entry, |e| corrupt(format!("\"{detail_path}\": {e}")))?);
    }
    Ok(files)
}

fn special_mode(mode: u32) -> &'static str {
    match mode {
        0o010_000 => "a FIFO",
        0o140_000 => "a socket",
        0o020_000 | 0o060_000 => "a device",
        _ => "a special file",
    }
}

/// Stops a decompressed tar stream after `limit` bytes, so padding, skipped entry data and
/// headers of a bomb cannot make us inflate forever.
struct StreamLimit<R> {
    inner: R,
    remaining: u64,
}

/// The error [`StreamLimit`] returns, recognised again by type (the tar crate passes it through).
#[derive(Debug)]
struct StreamLimitHit;

impl std::fmt::Display for StreamLimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("archive stream limit reached")
    }
}

impl std::error::Error for StreamLimitHit {}

impl<R: Read> Read for StreamLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Err(io::Error::other(StreamLimitHit));
        }
        let len = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..len).unwrap_or_default())?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn is_stream_limit(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<StreamLimitHit>())
}

fn read_tar<R: Read>(
    path: &Path,
    kind: InputKind,
    reader: R,
    budget: &mut Budget<'_>,
) -> Result<Vec<HashedFile>, TreeError> {
    let corrupt = corrupt(path, kind);
    // File data plus one 512-byte header and up to 511 bytes of padding per entry, a PAX or
    // long-name record per entry, and the end-of-archive blocks.
    let entry_overhead = 1024 + MAX_EXTENSION_BYTES.min(4096);
    let stream_limit = budget
        .limits
        .max_total_bytes
        .saturating_add((budget.limits.max_entries as u64).saturating_mul(entry_overhead))
        .saturating_add(1 << 20);
    let limited = StreamLimit { inner: reader, remaining: stream_limit };
    let mut archive = tar::Archive::new(limited);
    // Raw entries: we handle GNU long names and PAX records ourselves, under a size bound.
    let entries = archive.entries().map_err(|e| corrupt(e.to_string()))?.raw(true);
    let byte_limit = budget.limits.max_total_bytes;
    let too_many_bytes = || TreeError::TooManyBytes { path: path.display().to_string(), limit: byte_limit };
    let map_error = |e: io::Error, context: &str| {
        if is_stream_limit(&e) { too_many_bytes() } else { corrupt(format!("{context}{e}")) }
    };
    let mut files = Vec::new();
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| map_error(e, ""))?;
        budget.entry()?;
        let entry_type = entry.header().entry_type();
        if entry_type.is_gnu_longname() || entry_type.is_pax_local_extensions() || entry_type.is_pax_global_extensions()
        {
            let size = entry.size();
            if size > MAX_EXTENSION_BYTES {
                return Err(corrupt(format!("a {size}-byte name or PAX record (at most {MAX_EXTENSION_BYTES})")));
            }
            let mut data = Vec::new();
            (&mut entry).take(MAX_EXTENSION_BYTES).read_to_end(&mut data).map_err(|e| map_error(e, ""))?;
            if entry_type.is_gnu_longname() {
                while data.last() == Some(&0) {
                    data.pop();
                }
                long_name = Some(data);
            } else if entry_type.is_pax_local_extensions() {
                for extension in tar::PaxExtensions::new(&data) {
                    let extension = extension.map_err(|e| corrupt(format!("PAX record: {e}")))?;
                    match extension.key_bytes() {
                        b"path" => pax_path = Some(extension.value_bytes().to_vec()),
                        b"size" => {
                            return Err(TreeError::UnsupportedEntry {
                                path: path.display().to_string(),
                                detail: "PAX size record (files over 8 GiB are not skill content)".to_owned(),
                            });
                        }
                        _ => {}
                    }
                }
            }
            // PAX global records (`g`) set defaults we do not use; their size was bounded above.
            continue;
        }
        let raw_name = pax_path.take().or(long_name.take()).unwrap_or_else(|| entry.path_bytes().into_owned());
        let name = String::from_utf8(raw_name)
            .map_err(|e| TreeError::NonUtf8Path { path: String::from_utf8_lossy(e.as_bytes()).into_owned() })?;
        match entry_type {
            tar::EntryType::Directory => {
                check_dir_name(&name)?;
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink => {
                let target =
                    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                return Err(TreeError::Link { path: name, target });
            }
            tar::EntryType::Link => return Err(TreeError::HardLink { path: name }),
            tar::EntryType::Char | tar::EntryType::Block => {
                return Err(TreeError::SpecialFile { path: name, what: "a device" });
            }
            tar::EntryType::Fifo => return Err(TreeError::SpecialFile { path: name, what: "a FIFO" }),
            tar::EntryType::GNULongLink => {
                return Err(TreeError::Link { path: name, target: "(GNU long link name)".to_owned() });
            }
            other => {
                return Err(TreeError::UnsupportedEntry {
                    path: name,
                    detail: format!("tar entry type {:?}", other.as_byte() as char),
                });
            }
        }
        let relative = normalize_path(&name)?;
        let declared = entry.size();
        let detail_path = relative.clone();
        let hashed = budget.hash(relative, &mut entry, |e| map_error(e, &format!("\"{detail_path}\": ")))?;
        // The tar crate hands out the bytes that are there; a cut-off stream just ends early.
        if hashed.digest.size != declared {
            return Err(corrupt(format!("\"{detail_path}\" is truncated: {} of {declared} bytes", hashed.digest.size)));
        }
        files.push(hashed);
    }
    if long_name.is_some() || pax_path.is_some() {
        return Err(corrupt("a long-name or PAX record is not followed by an entry".to_owned()));
    }
    Ok(files)
}
