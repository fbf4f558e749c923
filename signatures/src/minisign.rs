//! minisign-compatible keys and signatures (the exact file formats of minisign 0.11/0.12).
//!
//! Formats, from minisign's `src/minisign.h` and `minisign.c`:
//!
//! - **Public key file**: `untrusted comment: <text>` then
//!   `base64("Ed" ‖ keynum[8] ‖ ed25519_pk[32])` (42 bytes, starts with `RW`).
//!   `minisign -P` takes the base64 line alone; [`PublicKey::parse`] accepts both.
//! - **Secret key file**: `untrusted comment: <text>` then base64 of 158 bytes:
//!   `sig_alg "Ed" ‖ kdf_alg ‖ chk_alg "B2" ‖ kdf_salt[32] ‖ opslimit_le[8] ‖ memlimit_le[8] ‖
//!   keynum[8] ‖ sk[64] ‖ chk[32]`. `kdf_alg` is `Sc` (scrypt, libsodium
//!   `crypto_pwhash_scryptsalsa208sha256`) or two zero bytes for an unencrypted key
//!   (`minisign -G -W`). When encrypted, the last 104 bytes (`keynum ‖ sk ‖ chk`) are XORed
//!   with a 104-byte scrypt output. `chk` is BLAKE2b-256 over `sig_alg ‖ keynum ‖ sk`.
//!   minisign 0.11 leaves `chk` all zero in unencrypted keys; we accept that, and write the
//!   real checksum (which minisign also accepts).
//! - **Signature file** (4 lines): `untrusted comment: <text>`,
//!   `base64(sig_alg[2] ‖ keynum[8] ‖ sig[64])`, `trusted comment: <text>`,
//!   `base64(global_sig[64])`. `sig_alg` `ED` means the message was prehashed with
//!   BLAKE2b-512 (minisign's default since 0.11); `Ed` is the legacy format where the whole
//!   message is signed. `global_sig` signs `sig ‖ trusted_comment`, so the trusted comment
//!   cannot be changed without the key.
//!
//! Key ids display as minisign prints them: uppercase hex of the little-endian `u64`
//! without leading zeros (`printf("%" PRIX64)`).
//!
//! All Ed25519 verification uses `verify_strict` (rejects small-order keys and
//! non-canonical signatures, as libsodium does).
//!
//! # Why our own module, and not the `minisign` or `minisign-verify` crate
//!
//! Compared with `minisign` 0.10.0 and `minisign-verify` 0.3.0 (both by minisign's author)
//! against what skillscan needs, we keep this module:
//!
//! | Need | this module | `minisign` 0.10 | `minisign-verify` 0.3 |
//! |---|---|---|---|
//! | sign, generate keys | yes | yes | no: verification only |
//! | prehashed `ED` and legacy `Ed` | both, streamed; legacy buffered up to [`LEGACY_MESSAGE_LIMIT`] | both; `verify` wants `Read + Seek` and buffers a legacy message without limit | both; streaming only for `ED` |
//! | trusted comment bound by the global signature | yes, and [`verify_trusted_comment`] checks it alone | checked, but no comment-only check | checked, but no comment-only check |
//! | scrypt-encrypted secret keys | read and write, cost chosen by the caller, hostile costs refused ([`KeyError::KdfTooExpensive`]) | yes, fixed cost when writing, password as `String` | no secret keys |
//! | Ed25519 | `ed25519-dalek` `verify_strict`, weak keys refused on parse | its own ref10 port: refuses only the identity key | its own ref10 port, same |
//! | strict file parsing | exactly 4 lines, CR/NUL in comments refused, prefixes checked | lenient | ignores extra lines and the untrusted-comment prefix |
//! | errors | typed, one variant per cause, user-facing texts the CLI tests assert on | `PError` kind plus a string | 7 variants; a bad message signature and an edited trusted comment are both `InvalidSignature` |
//! | no file system, no terminal | yes: bytes and readers only | `from_file` helpers; a `None` password prompts on the TTY (`rpassword`); `verify` may print to stderr or copy to stdout | `from_file` helpers only |
//! | secrets wiped | `Zeroizing` buffers, dalek's zeroizing key | not wiped | n/a |
//! | dependencies | RustCrypto `blake2`, `scrypt` 0.12, `ed25519-dalek` 3 (already in the tree) | `scrypt` 0.11 (a second copy), `ct-codecs`, `rpassword` | none |
//!
//! `minisign-verify` would cover only verification and still leave us the signing half, the
//! trusted-comment-only check and our error texts; `minisign` would bring a terminal prompt
//! and its own Ed25519 into a crate meant to be small and audited, and lose the distinction
//! between a tampered trusted comment and a tampered archive that our messages make. What we
//! keep instead is proof of compatibility: files written by the real `minisign` 0.11 are
//! known-answer tests here, and `tests/minisign_interop.rs` drives the real binary both ways.

