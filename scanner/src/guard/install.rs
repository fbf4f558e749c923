//! `skillscan install`: everything between a downloaded archive and a recorded install, except
//! talking to the registry ([`crate::clawhub::client`]) and printing (the binary).
//!
//! The order is the point. Nothing touches the disk until every check has passed:
//!
//! 1. [`resolve::resolve`], before the download: the registry's answer against the request and
//!    the pin (malware blocks, aliases, owners, the version to install).
//! 2. [`check_archive`]: integrity. The archive's sha256 against the mirror's
//!    `X-Skillscan-Sha256`, its tree (read by [`crate::guard::integrity`], which refuses links, unsafe
//!    paths, duplicates, encrypted entries and bombs) against `X-Skillscan-Tree-Digest`, the
//!    registry's `_meta.json` against the requested slug and version, the mirror's signature
//!    against the trust store or public key (its statement must name exactly the requested slug
//!    and version, so a valid signature for another skill or an older version is refused), and
//!    the `skills.lock` pin of the same version (changed, added and removed files named). Any
//!    failure is an [`IntegrityRefusal`] (exit 3).
//! 3. [`check_policy`]: the scan, run by the caller in memory with inline ignores off. Findings
//!    at or above the threshold, or incomplete analysis (coverage findings at medium or above),
//!    are a [`PolicyRefusal`] (exit 1).
//! 4. [`InstallPlan::prepare`] validates the destination (no links on the way, no existing
//!    folder unless forced, lock files that parse) and renders every file to write;
//!    [`InstallPlan::commit`] stages the skill under `<workdir>/.clawhub/`, re-digests the
//!    staged folder and compares it with the verified archive, then swaps it into place with
//!    renames and moves the new lock files over the old ones. A failure before the swap removes
//!    everything it created, so a refused or failed install writes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use skillscan_signatures::digest::{Sha256Digest, sha256};
use skillscan_signatures::minisign::{KeyId, SignatureFile};
use skillscan_signatures::{LockedSkill, SkillStatement, SkillsLock};

use crate::clawhub::state::{LockJson, Origin, STATE_DIR, SkillRef};
use crate::engine::config::FailOn;
use crate::engine::finding::{Category, Severity};
use crate::engine::scan::ScanReport;
use crate::engine::verdict::Verdict;
use crate::guard::atomic_file;
use crate::guard::caps::MAX_FILE_LIST_BYTES;
use crate::guard::integrity::verify::{
    SignatureEvidence, SignedOver, Trust, VerifyIoError, VerifyOptions, VerifyReport, verify_skill,
};
use crate::guard::integrity::{IntegrityLimits, SkillDigest, digest_archive_bytes, digest_dir};

/// Where an installed skill keeps the mirror's signature, so that `skillscan verify`, `ci` and
/// `inventory` can check the folder later ([`crate::guard::integrity::INSTALLED_SIGNATURE_FILE`]).
pub const SIGNATURE_FILE: &str = crate::guard::integrity::INSTALLED_SIGNATURE_FILE;

/// Bounds for reading a downloaded archive. ClawHub caps a skill at 50 MB of files; twice that
/// is room enough, and a bomb stops after a bounded amount of work.
pub const INSTALL_LIMITS: IntegrityLimits = IntegrityLimits { max_entries: 10_000, max_total_bytes: 100 << 20 };

/// Who may sign what we install: the integrity library's [`Trust`] (a trust store, whose
/// `require_signature` decides whether a missing signature is a failure, or one public key,
/// which requires a signature), under the name install's callers know it by.
pub type TrustInput<'a> = Trust<'a>;

/// The downloaded archive and what came with it.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    pub bytes: &'a [u8],
    pub sha256_header: Option<&'a str>,
    pub tree_digest_header: Option<&'a str>,
    /// The `.minisig` text the registry served, if any.
    pub signature: Option<&'a str>,
}

/// What was asked for, after resolving the version and the owner with the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub slug: String,
    /// The owner handle the registry reported (`owner.handle`), if any.
    pub owner_handle: Option<String>,
    pub version: String,
}

/// The archive passed every integrity check.
#[derive(Debug, Clone)]
pub struct VerifiedArchive {
    pub digest: SkillDigest,
    /// The key that signed it, when a signature was checked.
    pub signer: Option<(KeyId, String)>,
    pub statement: Option<SkillStatement>,
    /// The signature text, kept with the installed skill (checked or not).
    pub signature: Option<String>,
    /// What passed, one line each.
    pub passed: Vec<String>,
    /// Worth knowing, not failures.
    pub notes: Vec<String>,
}

