//! `skillscan ci`: the merge gate for a repository or agent workspace.
//!
//! **Discovery.** The skills are what OpenClaw would load from the workspace: folders holding a
//! `SKILL.md` (or `skill.md`, `skills.md`) up to 6 levels below `skills/` and `.agents/skills/`,
//! which covers `skills/@owner/slug`. A repository with neither folder (a repository *of* skills)
//! is searched from its root instead, skipping `.git` and `node_modules`. A skill folder is one
//! unit: skill folders nested inside it are part of its tree (the pin covers them) and are
//! scanned on their own by the scanner. Links are never followed; a linked skill folder is an
//! integrity failure, because no pin can cover what it points to.
//!
//! **Checks per skill**, all run so one CI log names everything:
//!
//! - *pinned*: `skills.lock` (path from `[ci] lock`, default next to the config) has an entry for
//!   it (by the `@owner`/slug of its folder and the slug its `origin.json`, `_meta.json` or front
//!   matter gives, or a `local:` entry for its path), and the files match it: changed, added and
//!   removed files are named ([`crate::guard::integrity::verify`]).
//! - *origin*: a `.clawhub/origin.json` fingerprint must match the files (modified since install),
//!   unless the pin covers them (below).
//! - *signature*: with trusted keys (a trust store or a single public key), a signature is
//!   verified when present and required when `[ci] require_signatures` or the trust says so (a
//!   trust store's `require_signature`; always for a single key). Two places are looked at:
//!   `<skill>.minisig` next to the folder, as `skillscan sign DIR` writes it (full minisign
//!   verification over the signed manifest `<skill>.manifest` beside it), else
//!   `<skill>/.clawhub/skillscan.minisig`, the mirror's signature that `skillscan install` keeps,
//!   whose trusted comment is verified and whose tree digest must be the folder's. Both through
//!   [`crate::guard::integrity::verify`], the code behind `skillscan verify`.
//! - *the pin outranks install records*: once the pin lists exactly the files on disk (a
//!   reviewed edit, re-pinned), a stale `origin.json` fingerprint is a note, and so is a stale
//!   mirror signature (status `stale`) unless signatures are required: then it is a failure, since
//!   no signature covers the edited files (sign them with a trusted key, or reinstall).
//! - *policy*: the scan, with the config of the repository. Inline `skillscan-ignore` comments
//!   count only in skills the team wrote: a skill installed from a registry (it has an
//!   `origin.json`, or its pin's source is a registry URL) is scanned with them off.
//!
//! The outcome maps to exit codes like `scan`, with integrity first: 3 when any integrity check
//! failed, else 2 when a skill could not be read, else 1 when the scan fails policy, else 0.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use skillscan_signatures::error::IntegrityError;
use skillscan_signatures::minisign::SignatureFile;
use skillscan_signatures::{LockedSkill, SkillsLock};

use crate::clawhub::state::LockJson;
use crate::engine::config::FailOn;
use crate::engine::scan::{ScanOptions, ScanReport, Scanner};
use crate::guard::caps::MAX_FILE_LIST_BYTES;
use crate::guard::integrity::verify::{
    IntegrityFailure, SignatureEvidence, SignedOver, Trust, VerifyOptions, verify_skill,
};
use crate::guard::integrity::{
    INSTALLED_SIGNATURE_FILE, IntegrityLimits, SkillDigest, digest_dir, load_installed_signature, read_signature_file,
};

/// How a problem affects the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// The content does not match what was pinned or signed (exit 3).
    Integrity,
    /// Something could not be read or checked (exit 2).
    Error,
}