use std::fmt;
use std::io::{self, Read};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::{Blake2b256, Blake2b512, Digest as _};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

mod error;
mod key_id;

pub use error::{CommentError, KeyError, SignatureParseError, VerifyError};
pub use key_id::{KeyId, ParseKeyIdError};

/// Prefix of the first line of every minisign file.
pub const UNTRUSTED_COMMENT_PREFIX: &str = "untrusted comment: ";
/// Prefix of the third line of a signature file.
pub const TRUSTED_COMMENT_PREFIX: &str = "trusted comment: ";
/// Largest message we buffer to check a legacy (`Ed`, non-prehashed) signature.
pub const LEGACY_MESSAGE_LIMIT: u64 = 1 << 30;

const SIG_ALG_LEGACY: [u8; 2] = *b"Ed";
const SIG_ALG_PREHASHED: [u8; 2] = *b"ED";
const KDF_SCRYPT: [u8; 2] = *b"Sc";
const KDF_NONE: [u8; 2] = [0, 0];
const CHK_BLAKE2B: [u8; 2] = *b"B2";
const KEY_ID_BYTES: usize = 8;
const PUBLIC_KEY_FILE_BYTES: usize = 2 + KEY_ID_BYTES + 32;
const SALT_BYTES: usize = 32;
const CHECKSUM_BYTES: usize = 32;
/// `keynum ‖ sk ‖ chk`: the part of a secret key that is encrypted.
const KEYNUM_SK_BYTES: usize = KEY_ID_BYTES + 64 + CHECKSUM_BYTES;
const SECRET_KEY_FILE_BYTES: usize = 2 + 2 + 2 + SALT_BYTES + 8 + 8 + KEYNUM_SK_BYTES;
const SIGNATURE_LINE_BYTES: usize = 2 + KEY_ID_BYTES + 64;
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Splits a text file into lines: `\n` separated, a `\r` before each `\n` tolerated, and one
/// optional final line terminator. Anything else (blank lines, extra lines) stays visible to
/// the caller, which rejects it.
fn split_lines(text: &str) -> Vec<&str> {
    let body = match text.strip_suffix('\n') {
        Some(rest) => rest.strip_suffix('\r').unwrap_or(rest),
        None => text,
    };
    body.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).collect()
}

/// Makes free text safe for an untrusted-comment line by replacing control characters.
fn one_line(comment: &str) -> String {
    comment.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect()
}

fn escape_bytes(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Splits `n` bytes off the front of `bytes`.
fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = bytes.split_at_checked(n)?;
    *bytes = tail;
    Some(head)
}

fn take_array<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
    take(bytes, N).and_then(|head| head.try_into().ok())
}

/// Compares without an early exit, so timing does not reveal how many bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A minisign public key: key id plus Ed25519 verifying key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    /// The key id signatures refer to.
    pub key_id: KeyId,
    /// The Ed25519 key.
    pub ed25519: VerifyingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("key_id", &self.key_id).field("base64", &self.to_base64()).finish()
    }
}