/// The archive is not what was vouched for. Each problem names what differs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("; "))]
pub struct IntegrityRefusal {
    pub problems: Vec<String>,
}

/// The pin in `skills.lock` this install is checked against, if any.
pub fn find_pin<'a>(lock: &'a SkillsLock, reference: &'a SkillRef) -> Option<&'a LockedSkill> {
    if let Some(entry) = lock.find(&reference.slug, reference.owner.as_deref()) {
        return Some(entry);
    }
    if reference.owner.is_none() {
        let mut candidates = lock.find_by_slug(&reference.slug);
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            return Some(only);
        }
    }
    None
}

/// Runs every integrity check; see the module docs. `pin` is the `skills.lock` entry for this
/// skill: compared file by file when it pins the same version, reported as an update otherwise.
pub fn check_archive(
    artifact: &Artifact<'_>,
    expected: &Expected,
    pin: Option<&LockedSkill>,
    trust: Option<TrustInput<'_>>,
    now_unix: u64,
) -> Result<VerifiedArchive, IntegrityRefusal> {
    let mut out = Checked::default();
    check_sha256_header(artifact, &mut out);
    let name = format!("{}-{}.zip", expected.slug, expected.version);
    let digest = match digest_archive_bytes(&name, artifact.bytes, &INSTALL_LIMITS) {
        Ok(digest) => digest,
        Err(e) => return Err(out.refuse(format!("the downloaded archive cannot be installed safely: {e}"))),
    };
    check_layout(&digest, expected, &mut out);
    check_tree_digest_header(artifact, &digest, &mut out);
    check_meta(&digest, expected, &mut out);
    let signature = parse_signature(artifact, expected, &mut out);
    if let Some(entry) = pin
        && entry.version != expected.version
    {
        out.notes.push(format!(
            "skills.lock pins {} {}; installing {} replaces that pin",
            entry.slug, entry.version, expected.version
        ));
    }
    let report = match verify_with_integrity(&digest, artifact, expected, pin, trust, signature.as_ref(), now_unix) {
        Ok(report) => report,
        Err(e) => return Err(out.refuse(e.to_string())),
    };
    out.problems.extend(report.failures.iter().map(ToString::to_string));
    out.passed.extend(report.passed.iter().cloned());
    out.notes.extend(report.notes.iter().cloned());
    check_statement_subject(&report, expected, &mut out);
    if pin.is_none() {
        out.notes.push(format!("{} is not pinned in skills.lock yet; this install pins it", expected.slug));
    }
    if !out.problems.is_empty() {
        return Err(IntegrityRefusal { problems: out.problems });
    }
    Ok(VerifiedArchive {
        digest,
        signer: report.signer,
        statement: report.statement,
        signature: signature.map(|s| s.to_file_string()),
        passed: out.passed,
        notes: out.notes,
    })
}

/// What [`check_archive`]'s steps found so far, in the order they found it.
#[derive(Default)]
struct Checked {
    problems: Vec<String>,
    passed: Vec<String>,
    notes: Vec<String>,
}

impl Checked {
    /// A problem that ends the checks: the refusal names it after everything found before it.
    fn refuse(mut self, problem: String) -> IntegrityRefusal {
        self.problems.push(problem);
        IntegrityRefusal { problems: self.problems }
    }
}

/// The archive's sha256 against the mirror's `X-Skillscan-Sha256` (a registry that is not a
/// skillscan mirror sends none: a note).
fn check_sha256_header(artifact: &Artifact<'_>, out: &mut Checked) {
    let archive_sha256 = sha256(artifact.bytes);
    match artifact.sha256_header.map(parse_digest) {
        None => out.notes.push("the registry sent no X-Skillscan-Sha256 header (not a skillscan mirror?)".to_owned()),
        Some(Err(reason)) => out.problems.push(format!("the registry's X-Skillscan-Sha256 header {reason}")),
        Some(Ok(claimed)) if claimed != archive_sha256 => out.problems.push(format!(
            "the archive's sha256 is {archive_sha256}, but the registry's X-Skillscan-Sha256 header says {claimed}: \
             the bytes were changed on the way or the registry serves other bytes than it vetted"
        )),
        Some(Ok(_)) => out.passed.push(format!("archive sha256 {archive_sha256} matches X-Skillscan-Sha256")),
    }
}

