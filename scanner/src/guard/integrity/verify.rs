//! The checks behind `skillscan verify`, `install`, `ci` and `inventory`: a signature and its
//! statement, a `skills.lock` pin, and `origin.json`'s fingerprint, against a [`SkillDigest`].
//!
//! Every check that applies runs, and every failure is collected, so one run names everything
//! that differs. Failures are [`IntegrityFailure`]s (the input does not match what was vouched
//! for: exit 3); a [`VerifyIoError`] means the check could not run (exit 2). Reading and parsing
//! the key, signature, trust-store and lock files is the caller's job, so that a garbled file is
//! an error of its own (exit 2) and not confused with tampering.
//!
//! Order and what each check compares:
//!
//! 1. **Which pin**: the lock entry for the slug the skill's hints give (and the owner, when the
//!    lock has several entries for that slug), else the entry whose `source` is `local:<path>`.
//! 2. **Expected identity**: slug and version from that lock entry, else from the hints. Without
//!    either, the statement's own slug and version are accepted and reported (the signature then
//!    proves "a trusted key signed these bytes as slug@version", nothing about which skill the
//!    caller meant).
//! 3. **Signature**: made by a trusted key (trust store: known, not revoked, inside its validity
//!    window now and at the statement's timestamp), over the archive bytes, or for a folder over
//!    the signed manifest text (`<sig>.manifest` next to the signature) or, without one, over the
//!    manifest text computed now. With the signed manifest, a tampered folder names the files that
//!    changed, appeared or disappeared. Then the trusted comment must be a skillscan statement
//!    whose `slug`, `version`, `sha256` (archives) and `tree` match; every differing field
//!    is named. The mirror's signature an installed folder keeps ([`SignedOver::InstalledArchive`])
//!    was made over an archive that is gone: its trusted comment is verified, and the tree digest
//!    it binds must be the folder's. Missing, it fails when the trust requires a signature (a
//!    trust store's `require_signature`, always for a single key) or [`VerifyOptions`] does.
//! 4. **Pin**: files against the lock's file list (changed, added, removed), the version the
//!    hints give, the archive sha256 (archives), and the signing key the lock recorded.
//! 5. **origin.json**: its `fingerprint` against the files' ClawHub fingerprint.
//!
//! **The pin outranks install records.** `origin.json`'s fingerprint and the mirror's signature
//! describe the files as they were installed. Once a pin lists exactly the files on disk (a
//! reviewed local edit, re-pinned with `skillscan pin`), the pin is the authority: a stale
//! fingerprint is a note, and a stale mirror signature is a note too — unless a signature is
//! required, because then no signature covers the files ([`IntegrityFailure::StaleSignature`]).
//! A signature that is not the installed mirror's, or a pin that does not cover the files, is
//! checked as before: tampering without a re-pin still fails every check it breaks.

use std::fmt;
use std::io::{self, Read};

use skillscan_signatures::digest::{FingerprintScope, Sha256Digest, TreeManifest, sha256};
use skillscan_signatures::error::{
    IntegrityError, StatementError, StatementMismatch, TrustError, VerifyError as SignatureVerifyError,
};
use skillscan_signatures::minisign::{self, KeyId, PublicKey, SignatureFile};
use skillscan_signatures::{ExpectedSubject, LockedSkill, SkillStatement, SkillsLock, TrustStore};

use super::digest::SkillDigest;
use super::hints::HintError;

/// Who may sign.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// A trust store (`--trusted-keys`): named keys, validity windows, revocations, and whether a
    /// signature is required.
    Store(&'a TrustStore),
    /// One public key (`--public-key`): a signature is required; no window, no revocation list.
    Key(&'a PublicKey),
}

impl Trust<'_> {
    /// Whether a skill without a signature fails: the trust store's `require_signature`; always
    /// for a single key.
    pub fn requires_signature(&self) -> bool {
        match self {
            Self::Store(store) => store.require_signature(),
            Self::Key(_) => true,
        }
    }

    /// Who requires a signature, for messages.
    fn requirer(&self) -> &'static str {
        match self {
            Self::Store(_) => "the trust store (require_signature)",
            Self::Key(_) => "the trusted public key",
        }
    }
}