impl PublicKey {
    /// Parses a public key file (`untrusted comment:` line plus key line) or a bare key line
    /// as given to `minisign -P`. CRLF line ends and a final newline are accepted.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "public key";
        let lines = split_lines(text);
        let key_line = match lines.as_slice() {
            [single] if single.starts_with(UNTRUSTED_COMMENT_PREFIX) => {
                return Err(KeyError::LineCount { what: WHAT, expected: "a key line after the comment", found: 1 });
            }
            [single] => single.trim(),
            [comment, key] => {
                if !comment.starts_with(UNTRUSTED_COMMENT_PREFIX) {
                    return Err(KeyError::MissingComment { what: WHAT });
                }
                *key
            }
            other => {
                return Err(KeyError::LineCount {
                    what: WHAT,
                    expected: "a comment line and a key line, or a bare key line",
                    found: other.len(),
                });
            }
        };
        let bytes = BASE64.decode(key_line).map_err(|_| KeyError::Base64 { what: WHAT })?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        const WHAT: &str = "public key";
        let length_error = |found: usize| {
            if found < PUBLIC_KEY_FILE_BYTES {
                KeyError::Truncated { what: WHAT, expected: PUBLIC_KEY_FILE_BYTES, found }
            } else {
                KeyError::TrailingData { what: WHAT, expected: PUBLIC_KEY_FILE_BYTES, found }
            }
        };
        if bytes.len() != PUBLIC_KEY_FILE_BYTES {
            return Err(length_error(bytes.len()));
        }
        let mut rest = bytes;
        let algorithm: [u8; 2] = take_array(&mut rest).ok_or_else(|| length_error(bytes.len()))?;
        let key_id: [u8; 8] = take_array(&mut rest).ok_or_else(|| length_error(bytes.len()))?;
        let key: [u8; 32] = take_array(&mut rest).ok_or_else(|| length_error(bytes.len()))?;
        if algorithm != SIG_ALG_LEGACY {
            return Err(KeyError::UnsupportedAlgorithm { what: WHAT, found: escape_bytes(&algorithm) });
        }
        let ed25519 = VerifyingKey::from_bytes(&key).map_err(|_| KeyError::InvalidPublicKey { what: WHAT })?;
        if ed25519.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(Self { key_id: KeyId(key_id), ed25519 })
    }

    /// The key line: `base64("Ed" ‖ keynum ‖ pk)`, what `minisign -P` takes.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(PUBLIC_KEY_FILE_BYTES);
        bytes.extend_from_slice(&SIG_ALG_LEGACY);
        bytes.extend_from_slice(&self.key_id.0);
        bytes.extend_from_slice(self.ed25519.as_bytes());
        BASE64.encode(bytes)
    }

    /// The two-line public key file. Control characters in the comment become spaces (the
    /// comment is free text and must stay on one line).
    pub fn to_file_string(&self, untrusted_comment: &str) -> String {
        format!("{UNTRUSTED_COMMENT_PREFIX}{}\n{}\n", one_line(untrusted_comment), self.to_base64())
    }

    /// minisign's own comment for a public key file: `minisign public key <ID>`.
    pub fn default_comment(&self) -> String {
        format!("minisign public key {}", self.key_id)
    }
}

/// Cost of the scrypt key derivation protecting a secret key, in libsodium's terms.
///
/// The values are stored in the key file; libsodium's `pickparams` turns them into scrypt's
/// `(N, r, p)` (see [`KdfParams::scrypt_cost`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// libsodium `opslimit`.
    pub opslimit: u64,
    /// libsodium `memlimit`, in bytes.
    pub memlimit: u64,
}

impl Default for KdfParams {
    /// minisign's defaults: `OPSLIMIT_SENSITIVE` (33554432) and `MEMLIMIT_SENSITIVE` (1 GiB),
    /// i.e. scrypt N = 2^20, r = 8, p = 1: about a second and 1 GiB of memory.
    fn default() -> Self {
        Self { opslimit: 33_554_432, memlimit: 1_073_741_824 }
    }
}

/// scrypt parameters derived from [`KdfParams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    /// log2 of N.
    pub log_n: u8,
    /// Block size factor.
    pub r: u32,
    /// Parallelism.
    pub p: u32,
}

/// Largest scrypt memory (128·r·N bytes) we accept from a key file: twice minisign's default.
const MAX_SCRYPT_MEMORY: u64 = 2 << 30;
/// Largest scrypt work (N·p) we accept from a key file: four times minisign's default.
const MAX_SCRYPT_WORK: u64 = 4 << 20;

impl KdfParams {
    /// libsodium's `OPSLIMIT_INTERACTIVE`/`MEMLIMIT_INTERACTIVE` (N = 2^14, 16 MiB).
    pub const fn interactive() -> Self {
        Self { opslimit: 524_288, memlimit: 16_777_216 }
    }

    /// The cheapest setting libsodium allows (N = 2^10, 1 MiB). Only for tests: it protects
    /// a password hardly at all.
    pub const fn insecure_for_tests() -> Self {
        Self { opslimit: 32_768, memlimit: 1_048_576 }
    }

