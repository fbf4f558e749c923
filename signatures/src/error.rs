//! Every error type of the crate, in one place, with messages meant for end users.
//!
//! Values that come from untrusted input (paths, comments, TOML fragments) are escaped and
//! shortened before they reach a message, so a hostile file cannot inject terminal control
//! sequences through our errors.

use std::fmt;
use std::io;

use crate::digest::Sha256Digest;
use crate::minisign::KeyId;
use crate::validate::excerpt;

/// Why a relative path was refused by [`crate::digest::normalize_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// The path (or what is left after stripping `./`) is empty.
    Empty,
    /// Starts with `/`.
    Absolute,
    /// Starts with a Windows drive prefix such as `C:`.
    DrivePrefix,
    /// Contains a `..` segment.
    ParentSegment,
    /// Contains a `.` segment (other than one leading `./`).
    DotSegment,
    /// Contains `//` or ends with `/`.
    EmptySegment,
    /// Contains `\`.
    Backslash,
    /// Contains `\n` or `\r`.
    LineBreak,
    /// Contains a NUL character.
    Nul,
    /// Contains another control character.
    ControlCharacter,
    /// Longer than [`crate::digest::MAX_PATH_BYTES`].
    TooLong,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the path is empty",
            Self::Absolute => "absolute paths are not allowed",
            Self::DrivePrefix => "drive prefixes such as `C:` are not allowed",
            Self::ParentSegment => "`..` segments are not allowed",
            Self::DotSegment => "`.` segments are not allowed (only one leading `./` is stripped)",
            Self::EmptySegment => "empty segments (`//` or a trailing `/`) are not allowed",
            Self::Backslash => "backslashes are not allowed; use `/` as the separator",
            Self::LineBreak => "line breaks are not allowed in file names",
            Self::Nul => "NUL characters are not allowed in file names",
            Self::ControlCharacter => "control characters are not allowed in file names",
            Self::TooLong => "the path is longer than 4096 bytes",
        })
    }
}

/// A path that cannot be part of a skill manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path \"{}\": {reason}", excerpt(path))]
#[non_exhaustive]
pub struct PathError {
    /// The path as given (unescaped; the message escapes it).
    pub path: String,
    /// What is wrong with it.
    pub reason: PathProblem,
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

/// A string is not a minisign key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key id \"{}\": expected 1 to 16 hexadecimal digits, as minisign prints it", excerpt(input))]
#[non_exhaustive]
pub struct ParseKeyIdError {
    /// The rejected input.
    pub input: String,
}

/// Reading, decrypting, generating or writing a minisign key failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file does not have the expected number of lines.
    #[error("{what}: expected {expected}, found {found} line(s)")]
    LineCount {
        /// `public key` or `secret key`.
        what: &'static str,
        /// Human description of the accepted shapes.
        expected: &'static str,
        /// Number of lines found.
        found: usize,
    },
    /// The first line is not an `untrusted comment: ` line.
    #[error("{what}: the first line must start with \"untrusted comment: \"")]
    MissingComment {
        /// `public key` or `secret key`.
        what: &'static str,
    },
    /// The key line is not canonical base64.
    #[error("{what}: the key line is not valid base64")]
    Base64 {
        /// `public key` or `secret key`.
        what: &'static str,
    },
    /// The decoded key is shorter than the format requires.
    #[error("{what} is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// `public key` or `secret key`.
        what: &'static str,
        /// Bytes the format requires.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// Extra data after the key.
    #[error("{what} has trailing data: expected {expected} bytes, found {found}")]
    TrailingData {
        /// `public key` or `secret key`.
        what: &'static str,
        /// Bytes the format requires.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The signature algorithm is not minisign's `Ed`.
    #[error("{what} uses the unsupported signature algorithm \"{found}\" (only Ed25519, \"Ed\", is supported)")]
    UnsupportedAlgorithm {
        /// `public key` or `secret key`.
        what: &'static str,
        /// The two algorithm bytes, escaped.
        found: String,
    },
    /// The secret key's KDF is neither none nor scrypt (`Sc`).
    #[error("secret key uses the unsupported key derivation \"{found}\" (only scrypt, \"Sc\", or none)")]
    UnsupportedKdf {
        /// The two KDF bytes, escaped.
        found: String,
    },
    /// The secret key's checksum algorithm is not BLAKE2b (`B2`).
    #[error("secret key uses the unsupported checksum algorithm \"{found}\" (only \"B2\")")]
    UnsupportedChecksum {
        /// The two checksum-algorithm bytes, escaped.
        found: String,
    },
    /// The Ed25519 public key bytes are not a valid curve point.
    #[error("{what}: the embedded Ed25519 public key is not a valid curve point")]
    InvalidPublicKey {
        /// `public key` or `secret key`.
        what: &'static str,
    },
    /// The public key has small order: every signature would be forgeable.
    #[error("public key is a weak (small-order) Ed25519 key and cannot be trusted")]
    WeakPublicKey,
    /// The secret key is encrypted but no password was given.
    #[error("the secret key is encrypted: a password is required")]
    PasswordRequired,
    /// Decryption produced a wrong checksum.
    #[error("wrong password for the secret key (or the key file is corrupted: checksum mismatch)")]
    WrongPassword,
    /// An unencrypted secret key has a wrong checksum.
    #[error("the secret key is corrupted: its checksum does not match")]
    ChecksumMismatch,
    /// The 64-byte secret key's public half does not belong to its seed.
    #[error("the secret key is corrupted: its public half does not match its private half")]
    InconsistentKeyPair,
    /// The stored scrypt limits would need more memory or time than we allow.
    #[error(
        "the secret key's scrypt parameters (opslimit {opslimit}, memlimit {memlimit}) exceed the \
         limits this tool accepts (at most 2 GiB of memory and 4 times minisign's default work)"
    )]
    KdfTooExpensive {
        /// Stored opslimit.
        opslimit: u64,
        /// Stored memlimit.
        memlimit: u64,
    },
    /// scrypt refused the derived parameters.
    #[error("the secret key's scrypt parameters are invalid")]
    KdfFailed,
    /// The operating system's random number generator failed.
    #[error("could not get random bytes from the operating system: {reason}")]
    Random {
        /// The OS error text.
        reason: String,
    },
}

