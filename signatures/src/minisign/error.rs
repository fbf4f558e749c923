//! Errors of the minisign module: reading keys and signature files, signing and verifying.
//!
//! Values that come from untrusted input are escaped before they reach a message (see
//! [`crate::validate::excerpt`]); the two algorithm bytes of a key or signature are shown
//! with `escape_ascii`.

use std::io;

use super::key_id::KeyId;

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
