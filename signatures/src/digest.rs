//! SHA-256 helpers, path normalisation, the skill tree digest and the ClawHub fingerprint.
//!
//! # Tree digest
//!
//! Modelled on Go's `h1:` dirhash (`golang.org/x/mod/sumdb/dirhash`): SHA-256 over the lines
//! `"<sha256-hex>  <path>\n"` (two spaces), one per file, sorted by the byte order of the
//! path. We keep the result as hex instead of Go's base64 so it reads like every other
//! digest in this project. The digest does not depend on how the files were packed (zip
//! order, timestamps, permissions), only on paths and contents, so the same skill gives the
//! same digest as a ClawHub zip, an extracted folder or the publisher's source folder.
//! [`TreeManifest::manifest_text`] is exactly the hashed text; it is also what we sign for a
//! directory, so a verifier can show which file failed.
//!
//! # Excluded install and registry metadata
//!
//! [`TreeManifest::new`] silently drops files that a registry or an installer adds, because
//! they differ between the publisher's folder, the ClawHub zip and an installed folder while
//! the skill itself is the same:
//!
//! - `_meta.json` at the root only: ClawHub's download zip and therefore every installed
//!   folder carry a registry-generated `_meta.json` (`ownerId`, `publishedAt`, ...) that the
//!   publisher's folder does not have. A `_meta.json` deeper in the tree is ordinary content.
//! - anything under a `.clawhub/` or `.clawdhub/` directory, at any depth: the CLI writes
//!   `.clawhub/origin.json` (install time, registry URL, fingerprint) into installed skills,
//!   and `.clawdhub` is the legacy name it still reads.
//!
//! See [`is_install_metadata`]; the dropped paths stay visible through
//! [`TreeManifest::excluded_paths`] so a scanner can still inspect them.
//!
//! # ClawHub bundle fingerprint
//!
//! [`clawhub_fingerprint`] reproduces `buildSkillFingerprint` of the `clawhub` CLI (and
//! `hashSkillFiles` on the server): SHA-256 of the lines `"<path>:<sha256hex>"` joined by
//! `\n` with no trailing newline, sorted with JavaScript's `String.prototype.localeCompare`,
//! which is ICU collation and not byte order. [`locale_compare`] ports the ASCII table that
//! was checked against Node (see its docs for the approximation outside ASCII).
//! [`FingerprintScope`] documents which files each of ClawHub's fingerprints covers.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::identity::{PathError, SkillPath};
use crate::validate::excerpt;

/// Longest accepted path, in bytes (Linux `PATH_MAX`): [`SkillPath::MAX_LEN`].
pub const MAX_PATH_BYTES: usize = SkillPath::MAX_LEN;

/// Read buffer for [`sha256_reader`]: large enough to keep syscalls cheap, small enough to
/// hash many files in parallel.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A SHA-256 digest.
///
/// Displays as 64 lowercase hex digits. Parses from the bare hex (either case) or from
/// `sha256:<hex>`. Serialises (serde) as the bare lowercase hex string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses exactly 64 lowercase hex digits and nothing else. Used where a canonical form
    /// matters (inside signed statements) so one statement has one spelling.
    pub fn parse_canonical_hex(input: &str) -> Result<Self, ParseDigestError> {
        if input.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ParseDigestError { input: input.to_owned(), reason: "must be lowercase hex" });
        }
        parse_hex(input)
    }
}

fn parse_hex(input: &str) -> Result<Sha256Digest, ParseDigestError> {
    let error = |reason| ParseDigestError { input: input.to_owned(), reason };
    if input.len() != 64 {
        return Err(error("expected 64 hexadecimal digits"));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(input, &mut bytes).map_err(|_| error("expected only hexadecimal digits"))?;
    Ok(Sha256Digest(bytes))
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input length.
        if hex::encode_to_slice(self.0, &mut buf).is_err() {
            return Err(fmt::Error);
        }
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256Digest {
    /// Short form: the first 12 hex digits, enough to tell digests apart in test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.to_string();
        write!(f, "Sha256Digest({}…)", full.get(..12).unwrap_or(&full))
    }
}

impl FromStr for Sha256Digest {
    type Err = ParseDigestError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let hex_part = input.strip_prefix("sha256:").unwrap_or(input);
        parse_hex(hex_part).map_err(|e| ParseDigestError { input: input.to_owned(), reason: e.reason })
    }
}