/// One thing wrong with a skill (or the repository), with the files it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code: `not-pinned`, `files-changed`, `pin-mismatch`, `signature`, `origin`,
    /// `unsafe-content`, `unreadable`, `lock-file`.
    pub code: &'static str,
    pub kind: ProblemKind,
    pub message: String,
    /// Files the problem is about: relative to the skill folder for a skill's problem (changed
    /// or added files; empty when it is about the skill as a whole), relative to the checked path
    /// for the repository's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Problem {
    fn integrity(code: &'static str, message: impl Into<String>) -> Self {
        Problem { code, kind: ProblemKind::Integrity, message: message.into(), files: Vec::new() }
    }

    fn error(code: &'static str, message: impl Into<String>) -> Self {
        Problem { code, kind: ProblemKind::Error, message: message.into(), files: Vec::new() }
    }

    fn about(mut self, file: impl Into<String>) -> Self {
        self.files.push(file.into());
        self
    }
}

/// What was checked about one skill folder.
#[derive(Debug, Clone, Serialize)]
pub struct SkillCheck {
    /// The folder, relative to the checked path, `/`-separated.
    pub root: String,
    pub slug: Option<String>,
    pub owner: Option<String>,
    pub version: Option<String>,
    /// `pinned`, `unpinned`, or `modified` (pinned, files differ).
    pub pin: &'static str,
    /// `verified`, `invalid`, `missing` (required but absent), `stale` (the mirror's signature of
    /// the files as installed; they were edited and re-pinned since), `unchecked` (present, no
    /// keys), or `none`.
    pub signature: &'static str,
    /// Installed from a registry (has `origin.json`): scanned with inline ignores off.
    pub installed: bool,
    pub problems: Vec<Problem>,
    pub passed: Vec<String>,
    pub notes: Vec<String>,
    /// The manifest's file name (`SKILL.md`), where problems about the whole skill are shown.
    #[serde(skip)]
    pub manifest: String,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct CiReport {
    pub version: u32,
    /// The checked path as given.
    pub path: String,
    /// Where skills were looked for, relative to the path.
    pub searched: Vec<String>,
    pub lock: Option<String>,
    pub require_signatures: bool,
    pub skills: Vec<SkillCheck>,
    /// Problems not tied to one skill (a corrupt `.clawhub/lock.json`, a linked skill folder).
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    pub scan: ScanReport,
}

impl CiReport {
    fn all_problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().chain(self.skills.iter().flat_map(|s| s.problems.iter()))
    }

    pub fn has_integrity_failure(&self) -> bool {
        self.all_problems().any(|p| p.kind == ProblemKind::Integrity)
    }

    pub fn has_error(&self) -> bool {
        self.all_problems().any(|p| p.kind == ProblemKind::Error)
    }

    /// 3 integrity, 2 error, 1 policy, 0 clean.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        if self.has_integrity_failure() {
            3
        } else if self.has_error() {
            2
        } else if self.scan.fails(fail_on) {
            1
        } else {
            0
        }
    }
}

/// What to check against.
#[derive(Debug, Clone, Copy)]
pub struct CiOptions<'a> {
    /// `skills.lock`, parsed by the caller (a corrupt lock is an error of its own), and where it
    /// lives (for messages, and `local:` sources are relative to its folder).
    pub lock: Option<(&'a SkillsLock, &'a Path)>,
    /// Who may sign: a trust store or a single key (which requires signatures).
    pub trust: Option<Trust<'a>>,
    /// Signatures are required whatever the trust says (`[ci] require_signatures`).
    pub require_signatures: bool,
    pub now: u64,
    pub limits: IntegrityLimits,
}

/// A skill folder found in the repository.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// How reports name it (relative to the checked path, `/`-separated).
    pub rel: String,
    pub path: PathBuf,
}

fn rel_string(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if text.is_empty() { ".".to_owned() } else { text.join("/") }
}