/// What a signature was made over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SignedOver {
    /// The input itself: an archive's exact bytes, or a folder's manifest text (what
    /// `skillscan sign` makes). Fully verified.
    #[default]
    Input,
    /// The archive an installed folder was extracted from: the mirror's signature that
    /// `skillscan install` keeps in [`INSTALLED_SIGNATURE_FILE`](super::INSTALLED_SIGNATURE_FILE).
    /// The archive is gone, so only the trusted comment is verified (the global signature, by a
    /// trusted key); the tree digest it binds must then be the folder's, the slug and version
    /// the expected ones, and the archive sha256 the pinned one.
    InstalledArchive,
}

/// A parsed signature and what goes with it.
#[derive(Debug, Clone, Copy)]
pub struct SignatureEvidence<'a> {
    pub signature: &'a SignatureFile,
    /// Where it was read from, for messages.
    pub location: &'a str,
    /// For a folder: the signed manifest text, when the `.manifest` file was found.
    pub signed_manifest: Option<&'a str>,
    /// For a folder: where the signed manifest was looked for, for messages.
    pub manifest_location: Option<&'a str>,
    /// What it was made over.
    pub over: SignedOver,
}

/// What to check a digest against.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    pub trust: Option<Trust<'a>>,
    pub signature: Option<SignatureEvidence<'a>>,
    /// Where a signature was looked for when there is none, for the "missing" message.
    pub signature_location: Option<&'a str>,
    pub lock: Option<&'a SkillsLock>,
    /// `local:<path>`, the source `skillscan pin` records for a skill pinned from disk.
    pub local_source: Option<&'a str>,
    /// For an archive held in memory: its bytes (otherwise the archive file is read again).
    pub archive_bytes: Option<&'a [u8]>,
    /// Unix time used for key validity windows.
    pub now: u64,
    /// Who requires a signature besides the trust (`[ci] require_signatures`), for messages;
    /// `None` leaves the decision to the trust ([`Trust::requires_signature`]).
    pub require_signature: Option<&'a str>,
}

impl VerifyOptions<'_> {
    /// Who requires a signature, if anyone does.
    fn signature_required_by(&self) -> Option<&str> {
        self.require_signature.or_else(|| self.trust.filter(Trust::requires_signature).map(|t| t.requirer()))
    }
}