    /// Port of libsodium's `pickparams()` (crypto_pwhash/scryptsalsa208sha256): r is always
    /// 8; if memory is the tighter bound, N fills the memory and p takes the remaining work;
    /// otherwise p = 1 and N follows from `opslimit`.
    pub fn scrypt_cost(self) -> ScryptCost {
        const R: u64 = 8;
        let opslimit = self.opslimit.max(32_768);
        let smallest_log_n_above = |max_n: u64| {
            let mut log_n = 1u8;
            while log_n < 63 {
                if (1u64 << log_n) > max_n / 2 {
                    break;
                }
                log_n += 1;
            }
            log_n
        };
        if opslimit < self.memlimit / 32 {
            let log_n = smallest_log_n_above(opslimit / (R * 4));
            ScryptCost { log_n, r: 8, p: 1 }
        } else {
            let log_n = smallest_log_n_above(self.memlimit / (R * 128));
            let max_rp = ((opslimit / 4) >> log_n).min(0x3fff_ffff);
            // `max_rp` is at most 0x3fff_ffff, so it fits in u32.
            let p = u32::try_from(max_rp).unwrap_or(0x3fff_ffff) / 8;
            ScryptCost { log_n, r: 8, p }
        }
    }

    /// Runs scrypt for these limits, refusing parameters far above minisign's defaults so a
    /// hostile key file cannot make us allocate or compute without bound.
    fn derive_keystream(self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; KEYNUM_SK_BYTES]>, KeyError> {
        let cost = self.scrypt_cost();
        let n = 1u64 << cost.log_n;
        let memory = n.saturating_mul(128).saturating_mul(u64::from(cost.r));
        let work = n.saturating_mul(u64::from(cost.p));
        if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
            return Err(KeyError::KdfTooExpensive { opslimit: self.opslimit, memlimit: self.memlimit });
        }
        let params = scrypt::Params::new(cost.log_n, cost.r, cost.p).map_err(|_| KeyError::KdfFailed)?;
        let mut keystream = Zeroizing::new([0u8; KEYNUM_SK_BYTES]);
        scrypt::scrypt(password, salt, &params, keystream.as_mut_slice()).map_err(|_| KeyError::KdfFailed)?;
        Ok(keystream)
    }
}

/// BLAKE2b-256 over `sig_alg ‖ keynum ‖ sk`, minisign's `seckey_compute_chk`.
fn secret_key_checksum(key_id: &KeyId, keypair: &[u8; 64]) -> [u8; CHECKSUM_BYTES] {
    let mut hasher = Blake2b256::new();
    hasher.update(SIG_ALG_LEGACY);
    hasher.update(key_id.0);
    hasher.update(keypair);
    hasher.finalize().into()
}

fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, KeyError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| KeyError::Random { reason: e.to_string() })?;
    Ok(bytes)
}

/// `what` in secret key errors.
const SECRET_KEY: &str = "secret key";

/// The first step of [`SecretKey::parse`]: the key line of a secret key file, decoded, with
/// exactly [`SECRET_KEY_FILE_BYTES`] bytes.
fn decode_secret_key_file(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let lines = split_lines(text);
    let key_line = match lines.as_slice() {
        [comment, key] => {
            if !comment.starts_with(UNTRUSTED_COMMENT_PREFIX) {
                return Err(KeyError::MissingComment { what: SECRET_KEY });
            }
            *key
        }
        [single] if single.starts_with(UNTRUSTED_COMMENT_PREFIX) => {
            return Err(KeyError::Truncated { what: SECRET_KEY, expected: SECRET_KEY_FILE_BYTES, found: 0 });
        }
        [first, ..] if !first.starts_with(UNTRUSTED_COMMENT_PREFIX) => {
            return Err(KeyError::MissingComment { what: SECRET_KEY });
        }
        other => {
            return Err(KeyError::LineCount {
                what: SECRET_KEY,
                expected: "a comment line and a key line",
                found: other.len(),
            });
        }
    };
    let bytes = Zeroizing::new(BASE64.decode(key_line).map_err(|_| KeyError::Base64 { what: SECRET_KEY })?);
    let (expected, found) = (SECRET_KEY_FILE_BYTES, bytes.len());
    if found < expected {
        return Err(KeyError::Truncated { what: SECRET_KEY, expected, found });
    }
    if found > expected {
        return Err(KeyError::TrailingData { what: SECRET_KEY, expected, found });
    }
    Ok(bytes)
}

/// The fields of a decoded secret key as stored, with the signature and checksum algorithms
/// checked. The key material (`keynum ‖ sk ‖ chk`) is still encrypted when `kdf_alg` is `Sc`.
struct StoredSecretKey<'a> {
    kdf_alg: [u8; 2],
    salt: &'a [u8],
    kdf: KdfParams,
    keynum_sk: &'a [u8],
}