impl serde::Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Incremental SHA-256 that can be written to (`io::copy` into it, or tee a stream).
#[derive(Clone, Default)]
pub struct Sha256Stream {
    hasher: Sha256,
    bytes: u64,
}

impl Sha256Stream {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes = self.bytes.saturating_add(bytes.len() as u64);
    }

    /// Number of bytes fed so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.bytes
    }

    /// The digest of everything written.
    pub fn finish(self) -> Sha256Digest {
        Sha256Digest(self.hasher.finalize().into())
    }
}

impl fmt::Debug for Sha256Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sha256Stream").field("bytes", &self.bytes).finish_non_exhaustive()
    }
}

impl Write for Sha256Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(bytes).into())
}

/// Streams a reader through SHA-256 with a fixed 64 KiB buffer (memory use does not grow
/// with the input) and returns the digest and the number of bytes read.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(Sha256Digest, u64)> {
    let mut stream = Sha256Stream::new();
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => stream.update(buffer.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let bytes = stream.bytes_hashed();
    Ok((stream.finish(), bytes))
}

/// Validates a path taken from an archive or a folder walk and returns its canonical form:
/// relative, `/`-separated, with one leading `./` stripped.
///
/// The rule is [`SkillPath`]'s (see there for what is refused and why); this is
/// [`SkillPath::normalize`] returning a plain `String`.
pub fn normalize_path(path: &str) -> Result<String, PathError> {
    SkillPath::normalize(path).map(SkillPath::into_string)
}

/// True for files a registry or installer adds next to a skill, which the tree digest
/// ignores: `_meta.json` at the root, and anything under a `.clawhub/` or `.clawdhub/`
/// directory at any depth. Expects a normalised path.
pub fn is_install_metadata(path: &str) -> bool {
    if path == "_meta.json" {
        return true;
    }
    let mut segments = path.split('/').peekable();
    while let Some(segment) = segments.next() {
        let is_directory = segments.peek().is_some();
        if is_directory && (segment == ".clawhub" || segment == ".clawdhub") {
            return true;
        }
    }
    false
}

/// One file of a skill: its normalised path, content digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileDigest {
    /// Relative `/`-separated path.
    pub path: String,
    /// SHA-256 of the content.
    pub sha256: Sha256Digest,
    /// Content length in bytes.
    pub size: u64,
}

impl FileDigest {
    /// Hashes in-memory content.
    pub fn from_bytes(path: impl Into<String>, content: &[u8]) -> Self {
        Self { path: path.into(), sha256: sha256(content), size: content.len() as u64 }
    }

    /// Streams a reader (see [`sha256_reader`]).
    pub fn from_reader(path: impl Into<String>, reader: impl Read) -> io::Result<Self> {
        let (sha256, size) = sha256_reader(reader)?;
        Ok(Self { path: path.into(), sha256, size })
    }
}

/// The validated file list of a skill, sorted by path bytes, without install metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeManifest {
    files: Vec<FileDigest>,
    excluded: Vec<String>,
}

/// What differs between two manifests. All lists are sorted by path bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TreeDiff {
    /// In both, with different content.
    pub changed: Vec<String>,
    /// Only in the other (newer) manifest.
    pub added: Vec<String>,
    /// Only in this (older) manifest.
    pub removed: Vec<String>,
}

impl TreeDiff {
    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

impl TreeManifest {
    /// Normalises and validates every path, rejects duplicates (after normalisation) and
    /// drops install metadata (see the module docs). Input order does not matter.
    pub fn new(files: impl IntoIterator<Item = FileDigest>) -> Result<Self, DigestError> {
        let mut by_path: BTreeMap<String, FileDigest> = BTreeMap::new();
        let mut excluded = Vec::new();
        for file in files {
            let path = normalize_path(&file.path)?;
            if by_path.contains_key(&path) || excluded.contains(&path) {
                return Err(DigestError::DuplicatePath { path });
            }
            if is_install_metadata(&path) {
                excluded.push(path);
                continue;
            }
            by_path.insert(path.clone(), FileDigest { path, ..file });
        }
        excluded.sort();
        // BTreeMap<String, _> iterates in byte order of the keys, which is the order we hash.
        Ok(Self { files: by_path.into_values().collect(), excluded })
    }