/// A check could not run.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct VerifyIoError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Something does not match what was signed or pinned. Each message names what differs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityFailure {
    #[error("no signature at {location}, and {required_by} requires one")]
    SignatureMissing { location: String, required_by: String },
    /// The mirror's signature an installed folder keeps is authentic, but for the files as they
    /// were installed: they were changed and re-pinned since (the pin vouches for them, no
    /// signature does), and a signature is required.
    #[error(
        "{location} is the mirror's signature of the files as installed (tree {signed_tree}); they were \
         changed and re-pinned since, so no signature covers them, and {required_by} requires one: sign the \
         reviewed folder with a trusted key (`skillscan sign`) or reinstall it"
    )]
    StaleSignature { location: String, signed_tree: Sha256Digest, required_by: String },
    #[error("{0}")]
    Trust(TrustError),
    #[error("{source}{context}")]
    Signature { source: SignatureVerifyError, context: String },
    #[error("the signature's trusted comment is not a skillscan statement: {0}")]
    Statement(StatementError),
    #[error("trusted comment field `{field}` does not match: {source}")]
    StatementField { field: &'static str, source: StatementMismatch },
    #[error("signed manifest {location}: {message}")]
    SignedManifest { location: String, message: String },
    #[error("files differ from what was signed:{}", describe_files(changed, added, removed))]
    SignedFiles { changed: Vec<String>, added: Vec<String>, removed: Vec<String> },
    #[error("{what} is not pinned in skills.lock")]
    NotPinned { what: String },
    #[error("skills.lock has {count} entries for slug \"{slug}\" and the skill names no owner to tell them apart")]
    AmbiguousPin { slug: String, count: usize },
    #[error("{0}")]
    Lock(IntegrityError),
    #[error("skills.lock field `{field}` pins {expected}, but {found_in} has {found}")]
    LockField { field: &'static str, expected: String, found: String, found_in: String },
    #[error("{0} (cannot check its fingerprint)")]
    OriginUnreadable(HintError),
    #[error("{file} records ClawHub fingerprint {recorded}, but the files' fingerprint is {computed}")]
    OriginFingerprint { file: String, recorded: Sha256Digest, computed: Sha256Digest },
}

/// Lists at most this many paths per category in a message.
const MAX_LISTED_PATHS: usize = 20;

fn describe_files(changed: &[String], added: &[String], removed: &[String]) -> String {
    let mut out = String::new();
    for (label, paths) in [("changed", changed), ("added", added), ("removed", removed)] {
        if paths.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(&format!(" {label} {}:", paths.len()));
        for path in paths.iter().take(MAX_LISTED_PATHS) {
            out.push_str(&format!(" {path:?}"));
        }
        if paths.len() > MAX_LISTED_PATHS {
            out.push_str(&format!(" and {} more", paths.len() - MAX_LISTED_PATHS));
        }
    }
    out
}

/// The outcome: failures (empty when everything checked out), what passed, and notes.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub failures: Vec<IntegrityFailure>,
    /// One line per check that passed.
    pub passed: Vec<String>,
    /// Things worth knowing that are not failures (unreadable `_meta.json`, unchecked signature).
    pub notes: Vec<String>,
    /// The verified statement, when a signature verified.
    pub statement: Option<SkillStatement>,
    /// The key that vouched: id and name.
    pub signer: Option<(KeyId, String)>,
    /// The lock entry the skill was compared with.
    pub lock_entry: Option<LockedSkill>,
    /// The signature was an installed folder's mirror signature for the files as installed,
    /// and the pin vouches for the files as they are now ([`IntegrityFailure::StaleSignature`]
    /// when a signature is required, a note otherwise).
    pub stale_signature: bool,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// Checks that ran (passed or failed). Zero means there was nothing to verify against.
    pub fn checks_run(&self) -> usize {
        self.passed.len() + self.failures.len()
    }
}

/// Runs every check that `options` makes possible; see the module docs.
pub fn verify_skill(digest: &SkillDigest, options: &VerifyOptions<'_>) -> Result<VerifyReport, VerifyIoError> {
    let mut report = VerifyReport::default();
    for problem in digest.hints.problems() {
        if !problem.file.ends_with("origin.json") {
            report.notes.push(format!("ignored {problem}"));
        }
    }

    let entry = options.lock.and_then(|lock| find_entry(lock, digest, options.local_source, &mut report));
    let expected_slug = entry.map(|e| e.slug.clone()).or_else(|| digest.hints.slug().map(|h| h.value.to_owned()));
    // An entry pinned by content (`unversioned`) expects no version: the hints' (none, as it
    // was pinned), else the statement's own, reported as such.
    let expected_version = entry
        .and_then(|e| e.pinned_version().map(str::to_owned))
        .or_else(|| digest.hints.version().map(|h| h.value.to_owned()));

    // The pin is the authority on what the files should be once it covers them as they are:
    // after a reviewed local edit and a re-pin, what `origin.json` and the mirror's signature
    // recorded at install time is history, not evidence against the files.
    let pin_covers_files = entry.is_some_and(|e| e.check_tree(&digest.manifest).is_ok());
    let expected =
        Expected { slug: expected_slug.as_deref(), version: expected_version.as_deref(), entry, pin_covers_files };
    check_signature(digest, options, &expected, &mut report)?;
    if let Some(entry) = entry {
        check_lock(digest, entry, &mut report);
        report.lock_entry = Some(entry.clone());
    }
    check_origin(digest, pin_covers_files, &mut report);
    Ok(report)
}

