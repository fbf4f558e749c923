//! Zip, tar and gzip reading into memory, with limits, for archives given as input and for
//! archives found inside skills.

use std::cell::Cell;
use std::io::{self, BufReader, Cursor, Read, Seek};
use std::rc::Rc;
use std::sync::Arc;

use skillscan_signatures::identity::is_manifest_name;

use super::model::{IssueKind, Limits, LoadIssue, LoadedFile, LoadedSkill, unsafe_path_reason};
use super::roots::split_into_skills;
use super::sniff::{Magic, sniff};

/// Entries that inflate past this many bytes are checked against the compression-ratio limit.
const RATIO_CHECK_MIN_BYTES: u64 = 1024 * 1024;
/// Link targets are read for the report, up to this many bytes.
const LINK_TARGET_MAX: u64 = 4096;

pub(super) fn load_archive_file(display: &str, file: std::fs::File, size: u64, limits: &Limits) -> Vec<LoadedSkill> {
    let mut collector = Collector::new(limits);
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut head = [0u8; 512];
    let head_len = read_up_to(&mut reader, &mut head);
    let magic = sniff(&head[..head_len]);
    if reader.rewind().is_err() {
        collector.issue(IssueKind::Unreadable, "", "cannot re-read the archive file".to_string());
        return split_into_skills(display, collector.files, collector.issues);
    }
    match magic {
        Some(Magic::Zip) => collect_zip(&mut collector, reader, "", 0),
        Some(Magic::Gzip) => collect_gzip(&mut collector, reader, "", display, 0),
        Some(Magic::Tar) => collect_tar(&mut collector, reader, "", 0),
        _ => {
            collector.issue(
                IssueKind::Unreadable,
                "",
                format!("not a zip or tar archive ({size} bytes); scanned as a single file"),
            );
            collector.read_file(file_name(display), reader, size, None, u32::MAX);
        }
    }
    split_into_skills(display, collector.files, collector.issues)
}

pub(super) fn load_archive_bytes(display: &str, bytes: &[u8], limits: &Limits) -> Vec<LoadedSkill> {
    let mut collector = Collector::new(limits);
    match sniff(bytes) {
        Some(Magic::Zip) => collect_zip(&mut collector, Cursor::new(bytes), "", 0),
        Some(Magic::Gzip) => collect_gzip(&mut collector, Cursor::new(bytes), "", display, 0),
        Some(Magic::Tar) => collect_tar(&mut collector, Cursor::new(bytes), "", 0),
        _ if bytes.is_empty() => collector.issue(IssueKind::EmptyArchive, "", "the input is empty".to_string()),
        _ => {
            collector.issue(
                IssueKind::Unreadable,
                "",
                format!("not a zip or tar archive ({} bytes); scanned as a single file", bytes.len()),
            );
            collector.read_file(file_name(display), Cursor::new(bytes), bytes.len() as u64, None, u32::MAX);
        }
    }
    split_into_skills(display, collector.files, collector.issues)
}

fn file_name(display: &str) -> String {
    display.rsplit(['/', '\\']).next().unwrap_or(display).to_string()
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled
}

/// Accumulates files and issues for one input across nested archives, enforcing the limits.
pub(super) struct Collector<'l> {
    pub(super) limits: &'l Limits,
    entries: usize,
    total: u64,
    pub(super) files: Vec<LoadedFile>,
    pub(super) issues: Vec<LoadIssue>,
    entry_limit_hit: bool,
    total_limit_hit: bool,
}

impl<'l> Collector<'l> {
    pub(super) fn new(limits: &'l Limits) -> Self {
        Collector {
            limits,
            entries: 0,
            total: 0,
            files: Vec::new(),
            issues: Vec::new(),
            entry_limit_hit: false,
            total_limit_hit: false,
        }
    }

    pub(super) fn issue(&mut self, kind: IssueKind, path: &str, detail: String) {
        self.issues.push(LoadIssue { kind, path: path.to_string(), detail });
    }