impl<'a> StoredSecretKey<'a> {
    /// Splits the bytes from [`decode_secret_key_file`] along the layout in the module docs.
    fn split(bytes: &'a [u8]) -> Result<Self, KeyError> {
        // Unreachable: `bytes` has exactly the length the fields below add up to.
        let truncated =
            || KeyError::Truncated { what: SECRET_KEY, expected: SECRET_KEY_FILE_BYTES, found: bytes.len() };
        let mut rest = bytes;
        let sig_alg: [u8; 2] = take_array(&mut rest).ok_or_else(truncated)?;
        let kdf_alg: [u8; 2] = take_array(&mut rest).ok_or_else(truncated)?;
        let chk_alg: [u8; 2] = take_array(&mut rest).ok_or_else(truncated)?;
        let salt = take(&mut rest, SALT_BYTES).ok_or_else(truncated)?;
        let opslimit = u64::from_le_bytes(take_array(&mut rest).ok_or_else(truncated)?);
        let memlimit = u64::from_le_bytes(take_array(&mut rest).ok_or_else(truncated)?);
        let keynum_sk = take(&mut rest, KEYNUM_SK_BYTES).ok_or_else(truncated)?;
        if sig_alg != SIG_ALG_LEGACY {
            return Err(KeyError::UnsupportedAlgorithm { what: SECRET_KEY, found: escape_bytes(&sig_alg) });
        }
        if chk_alg != CHK_BLAKE2B {
            return Err(KeyError::UnsupportedChecksum { found: escape_bytes(&chk_alg) });
        }
        Ok(Self { kdf_alg, salt, kdf: KdfParams { opslimit, memlimit }, keynum_sk })
    }

    /// `keynum ‖ sk ‖ chk` in the clear, and whether it was encrypted. An encrypted key needs
    /// the password; a wrong one shows only later, as a checksum mismatch.
    fn decrypt(&self, password: Option<&[u8]>) -> Result<(Zeroizing<[u8; KEYNUM_SK_BYTES]>, bool), KeyError> {
        let truncated =
            || KeyError::Truncated { what: SECRET_KEY, expected: SECRET_KEY_FILE_BYTES, found: SECRET_KEY_FILE_BYTES };
        let mut keynum_sk = Zeroizing::new(<[u8; KEYNUM_SK_BYTES]>::try_from(self.keynum_sk).map_err(|_| truncated())?);
        match self.kdf_alg {
            KDF_NONE => Ok((keynum_sk, false)),
            KDF_SCRYPT => {
                let password = password.ok_or(KeyError::PasswordRequired)?;
                let keystream = self.kdf.derive_keystream(password, self.salt)?;
                for (byte, key) in keynum_sk.iter_mut().zip(keystream.iter()) {
                    *byte ^= key;
                }
                Ok((keynum_sk, true))
            }
            other => Err(KeyError::UnsupportedKdf { found: escape_bytes(&other) }),
        }
    }
}

/// A minisign secret key. The key material is wiped from memory on drop (the Ed25519 key
/// zeroizes itself; our temporary buffers are `Zeroizing`), and `Debug` shows only the id.
pub struct SecretKey {
    key_id: KeyId,
    signing_key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Generates a key pair from the operating system's random number generator.
    ///
    /// Returns a `Result` (the brief sketched a bare tuple) because the OS generator can fail
    /// in principle and this crate never panics.
    pub fn generate() -> Result<(SecretKey, PublicKey), KeyError> {
        let seed = random_bytes::<32>()?;
        let key_id = KeyId(*random_bytes::<8>()?);
        let secret = SecretKey { key_id, signing_key: SigningKey::from_bytes(&seed) };
        let public = secret.public_key();
        Ok((secret, public))
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey { key_id: self.key_id, ed25519: self.signing_key.verifying_key() }
    }

    /// Parses (and, if encrypted, decrypts) a minisign secret key file.
    ///
    /// `password` is required for encrypted (`Sc`) keys and ignored for unencrypted ones.
    /// Errors distinguish a wrong password (checksum mismatch after decryption), unsupported
    /// algorithms, truncated keys, trailing data, and inconsistent key halves.
    pub fn parse(text: &str, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let bytes = decode_secret_key_file(text)?;
        let stored = StoredSecretKey::split(&bytes)?;
        let (keynum_sk, encrypted) = stored.decrypt(password)?;
        Self::from_keynum_sk(&keynum_sk, encrypted)
    }