/// What the skill is expected to be, from the pin or its identity files.
struct Expected<'a> {
    slug: Option<&'a str>,
    version: Option<&'a str>,
    entry: Option<&'a LockedSkill>,
    /// The pin lists exactly the files on disk.
    pin_covers_files: bool,
}

fn find_entry<'l>(
    lock: &'l SkillsLock,
    digest: &SkillDigest,
    local_source: Option<&str>,
    report: &mut VerifyReport,
) -> Option<&'l LockedSkill> {
    if let Some(slug) = digest.hints.slug() {
        let candidates: Vec<&LockedSkill> = lock.skills.iter().filter(|e| e.slug == slug.value).collect();
        let owner = digest.hints.owner().map(|h| h.value);
        match candidates.as_slice() {
            [] => {}
            [only] => return Some(only),
            several => {
                if let Some(found) = several.iter().find(|e| e.owner.as_deref() == owner) {
                    return Some(found);
                }
                if let Some(found) = local_source.and_then(|s| several.iter().find(|e| e.source == s)) {
                    return Some(found);
                }
                report
                    .failures
                    .push(IntegrityFailure::AmbiguousPin { slug: slug.value.to_owned(), count: several.len() });
                return None;
            }
        }
    }
    if let Some(found) = local_source.and_then(|source| lock.skills.iter().find(|e| e.source == source)) {
        return Some(found);
    }
    let what = match digest.hints.slug() {
        Some(slug) => format!("skill \"{}\" ({})", slug.value, digest.path.display()),
        None => format!(
            "{} (no slug in origin.json, _meta.json or the front matter, and no `local:` entry for it)",
            digest.path.display()
        ),
    };
    report.failures.push(IntegrityFailure::NotPinned { what });
    None
}

/// The name of the statement field a mismatch is about.
fn mismatch_field(mismatch: &StatementMismatch) -> &'static str {
    match mismatch {
        StatementMismatch::Slug { .. } => "slug",
        StatementMismatch::Version { .. } => "version",
        StatementMismatch::ArchiveSha256 { .. } => "sha256",
        StatementMismatch::Tree { .. } => "tree",
        _ => "tree",
    }
}

/// Check 3 of the module docs: who signed, over what, and whether the statement matches.
fn check_signature(
    digest: &SkillDigest,
    options: &VerifyOptions<'_>,
    expected: &Expected<'_>,
    report: &mut VerifyReport,
) -> Result<(), VerifyIoError> {
    let (Some(trust), Some(evidence)) = (options.trust, options.signature) else {
        report_unchecked_signature(options, report);
        return Ok(());
    };
    if evidence.over == SignedOver::InstalledArchive && !digest.kind.is_archive() {
        check_installed_signature(digest, options, trust, &evidence, expected, report);
        return Ok(());
    }
    let Some(signer) = verify_signer(digest, options, trust, &evidence, report)? else {
        return Ok(());
    };
    let statement = match SkillStatement::parse(&evidence.signature.trusted_comment) {
        Ok(statement) => statement,
        Err(e) => {
            report.failures.push(IntegrityFailure::Statement(e));
            return Ok(());
        }
    };
    let files_failed = check_signed_manifest(digest, &evidence, &statement, report);
    check_statement(digest, &statement, expected.slug, expected.version, files_failed, report);
    check_pinned_signer(expected.entry, &signer, report);
    report.statement = Some(statement);
    Ok(())
}

/// The signing key the lock recorded, if any, against the one that signed.
fn check_pinned_signer(entry: Option<&LockedSkill>, signer: &(KeyId, String), report: &mut VerifyReport) {
    if let Some(pinned) = entry.and_then(|e| e.signing_key_id)
        && pinned != signer.0
    {
        report.failures.push(IntegrityFailure::LockField {
            field: "signing_key_id",
            expected: pinned.to_string(),
            found: signer.0.to_string(),
            found_in: "the signature".to_owned(),
        });
    }
}