    pub(super) fn stopped(&self) -> bool {
        self.entry_limit_hit || self.total_limit_hit
    }

    /// Counts one entry; false (and an issue, once) when the entry limit is exceeded.
    pub(super) fn admit_entry(&mut self, remaining_hint: Option<usize>) -> bool {
        if self.entry_limit_hit {
            return false;
        }
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            self.entry_limit_hit = true;
            let rest = remaining_hint.map(|n| format!(" ({n} more entries were not read)")).unwrap_or_default();
            self.issue(
                IssueKind::TooManyEntries,
                "",
                format!("more than {} entries; analysis stopped there{rest}", self.limits.max_entries),
            );
            return false;
        }
        true
    }

    /// Reads a root `SKILL.md` that a limit kept from being read, within the per-file limit only.
    /// Padding entries in front of the manifest must not hide the instructions an agent follows;
    /// nested archives in it are not opened (`depth` is the nesting limit).
    pub(super) fn read_manifest_past_limits(
        &mut self,
        path: String,
        reader: impl Read,
        declared: u64,
        compressed: Option<u64>,
    ) {
        let (entry_limit_hit, total_limit_hit, total) = (self.entry_limit_hit, self.total_limit_hit, self.total);
        self.entry_limit_hit = false;
        self.total_limit_hit = false;
        self.total = self.limits.max_total_bytes.saturating_sub(self.limits.max_file_bytes);
        let before = self.total;
        self.read_file(path, reader, declared, compressed, self.limits.max_depth);
        self.total = total.saturating_add(self.total - before);
        self.entry_limit_hit = entry_limit_hit;
        self.total_limit_hit = total_limit_hit || self.total_limit_hit;
    }

    /// Reads one regular file's content (bounded), records it, and opens it if it is an archive.
    pub(super) fn read_file(
        &mut self,
        path: String,
        reader: impl Read,
        declared: u64,
        compressed: Option<u64>,
        depth: u32,
    ) {
        let remaining_total = self.limits.max_total_bytes.saturating_sub(self.total);
        if remaining_total == 0 {
            self.total_limit_hit = true;
            self.issue(
                IssueKind::TotalTooLarge,
                &path,
                format!(
                    "total size limit of {} bytes reached; this file and the rest were not read",
                    self.limits.max_total_bytes
                ),
            );
            return;
        }
        let cap = self.limits.max_file_bytes.min(remaining_total);
        let mut bytes = Vec::with_capacity(usize::try_from(declared.min(cap).min(1 << 20)).unwrap_or(0));
        let read_result = reader.take(cap.saturating_add(1)).read_to_end(&mut bytes);
        let truncated = bytes.len() as u64 > cap;
        if truncated {
            bytes.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        }
        self.total += bytes.len() as u64;
        if let Err(e) = read_result {
            self.issue(
                IssueKind::Unreadable,
                &path,
                format!("could not read the whole entry: {e}; {} bytes were scanned", bytes.len()),
            );
        }
        let size = if truncated { declared.max(cap + 1) } else { bytes.len() as u64 };
        if truncated {
            if cap == self.limits.max_file_bytes {
                self.issue(
                    IssueKind::FileTooLarge,
                    &path,
                    format!(
                        "larger than the {} byte per-file limit; only the first {cap} bytes were scanned",
                        self.limits.max_file_bytes
                    ),
                );
            } else {
                self.total_limit_hit = true;
                self.issue(
                    IssueKind::TotalTooLarge,
                    &path,
                    format!(
                        "total size limit of {} bytes reached inside this file; the rest of the input was not read",
                        self.limits.max_total_bytes
                    ),
                );
            }
        }
        if let Some(compressed) = compressed {
            // Past the cap the declared size is all there is to go on; a lie there is itself an anomaly.
            let inflated = if truncated { declared.max(bytes.len() as u64 + 1) } else { bytes.len() as u64 };
            if inflated >= RATIO_CHECK_MIN_BYTES && inflated / compressed.max(1) > self.limits.max_ratio {
                self.issue(
                    IssueKind::CompressionRatio,
                    &path,
                    format!(
                        "{compressed} compressed bytes inflate to {}{inflated} bytes (ratio over {}): a decompression bomb",
                        if truncated { "a declared " } else { "" },
                        self.limits.max_ratio
                    ),
                );
            }
        }
        let bytes: Arc<[u8]> = Arc::from(bytes);
        let nested =
            if truncated { None } else { sniff(&bytes).filter(|m| matches!(m, Magic::Zip | Magic::Gzip | Magic::Tar)) };
        self.files.push(LoadedFile { path: path.clone(), bytes: bytes.clone(), size, truncated });
        if let Some(magic) = nested {
            if depth >= self.limits.max_depth {
                self.issue(
                    IssueKind::NestingDepth,
                    &path,
                    format!(
                        "archive nested {} levels deep; the nesting limit is {}, so it was not opened",
                        depth.saturating_add(1),
                        self.limits.max_depth
                    ),
                );
                return;
            }
            let prefix = format!("{path}!/");
            match magic {
                Magic::Zip => collect_zip(self, Cursor::new(&bytes[..]), &prefix, depth + 1),
                Magic::Gzip => collect_gzip(self, Cursor::new(&bytes[..]), &prefix, &path, depth + 1),
                _ => collect_tar(self, Cursor::new(&bytes[..]), &prefix, depth + 1),
            }
        }
    }
}

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// What an archive entry's metadata says to do with it.
struct ZipEntryMeta {
    name: String,
    is_dir: bool,
    is_symlink: bool,
    mode: Option<u32>,
    encrypted: bool,
    size: u64,
    compressed: u64,
}