/// Finds the skill folders; see the module docs.
fn discover(root: &Path, problems: &mut Vec<Problem>) -> (Vec<String>, Vec<Found>) {
    let mut bases = Vec::new();
    for base in ["skills", ".agents/skills"] {
        let path = root.join(base);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => problems.push(
                Problem::integrity(
                    "unsafe-content",
                    format!(
                        "{base} is a symbolic link (to \"{}\"); not followed",
                        crate::guard::skill_dirs::link_target(&path)
                    ),
                )
                .about(base),
            ),
            Ok(meta) if meta.is_dir() => bases.push((base.to_owned(), path)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    if bases.is_empty() {
        // The path is a skill folder itself: check just it.
        if crate::engine::package::is_skill_root(root) {
            found.push(Found { rel: ".".to_owned(), path: root.to_path_buf() });
            return (vec![".".to_owned()], found);
        }
        bases.push((".".to_owned(), root.to_path_buf()));
    }
    for (_, base) in &bases {
        walk(root, base, &mut found, problems);
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    found.dedup_by(|a, b| a.rel == b.rel);
    (bases.into_iter().map(|(name, _)| name).collect(), found)
}

fn walk(root: &Path, base: &Path, found: &mut Vec<Found>, problems: &mut Vec<Problem>) {
    let walk = crate::guard::skill_dirs::find(base);
    for (dir, reason) in walk.unreadable {
        let rel = rel_string(root, &dir);
        problems.push(Problem::error("unreadable", format!("{rel}: {reason}")).about(rel));
    }
    for (path, target) in walk.links {
        let rel = rel_string(root, &path);
        problems.push(
            Problem::integrity(
                "unsafe-content",
                format!(
                    "{rel} is a symbolic link to a folder (\"{target}\"); skill folders must be real folders, a pin \
                     cannot cover what a link points to"
                ),
            )
            .about(rel),
        );
    }
    found.extend(walk.skills.into_iter().map(|path| Found { rel: rel_string(root, &path), path }));
}

/// Picks the lock entry for a skill; see the module docs.
fn find_pin<'l>(lock: &'l SkillsLock, lock_dir: &Path, found: &Found, digest: &SkillDigest) -> Option<&'l LockedSkill> {
    let folder = found.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let owner_dir = found
        .path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .and_then(|n| n.strip_prefix('@').map(str::to_owned));
    let mut slugs: Vec<String> = Vec::new();
    if let Some(hint) = digest.hints.slug() {
        slugs.push(hint.value.to_owned());
    }
    slugs.push(folder);
    let owner = owner_dir.or_else(|| digest.hints.owner().map(|h| h.value.to_owned()));
    for slug in &slugs {
        if let Some(entry) = lock.find(slug, owner.as_deref()) {
            return Some(entry);
        }
        let mut candidates = lock.skills.iter().filter(|entry| entry.slug == *slug);
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            return Some(only);
        }
    }
    let local = local_source(lock_dir, &found.path);
    lock.skills.iter().find(|entry| entry.source == local)
}

/// `local:<path>`: how a pin of a folder on disk names it, relative to the lock's folder.
pub fn local_source(lock_dir: &Path, skill: &Path) -> String {
    format!("local:{}", rel_string(lock_dir, skill))
}

fn failure_problem(failure: &IntegrityFailure) -> Problem {
    let message = failure.to_string();
    let mut problem = Problem::integrity("signature", message);
    match failure {
        IntegrityFailure::NotPinned { .. } | IntegrityFailure::AmbiguousPin { .. } => problem.code = "not-pinned",
        IntegrityFailure::Lock(IntegrityError::FilesChanged { changed, added, .. }) => {
            problem.code = "files-changed";
            problem.files = changed.iter().chain(added).cloned().collect();
        }
        IntegrityFailure::Lock(_) => problem.code = "files-changed",
        IntegrityFailure::SignedFiles { changed, added, .. } => {
            problem.code = "files-changed";
            problem.files = changed.iter().chain(added).cloned().collect();
        }
        // What the pin says about the signature (its key, the archive it was made over) is
        // about the signature; a folder has no archive sha256 of its own.
        IntegrityFailure::LockField { field: "signing_key_id" | "archive_sha256", .. } => {}
        IntegrityFailure::LockField { .. } => problem.code = "pin-mismatch",
        IntegrityFailure::OriginUnreadable(_) | IntegrityFailure::OriginFingerprint { .. } => problem.code = "origin",
        _ => {}
    }
    problem
}