/// A `.minisig` file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureParseError {
    /// Not exactly four lines.
    #[error("a minisign signature has exactly 4 lines; found {found}")]
    LineCount {
        /// Lines found (an optional final newline does not count).
        found: usize,
    },
    /// Line 1 does not start with `untrusted comment: `.
    #[error("signature line 1 must start with \"untrusted comment: \"")]
    MissingUntrustedComment,
    /// Line 3 does not start with `trusted comment: `.
    #[error("signature line 3 must start with \"trusted comment: \"")]
    MissingTrustedComment,
    /// A comment contains a control character (a stray CR, say).
    #[error("signature line {line}: comments must not contain control characters")]
    ControlCharacter {
        /// 1 or 3.
        line: u8,
    },
    /// Line 2 or 4 is not canonical base64.
    #[error("signature line {line} is not valid base64")]
    Base64 {
        /// 2 or 4.
        line: u8,
    },
    /// Line 2 or 4 decodes to the wrong length.
    #[error("signature line {line} decodes to {found} bytes; expected {expected}")]
    Length {
        /// 2 or 4.
        line: u8,
        /// Bytes the format requires.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The signature algorithm is neither `ED` nor `Ed`.
    #[error("unsupported signature algorithm \"{found}\" (expected \"ED\" or legacy \"Ed\")")]
    UnsupportedAlgorithm {
        /// The two algorithm bytes, escaped.
        found: String,
    },
}

/// A comment passed to [`crate::minisign::sign`] cannot be written on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {which} comment must not contain line breaks")]
#[non_exhaustive]
pub struct CommentError {
    /// `trusted` or `untrusted`.
    pub which: &'static str,
}

/// A signature does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature names another key than the one given.
    #[error("the signature was made with key {signature_key_id}, but the public key is {public_key_id}")]
    KeyIdMismatch {
        /// Key id recorded in the signature.
        signature_key_id: KeyId,
        /// Key id of the public key we verified with.
        public_key_id: KeyId,
    },
    /// The message does not match the signature.
    #[error("signature verification failed: the data does not match the signature")]
    InvalidSignature,
    /// The trusted comment was changed after signing.
    #[error("the trusted comment's signature is invalid: the trusted comment was modified")]
    InvalidGlobalSignature,
    /// A legacy (non-prehashed) signature over more data than we are willing to buffer.
    #[error("the data is larger than {limit} bytes, the limit for legacy (non-prehashed) signatures")]
    MessageTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Reading the message failed.
    #[error("could not read the signed data: {0}")]
    Io(#[from] io::Error),
}