enum EntryAction {
    Skip,
    Stop,
    Link(String),
    Special(String),
    File(String),
}

impl ZipEntryMeta {
    fn of<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> Self {
        ZipEntryMeta {
            name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
            is_dir: entry.is_dir(),
            is_symlink: entry.is_symlink(),
            mode: entry.unix_mode(),
            encrypted: entry.encrypted(),
            size: entry.size(),
            compressed: entry.compressed_size(),
        }
    }

    fn action(&self, collector: &mut Collector<'_>, prefix: &str, remaining: Option<usize>) -> EntryAction {
        let file_type = self.mode.map(|m| m & S_IFMT);
        if self.is_dir || file_type == Some(S_IFDIR) {
            return EntryAction::Skip;
        }
        if !collector.admit_entry(remaining) {
            return EntryAction::Stop;
        }
        let path = format!("{prefix}{}", self.name);
        if let Some(reason) = unsafe_path_reason(&self.name) {
            let shown = crate::engine::text::escape_snippet(&self.name, 200);
            collector.issue(IssueKind::UnsafePath, &path, format!("entry path `{shown}`: {reason}"));
        }
        if self.encrypted {
            collector.issue(
                IssueKind::Encrypted,
                &path,
                "encrypted zip entry: its content cannot be inspected (password-protected archives are a common way to slip payloads past scanners)".to_string(),
            );
            return EntryAction::Skip;
        }
        if self.is_symlink || file_type == Some(S_IFLNK) {
            return EntryAction::Link(path);
        }
        if file_type.is_some_and(|t| t != S_IFREG && t != 0) {
            return EntryAction::Special(path);
        }
        EntryAction::File(path)
    }
}

fn finish_zip_entry(
    collector: &mut Collector<'_>,
    action: EntryAction,
    meta: &ZipEntryMeta,
    content: impl Read,
    depth: u32,
) {
    match action {
        EntryAction::File(path) => collector.read_file(path, content, meta.size, Some(meta.compressed), depth),
        EntryAction::Link(path) => {
            let mut target = Vec::new();
            let _ = content.take(LINK_TARGET_MAX).read_to_end(&mut target);
            let target = crate::engine::text::escape_snippet(&String::from_utf8_lossy(&target), 200);
            collector.issue(IssueKind::Link, &path, format!("symbolic link entry pointing to `{target}`"));
        }
        EntryAction::Special(path) => {
            let mode = meta.mode.unwrap_or(0);
            collector.issue(IssueKind::SpecialFile, &path, format!("special file entry (mode {mode:o})"));
        }
        EntryAction::Skip | EntryAction::Stop => {}
    }
}