/// A flat ClawHub archive with `SKILL.md` at its root.
fn check_layout(digest: &SkillDigest, expected: &Expected, out: &mut Checked) {
    if let Some(top) = &digest.top_folder {
        out.problems.push(format!(
            "the archive is not a flat ClawHub archive: every file sits under \"{}/\", which would install \
             skills/{}/{}/…",
            crate::engine::text::escape_snippet(top, 80),
            expected.slug,
            crate::engine::text::escape_snippet(top, 80),
        ));
    }
    if !digest.all_files.iter().any(|f| crate::engine::package::is_manifest_name(&f.path)) {
        out.problems.push("the archive has no SKILL.md at its root; it is not a skill".to_owned());
    }
}

/// The tree digest against the mirror's `X-Skillscan-Tree-Digest`, when it sent one.
fn check_tree_digest_header(artifact: &Artifact<'_>, digest: &SkillDigest, out: &mut Checked) {
    let tree_digest = digest.tree_digest();
    match artifact.tree_digest_header.map(parse_digest) {
        None => {}
        Some(Err(reason)) => out.problems.push(format!("the registry's X-Skillscan-Tree-Digest header {reason}")),
        Some(Ok(claimed)) if claimed != tree_digest => out.problems.push(format!(
            "the archive's tree digest is {tree_digest}, but the registry's X-Skillscan-Tree-Digest header says {claimed}"
        )),
        Some(Ok(_)) => out.passed.push(format!("tree digest {tree_digest} matches X-Skillscan-Tree-Digest")),
    }
}

/// The registry's `_meta.json` names the requested slug and version, if it names any.
fn check_meta(digest: &SkillDigest, expected: &Expected, out: &mut Checked) {
    match &digest.hints.meta {
        None => out.notes.push("the archive has no _meta.json".to_owned()),
        Some(Err(e)) => out.notes.push(format!("ignored {e}")),
        Some(Ok(meta)) => {
            if let Some(slug) = meta.slug.as_deref().filter(|s| *s != expected.slug) {
                out.problems.push(format!(
                    "the archive's _meta.json names skill \"{}\", not \"{}\"",
                    crate::engine::text::escape_snippet(slug, 80),
                    expected.slug
                ));
            }
            if let Some(version) = meta.version.as_deref().filter(|v| *v != expected.version) {
                out.problems.push(format!(
                    "the archive's _meta.json says version \"{}\", not \"{}\"",
                    crate::engine::text::escape_snippet(version, 80),
                    expected.version
                ));
            }
        }
    }
}

/// The signature the registry served, parsed; one that does not parse is a problem.
fn parse_signature(artifact: &Artifact<'_>, expected: &Expected, out: &mut Checked) -> Option<SignatureFile> {
    match artifact.signature.map(SignatureFile::parse) {
        None => None,
        Some(Ok(signature)) => Some(signature),
        Some(Err(e)) => {
            out.problems.push(format!(
                "the registry's signature for {}@{} does not parse: {e}",
                expected.slug, expected.version
            ));
            None
        }
    }
}

/// The integrity library's checks: the signature against the trust, and the pin when it pins
/// this very version (a pin of another version means this install is an update, which replaces
/// the pin afterwards).
fn verify_with_integrity(
    digest: &SkillDigest,
    artifact: &Artifact<'_>,
    expected: &Expected,
    pin: Option<&LockedSkill>,
    trust: Option<TrustInput<'_>>,
    signature: Option<&SignatureFile>,
    now_unix: u64,
) -> Result<VerifyReport, VerifyIoError> {
    let same_version_pin = pin.filter(|entry| entry.version == expected.version);
    let single_entry_lock =
        same_version_pin.map(|entry| SkillsLock { skills: vec![entry.clone()], ..SkillsLock::new() });
    let location = format!("the registry's signature of {}@{}", expected.slug, expected.version);
    let options = VerifyOptions {
        trust,
        signature: signature.map(|signature| SignatureEvidence {
            signature,
            location: &location,
            signed_manifest: None,
            manifest_location: None,
            over: SignedOver::Input,
        }),
        signature_location: Some("/api/v1/download/signature"),
        lock: single_entry_lock.as_ref(),
        // Lets the integrity library find the entry even when the archive names no slug.
        local_source: same_version_pin.map(|entry| entry.source.as_str()),
        archive_bytes: Some(artifact.bytes),
        now: now_unix,
        require_signature: None,
    };
    verify_skill(digest, &options)
}