    /// The files, sorted by the byte order of their paths.
    pub fn files(&self) -> &[FileDigest] {
        &self.files
    }

    /// Paths dropped as install metadata, sorted.
    pub fn excluded_paths(&self) -> &[String] {
        &self.excluded
    }

    /// Looks a file up by its normalised path.
    pub fn get(&self, path: &str) -> Option<&FileDigest> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().and_then(|i| self.files.get(i))
    }

    /// Sum of the file sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().fold(0u64, |sum, f| sum.saturating_add(f.size))
    }

    /// Path → digest, the shape `skills.lock` stores.
    pub fn file_map(&self) -> BTreeMap<String, Sha256Digest> {
        self.files.iter().map(|f| (f.path.clone(), f.sha256)).collect()
    }

    /// The hashed text: one line `"<sha256-hex>  <path>\n"` per file, in path byte order.
    /// This is also the message signed for a directory.
    pub fn manifest_text(&self) -> String {
        let mut text = String::with_capacity(self.files.len() * 96);
        for file in &self.files {
            text.push_str(&file.sha256.to_string());
            text.push_str("  ");
            text.push_str(&file.path);
            text.push('\n');
        }
        text
    }

    /// SHA-256 of [`Self::manifest_text`].
    pub fn tree_digest(&self) -> Sha256Digest {
        tree_digest_of(self.files.iter().map(|f| (f.path.as_str(), &f.sha256)))
    }

    /// What changed from `self` (older) to `other` (newer). A file counts as changed when its
    /// digest or its size differs.
    pub fn diff(&self, other: &TreeManifest) -> TreeDiff {
        let mut diff = TreeDiff::default();
        let mut old = self.files.iter().peekable();
        let mut new = other.files.iter().peekable();
        // Both lists are sorted by path bytes: merge them.
        loop {
            match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(o), None) => {
                    diff.removed.push(o.path.clone());
                    old.next();
                }
                (None, Some(n)) => {
                    diff.added.push(n.path.clone());
                    new.next();
                }
                (Some(o), Some(n)) => match o.path.cmp(&n.path) {
                    Ordering::Less => {
                        diff.removed.push(o.path.clone());
                        old.next();
                    }
                    Ordering::Greater => {
                        diff.added.push(n.path.clone());
                        new.next();
                    }
                    Ordering::Equal => {
                        if o.sha256 != n.sha256 || o.size != n.size {
                            diff.changed.push(o.path.clone());
                        }
                        old.next();
                        new.next();
                    }
                },
            }
        }
        diff
    }
}

/// Tree digest of `(path, digest)` pairs that are already sorted by path bytes.
pub(crate) fn tree_digest_of<'a>(sorted: impl Iterator<Item = (&'a str, &'a Sha256Digest)>) -> Sha256Digest {
    let mut stream = Sha256Stream::new();
    for (path, digest) in sorted {
        stream.update(digest.to_string().as_bytes());
        stream.update(b"  ");
        stream.update(path.as_bytes());
        stream.update(b"\n");
    }
    stream.finish()
}

/// Printable ASCII in the order JS `localeCompare` (ICU root collation, Node 20) puts it:
/// punctuation, then digits, then letters with case ignored at the primary level.
/// Copied from `locale_compare_key` in the reference `fake_registry.py`, which was checked
/// against Node.
const ICU_ASCII_ORDER: &str =
    " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ";

/// Primary rank of each ASCII character (index = byte), `u16::MAX` for characters that are
/// not in [`ICU_ASCII_ORDER`]. Ranks count distinct lowercased characters, exactly like
/// `_PRIMARY.setdefault(c.lower(), len(_PRIMARY))` in the Python original, so `a` and `A`
/// share a rank. Built at compile time.
const ASCII_PRIMARY_RANKS: [u16; 128] = {
    let mut ranks = [u16::MAX; 128];
    let table = ICU_ASCII_ORDER.as_bytes();
    let mut index = 0;
    let mut next_rank = 0u16;
    while index < table.len() {
        let lower = table[index].to_ascii_lowercase() as usize;
        if ranks[lower] == u16::MAX {
            ranks[lower] = next_rank;
            next_rank += 1;
        }
        index += 1;
    }
    ranks
};