fn read_small(path: &Path, limit: u64) -> Result<Option<String>, String> {
    crate::clawhub::state::read_state_file_limited(path, limit).map_err(|e| e.to_string())
}

/// Checks one skill folder (everything but the scan); also returns its digest when it could be
/// computed. `skillscan inventory` uses this too.
pub(crate) fn check_skill(found: &Found, options: &CiOptions<'_>) -> (SkillCheck, Option<SkillDigest>) {
    let mut check = SkillCheck::new(found);
    let digest = match digest_dir(&found.path, &options.limits) {
        Ok(digest) => digest,
        Err(e) if e.is_integrity() => {
            check.problems.push(Problem::integrity("unsafe-content", format!("cannot be pinned: {e}")));
            return (check, None);
        }
        Err(e) => {
            check.problems.push(Problem::error("unreadable", e.to_string()));
            return (check, None);
        }
    };
    check.take_identity(&digest);
    let pin =
        options.lock.and_then(|(lock, path)| find_pin(lock, path.parent().unwrap_or(Path::new(".")), found, &digest));
    if let Some(entry) = pin {
        check.take_pin(entry);
    }
    let signature = FoundSignature::load(found, &mut check);
    verify_with_integrity(&mut check, &digest, pin, &signature, options);
    if options.require_signatures && options.trust.is_none() && check.signature == "unchecked" {
        check.signature = "invalid";
        check.problems.push(Problem::error(
            "signature",
            "signatures are required but no trusted keys are configured (--trusted-keys, --public-key or [trust])",
        ));
    }
    (check, Some(digest))
}

impl SkillCheck {
    /// Nothing checked yet: unpinned, unsigned, shown at its manifest (`SKILL.md` unless the
    /// folder spells it otherwise).
    fn new(found: &Found) -> Self {
        SkillCheck {
            root: found.rel.clone(),
            slug: None,
            owner: None,
            version: None,
            pin: "unpinned",
            signature: "none",
            installed: false,
            problems: Vec::new(),
            passed: Vec::new(),
            notes: Vec::new(),
            manifest: crate::engine::package::root_manifest(&found.path).unwrap_or_else(|| "SKILL.md".to_owned()),
        }
    }

    /// Identity from the skill's own files; installed when it has an `origin.json`.
    fn take_identity(&mut self, digest: &SkillDigest) {
        self.installed = digest.hints.origin.is_some();
        self.slug = digest.hints.slug().map(|h| h.value.to_owned());
        self.owner = digest.hints.owner().map(|h| h.value.to_owned());
        self.version = digest.hints.version().map(|h| h.value.to_owned());
    }

    /// The pin's identity wins over the files'; a pin from a registry URL means installed.
    fn take_pin(&mut self, entry: &LockedSkill) {
        self.slug = Some(entry.slug.clone());
        self.owner = entry.owner.clone().or(self.owner.take());
        // A pin by content (`unversioned`) names no version; the files' own (none) stands.
        if let Some(version) = entry.pinned_version() {
            self.version = Some(version.to_owned());
        }
        self.installed |= entry.source.starts_with("http://") || entry.source.starts_with("https://");
    }

    fn signature_problem(&mut self, message: String) {
        self.problems.push(Problem::integrity("signature", message));
        self.signature = "invalid";
    }
}

/// The signature of a skill folder, from one of two places: `<skill>.minisig` beside the folder,
/// as `skillscan sign DIR` writes it (with the signed manifest `<skill>.manifest` beside it),
/// else `<skill>/.clawhub/skillscan.minisig`, the mirror's signature `skillscan install` keeps.
struct FoundSignature {
    /// Where it was found, or both places when it was not.
    location: String,
    manifest_location: String,
    signature: Option<SignatureFile>,
    signed_manifest: Option<String>,
    over: SignedOver,
}