/// The mirror's signature an installed folder keeps ([`SignedOver::InstalledArchive`]): its
/// trusted comment must be authentic, and the statement must bind this folder's tree digest, the
/// expected slug and version, and the pinned archive — unless the pin covers the files as they
/// are now and the statement is for other files: the folder was edited and re-pinned since, and
/// the signature is stale (a failure only when a signature is required).
fn check_installed_signature(
    digest: &SkillDigest,
    options: &VerifyOptions<'_>,
    trust: Trust<'_>,
    evidence: &SignatureEvidence<'_>,
    expected: &Expected<'_>,
    report: &mut VerifyReport,
) {
    let signature = evidence.signature;
    let signer = match trust {
        Trust::Store(store) => match store.verify_trusted_comment(signature, options.now) {
            Ok(key) => (key.key_id(), key.name.clone()),
            Err(e) => {
                report.failures.push(IntegrityFailure::Trust(e));
                return;
            }
        },
        Trust::Key(key) => match minisign::verify_trusted_comment(key, signature) {
            Ok(()) => (key.key_id, "the trusted public key".to_owned()),
            Err(source) => {
                report
                    .failures
                    .push(IntegrityFailure::Signature { source, context: format!(" ({})", evidence.location) });
                return;
            }
        },
    };
    let statement = match SkillStatement::parse(&signature.trusted_comment) {
        Ok(statement) => statement,
        Err(e) => {
            report.failures.push(IntegrityFailure::Statement(e));
            return;
        }
    };
    if expected.pin_covers_files && statement.tree_digest != digest.tree_digest() {
        report.stale_signature = true;
        match options.signature_required_by() {
            Some(required_by) => report.failures.push(IntegrityFailure::StaleSignature {
                location: evidence.location.to_owned(),
                signed_tree: statement.tree_digest,
                required_by: required_by.to_owned(),
            }),
            None => report.notes.push(format!(
                "{} is the mirror's signature of the files as installed (tree {}); they were changed and \
                 re-pinned since: the pin vouches for them, no signature does",
                evidence.location, statement.tree_digest
            )),
        }
        return;
    }
    report.passed.push(format!(
        "signature by key {} (\"{}\") over the archive this folder was installed from (its trusted comment, {})",
        signer.0, signer.1, evidence.location
    ));
    check_statement(digest, &statement, expected.slug, expected.version, false, report);
    if let (Some(pinned), Some(signed)) = (expected.entry.and_then(|e| e.archive_sha256), statement.archive_sha256)
        && pinned != signed
    {
        report.failures.push(IntegrityFailure::LockField {
            field: "archive_sha256",
            expected: pinned.to_string(),
            found: signed.to_string(),
            found_in: "the signed statement".to_owned(),
        });
    }
    check_pinned_signer(expected.entry, &signer, report);
    report.signer = Some(signer);
    report.statement = Some(statement);
}

/// No trust or no signature: a failure when a signature is required, else a note.
fn report_unchecked_signature(options: &VerifyOptions<'_>, report: &mut VerifyReport) {
    match (options.trust, options.signature, options.signature_required_by()) {
        (_, None, Some(required_by)) => {
            report.failures.push(IntegrityFailure::SignatureMissing {
                location: options.signature_location.unwrap_or("the default location").to_owned(),
                required_by: required_by.to_owned(),
            });
        }
        (Some(_), None, None) => report.notes.push("no signature; the trust store does not require one".to_owned()),
        (None, Some(evidence), _) => report
            .notes
            .push(format!("signature {} not checked: no --public-key or --trusted-keys given", evidence.location)),
        _ => {}
    }
}

