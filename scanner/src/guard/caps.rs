//! One size cap per kind of small file the protection suite reads, for the library and the
//! command line alike. A file over its cap is refused before it is parsed: it is not one of these.
//!
//! Each cap sits far above any real file of its kind and far below what would hurt to hold in
//! memory. The reasons, per kind:

/// Public keys, secret keys, trust stores and password files. A minisign key file is about 150
/// bytes and a trust-store entry (name, key, window) a few hundred: 1 MiB holds thousands of keys.
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// A `.minisig` signature: two comment lines and two base64 lines. Its trusted comment is a
/// skillscan statement whose fields the signatures crate bounds (slug and version 128 bytes, file
/// name 4 KiB), so a real one stays under 8 KiB. 64 KiB is also what the registry client accepts
/// for a downloaded signature.
pub const MAX_SIGNATURE_FILE_BYTES: u64 = 64 << 10;

/// `skills.lock` and a folder's signed manifest: lists of files, about 70 bytes plus the path per
/// file. 64 MiB lets a signed manifest list the 100,000 files a skill may have
/// ([`crate::guard::integrity::DEFAULT_MAX_ENTRIES`]) with paths averaging over 500 bytes, and a
/// lock pin hundreds of thousands of files; 16 MiB, what `ci` used to allow a manifest, would have
/// refused a skill that `sign` and `verify` accept.
pub const MAX_FILE_LIST_BYTES: u64 = 64 << 20;