/// The integrity library compares a signed statement with what the archive or the pin says; what
/// we asked for is the stronger expectation (an archive can name itself anything).
fn check_statement_subject(report: &VerifyReport, expected: &Expected, out: &mut Checked) {
    if let Some(statement) = &report.statement
        && (statement.slug != expected.slug || statement.version != expected.version)
    {
        out.problems.push(format!(
            "the signature is for {}@{}, not for the requested {}@{} (a signature replayed from another skill or \
             version)",
            statement.slug, statement.version, expected.slug, expected.version
        ));
    }
}

fn parse_digest(text: &str) -> Result<Sha256Digest, String> {
    Sha256Digest::parse_canonical_hex(text.trim())
        .map_err(|e| format!("(\"{}\") is not a sha256 digest: {e}", crate::engine::text::escape_snippet(text, 80)))
}

/// The scan says no. Each reason names a finding (rule, severity, file and line) or the gap in
/// the analysis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", reasons.join("; "))]
pub struct PolicyRefusal {
    pub reasons: Vec<String>,
}

/// Most findings named in a refusal; the rest are counted.
const MAX_NAMED_FINDINGS: usize = 10;

/// Applies the install policy to the scan of the archive: refuse when an active finding is at
/// or above `fail_on`, when the archive held no skill, or when the analysis was incomplete (an
/// active coverage finding at medium or above: a file too large to read whole, an archive too
/// deep, unreadable content) unless `allow_incomplete`. Returns the worst verdict.
pub fn check_policy(report: &ScanReport, fail_on: FailOn, allow_incomplete: bool) -> Result<Verdict, PolicyRefusal> {
    if report.skills.is_empty() {
        return Err(PolicyRefusal { reasons: vec!["the scanner found no skill in the archive".to_owned()] });
    }
    let mut reasons = Vec::new();
    let mut named = 0usize;
    let mut unnamed = 0usize;
    let threshold = fail_on.threshold();
    for skill in &report.skills {
        for finding in skill.findings.iter().filter(|f| f.is_active()) {
            let fails = threshold.is_some_and(|t| finding.severity >= t);
            let incomplete =
                !allow_incomplete && finding.category == Category::Coverage && finding.severity >= Severity::Medium;
            if !(fails || incomplete) {
                continue;
            }
            if named == MAX_NAMED_FINDINGS {
                unnamed += 1;
                continue;
            }
            named += 1;
            let location = match (finding.file.as_str(), finding.line) {
                ("", _) => "the archive".to_owned(),
                (file, 0) => file.to_owned(),
                (file, line) => format!("{file}:{line}"),
            };
            let kind = if fails { "" } else { "analysis incomplete: " };
            reasons.push(format!("{kind}{} {} at {location}: {}", finding.severity, finding.rule_id, finding.message));
        }
    }
    if unnamed > 0 {
        reasons.push(format!("and {unnamed} more"));
    }
    if !reasons.is_empty() {
        return Err(PolicyRefusal { reasons });
    }
    Ok(report.skills.iter().map(|s| s.verdict).max().unwrap_or(Verdict::Clean))
}

/// Why the files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{path} is already installed; pass --force to replace it")]
    AlreadyInstalled { path: String },
    #[error("{path} is a symbolic link; skillscan does not install through links")]
    Link { path: String },
    #[error("{path} exists and is not a folder")]
    NotADirectory { path: String },
    #[error(transparent)]
    State(#[from] crate::clawhub::state::ClawhubError),
    #[error("{path}: {reason}")]
    Lock { path: String, reason: String },
    // The source is part of the message (and deliberately not `#[source]`, so that error
    // chains do not print it twice).
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// What was written to the staging folder is not what was verified (should not happen; a
    /// case-insensitive file system folding two names into one would do it).
    #[error("the staged files differ from the verified archive: {0}")]
    Staged(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io { path: path.display().to_string(), source }
}

/// Everything an install writes, rendered before anything is written.
#[derive(Debug)]
pub struct InstallPlan {
    workdir: PathBuf,
    /// `skills/<slug>` or `skills/@owner/<slug>`, relative to the workdir.
    target: PathBuf,
    archive: Vec<u8>,
    verified: VerifiedArchive,
    origin: String,
    lock_json: String,
    skills_lock: String,
    replaces_existing: bool,
    /// The entry written to `skills.lock`.
    pub pin: LockedSkill,
}

/// What [`InstallPlan::prepare`] needs beyond the verified archive.
#[derive(Debug, Clone)]
pub struct InstallRecord<'a> {
    pub reference: &'a SkillRef,
    pub expected: &'a Expected,
    /// The registry URL recorded in `origin.json` and `skills.lock`.
    pub registry: &'a str,
    pub verdict: Verdict,
    pub rules_version: &'a str,
    pub installed_at_ms: u64,
    pub force: bool,
}