/// What was signed, and its name for messages: the archive bytes, or for a folder the signed
/// manifest (else the manifest computed now).
fn signed_message<'a>(
    digest: &'a SkillDigest,
    options: &VerifyOptions<'a>,
    evidence: &SignatureEvidence<'a>,
) -> Result<(Box<dyn Read + 'a>, String), VerifyIoError> {
    if digest.kind.is_archive() {
        let message: Box<dyn Read + 'a> = match options.archive_bytes {
            Some(bytes) => Box::new(bytes),
            None => Box::new(
                std::fs::File::open(&digest.path)
                    .map_err(|source| VerifyIoError { path: digest.path.display().to_string(), source })?,
            ),
        };
        return Ok((message, "the archive".to_owned()));
    }
    Ok(match evidence.signed_manifest {
        Some(text) => {
            (Box::new(text.as_bytes()), format!("the signed manifest {}", evidence.manifest_location.unwrap_or("")))
        }
        None => (Box::new(io::Cursor::new(digest.manifest.manifest_text())), "the manifest of the files".to_owned()),
    })
}

/// What a signature that does not verify says about the input.
fn mismatch_context(digest: &SkillDigest, evidence: &SignatureEvidence<'_>) -> String {
    if digest.kind.is_archive() {
        " (the archive's bytes differ from what was signed)".to_owned()
    } else if evidence.signed_manifest.is_none() {
        format!(
            " (the files differ from what was signed; the signed manifest {} was not found, so the files cannot be named)",
            evidence.manifest_location.unwrap_or("(none given)")
        )
    } else {
        " (the signed manifest file was modified)".to_owned()
    }
}

/// The signing key, when the signature verifies against the trust (recorded as passed);
/// `None` when it does not (recorded as a failure).
fn verify_signer(
    digest: &SkillDigest,
    options: &VerifyOptions<'_>,
    trust: Trust<'_>,
    evidence: &SignatureEvidence<'_>,
    report: &mut VerifyReport,
) -> Result<Option<(KeyId, String)>, VerifyIoError> {
    let (message, what) = signed_message(digest, options, evidence)?;
    let context = mismatch_context(digest, evidence);
    let io_error = |source| VerifyIoError { path: digest.path.display().to_string(), source };
    let signature = evidence.signature;
    let signer = match trust {
        Trust::Store(store) => match store.verify(message, signature, options.now) {
            Ok(key) => (key.key_id(), key.name.clone()),
            Err(TrustError::Signature { source: SignatureVerifyError::Io(e), .. }) => return Err(io_error(e)),
            Err(TrustError::Signature { source, key_id, name }) => {
                let context = format!("{context}; signing key {key_id} (\"{name}\")");
                report.failures.push(IntegrityFailure::Signature { source, context });
                return Ok(None);
            }
            Err(other) => {
                report.failures.push(IntegrityFailure::Trust(other));
                return Ok(None);
            }
        },
        Trust::Key(key) => match minisign::verify(key, message, signature) {
            Ok(()) => (key.key_id, "the trusted public key".to_owned()),
            Err(SignatureVerifyError::Io(e)) => return Err(io_error(e)),
            Err(source @ SignatureVerifyError::KeyIdMismatch { .. }) => {
                report.failures.push(IntegrityFailure::Signature { source, context: String::new() });
                return Ok(None);
            }
            Err(source) => {
                report.failures.push(IntegrityFailure::Signature { source, context });
                return Ok(None);
            }
        },
    };
    report.passed.push(format!("signature by key {} (\"{}\") over {what}", signer.0, signer.1));
    report.signer = Some(signer.clone());
    Ok(Some(signer))
}