/// Zips at most this large are cross-checked against their local headers even when the central
/// directory reads cleanly (hidden entries are referenced by no central record).
const CROSS_CHECK_MAX_BYTES: u64 = 16 * 1024 * 1024;

fn collect_zip<R: Read + Seek>(collector: &mut Collector<'_>, mut reader: R, prefix: &str, depth: u32) {
    let where_ = prefix.trim_end_matches("!/").to_string();
    let size = reader.seek(std::io::SeekFrom::End(0)).unwrap_or(u64::MAX);
    let _ = reader.rewind();
    let mut archive = match zip::ZipArchive::new(&mut reader) {
        Ok(archive) => archive,
        Err(error) => {
            collector.issue(
                IssueKind::Unreadable,
                &where_,
                format!("zip central directory unreadable ({error}); entries were recovered from local headers where possible"),
            );
            local_header_pass(collector, reader, prefix, depth, None);
            return;
        }
    };
    let count = archive.len();
    if count == 0 {
        collector.issue(IssueKind::EmptyArchive, &where_, "the zip archive has no entries".to_string());
    }
    let mut central_names = std::collections::HashSet::new();
    let mut anomalies = false;
    for index in 0..count {
        if collector.stopped() {
            break;
        }
        let meta = match archive.by_index_raw(index) {
            Ok(entry) => ZipEntryMeta::of(&entry),
            Err(error) => {
                anomalies = true;
                collector.issue(IssueKind::Unreadable, &where_, format!("zip entry {index} unreadable: {error}"));
                continue;
            }
        };
        central_names.insert(meta.name.clone());
        let issues_before = collector.issues.len();
        // The entry being refused is not read either, so it counts among the rest.
        let action = meta.action(collector, prefix, Some(count - index));
        match action {
            EntryAction::Stop => break,
            EntryAction::Skip => continue,
            action => match archive.by_index(index) {
                Ok(entry) => finish_zip_entry(collector, action, &meta, entry, depth),
                Err(error) => {
                    let path = format!("{prefix}{}", meta.name);
                    collector.issue(IssueKind::Unreadable, &path, format!("zip entry unreadable: {error}"));
                }
            },
        }
        anomalies |= collector.issues[issues_before..].iter().any(|i| i.kind == IssueKind::Unreadable);
    }
    if depth == 0 && collector.stopped() {
        read_unread_root_manifests(collector, &mut archive);
    }
    drop(archive);
    if (anomalies || size <= CROSS_CHECK_MAX_BYTES) && !collector.stopped() {
        local_header_pass(collector, reader, prefix, depth, Some(&central_names));
    }
}

/// After a limit stopped the walk: reads root manifests (`SKILL.md` at the top of the zip) that
/// were not reached.
fn read_unread_root_manifests<R: Read + Seek>(collector: &mut Collector<'_>, archive: &mut zip::ZipArchive<R>) {
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else { continue };
        let meta = ZipEntryMeta::of(&entry);
        drop(entry);
        let regular = meta.mode.is_none_or(|m| matches!(m & S_IFMT, S_IFREG | 0));
        if meta.is_dir || meta.is_symlink || meta.encrypted || !regular || !is_manifest_name(&meta.name) {
            continue;
        }
        if collector.files.iter().any(|f| f.path == meta.name) {
            continue;
        }
        if let Ok(entry) = archive.by_index(index) {
            collector.read_manifest_past_limits(meta.name.clone(), entry, meta.size, Some(meta.compressed));
        }
    }
}