    /// The last step of [`Self::parse`]: `keynum ‖ sk ‖ chk` in the clear becomes a key once
    /// the checksum matches and the public half belongs to the private half.
    fn from_keynum_sk(keynum_sk: &[u8; KEYNUM_SK_BYTES], encrypted: bool) -> Result<Self, KeyError> {
        // Unreachable: the array has exactly the bytes taken below.
        let truncated =
            || KeyError::Truncated { what: SECRET_KEY, expected: SECRET_KEY_FILE_BYTES, found: SECRET_KEY_FILE_BYTES };
        let mut plain: &[u8] = keynum_sk;
        let key_id = KeyId(take_array(&mut plain).ok_or_else(truncated)?);
        let keypair = Zeroizing::new(take_array::<64>(&mut plain).ok_or_else(truncated)?);
        let checksum = take(&mut plain, CHECKSUM_BYTES).ok_or_else(truncated)?;
        let expected = secret_key_checksum(&key_id, &keypair);
        // minisign 0.11 writes an all-zero checksum for unencrypted (`-W`) keys.
        let unencrypted_without_checksum = !encrypted && checksum.iter().all(|b| *b == 0);
        if !unencrypted_without_checksum && !constant_time_eq(checksum, &expected) {
            return Err(if encrypted { KeyError::WrongPassword } else { KeyError::ChecksumMismatch });
        }
        let signing_key = SigningKey::from_keypair_bytes(&keypair).map_err(|_| KeyError::InconsistentKeyPair)?;
        Ok(Self { key_id, signing_key })
    }

    /// Writes the secret key file. With a password, the key is encrypted with scrypt at the
    /// given cost (a fresh random salt each time); without, `kdf_alg` is two zero bytes as
    /// with `minisign -G -W`. The result holds secret material (encrypted or not) and is
    /// wiped when dropped.
    ///
    /// The untrusted comment is `minisign encrypted secret key` or `minisign unencrypted
    /// secret key` (minisign 0.11 says "encrypted" even for `-W` keys; we say what it is).
    /// Unencrypted keys get the real BLAKE2b checksum, which minisign 0.11 accepts.
    pub fn to_file_string(&self, password: Option<&[u8]>, kdf: KdfParams) -> Result<Zeroizing<String>, KeyError> {
        let keypair = Zeroizing::new(self.signing_key.to_keypair_bytes());
        let checksum = secret_key_checksum(&self.key_id, &keypair);
        let mut keynum_sk = Zeroizing::new(Vec::with_capacity(KEYNUM_SK_BYTES));
        keynum_sk.extend_from_slice(&self.key_id.0);
        keynum_sk.extend_from_slice(keypair.as_slice());
        keynum_sk.extend_from_slice(&checksum);

        let mut bytes = Zeroizing::new(Vec::with_capacity(SECRET_KEY_FILE_BYTES));
        bytes.extend_from_slice(&SIG_ALG_LEGACY);
        match password {
            Some(password) => {
                let salt = random_bytes::<SALT_BYTES>()?;
                let keystream = kdf.derive_keystream(password, salt.as_slice())?;
                for (byte, key) in keynum_sk.iter_mut().zip(keystream.iter()) {
                    *byte ^= key;
                }
                bytes.extend_from_slice(&KDF_SCRYPT);
                bytes.extend_from_slice(&CHK_BLAKE2B);
                bytes.extend_from_slice(salt.as_slice());
                bytes.extend_from_slice(&kdf.opslimit.to_le_bytes());
                bytes.extend_from_slice(&kdf.memlimit.to_le_bytes());
            }
            None => {
                bytes.extend_from_slice(&KDF_NONE);
                bytes.extend_from_slice(&CHK_BLAKE2B);
                bytes.extend_from_slice(&[0u8; SALT_BYTES + 16]);
            }
        }
        bytes.extend_from_slice(&keynum_sk);
        let comment =
            if password.is_some() { "minisign encrypted secret key" } else { "minisign unencrypted secret key" };
        let encoded = Zeroizing::new(BASE64.encode(bytes.as_slice()));
        Ok(Zeroizing::new(format!("{UNTRUSTED_COMMENT_PREFIX}{comment}\n{}\n", encoded.as_str())))
    }
}

/// How the message was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `ED`: Ed25519 over the BLAKE2b-512 hash of the message (minisign's default).
    Prehashed,
    /// `Ed`: Ed25519 over the message itself (`minisign -S -l`).
    Legacy,
}

impl SignatureAlgorithm {
    fn bytes(self) -> [u8; 2] {
        match self {
            Self::Prehashed => SIG_ALG_PREHASHED,
            Self::Legacy => SIG_ALG_LEGACY,
        }
    }
}