impl FoundSignature {
    /// Reads the files (links not followed); what cannot be read or parsed is a problem of
    /// `check`, and then no signature is used at all (not even the other place's).
    fn load(found: &Found, check: &mut SkillCheck) -> Self {
        // A path without a final name (`.`) is resolved first, so "beside" is outside the folder.
        let base = match found.path.file_name() {
            Some(_) => found.path.clone(),
            None => fs::canonicalize(&found.path).unwrap_or_else(|_| found.path.clone()),
        };
        let folder_name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sibling = base.with_file_name(format!("{folder_name}.minisig"));
        let sibling_shown =
            if found.rel == "." { format!("../{folder_name}.minisig") } else { format!("{}.minisig", found.rel) };
        let manifest_path = base.with_file_name(format!("{folder_name}.manifest"));
        let installed_shown = if found.rel == "." {
            INSTALLED_SIGNATURE_FILE.to_owned()
        } else {
            format!("{}/{INSTALLED_SIGNATURE_FILE}", found.rel)
        };
        let mut out = FoundSignature {
            location: format!("{sibling_shown} or {installed_shown}"),
            manifest_location: manifest_path.display().to_string(),
            signature: None,
            signed_manifest: None,
            over: SignedOver::Input,
        };
        match read_signature_file(&sibling) {
            Err(e) => check.signature_problem(e.to_string()),
            Ok(Some(signature)) => {
                out.location = sibling_shown;
                out.signed_manifest = match read_small(&manifest_path, MAX_FILE_LIST_BYTES) {
                    Ok(text) => text,
                    Err(message) => {
                        check.problems.push(Problem::error("unreadable", message));
                        None
                    }
                };
                out.signature = Some(signature);
            }
            Ok(None) => match load_installed_signature(&found.path) {
                Err(e) => check.signature_problem(e.to_string()),
                Ok(Some(signature)) => {
                    out.location = installed_shown;
                    out.signature = Some(signature);
                    out.over = SignedOver::InstalledArchive;
                }
                Ok(None) => {}
            },
        }
        out
    }

    fn evidence(&self) -> Option<SignatureEvidence<'_>> {
        self.signature.as_ref().map(|signature| SignatureEvidence {
            signature,
            location: &self.location,
            signed_manifest: self.signed_manifest.as_deref(),
            manifest_location: Some(&self.manifest_location),
            over: self.over,
        })
    }
}

/// Who requires signatures when `[ci] require_signatures` does, for messages.
const REQUIRED_BY_CONFIG: &str = "[ci] require_signatures (or --require-signatures)";