/// For a folder signed with its manifest: the manifest must be the one the statement binds, and
/// the files must be the ones it lists (changed, added and removed ones named). Returns whether
/// the files failed.
fn check_signed_manifest(
    digest: &SkillDigest,
    evidence: &SignatureEvidence<'_>,
    statement: &SkillStatement,
    report: &mut VerifyReport,
) -> bool {
    let Some(text) = evidence.signed_manifest.filter(|_| !digest.kind.is_archive()) else {
        return false;
    };
    let mut files_failed = false;
    let location = evidence.manifest_location.unwrap_or("").to_owned();
    if sha256(text.as_bytes()) != statement.tree_digest {
        report.failures.push(IntegrityFailure::SignedManifest {
            location: location.clone(),
            message: "its digest is not the statement's tree digest".to_owned(),
        });
        files_failed = true;
    }
    match parse_manifest(text) {
        Ok(signed) => {
            let diff = signed.diff_by_digest(&digest.manifest);
            if !(diff.0.is_empty() && diff.1.is_empty() && diff.2.is_empty()) {
                report.failures.push(IntegrityFailure::SignedFiles { changed: diff.0, added: diff.1, removed: diff.2 });
                files_failed = true;
            }
        }
        Err(message) => {
            report.failures.push(IntegrityFailure::SignedManifest { location, message });
            files_failed = true;
        }
    }
    files_failed
}

/// The statement's fields against what the pin or the identity files expect (its own slug and
/// version, with a note, when nothing does) and against the digests.
fn check_statement(
    digest: &SkillDigest,
    statement: &SkillStatement,
    expected_slug: Option<&str>,
    expected_version: Option<&str>,
    files_failed: bool,
    report: &mut VerifyReport,
) {
    let expected = ExpectedSubject {
        slug: expected_slug.unwrap_or(&statement.slug).to_owned(),
        version: expected_version.unwrap_or(&statement.version).to_owned(),
        archive_sha256: digest.archive_sha256,
        // A files failure already says what differs; do not report the tree digest twice.
        tree_digest: Some(if files_failed { statement.tree_digest } else { digest.tree_digest() }),
    };
    let mismatches = statement.mismatches(&expected);
    if mismatches.is_empty() {
        report.passed.push(format!(
            "statement: slug {}, version {}{} match",
            statement.slug,
            statement.version,
            match (files_failed, digest.kind.is_archive()) {
                (true, _) => "",
                (false, true) => ", archive sha256 and tree digest",
                (false, false) => ", tree digest",
            }
        ));
    } else {
        report.failures.extend(
            mismatches.into_iter().map(|mismatch| IntegrityFailure::StatementField {
                field: mismatch_field(&mismatch),
                source: mismatch,
            }),
        );
    }
    if expected_slug.is_none() || expected_version.is_none() {
        report.notes.push(format!(
            "no pin or identity file says which skill this is; the signature is for {} {}",
            statement.slug, statement.version
        ));
    }
}

/// A signed manifest, parsed: path → digest.
struct SignedManifest {
    files: std::collections::BTreeMap<String, Sha256Digest>,
}

impl SignedManifest {
    /// (changed, added, removed) from the signed list to the files now, by digest only (the
    /// manifest text has no sizes).
    fn diff_by_digest(&self, now: &TreeManifest) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut changed = Vec::new();
        let mut added = Vec::new();
        for file in now.files() {
            match self.files.get(&file.path) {
                None => added.push(file.path.clone()),
                Some(signed) if *signed != file.sha256 => changed.push(file.path.clone()),
                Some(_) => {}
            }
        }
        let removed = self.files.keys().filter(|path| now.get(path).is_none()).cloned().collect();
        (changed, added, removed)
    }
}

/// Parses manifest text (`"<64 hex>  <path>\n"` lines, as [`TreeManifest::manifest_text`] writes).
fn parse_manifest(text: &str) -> Result<SignedManifest, String> {
    let mut files = std::collections::BTreeMap::new();
    if text.is_empty() {
        return Ok(SignedManifest { files });
    }
    let body = text.strip_suffix('\n').ok_or("does not end with a newline")?;
    for (index, line) in body.split('\n').enumerate() {
        let (hex, path) =
            line.split_once("  ").ok_or_else(|| format!("line {}: expected \"<sha256>  <path>\"", index + 1))?;
        let digest = Sha256Digest::parse_canonical_hex(hex).map_err(|e| format!("line {}: {e}", index + 1))?;
        if files.insert(path.to_owned(), digest).is_some() {
            return Err(format!("line {}: {path:?} is listed twice", index + 1));
        }
    }
    Ok(SignedManifest { files })
}