/// Primary rank of a character: the table rank of its lowercase form when that is a single
/// character in the table; otherwise after the whole table, by the code point of the
/// character itself (as `_PRIMARY.get(c.lower(), 1000 + ord(c))` does).
fn primary_rank(c: char) -> u32 {
    let mut lower = c.to_lowercase();
    if let (Some(l), None) = (lower.next(), lower.next()) {
        let rank = usize::try_from(u32::from(l)).ok().and_then(|i| ASCII_PRIMARY_RANKS.get(i)).copied();
        if let Some(rank) = rank.filter(|r| *r != u16::MAX) {
            return u32::from(rank);
        }
    }
    1000 + u32::from(c)
}

/// Compares two strings the way JavaScript's `a.localeCompare(b)` does for ClawHub paths.
///
/// Port of `locale_compare_key` from the reference `fake_registry.py`: compare the
/// sequences of primary ranks (ICU order of the lowercased character: punctuation <
/// digits < letters), and if they are equal, prefer lowercase over uppercase position by
/// position. So `a.md` < `A.md` < `a/b` < `a1`, and `_meta.json` < `scripts/x.py` < `SKILL.md`.
///
/// Approximation: only printable ASCII is ranked as ICU does. Any other character ranks
/// after all ASCII, by code point (ICU would interleave accented letters with their base
/// letters, for example). ClawHub skills are overwhelmingly ASCII-named; a non-ASCII path
/// can therefore yield a different fingerprint than the real CLI, which at worst makes a
/// fingerprint comparison fail (never pass wrongly). Strings that are still equal after
/// both levels (possible only outside ASCII, e.g. `K` and the Kelvin sign) are ordered by
/// bytes so the result is a total order and sorting is deterministic.
pub fn locale_compare(a: &str, b: &str) -> Ordering {
    a.chars()
        .map(primary_rank)
        .cmp(b.chars().map(primary_rank))
        .then_with(|| a.chars().map(char::is_uppercase).cmp(b.chars().map(char::is_uppercase)))
        .then_with(|| a.cmp(b))
}

/// The ClawHub bundle fingerprint: SHA-256 (hex) of `"<path>:<sha256hex>"` lines joined by
/// `\n` (no trailing newline), sorted with [`locale_compare`]. Entries with an empty path
/// are dropped, as the CLI does. Paths are used exactly as given: pick the files with a
/// [`FingerprintScope`] first.
pub fn clawhub_fingerprint<'a>(files: impl IntoIterator<Item = (&'a str, &'a Sha256Digest)>) -> Sha256Digest {
    let mut entries: Vec<(&str, &Sha256Digest)> = files.into_iter().filter(|(path, _)| !path.is_empty()).collect();
    entries.sort_by(|(a, _), (b, _)| locale_compare(a, b));
    let mut stream = Sha256Stream::new();
    for (index, (path, digest)) in entries.iter().enumerate() {
        if index > 0 {
            stream.update(b"\n");
        }
        stream.update(path.as_bytes());
        stream.update(b":");
        stream.update(digest.to_string().as_bytes());
    }
    stream.finish()
}

/// Which of ClawHub's fingerprints a file list is meant to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintScope {
    /// `origin.json.fingerprint`, written by `clawhub install`/`update`: the CLI hashes the
    /// installed folder, skipping every path with a segment starting with `.` (so
    /// `.clawhub/origin.json` is out) but *including* the registry's `_meta.json`.
    Installed,
    /// The server's fingerprint used by `/api/v1/resolve` and publish de-duplication: the
    /// stored files only, i.e. no root `_meta.json` (added at download time) and no
    /// generated root `skill-card.md`. Paths with a dot-prefixed segment are excluded as
    /// well, since `clawhub publish` never uploads them; this matters only when the file
    /// list comes from an installed folder rather than a download zip.
    ServerFiles,
    /// The server's "generated-bundle" fingerprint: like [`Self::ServerFiles`] but with the
    /// generated `skill-card.md`. `/resolve` matches either.
    ServerGeneratedBundle,
}

impl FingerprintScope {
    /// Whether the file at (normalised) `path` takes part in this fingerprint.
    pub fn includes(self, path: &str) -> bool {
        let dot_segment = path.split('/').any(|segment| segment.starts_with('.'));
        match self {
            Self::Installed => !dot_segment,
            Self::ServerFiles => !dot_segment && path != "_meta.json" && path != "skill-card.md",
            Self::ServerGeneratedBundle => !dot_segment && path != "_meta.json",
        }
    }
}