/// Checks that `path` (below the workdir) is not a link and, if present, is a folder.
fn check_dir_component(path: &Path) -> Result<bool, InstallError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path)(e)),
        Ok(meta) if meta.file_type().is_symlink() => Err(InstallError::Link { path: path.display().to_string() }),
        Ok(meta) if !meta.is_dir() => Err(InstallError::NotADirectory { path: path.display().to_string() }),
        Ok(_) => Ok(true),
    }
}

/// Like [`check_dir_component`] for a file we are going to replace.
fn check_file_component(path: &Path) -> Result<(), InstallError> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path)(e)),
        Ok(meta) if meta.file_type().is_symlink() => Err(InstallError::Link { path: path.display().to_string() }),
        Ok(meta) if !meta.is_file() => Err(InstallError::Lock {
            path: path.display().to_string(),
            reason: "exists and is not a regular file".to_owned(),
        }),
        Ok(_) => Ok(()),
    }
}

/// Reads and parses `<workdir>/skills.lock`; a missing file is an empty lock.
pub fn load_skills_lock(path: &Path) -> Result<SkillsLock, InstallError> {
    check_file_component(path)?;
    match crate::clawhub::state::read_state_file_limited(path, MAX_FILE_LIST_BYTES)? {
        None => Ok(SkillsLock::new()),
        Some(text) => SkillsLock::parse(&text)
            .map_err(|e| InstallError::Lock { path: path.display().to_string(), reason: e.to_string() }),
    }
}