/// A parsed `.minisig` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    /// Line 1 after `untrusted comment: ` (not authenticated).
    pub untrusted_comment: String,
    /// `ED` or `Ed`.
    pub algorithm: SignatureAlgorithm,
    /// Key that made the signature.
    pub key_id: KeyId,
    /// Ed25519 signature over the message (or its BLAKE2b-512 hash).
    pub signature: [u8; 64],
    /// Line 3 after `trusted comment: ` (authenticated by `global_signature`).
    pub trusted_comment: String,
    /// Ed25519 signature over `signature ‖ trusted_comment`.
    pub global_signature: [u8; 64],
}

impl SignatureFile {
    /// Parses exactly four lines (CRLF and one final newline tolerated; blank or extra lines
    /// rejected). Comments must not contain CR or NUL: minisign would cut the comment there
    /// and verify something else than we do.
    pub fn parse(text: &str) -> Result<Self, SignatureParseError> {
        let lines = split_lines(text);
        let [untrusted, signature_line, trusted, global_line] = lines.as_slice() else {
            return Err(SignatureParseError::LineCount { found: lines.len() });
        };
        let untrusted_comment =
            untrusted.strip_prefix(UNTRUSTED_COMMENT_PREFIX).ok_or(SignatureParseError::MissingUntrustedComment)?;
        let trusted_comment =
            trusted.strip_prefix(TRUSTED_COMMENT_PREFIX).ok_or(SignatureParseError::MissingTrustedComment)?;
        for (line, comment) in [(1u8, untrusted_comment), (3u8, trusted_comment)] {
            if comment.contains(['\r', '\0']) {
                return Err(SignatureParseError::ControlCharacter { line });
            }
        }

        let decoded = BASE64.decode(signature_line).map_err(|_| SignatureParseError::Base64 { line: 2 })?;
        let length_error = |line, expected, found| SignatureParseError::Length { line, expected, found };
        if decoded.len() != SIGNATURE_LINE_BYTES {
            return Err(length_error(2, SIGNATURE_LINE_BYTES, decoded.len()));
        }
        let mut rest: &[u8] = &decoded;
        let algorithm: [u8; 2] = take_array(&mut rest).ok_or_else(|| length_error(2, SIGNATURE_LINE_BYTES, 0))?;
        let key_id: [u8; 8] = take_array(&mut rest).ok_or_else(|| length_error(2, SIGNATURE_LINE_BYTES, 0))?;
        let signature: [u8; 64] = take_array(&mut rest).ok_or_else(|| length_error(2, SIGNATURE_LINE_BYTES, 0))?;
        let algorithm = match algorithm {
            SIG_ALG_PREHASHED => SignatureAlgorithm::Prehashed,
            SIG_ALG_LEGACY => SignatureAlgorithm::Legacy,
            other => {
                return Err(SignatureParseError::UnsupportedAlgorithm { found: escape_bytes(&other) });
            }
        };

        let global = BASE64.decode(global_line).map_err(|_| SignatureParseError::Base64 { line: 4 })?;
        let global_signature: [u8; 64] = global.as_slice().try_into().map_err(|_| length_error(4, 64, global.len()))?;

        Ok(Self {
            untrusted_comment: untrusted_comment.to_owned(),
            algorithm,
            key_id: KeyId(key_id),
            signature,
            trusted_comment: trusted_comment.to_owned(),
            global_signature,
        })
    }

    /// The four-line file, each line ending in `\n`, exactly as minisign writes it.
    pub fn to_file_string(&self) -> String {
        let mut signature_line = Vec::with_capacity(SIGNATURE_LINE_BYTES);
        signature_line.extend_from_slice(&self.algorithm.bytes());
        signature_line.extend_from_slice(&self.key_id.0);
        signature_line.extend_from_slice(&self.signature);
        format!(
            "{UNTRUSTED_COMMENT_PREFIX}{}\n{}\n{TRUSTED_COMMENT_PREFIX}{}\n{}\n",
            self.untrusted_comment,
            BASE64.encode(signature_line),
            self.trusted_comment,
            BASE64.encode(self.global_signature),
        )
    }

    /// The bytes the global signature covers: `signature ‖ trusted_comment`.
    fn global_message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(64 + self.trusted_comment.len());
        message.extend_from_slice(&self.signature);
        message.extend_from_slice(self.trusted_comment.as_bytes());
        message
    }
}

/// BLAKE2b-512 of a stream, with a fixed buffer.
fn blake2b512_reader(mut reader: impl Read) -> io::Result<[u8; 64]> {
    let mut hasher = Blake2b512::new();
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(buffer.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().into())
}