/// Walks the local headers from the start, as a streaming extractor would. Without a usable
/// central directory (`known` is `None`) every entry found is loaded; otherwise only entries
/// the central directory does not list are, each reported as a header mismatch — a zip that
/// shows one set of files to tools reading its directory and another to tools streaming it.
fn local_header_pass<R: Read + Seek>(
    collector: &mut Collector<'_>,
    mut reader: R,
    prefix: &str,
    depth: u32,
    known: Option<&std::collections::HashSet<String>>,
) {
    if reader.rewind().is_err() {
        return;
    }
    while !collector.stopped() {
        match zip::read::read_zipfile_from_stream(&mut reader) {
            Ok(Some(entry)) => {
                let meta = ZipEntryMeta::of(&entry);
                if known.is_some_and(|names| names.contains(&meta.name)) {
                    // Reading the entry to its end positions the stream at the next header.
                    let _ = io::copy(&mut entry.take(collector.limits.max_file_bytes), &mut io::sink());
                    continue;
                }
                if known.is_some() && !meta.is_dir {
                    collector.issue(
                        IssueKind::HeaderMismatch,
                        &format!("{prefix}{}", meta.name),
                        format!(
                            "local header names `{}`, which the central directory does not list",
                            crate::engine::text::escape_snippet(&meta.name, 200)
                        ),
                    );
                }
                match meta.action(collector, prefix, None) {
                    EntryAction::Stop => break,
                    EntryAction::Skip => {
                        let _ = io::copy(&mut entry.take(collector.limits.max_file_bytes), &mut io::sink());
                    }
                    action => finish_zip_entry(collector, action, &meta, entry, depth),
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
}

/// An error-raising cap on a decompressed stream, so skipping over a huge tar entry cannot
/// inflate a bomb without bound.
struct StreamCap<R> {
    inner: R,
    remaining: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for StreamCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            self.hit.set(true);
            return Err(io::Error::other("decompressed size limit reached"));
        }
        let want = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Counts bytes read, to compute the compression ratio of a gzip stream.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

fn collect_gzip<R: Read>(collector: &mut Collector<'_>, reader: R, prefix: &str, name: &str, depth: u32) {
    let compressed = Rc::new(Cell::new(0u64));
    let hit = Rc::new(Cell::new(false));
    let stream_budget =
        collector.limits.max_total_bytes.saturating_sub(collector.total).saturating_add(16 * 1024 * 1024);
    let mut stream = StreamCap {
        inner: flate2::read::MultiGzDecoder::new(Counted { inner: reader, count: compressed.clone() }),
        remaining: stream_budget,
        hit: hit.clone(),
    };
    let mut head = vec![0u8; 512];
    let head_len = read_up_to(&mut stream, &mut head);
    head.truncate(head_len);
    // An empty tar is all zero blocks and has no magic to sniff.
    let is_tar = sniff(&head) == Some(Magic::Tar) || (head_len == 512 && head.iter().all(|&b| b == 0));
    let mut whole = Cursor::new(head).chain(stream);
    let before = collector.total;
    if is_tar {
        collect_tar(collector, &mut whole, prefix, depth);
    } else if head_len == 0 {
        collector.issue(
            IssueKind::Unreadable,
            prefix.trim_end_matches("!/"),
            "empty or corrupt gzip stream".to_string(),
        );
    } else if collector.admit_entry(None) {
        let inner_name = file_name(name);
        let inner_name = inner_name.strip_suffix(".gz").unwrap_or(&inner_name).to_string();
        collector.read_file(format!("{prefix}{inner_name}"), &mut whole, 0, None, depth);
    }
    let inflated = collector.total - before;
    let where_ = prefix.trim_end_matches("!/");
    if hit.get() {
        collector.total_limit_hit = true;
        collector.issue(
            IssueKind::TotalTooLarge,
            where_,
            format!("the gzip stream inflates past {stream_budget} bytes; the rest was not read"),
        );
    }
    if inflated >= RATIO_CHECK_MIN_BYTES && inflated / compressed.get().max(1) > collector.limits.max_ratio {
        collector.issue(
            IssueKind::CompressionRatio,
            where_,
            format!("{} compressed bytes inflate to at least {inflated} bytes: a decompression bomb", compressed.get()),
        );
    }
}

/// Headers a tar walk may read past its entry limit to find a root manifest, at least.
const MIN_MANIFEST_LOOKAHEAD: usize = 4096;

fn collect_tar<R: Read>(collector: &mut Collector<'_>, reader: R, prefix: &str, depth: u32) {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            collector.issue(
                IssueKind::Unreadable,
                prefix.trim_end_matches("!/"),
                format!("tar archive unreadable: {error}"),
            );
            return;
        }
    };
    let mut seen_any = false;
    // Headers read after a limit stopped the walk, looking only for a root manifest (as the
    // folder walk reads `SKILL.md` past its limits, so entries ahead of it cannot hide it);
    // bounded so that the look-ahead costs at most as much as the walk did, or a few thousand
    // headers when the entry limit itself is tiny.
    let lookahead_limit = collector.limits.max_entries.max(MIN_MANIFEST_LOOKAHEAD);
    let mut lookahead = 0usize;
    for entry in entries {
        if collector.stopped() && (depth > 0 || lookahead >= lookahead_limit) {
            break;
        }
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                if !error.to_string().contains("decompressed size limit") {
                    collector.issue(
                        IssueKind::Unreadable,
                        prefix.trim_end_matches("!/"),
                        format!("tar archive truncated or corrupt after {} entries: {error}", collector.entries),
                    );
                }
                break;
            }
        };
        seen_any = true;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let entry_type = entry.header().entry_type();
        if entry_type.is_dir() || entry_type.is_pax_global_extensions() || entry_type.is_pax_local_extensions() {
            continue;
        }
        if collector.stopped() || !collector.admit_entry(None) {
            if depth > 0 {
                break;
            }
            lookahead += 1;
            let regular = entry_type.is_file() || entry_type.is_contiguous();
            if regular && is_manifest_name(&name) && !collector.files.iter().any(|f| f.path == name) {
                let size = entry.size();
                collector.read_manifest_past_limits(name, &mut entry, size, None);
            }
            continue;
        }
        let path = format!("{prefix}{name}");
        if let Some(reason) = unsafe_path_reason(&name) {
            collector.issue(
                IssueKind::UnsafePath,
                &path,
                format!("entry path `{}`: {reason}", crate::engine::text::escape_snippet(&name, 200)),
            );
        }
        let link_target = || {
            entry
                .link_name_bytes()
                .map(|t| crate::engine::text::escape_snippet(&String::from_utf8_lossy(&t), 200))
                .unwrap_or_default()
        };
        if entry_type.is_symlink() {
            let target = link_target();
            collector.issue(IssueKind::Link, &path, format!("symbolic link entry pointing to `{target}`"));
        } else if entry_type.is_hard_link() {
            let target = link_target();
            collector.issue(IssueKind::Link, &path, format!("hard link entry to `{target}`"));
        } else if entry_type.is_character_special() || entry_type.is_block_special() || entry_type.is_fifo() {
            let what = if entry_type.is_fifo() { "FIFO" } else { "device file" };
            collector.issue(IssueKind::SpecialFile, &path, format!("{what} entry"));
        } else if entry_type.is_file() || entry_type.is_contiguous() || entry_type.is_gnu_sparse() {
            let size = entry.size();
            collector.read_file(path, &mut entry, size, None, depth);
        } else {
            let code = entry_type.as_byte();
            let shown = if code.is_ascii_graphic() { format!("'{}'", code as char) } else { format!("0x{code:02x}") };
            collector.issue(IssueKind::Unreadable, &path, format!("unsupported tar entry type {shown}"));
        }
    }
    if !seen_any && prefix.is_empty() && collector.issues.is_empty() {
        collector.issue(IssueKind::EmptyArchive, "", "the tar archive has no entries".to_string());
    }
}