impl InstallPlan {
    /// Validates the destination and renders the files; writes nothing.
    pub fn prepare(
        workdir: &Path,
        archive: &[u8],
        verified: VerifiedArchive,
        record: &InstallRecord<'_>,
        skills_lock: SkillsLock,
    ) -> Result<InstallPlan, InstallError> {
        if workdir.exists() && !workdir.is_dir() {
            return Err(InstallError::NotADirectory { path: workdir.display().to_string() });
        }
        let target = record.reference.install_dir();
        // Every folder between the workdir and the target, and the target itself.
        let mut partial = workdir.to_path_buf();
        let mut replaces_existing = false;
        let components: Vec<_> = target.components().collect();
        for (index, component) in components.iter().enumerate() {
            partial.push(component);
            let exists = check_dir_component(&partial)?;
            if index + 1 == components.len() && exists {
                if !record.force {
                    return Err(InstallError::AlreadyInstalled { path: partial.display().to_string() });
                }
                replaces_existing = true;
            }
        }
        check_dir_component(&workdir.join(STATE_DIR))?;
        check_file_component(&LockJson::write_path(workdir))?;
        check_file_component(&workdir.join("skills.lock"))?;

        let mut lock_json = match LockJson::load(workdir)? {
            Some((_, lock)) => lock,
            None => LockJson::default(),
        };
        lock_json.record(
            &record.reference.lock_key(),
            &record.expected.version,
            record.installed_at_ms,
            record.expected.owner_handle.as_deref(),
        );
        let origin = Origin {
            registry: record.registry.to_owned(),
            slug: record.expected.slug.clone(),
            owner_handle: record.expected.owner_handle.clone(),
            installed_version: record.expected.version.clone(),
            installed_at: record.installed_at_ms,
            fingerprint: Some(verified.digest.clawhub_fingerprint()),
        };
        let pin = LockedSkill {
            slug: record.expected.slug.clone(),
            // The owner the registry reports, as `skillscan pin` records it from origin.json, so
            // both commands write the same entry for the same skill.
            owner: record
                .expected
                .owner_handle
                .clone()
                .or_else(|| record.reference.owner.as_deref().map(str::to_owned)),
            version: record.expected.version.clone(),
            source: record.registry.trim_end_matches('/').to_owned(),
            archive_sha256: verified.digest.archive_sha256,
            tree_digest: verified.digest.tree_digest(),
            clawhub_fingerprint: Some(verified.digest.clawhub_fingerprint()),
            signing_key_id: verified.signer.as_ref().map(|(id, _)| *id),
            verdict: record.verdict.as_str().to_owned(),
            rules_version: record.rules_version.to_owned(),
            pinned_at: record.installed_at_ms / 1000,
            files: verified.digest.manifest.file_map(),
        };
        let mut skills_lock = skills_lock;
        skills_lock.upsert(pin.clone()).map_err(|e| InstallError::Lock {
            path: workdir.join("skills.lock").display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(InstallPlan {
            workdir: workdir.to_path_buf(),
            target,
            archive: archive.to_vec(),
            verified,
            origin: origin.to_file_string(),
            lock_json: lock_json.to_file_string(),
            skills_lock: skills_lock.to_toml_string(),
            replaces_existing,
            pin,
        })
    }

    /// The install folder.
    pub fn target(&self) -> PathBuf {
        self.workdir.join(&self.target)
    }

    pub fn replaces_existing(&self) -> bool {
        self.replaces_existing
    }

    /// Writes the skill and the lock files; see the module docs for the order. On an error
    /// before the swap, everything created is removed again.
    pub fn commit(&self) -> Result<(), InstallError> {
        let mut created: Vec<PathBuf> = Vec::new();
        let result = self.commit_inner(&mut created);
        if result.is_err() {
            // Only folders we created, deepest first, and only if empty (a concurrent writer's
            // files are never removed).
            for dir in created.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
        }
        result
    }

    fn commit_inner(&self, created: &mut Vec<PathBuf>) -> Result<(), InstallError> {
        let mut create = |path: &Path| -> Result<(), InstallError> {
            if !check_dir_component(path)? {
                fs::create_dir(path).map_err(io_error(path))?;
                created.push(path.to_path_buf());
            }
            Ok(())
        };
        // The workdir may be new, with parents (the CLI creates it too): create the missing
        // ones top-down so a failure removes exactly those.
        let missing: Vec<PathBuf> = self
            .workdir
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
            .map(Path::to_path_buf)
            .collect();
        for dir in missing.iter().rev() {
            create(dir)?;
        }
        let state_dir = self.workdir.join(STATE_DIR);
        create(&state_dir)?;
        let target = self.target();
        let mut partial = self.workdir.clone();
        if let Some(parent) = self.target.parent() {
            for component in parent.components() {
                partial.push(component);
                create(&partial)?;
            }
        }

        let staging = state_dir.join(format!(".skillscan-install-{}-{}", std::process::id(), unique_suffix()));
        fs::create_dir(&staging).map_err(io_error(&staging))?;
        let outcome = self.stage_and_swap(&staging, &target);
        let _ = fs::remove_dir_all(&staging);
        outcome
    }

    fn stage_and_swap(&self, staging: &Path, target: &Path) -> Result<(), InstallError> {
        let staged = staging.join("skill");
        fs::create_dir(&staged).map_err(io_error(&staged))?;
        self.extract(&staged)?;
        if let Some(signature) = &self.verified.signature {
            write_new(&staged.join(SIGNATURE_FILE), signature.as_bytes())?;
        } else {
            fs::create_dir_all(staged.join(STATE_DIR)).map_err(io_error(&staged))?;
        }
        write_new(&staged.join(STATE_DIR).join("origin.json"), self.origin.as_bytes())?;
        self.check_staged(&staged)?;

        // Mode 0o666 less the umask: what the lock files got when they were written directly.
        let new_lock_json =
            atomic_file::stage(staging, "lock.json", self.lock_json.as_bytes(), 0o666).map_err(io_error(staging))?;
        let new_skills_lock = atomic_file::stage(staging, "skills.lock", self.skills_lock.as_bytes(), 0o666)
            .map_err(io_error(staging))?;

        // The swap: the old folder moves into the staging area (removed with it), the new one
        // takes its place. Between the two renames the folder is briefly absent, never half
        // written; if the second rename fails the old folder is put back.
        let previous = staging.join("previous");
        if self.replaces_existing {
            fs::rename(target, &previous).map_err(io_error(target))?;
        }
        if let Err(e) = fs::rename(&staged, target) {
            if self.replaces_existing {
                let _ = fs::rename(&previous, target);
            }
            return Err(io_error(target)(e));
        }
        // Syncing folders is best effort here: the skill is in place whether or not it succeeds.
        if let Some(parent) = target.parent() {
            let _ = atomic_file::fsync_dir(parent);
        }
        // From here on the skill is in place; the locks follow it. A failure now leaves the
        // skill installed but unrecorded, and the error says so.
        let lock_json_path = LockJson::write_path(&self.workdir);
        new_lock_json.persist(&lock_json_path).map_err(io_error(&lock_json_path))?;
        let skills_lock_path = self.workdir.join("skills.lock");
        new_skills_lock.persist(&skills_lock_path).map_err(io_error(&skills_lock_path))?;
        let _ = atomic_file::fsync_dir(&self.workdir);
        if let Some(parent) = lock_json_path.parent() {
            let _ = atomic_file::fsync_dir(parent);
        }
        Ok(())
    }

    /// Writes every file of the verified archive under `dir`. Paths come from the zip's central
    /// directory and must be exactly the paths the integrity check digested (validated,
    /// normalised, no links); each file's bytes must hash to the digest recorded for it.
    fn extract(&self, dir: &Path) -> Result<(), InstallError> {
        let expected: BTreeMap<&str, &skillscan_signatures::FileDigest> =
            self.verified.digest.all_files.iter().map(|f| (f.path.as_str(), f)).collect();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(self.archive.as_slice()))
            .map_err(|e| InstallError::Staged(format!("reopening the archive: {e}")))?;
        let mut written = 0usize;
        for index in 0..zip.len() {
            let (name, is_dir) = {
                let raw = zip
                    .by_index_raw(index)
                    .map_err(|e| InstallError::Staged(format!("archive entry #{index}: {e}")))?;
                let is_dir = raw.is_dir() || raw.unix_mode().is_some_and(|m| m & 0o170_000 == 0o040_000);
                (String::from_utf8_lossy(raw.name_raw()).into_owned(), is_dir)
            };
            if is_dir {
                continue;
            }
            let path =
                skillscan_signatures::digest::normalize_path(&name).map_err(|e| InstallError::Staged(e.to_string()))?;
            let mut entry =
                zip.by_index(index).map_err(|e| InstallError::Staged(format!("archive entry \"{path}\": {e}")))?;
            let Some(file) = expected.get(path.as_str()) else {
                return Err(InstallError::Staged(format!("\"{path}\" was not part of the verified archive")));
            };
            let mut content = Vec::new();
            (&mut entry)
                .take(file.size.saturating_add(1))
                .read_to_end(&mut content)
                .map_err(|e| InstallError::Staged(format!("\"{path}\": {e}")))?;
            if content.len() as u64 != file.size || sha256(&content) != file.sha256 {
                return Err(InstallError::Staged(format!("\"{path}\" reads differently the second time")));
            }
            let full = dir.join(&path);
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            write_new(&full, &content)?;
            written += 1;
        }
        if written != expected.len() {
            return Err(InstallError::Staged(format!("{written} files extracted, {} verified", expected.len())));
        }
        Ok(())
    }

    /// Digests the staged folder with the integrity library and compares it with the archive.
    fn check_staged(&self, staged: &Path) -> Result<(), InstallError> {
        let on_disk = digest_dir(staged, &INSTALL_LIMITS).map_err(|e| InstallError::Staged(e.to_string()))?;
        let archive = &self.verified.digest;
        if on_disk.tree_digest() != archive.tree_digest() {
            let diff = archive.manifest.diff(&on_disk.manifest);
            let list =
                |label: &str, paths: &[String]| (!paths.is_empty()).then(|| format!("{label}: {}", paths.join(", ")));
            let parts: Vec<String> =
                [list("changed", &diff.changed), list("added", &diff.added), list("removed", &diff.removed)]
                    .into_iter()
                    .flatten()
                    .collect();
            return Err(InstallError::Staged(format!(
                "the files on disk differ from the archive ({})",
                parts.join("; ")
            )));
        }
        if on_disk.clawhub_fingerprint() != archive.clawhub_fingerprint() {
            return Err(InstallError::Staged("the ClawHub fingerprint changed".to_owned()));
        }
        Ok(())
    }
}

/// Creates `path` (which must not exist), writes and syncs it.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let mut file = fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

fn unique_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

pub mod resolve;

#[cfg(test)]
mod tests;