/// Whether the CLI includes `path` in `origin.json.fingerprint`
/// (see [`FingerprintScope::Installed`]).
pub fn installed_fingerprint_paths(path: &str) -> bool {
    FingerprintScope::Installed.includes(path)
}

/// Whether the server's files-only `/resolve` fingerprint includes `path`
/// (see [`FingerprintScope::ServerFiles`]).
pub fn server_fingerprint_paths(path: &str) -> bool {
    FingerprintScope::ServerFiles.includes(path)
}

/// Building a [`crate::digest::TreeManifest`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// One of the paths is not acceptable.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    /// Two entries normalise to the same path.
    #[error("the file list contains \"{}\" twice (after normalising the paths)", excerpt(path))]
    DuplicatePath {
        /// The normalised path.
        path: String,
    },
}

/// A string is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SHA-256 digest \"{}\": {reason}", excerpt(input))]
#[non_exhaustive]
pub struct ParseDigestError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::PathProblem;

    fn hex(s: &str) -> Sha256Digest {
        s.parse().unwrap_or(Sha256Digest([0; 32]))
    }

    #[test]
    fn sha256_known_answers() {
        assert_eq!(sha256(b"").to_string(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256(b"abc").to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let (digest, size) = sha256_reader(&b"abc"[..]).unwrap_or((Sha256Digest([0; 32]), 0));
        assert_eq!(digest, sha256(b"abc"));
        assert_eq!(size, 3);
        let mut stream = Sha256Stream::new();
        let _ = stream.write_all(b"a");
        let _ = stream.write_all(b"bc");
        assert_eq!(stream.finish(), sha256(b"abc"));
    }

    /// A reader that yields `total` bytes in odd-sized chunks, with interruptions, so the
    /// streaming loop is exercised across buffer boundaries without allocating the input.
    struct Pattern {
        remaining: u64,
        offset: u64,
        calls: u32,
    }

    impl Read for Pattern {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(7) {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
            }
            let n = buf.len().min(10_007).min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
            for b in buf.iter_mut().take(n) {
                *b = (self.offset % 251) as u8;
                self.offset += 1;
            }
            self.remaining -= n as u64;
            Ok(n)
        }
    }

    #[test]
    fn streaming_matches_one_shot_across_buffer_boundaries() {
        let total = 3 * READ_BUFFER_BYTES as u64 + 12_345;
        let mut all = Vec::new();
        let _ = Pattern { remaining: total, offset: 0, calls: 0 }.read_to_end(&mut all);
        let (digest, size) =
            sha256_reader(Pattern { remaining: total, offset: 0, calls: 0 }).unwrap_or((Sha256Digest([0; 32]), 0));
        assert_eq!(size, total);
        assert_eq!(digest, sha256(&all));
    }

    #[test]
    fn reader_errors_are_returned() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        assert!(sha256_reader(Broken).is_err());
    }

    #[test]
    fn digest_parse_and_display() {
        let text = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let digest: Sha256Digest = text.parse().unwrap_or(Sha256Digest([0; 32]));
        assert_eq!(digest, sha256(b"abc"));
        assert_eq!(format!("sha256:{text}").parse::<Sha256Digest>().ok(), Some(digest));
        assert_eq!(text.to_uppercase().parse::<Sha256Digest>().ok(), Some(digest));
        assert_eq!(format!("{digest:?}"), "Sha256Digest(ba7816bf8f01…)");
        assert!(Sha256Digest::parse_canonical_hex(&text.to_uppercase()).is_err());
        assert!(Sha256Digest::parse_canonical_hex(text).is_ok());
        for bad in ["", "sha256:", &text[1..], &format!("{text}0"), &format!("sha512:{text}"), &text.replace('a', "g")]
        {
            assert!(bad.parse::<Sha256Digest>().is_err(), "{bad}");
        }
        // Multi-byte characters must not cause slicing panics.
        assert!("é".repeat(32).parse::<Sha256Digest>().is_err());
    }

    #[test]
    fn digest_serde_is_bare_hex() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Holder {
            d: Sha256Digest,
        }
        let text = toml::to_string(&Holder { d: sha256(b"abc") }).unwrap_or_default();
        assert_eq!(text, "d = \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n");
        let back: Result<Holder, _> = toml::from_str(&text);
        assert_eq!(back.map(|h| h.d).ok(), Some(sha256(b"abc")));
        assert!(toml::from_str::<Holder>("d = \"zz\"").is_err());
    }

    #[test]
    fn normalize_accepts_and_strips() {
        assert_eq!(normalize_path("SKILL.md").ok().as_deref(), Some("SKILL.md"));
        assert_eq!(normalize_path("./scripts/x.py").ok().as_deref(), Some("scripts/x.py"));
        assert_eq!(normalize_path("a b/ü.md").ok().as_deref(), Some("a b/ü.md"));
        assert_eq!(normalize_path("..a/b..").ok().as_deref(), Some("..a/b.."));
        assert_eq!(normalize_path("ab:c").ok().as_deref(), Some("ab:c"));
    }

    #[test]
    fn normalize_rejects_with_reason() {
        let cases = [
            ("", PathProblem::Empty),
            ("./", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("C:/x", PathProblem::DrivePrefix),
            ("c:x", PathProblem::DrivePrefix),
            ("a:b", PathProblem::DrivePrefix),
            ("../x", PathProblem::ParentSegment),
            ("a/../../x", PathProblem::ParentSegment),
            ("a/..", PathProblem::ParentSegment),
            ("a/./b", PathProblem::DotSegment),
            ("././a", PathProblem::DotSegment),
            (".", PathProblem::DotSegment),
            ("a//b", PathProblem::EmptySegment),
            ("a/", PathProblem::EmptySegment),
            ("a\\b", PathProblem::Backslash),
            ("a\nb", PathProblem::LineBreak),
            ("a\rb", PathProblem::LineBreak),
            ("a\0b", PathProblem::Nul),
            ("a\tb", PathProblem::ControlCharacter),
            ("a\u{7f}", PathProblem::ControlCharacter),
            ("a\u{85}", PathProblem::ControlCharacter),
        ];
        for (input, reason) in cases {
            let err = normalize_path(input).err();
            assert_eq!(err.as_ref().map(|e| e.reason), Some(reason), "{input:?}");
        }
        let long = "a/".repeat(2048) + "b";
        assert_eq!(normalize_path(&long).err().map(|e| e.reason), Some(PathProblem::TooLong));
        let message = normalize_path("../x").err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(message, "invalid path \"../x\": `..` segments are not allowed");
    }

    #[test]
    fn install_metadata_list() {
        assert!(is_install_metadata("_meta.json"));
        assert!(!is_install_metadata("sub/_meta.json"));
        assert!(is_install_metadata(".clawhub/origin.json"));
        assert!(is_install_metadata(".clawdhub/origin.json"));
        assert!(is_install_metadata("nested/.clawhub/lock.json"));
        assert!(!is_install_metadata(".clawhubignore"));
        assert!(!is_install_metadata("SKILL.md"));
    }

    fn weather_files() -> Vec<FileDigest> {
        vec![
            FileDigest::from_bytes("SKILL.md", b"---\nname: weather-brief\n---\n# Weather\n"),
            FileDigest::from_bytes("./scripts/forecast.py", b"print('sunny')\n"),
            FileDigest::from_bytes("_meta.json", b"{\n  \"slug\": \"weather-brief\"\n}"),
        ]
    }

    #[test]
    fn tree_digest_known_answer() {
        // Expected values computed independently with Python hashlib over the same lines.
        let manifest = TreeManifest::new(weather_files()).unwrap_or_default();
        assert_eq!(manifest.excluded_paths(), ["_meta.json"]);
        assert_eq!(
            manifest.manifest_text(),
            "2313c041af8a993b42235eab6ca8892bb6ca05b2a2a34d1e6c887149d4225297  SKILL.md\n\
             df66e14e54ec4a553b050d0b5eb132592efb0839c9cc86c3aa76fbe5faed6463  scripts/forecast.py\n"
        );
        assert_eq!(
            manifest.tree_digest().to_string(),
            "4f1a28478715b92f390376590d7c4746f555ff87c2ef224c5ffef947882ff3d7"
        );
        assert_eq!(manifest.total_size(), 53);
        assert_eq!(manifest.get("scripts/forecast.py").map(|f| f.size), Some(15));
        assert!(manifest.get("_meta.json").is_none());
    }

    #[test]
    fn tree_digest_ignores_input_order_and_metadata() {
        let mut files = weather_files();
        let forward = TreeManifest::new(files.clone()).unwrap_or_default().tree_digest();
        files.reverse();
        files.push(FileDigest::from_bytes(".clawhub/origin.json", b"{}"));
        let backward = TreeManifest::new(files).unwrap_or_default().tree_digest();
        assert_eq!(forward, backward);
        let empty = TreeManifest::new(Vec::new()).unwrap_or_default();
        assert_eq!(empty.tree_digest(), sha256(b""));
    }

    #[test]
    fn tree_digest_sorts_by_bytes_not_locale() {
        let manifest = TreeManifest::new([
            FileDigest::from_bytes("b", b""),
            FileDigest::from_bytes("a", b""),
            FileDigest::from_bytes("B", b""),
            FileDigest::from_bytes("_x", b""),
        ])
        .unwrap_or_default();
        let order: Vec<&str> = manifest.files().iter().map(|f| f.path.as_str()).collect();
        assert_eq!(order, ["B", "_x", "a", "b"]);
    }

    #[test]
    fn manifest_rejects_duplicates_and_bad_paths() {
        let dup = TreeManifest::new([FileDigest::from_bytes("a", b"1"), FileDigest::from_bytes("./a", b"2")]);
        assert_eq!(dup, Err(DigestError::DuplicatePath { path: "a".to_owned() }));
        let dup_meta = TreeManifest::new([
            FileDigest::from_bytes("_meta.json", b"1"),
            FileDigest::from_bytes("./_meta.json", b"2"),
        ]);
        assert!(matches!(dup_meta, Err(DigestError::DuplicatePath { .. })));
        let bad = TreeManifest::new([FileDigest::from_bytes("../evil", b"")]);
        assert!(matches!(bad, Err(DigestError::InvalidPath(PathError { reason: PathProblem::ParentSegment, .. }))));
    }

    #[test]
    fn diff_reports_changed_added_removed() {
        let old = TreeManifest::new([
            FileDigest::from_bytes("SKILL.md", b"v1"),
            FileDigest::from_bytes("keep", b"same"),
            FileDigest::from_bytes("gone", b"x"),
        ])
        .unwrap_or_default();
        let new = TreeManifest::new([
            FileDigest::from_bytes("SKILL.md", b"v2"),
            FileDigest::from_bytes("keep", b"same"),
            FileDigest::from_bytes("zz-new", b"y"),
            FileDigest::from_bytes("a-new", b"y"),
        ])
        .unwrap_or_default();
        let diff = old.diff(&new);
        assert_eq!(diff.changed, ["SKILL.md"]);
        assert_eq!(diff.added, ["a-new", "zz-new"]);
        assert_eq!(diff.removed, ["gone"]);
        assert!(old.diff(&old).is_empty());
        let reverse = new.diff(&old);
        assert_eq!(reverse.added, ["gone"]);
        assert_eq!(reverse.removed, ["a-new", "zz-new"]);
    }

    #[test]
    fn locale_compare_matches_node() {
        let mut paths = vec!["SKILL.md", "scripts/forecast.py", "_meta.json"];
        paths.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(paths, ["_meta.json", "scripts/forecast.py", "SKILL.md"]);
        let mut mixed = vec!["a1", "a/b", "A.md", "a.md"];
        mixed.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(mixed, ["a.md", "A.md", "a/b", "a1"]);
        // Same list as sorted by the Python `locale_compare_key`.
        let mut more = vec!["a1", "a/b", "A.md", "a.md", "B", "b", "_x", "-x", "x.y", "x-y", "x_y", "X", "~", "é"];
        more.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(more, ["_x", "-x", "~", "a.md", "A.md", "a/b", "a1", "b", "B", "X", "x_y", "x-y", "x.y", "é"]);
        assert_eq!(locale_compare("a", "a"), Ordering::Equal);
        assert_eq!(locale_compare("a", "ab"), Ordering::Less);
        // Kelvin sign lowercases to `k`: equal at both ICU levels, ordered by bytes.
        assert_eq!(locale_compare("K", "\u{212a}"), Ordering::Less);
    }

    #[test]
    fn fingerprint_matches_python_reference() {
        // fake_registry.py `fingerprint()` over these bytes gives 84a6b270…
        let files = weather_files();
        let pairs: Vec<(String, Sha256Digest)> =
            files.iter().map(|f| (f.path.trim_start_matches("./").to_owned(), f.sha256)).collect();
        let fp = clawhub_fingerprint(pairs.iter().map(|(p, d)| (p.as_str(), d)));
        assert_eq!(fp.to_string(), "84a6b2708ccf956a22c16ce561f3a01ca79396d2a1159a6f60168755c2d6d953");
        let without_meta = clawhub_fingerprint(
            pairs.iter().filter(|(p, _)| server_fingerprint_paths(p)).map(|(p, d)| (p.as_str(), d)),
        );
        assert_eq!(without_meta.to_string(), "15cdf13aba62fd4b3c7f7ce4f5d527f5ce1c0109ecaf62f32e32df2bd1d9c4e6");
        let empty_path = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let with_empty = clawhub_fingerprint(pairs.iter().map(|(p, d)| (p.as_str(), d)).chain([("", &empty_path)]));
        assert_eq!(with_empty, fp);
    }

    /// The weather-brief 1.0.0 fixture of `fake_registry.py`, whose installed-folder
    /// fingerprint `0b4a40…` was observed from the real `clawhub` CLI 0.23.3.
    #[test]
    fn fingerprint_matches_real_cli_observation() {
        let skill_md = "---\nname: weather-brief\ndescription: Short weather briefings for a city.\nversion: 1.0.0\n\
metadata: {\"openclaw\":{\"emoji\":\"\u{1F326}\",\"requires\":{\"bins\":[\"python3\"]}}}\n---\n# Weather brief\n\n\
Run `python3 scripts/forecast.py <city>` and summarise the output.\n";
        let forecast = "#!/usr/bin/env python3\nimport sys\n\ndef main():\n    city = sys.argv[1] if len(sys.argv) > 1 else \"Berlin\"\n    \
print(f\"{city}: 18C, light rain\")\n\nif __name__ == \"__main__\":\n    main()\n";
        let meta = "{\n  \"ownerId\": \"users:acme\",\n  \"slug\": \"weather-brief\",\n  \"version\": \"1.0.0\",\n  \"publishedAt\": 1767225600000\n}";
        let installed = [
            FileDigest::from_bytes("SKILL.md", skill_md.as_bytes()),
            FileDigest::from_bytes("scripts/forecast.py", forecast.as_bytes()),
            FileDigest::from_bytes("_meta.json", meta.as_bytes()),
            FileDigest::from_bytes(".clawhub/origin.json", b"{}"),
        ];
        let pick = |scope: FingerprintScope| {
            clawhub_fingerprint(
                installed.iter().filter(|f| scope.includes(&f.path)).map(|f| (f.path.as_str(), &f.sha256)),
            )
        };
        assert_eq!(
            pick(FingerprintScope::Installed).to_string(),
            "0b4a401d17338f062457c2cca263d62eec34c06094500fb8bcc3bbca7fea80d9"
        );
        assert_eq!(
            pick(FingerprintScope::ServerFiles).to_string(),
            "becefad571855daa01a36febfb49839296ab2d516597f48ce0bc7ebe647afbd0"
        );
    }

    #[test]
    fn fingerprint_scopes() {
        assert!(installed_fingerprint_paths("_meta.json"));
        assert!(!installed_fingerprint_paths(".clawhub/origin.json"));
        assert!(!installed_fingerprint_paths("a/.hidden"));
        assert!(installed_fingerprint_paths("skill-card.md"));
        assert!(!server_fingerprint_paths("_meta.json"));
        assert!(!server_fingerprint_paths("skill-card.md"));
        assert!(server_fingerprint_paths("docs/skill-card.md"));
        assert!(FingerprintScope::ServerGeneratedBundle.includes("skill-card.md"));
        assert!(!FingerprintScope::ServerGeneratedBundle.includes("_meta.json"));
    }

    #[test]
    fn types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Sha256Digest>();
        check::<FileDigest>();
        check::<TreeManifest>();
        check::<Sha256Stream>();
        check::<TreeDiff>();
    }
}