/// The integrity library's checks against the pin, the signature and `origin.json`; failures
/// become problems, and the pin and signature statuses follow from them.
fn verify_with_integrity(
    check: &mut SkillCheck,
    digest: &SkillDigest,
    pin: Option<&LockedSkill>,
    found: &FoundSignature,
    options: &CiOptions<'_>,
) {
    let single_lock = pin.map(|entry| SkillsLock { skills: vec![entry.clone()], ..SkillsLock::new() });
    let no_pin_lock = SkillsLock::new();
    let unusable_signature = check.signature == "invalid";
    let verify_options = VerifyOptions {
        trust: options.trust,
        signature: found.evidence(),
        signature_location: Some(&found.location),
        // Without a lock, "not pinned" must still be reported: an empty lock makes it so.
        lock: Some(single_lock.as_ref().unwrap_or(&no_pin_lock)),
        local_source: pin.map(|entry| entry.source.as_str()),
        archive_bytes: None,
        now: options.now,
        require_signature: options.require_signatures.then_some(REQUIRED_BY_CONFIG),
    };
    match verify_skill(digest, &verify_options) {
        Err(e) => check.problems.push(Problem::error("unreadable", e.to_string())),
        Ok(report) => {
            for failure in &report.failures {
                // A signature file that could not be read is already the problem.
                if unusable_signature && matches!(failure, IntegrityFailure::SignatureMissing { .. }) {
                    continue;
                }
                let mut problem = failure_problem(failure);
                if problem.code == "not-pinned" {
                    problem.message = match options.lock {
                        Some((_, path)) => format!("not pinned in {}", path.display()),
                        None => "not pinned: there is no skills.lock".to_owned(),
                    };
                }
                match failure {
                    IntegrityFailure::SignatureMissing { .. } => check.signature = "missing",
                    IntegrityFailure::StaleSignature { .. } => check.signature = "stale",
                    // An authentic signature over other files does not vouch for these ones.
                    IntegrityFailure::SignedFiles { .. } => check.signature = "invalid",
                    _ if problem.code == "signature" => check.signature = "invalid",
                    _ => {}
                }
                check.problems.push(problem);
            }
            check.passed.extend(report.passed.iter().cloned());
            check.notes.extend(report.notes.iter().filter(|n| !n.contains("not checked")).cloned());
            if check.signature == "none" {
                if report.stale_signature {
                    check.signature = "stale";
                } else if report.signer.is_some() {
                    check.signature = "verified";
                } else if found.signature.is_some() && options.trust.is_none() {
                    check.signature = "unchecked";
                }
            }
        }
    }
    if pin.is_some() {
        check.pin = if check.problems.iter().any(|p| matches!(p.code, "files-changed" | "pin-mismatch")) {
            "modified"
        } else {
            "pinned"
        };
    }
}

/// Cross-checks `.clawhub/lock.json` with what is on disk and pinned: warnings, plus a problem
/// when the file cannot be read.
fn check_clawhub_lock(root: &Path, skills: &[SkillCheck], lock: Option<&SkillsLock>, out: &mut CiReport) {
    let (path, lock_json) = match LockJson::load(root) {
        Ok(Some(found)) => found,
        Ok(None) => return,
        Err(e) => {
            out.problems
                .push(Problem::error("lock-file", e.to_string()).about(rel_string(root, &LockJson::read_path(root))));
            return;
        }
    };
    let shown = rel_string(root, &path);
    let entries = match lock_json.entries() {
        Ok(entries) => entries,
        Err(reason) => {
            out.problems.push(Problem::error("lock-file", format!("{shown}: {reason}")).about(shown.clone()));
            return;
        }
    };
    for entry in entries {
        let dir = match entry.install_dir() {
            Ok(dir) => dir,
            Err(reason) => {
                out.warnings.push(format!("{shown}: {reason}; not checked"));
                continue;
            }
        };
        let rel = rel_string(Path::new(""), &dir);
        match skills.iter().find(|s| s.root == rel) {
            None => out.warnings.push(format!("{shown} lists {} but {rel} has no skill", entry.key)),
            Some(skill) => {
                if let (Some(listed), Some(pinned)) = (&entry.version, lock.and(skill.version.as_ref()))
                    && listed != pinned
                    && skill.pin != "unpinned"
                {
                    out.warnings.push(format!("{shown} records {} {listed}, but skills.lock pins {pinned}", entry.key));
                }
            }
        }
    }
}