/// A trusted comment is not a valid skill statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// A field has an empty key (e.g. `:value` or an empty field between two tabs).
    #[error("statement field \"{}\" has no key", excerpt(field))]
    MalformedField {
        /// The field as found.
        field: String,
    },
    /// The same key appears twice.
    #[error("statement key `{}` appears more than once", excerpt(key))]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A required key is absent.
    #[error("statement has no `{key}` field; this is not a skillscan statement")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A value is malformed.
    #[error("statement field `{key}` (\"{}\") {reason}", excerpt(value))]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The rejected value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `skillscan:<n>` names a format this version does not know.
    #[error("statement format skillscan:{} is not supported (this version reads skillscan:1)", excerpt(found))]
    UnsupportedFormat {
        /// The value found.
        found: String,
    },
}

/// A verified statement is about something else than what we hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementMismatch {
    /// Different slug.
    #[error("the signature is for skill \"{found}\", not \"{expected}\"")]
    Slug {
        /// What we hold.
        expected: String,
        /// What was signed.
        found: String,
    },
    /// Different version.
    #[error("the signature is for version {found}, not {expected}")]
    Version {
        /// What we hold.
        expected: String,
        /// What was signed.
        found: String,
    },
    /// Different (or missing) archive digest.
    #[error("the signed archive sha256 is {}, but the archive's is {expected}", found.map_or_else(|| "absent".to_owned(), |d| d.to_string()))]
    ArchiveSha256 {
        /// What we hold.
        expected: Sha256Digest,
        /// What was signed.
        found: Option<Sha256Digest>,
    },
    /// Different tree digest.
    #[error("the signed tree digest is {found}, but the files' tree digest is {expected}")]
    Tree {
        /// What we hold.
        expected: Sha256Digest,
        /// What was signed.
        found: Sha256Digest,
    },
    /// The caller gave neither an archive digest nor a tree digest to compare.
    #[error("nothing to compare: expected an archive sha256 or a tree digest")]
    NoDigestToCompare,
}