fn check_comment(comment: &str, which: &'static str) -> io::Result<()> {
    if comment.contains(['\n', '\r', '\0']) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, CommentError { which }));
    }
    Ok(())
}

/// Signs a message in minisign's prehashed (`ED`) format: the message is streamed through
/// BLAKE2b-512, so any size works in constant memory.
///
/// Errors: reading the message fails, or a comment contains a line break or NUL
/// (`io::ErrorKind::InvalidInput` wrapping a [`CommentError`]).
pub fn sign(
    secret_key: &SecretKey,
    message: impl Read,
    trusted_comment: &str,
    untrusted_comment: &str,
) -> io::Result<SignatureFile> {
    check_comment(trusted_comment, "trusted")?;
    check_comment(untrusted_comment, "untrusted")?;
    let hash = Zeroizing::new(blake2b512_reader(message)?);
    let signature = secret_key.signing_key.sign(hash.as_slice()).to_bytes();
    let mut file = SignatureFile {
        untrusted_comment: untrusted_comment.to_owned(),
        algorithm: SignatureAlgorithm::Prehashed,
        key_id: secret_key.key_id,
        signature,
        trusted_comment: trusted_comment.to_owned(),
        global_signature: [0; 64],
    };
    file.global_signature = secret_key.signing_key.sign(&file.global_message()).to_bytes();
    Ok(file)
}

/// Verifies a signature (prehashed `ED` or legacy `Ed`) and its trusted comment.
///
/// Checks, in minisign's order: the key id, the signature over the message, then the global
/// signature over `signature ‖ trusted_comment`. Legacy signatures need the whole message
/// in memory; messages above [`LEGACY_MESSAGE_LIMIT`] are refused.
pub fn verify(public_key: &PublicKey, message: impl Read, signature: &SignatureFile) -> Result<(), VerifyError> {
    verify_with_legacy_limit(public_key, message, signature, LEGACY_MESSAGE_LIMIT)
}

/// Verifies only the trusted comment of a signature: the key id and the global signature over
/// `signature ‖ trusted_comment`, without the signed message.
///
/// This proves that the key holder wrote this trusted comment for *some* message, nothing
/// about the message itself. It is enough when the trusted comment names the content by digest
/// (a skillscan statement carries the tree digest) and the caller compares that digest with the
/// content it holds: that is how an installed skill folder is checked against the signature
/// the mirror made over the archive it was extracted from, once the archive is gone. Anything
/// else should use [`verify`].
pub fn verify_trusted_comment(public_key: &PublicKey, signature: &SignatureFile) -> Result<(), VerifyError> {
    if signature.key_id != public_key.key_id {
        return Err(VerifyError::KeyIdMismatch {
            signature_key_id: signature.key_id,
            public_key_id: public_key.key_id,
        });
    }
    let global = Signature::from_bytes(&signature.global_signature);
    public_key
        .ed25519
        .verify_strict(&signature.global_message(), &global)
        .map_err(|_| VerifyError::InvalidGlobalSignature)
}

pub(crate) fn verify_with_legacy_limit(
    public_key: &PublicKey,
    message: impl Read,
    signature: &SignatureFile,
    legacy_limit: u64,
) -> Result<(), VerifyError> {
    if signature.key_id != public_key.key_id {
        return Err(VerifyError::KeyIdMismatch {
            signature_key_id: signature.key_id,
            public_key_id: public_key.key_id,
        });
    }
    let ed_signature = Signature::from_bytes(&signature.signature);
    let valid = match signature.algorithm {
        SignatureAlgorithm::Prehashed => {
            let hash = blake2b512_reader(message)?;
            public_key.ed25519.verify_strict(&hash, &ed_signature).is_ok()
        }
        SignatureAlgorithm::Legacy => {
            let mut buffered = Vec::new();
            message.take(legacy_limit.saturating_add(1)).read_to_end(&mut buffered)?;
            if buffered.len() as u64 > legacy_limit {
                return Err(VerifyError::MessageTooLarge { limit: legacy_limit });
            }
            public_key.ed25519.verify_strict(&buffered, &ed_signature).is_ok()
        }
    };
    if !valid {
        return Err(VerifyError::InvalidSignature);
    }
    let global = Signature::from_bytes(&signature.global_signature);
    public_key
        .ed25519
        .verify_strict(&signature.global_message(), &global)
        .map_err(|_| VerifyError::InvalidGlobalSignature)
}

#[cfg(test)]
mod tests;