/// Runs discovery, every check and the scan.
pub fn check_repository(
    root: &Path,
    display: &str,
    scanner: &Scanner,
    scan_options: &ScanOptions,
    options: &CiOptions<'_>,
) -> Result<CiReport, crate::engine::scan::ScanError> {
    let started = std::time::Instant::now();
    let mut problems = Vec::new();
    let (searched, found) = discover(root, &mut problems);
    let skills: Vec<SkillCheck> = found.iter().map(|f| check_skill(f, options).0).collect();

    // Pins without a folder.
    let mut warnings = Vec::new();
    if let Some((lock, path)) = options.lock {
        let lock_dir = path.parent().unwrap_or(Path::new("."));
        let present: BTreeSet<(String, Option<String>)> =
            skills.iter().filter_map(|s| Some((s.slug.clone()?, s.owner.clone()))).collect();
        for entry in &lock.skills {
            let by_slug = present.iter().any(|(slug, _)| *slug == entry.slug);
            let local = found.iter().any(|f| local_source(lock_dir, &f.path) == entry.source);
            if !by_slug && !local {
                warnings.push(format!(
                    "{} pins {} {}, which is not in the repository (stale pin?)",
                    path.display(),
                    entry.slug,
                    entry.version
                ));
            }
        }
    }

    // The scan: registry-installed skills with inline ignores off.
    let mut installed = Vec::new();
    let mut own = Vec::new();
    for (found, check) in found.iter().zip(&skills) {
        // A folder that failed integrity (links inside) is scanned all the same: the scanner
        // reports links as findings and reads what is there without following them.
        if check.installed { installed.push(found) } else { own.push(found) }
    }
    let mut reports = Vec::new();
    for (group, inline) in [(own, scan_options.inline_ignores), (installed, false)] {
        if group.is_empty() {
            continue;
        }
        let paths: Vec<PathBuf> = group.iter().map(|f| f.path.clone()).collect();
        let options = ScanOptions { inline_ignores: inline, ..scan_options.clone() };
        let mut report = scanner.scan_paths(&paths, &options, &|_, _| {})?;
        for skill in &mut report.skills {
            // Roots as the repository sees them (`skills/a`), so SARIF and annotations land on
            // the right files whatever path the command was given.
            for f in &group {
                let shown = f.path.display().to_string();
                if let Some(rest) = skill.root.strip_prefix(&shown)
                    && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('!'))
                {
                    skill.root = format!("{}{rest}", f.rel);
                    break;
                }
            }
        }
        reports.push(report);
    }
    let scan = merge_reports(scanner, reports, started);

    let mut report = CiReport {
        version: 1,
        path: display.to_owned(),
        searched,
        lock: options.lock.map(|(_, path)| path.display().to_string()),
        require_signatures: options.require_signatures,
        skills,
        problems,
        warnings,
        scan,
    };
    let skills = report.skills.clone();
    check_clawhub_lock(root, &skills, options.lock.map(|(lock, _)| lock), &mut report);
    Ok(report)
}

/// Concatenates scan reports (one per inline-ignore group) into one.
fn merge_reports(scanner: &Scanner, reports: Vec<ScanReport>, started: std::time::Instant) -> ScanReport {
    let mut merged = ScanReport {
        version: 1,
        tool: crate::engine::scan::Tool {
            name: "skillscan",
            version: env!("CARGO_PKG_VERSION"),
            rules_version: scanner.rules().version.clone(),
        },
        skills: Vec::new(),
        summary: crate::engine::scan::Summary {
            skills: 0,
            files: 0,
            bytes: 0,
            findings_by_severity: crate::engine::finding::Severity::ALL.iter().map(|s| (*s, 0)).collect(),
            verdicts: Default::default(),
            elapsed_ms: 0,
        },
        warnings: scanner.config_warnings.clone(),
        baseline: None,
    };
    for report in reports {
        merged.skills.extend(report.skills);
        merged.summary.files += report.summary.files;
        merged.summary.bytes += report.summary.bytes;
        for (severity, count) in report.summary.findings_by_severity {
            *merged.summary.findings_by_severity.entry(severity).or_insert(0) += count;
        }
        for (verdict, count) in report.summary.verdicts {
            *merged.summary.verdicts.entry(verdict).or_insert(0) += count;
        }
        for warning in report.warnings {
            if !merged.warnings.contains(&warning) {
                merged.warnings.push(warning);
            }
        }
    }
    merged.skills.sort_by(|a, b| a.root.cmp(&b.root));
    merged.summary.skills = merged.skills.len();
    merged.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    merged
}

pub mod render;

#[cfg(test)]
mod tests;