/// Loading a trust store, or verifying against it, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The file is not valid TOML or has unknown/mistyped keys.
    #[error("invalid trust store: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
    },
    /// A key has an empty or multi-line name.
    #[error("trust store key #{index}: `name` {reason}")]
    InvalidName {
        /// 1-based position in the file.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key's `public_key` does not parse.
    #[error("trust store key \"{}\": {source}", excerpt(name))]
    InvalidKey {
        /// The key's name.
        name: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// `not_before` or `not_after` is not a date-time we accept.
    #[error("trust store key \"{}\": `{field}` {reason}", excerpt(name))]
    InvalidDate {
        /// The key's name.
        name: String,
        /// `not_before` or `not_after`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `not_before` is after `not_after`.
    #[error("trust store key \"{}\": `not_before` is after `not_after`", excerpt(name))]
    EmptyWindow {
        /// The key's name.
        name: String,
    },
    /// Two entries have the same key id.
    #[error("trust store lists key {key_id} twice (\"{}\" and \"{}\")", excerpt(first), excerpt(second))]
    DuplicateKey {
        /// The id.
        key_id: KeyId,
        /// Name of the first entry.
        first: String,
        /// Name of the second entry.
        second: String,
    },
    /// A `revoked.key_ids` entry does not parse.
    #[error("trust store `revoked.key_ids`: {0}")]
    InvalidRevokedKeyId(#[from] ParseKeyIdError),
    /// The signing key is not in the store.
    #[error("the signature was made with key {key_id}, which is not in the trust store")]
    UnknownKey {
        /// Key id from the signature.
        key_id: KeyId,
    },
    /// The signing key is revoked.
    #[error("the signature was made with key {key_id} (\"{}\"), which is revoked", excerpt(name))]
    Revoked {
        /// The key id.
        key_id: KeyId,
        /// Its name in the store, or `unknown` if it is only listed as revoked.
        name: String,
    },
    /// The key is not valid yet at the given instant.
    #[error("key {key_id} (\"{}\") is not valid before {not_before}; the {instant_kind} is {instant}", excerpt(name))]
    NotYetValid {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// RFC 3339 rendering of `not_before`.
        not_before: String,
        /// `current time` or `statement timestamp`.
        instant_kind: &'static str,
        /// RFC 3339 rendering of the instant checked.
        instant: String,
    },
    /// The key has expired at the given instant.
    #[error("key {key_id} (\"{}\") expired at {not_after}; the {instant_kind} is {instant}", excerpt(name))]
    Expired {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// RFC 3339 rendering of `not_after`.
        not_after: String,
        /// `current time` or `statement timestamp`.
        instant_kind: &'static str,
        /// RFC 3339 rendering of the instant checked.
        instant: String,
    },
    /// The trusted comment has a `timestamp:` field that is not a number.
    #[error("the trusted comment's timestamp \"{}\" is not a valid Unix time", excerpt(value))]
    InvalidTimestamp {
        /// The value found.
        value: String,
    },
    /// The signature itself does not verify.
    #[error("signature by key {key_id} (\"{}\") does not verify: {source}", excerpt(name))]
    Signature {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// Why.
        #[source]
        source: VerifyError,
    },
}

/// A `skills.lock` file could not be read, or an entry is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The file is not valid TOML or has unknown/mistyped keys.
    #[error("invalid skills.lock: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
    },
    /// The `version` is not one we can read.
    #[error("skills.lock version {found} is not supported (this tool reads version 1)")]
    UnsupportedVersion {
        /// The version found.
        found: i64,
    },
    /// A field of an entry is invalid.
    #[error("skills.lock {entry}: `{field}` {reason}")]
    InvalidField {
        /// Which entry, e.g. `skill #2 "weather-brief"`.
        entry: String,
        /// The field, e.g. `archive_sha256` or `files."a/b.py"`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two entries have the same slug and owner.
    #[error("skills.lock has two entries for {entry}")]
    DuplicateEntry {
        /// Which entry.
        entry: String,
    },
}

/// Files on disk do not match what the lock pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// Some files changed, appeared or disappeared.
    #[error("{}", describe_tree_mismatch(slug, changed, added, removed))]
    FilesChanged {
        /// The skill.
        slug: String,
        /// Files whose content differs from the lock.
        changed: Vec<String>,
        /// Files present now but not in the lock.
        added: Vec<String>,
        /// Files in the lock but missing now.
        removed: Vec<String>,
    },
    /// The lock has no file list and the tree digest differs.
    #[error("skill \"{slug}\" does not match skills.lock: tree digest is {found}, the lock pins {expected}")]
    TreeDigestMismatch {
        /// The skill.
        slug: String,
        /// Pinned digest.
        expected: Sha256Digest,
        /// Digest of the files now.
        found: Sha256Digest,
    },
}

/// Lists at most this many paths per category in an integrity message.
const MAX_LISTED_PATHS: usize = 20;

fn describe_tree_mismatch(slug: &str, changed: &[String], added: &[String], removed: &[String]) -> String {
    let mut out = format!("skill \"{}\" does not match skills.lock:", excerpt(slug));
    for (label, paths) in [("changed", changed), ("added", added), ("removed", removed)] {
        if paths.is_empty() {
            continue;
        }
        out.push_str(&format!(" {label} {}:", paths.len()));
        for path in paths.iter().take(MAX_LISTED_PATHS) {
            out.push_str(&format!(" \"{}\"", excerpt(path)));
        }
        if paths.len() > MAX_LISTED_PATHS {
            out.push_str(&format!(" and {} more", paths.len() - MAX_LISTED_PATHS));
        }
        out.push(';');
    }
    if out.ends_with(';') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_errors_escape_the_path() {
        let err = PathError { path: "a\nb\u{1b}[31m".to_owned(), reason: PathProblem::LineBreak };
        let text = err.to_string();
        assert!(!text.contains('\n'));
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("a\\nb"));
    }

    #[test]
    fn integrity_message_lists_files() {
        let err = IntegrityError::FilesChanged {
            slug: "weather-brief".to_owned(),
            changed: vec!["SKILL.md".to_owned()],
            added: vec!["evil.sh".to_owned()],
            removed: vec![],
        };
        assert_eq!(
            err.to_string(),
            "skill \"weather-brief\" does not match skills.lock: changed 1: \"SKILL.md\"; added 1: \"evil.sh\""
        );
    }

    #[test]
    fn integrity_message_truncates_long_lists() {
        let many: Vec<String> = (0..25).map(|i| format!("f{i}")).collect();
        let err = IntegrityError::FilesChanged { slug: "s".to_owned(), changed: vec![], added: many, removed: vec![] };
        assert!(err.to_string().ends_with("\"f19\" and 5 more"));
    }
}