fn check_lock(digest: &SkillDigest, entry: &LockedSkill, report: &mut VerifyReport) {
    let before = report.failures.len();
    if let Err(e) = entry.check_tree(&digest.manifest) {
        report.failures.push(IntegrityFailure::Lock(e));
    }
    if let Some(slug) = digest.hints.slug()
        && slug.value != entry.slug
    {
        report.failures.push(IntegrityFailure::LockField {
            field: "slug",
            expected: entry.slug.clone(),
            found: slug.value.to_owned(),
            found_in: slug.source.to_owned(),
        });
    }
    if let Some(version) = digest.hints.version()
        && version.value != entry.version
    {
        report.failures.push(IntegrityFailure::LockField {
            field: "version",
            expected: entry.version.clone(),
            found: version.value.to_owned(),
            found_in: version.source.to_owned(),
        });
    }
    if let (Some(pinned), Some(found)) = (entry.archive_sha256, digest.archive_sha256)
        && pinned != found
    {
        report.failures.push(IntegrityFailure::LockField {
            field: "archive_sha256",
            expected: pinned.to_string(),
            found: found.to_string(),
            found_in: "the archive".to_owned(),
        });
    }
    if let Some(pinned) = entry.clawhub_fingerprint
        && pinned != digest.clawhub_fingerprint()
        && report.failures.len() == before
    {
        // Same tree, different fingerprint: only `_meta.json` differs (it is in ClawHub's
        // fingerprint but not in the tree digest). Worth saying, not a failure.
        report.notes.push(format!(
            "ClawHub fingerprint differs from the pin ({pinned}): only _meta.json can differ when the tree matches"
        ));
    }
    if report.failures.len() == before {
        report.passed.push(format!(
            "skills.lock entry {} {}: {} files match",
            entry.slug,
            entry.version,
            digest.manifest.files().len()
        ));
    }
}

/// Check 5: `origin.json`'s fingerprint against the files. When the pin covers the files as
/// they are, a different fingerprint is the record of an install the folder was edited from and
/// re-pinned since: a note, not a failure (the pin is the authority).
fn check_origin(digest: &SkillDigest, pin_covers_files: bool, report: &mut VerifyReport) {
    match &digest.hints.origin {
        None => {}
        Some(Err(e)) => report.failures.push(IntegrityFailure::OriginUnreadable(e.clone())),
        Some(Ok(origin)) => {
            let Some(recorded) = origin.fingerprint else { return };
            let computed = digest.fingerprint(FingerprintScope::Installed);
            if recorded == computed {
                report.passed.push(format!("{} fingerprint matches", origin.file));
            } else if pin_covers_files {
                report.notes.push(format!(
                    "{} records the fingerprint of the files as installed ({recorded}); they were changed since \
                     and skills.lock pins them as they are now, so the pin is the authority",
                    origin.file
                ));
            } else if digest.all_files.iter().any(|f| !f.path.is_ascii()) {
                // Our port of JS localeCompare is exact for ASCII only (signatures crate docs):
                // with other paths a difference may be ours, not the files'.
                report.notes.push(format!(
                    "{} fingerprint differs, but non-ASCII file names make our ClawHub fingerprint approximate",
                    origin.file
                ));
            } else {
                report.failures.push(IntegrityFailure::OriginFingerprint {
                    file: origin.file.clone(),
                    recorded,
                    computed,
                });
            }
        }
    }
}

impl fmt::Display for VerifyReport {
    /// One line per failure, then passed checks and notes (for logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "FAIL {failure}")?;
        }
        for passed in &self.passed {
            writeln!(f, "ok   {passed}")?;
        }
        for note in &self.notes {
            writeln!(f, "note {note}")?;
        }
        Ok(())
    }
}
