//! `skillscan verify`: check a skill against its signature, its `skills.lock` pin and its
//! `origin.json` fingerprint (see `skillscan::guard::integrity::verify` for what each check compares).
//!
//! The signature is `--signature`, else `PATH.minisig` beside the skill, else — for a folder
//! installed by `skillscan install` — the mirror's signature it keeps in
//! `.clawhub/skillscan.minisig` (its trusted comment is verified and must bind the folder's tree
//! digest). The keys are `--public-key`/`--trusted-keys`, else `[trust]` in `skillscan.toml`
//! (`--config`, else `./skillscan.toml`).
//!
//! Exit codes: 0 every check that applied passed; 3 an integrity failure (each printed on
//! stderr, naming what differs); 2 an error — a key, trust store, signature or lock file that is
//! missing, unreadable or garbled, or nothing to verify against. A signature file that parses
//! but does not verify is an integrity failure (3), not an error.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use skillscan::guard::caps::{MAX_FILE_LIST_BYTES, MAX_SIGNATURE_FILE_BYTES};
use skillscan::guard::integrity::{
    self, INSTALLED_SIGNATURE_FILE, IntegrityLimits, SignatureEvidence, SignedOver, SkillTarget, Trust, VerifyOptions,
};
use skillscan_signatures::SkillsLock;
use skillscan_signatures::minisign::SignatureFile;

use crate::exit::Exit;
use crate::files::{default_signature_path, local_source, manifest_path_for, now, read_text, read_text_if_exists};
use crate::shared::load_config;
use crate::skills::{report_tree_error, targets, worse};
use crate::trust::{TrustArgs, load_lock};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A skill folder or archive; a folder without SKILL.md verifies every skill found below it.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Check the skill against its entry in this lock file (files, version, archive sha256).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// The signature [default: PATH.minisig beside PATH, if present; else, for a folder installed
    /// by `skillscan install`, the mirror's signature it keeps in .clawhub/skillscan.minisig].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// A folder's signed manifest [default: beside the signature, `NAME.manifest`].
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Configuration file, for its [trust] table [default: ./skillscan.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<Exit> {
    let (config, config_path) = load_config(args.config.as_deref())?;
    let trust = args.trust.resolve(&config.trust, config_path.as_deref())?;
    if trust.is_none() && args.signature.is_some() {
        bail!("--signature needs --public-key, --trusted-keys or [trust] in skillscan.toml to check it against");
    }
    let lock = args.lock.as_deref().map(load_lock).transpose()?;
    let found = match targets(&args.path, false) {
        Ok(found) => found,
        Err(e) => return Ok(report_tree_error(&args.path.display().to_string(), &e)),
    };
    if found.len() > 1 && (args.signature.is_some() || args.manifest.is_some()) {
        bail!(
            "{} holds {} skills; --signature and --manifest name the files of one skill",
            args.path.display(),
            found.len()
        );
    }
    let trust = trust.as_ref().map(|t| t.trust());
    let mut exit = Exit::Clean;
    for target in &found {
        let code = verify_one(target, &args, trust, lock.as_ref())?;
        exit = worse(exit, code);
    }
    Ok(exit)
}

fn verify_one(
    target: &SkillTarget,
    args: &VerifyArgs,
    trust: Option<Trust<'_>>,
    lock: Option<&SkillsLock>,
) -> anyhow::Result<Exit> {
    let display = &target.display;
    let digest = match integrity::digest_path(&target.path, &IntegrityLimits::default()) {
        Ok(digest) => digest,
        Err(e) => return Ok(report_tree_error(display, &e)),
    };
    let signature_path = match &args.signature {
        Some(path) => path.clone(),
        None => default_signature_path(&target.path)?,
    };
    // An explicit --signature must exist; the default one is optional (the trust decides).
    let signature_text = if args.signature.is_some() {
        Some(read_text(&signature_path, "signature", MAX_SIGNATURE_FILE_BYTES)?)
    } else if trust.is_some() {
        read_text_if_exists(&signature_path, "signature", MAX_SIGNATURE_FILE_BYTES)?
    } else {
        None
    };
    let mut signature = signature_text
        .as_deref()
        .map(|text| SignatureFile::parse(text).with_context(|| format!("signature {}", signature_path.display())))
        .transpose()?;
    let mut signature_location = signature_path.display().to_string();
    let mut over = SignedOver::Input;
    // An installed folder keeps the mirror's signature inside (read by the library, as `ci`
    // and `inventory` read it).
    if signature.is_none() && args.signature.is_none() && trust.is_some() && !target.is_archive {
        let installed = format!("{}/{INSTALLED_SIGNATURE_FILE}", display.trim_end_matches('/'));
        match integrity::load_installed_signature(&target.path).map_err(anyhow::Error::new)? {
            Some(found) => {
                signature = Some(found);
                signature_location = installed;
                over = SignedOver::InstalledArchive;
            }
            None => signature_location = format!("{signature_location} or {installed}"),
        }
    }
    let manifest_path = args.manifest.clone().unwrap_or_else(|| manifest_path_for(&signature_path));
    let manifest_text = if signature.is_none() || digest.kind.is_archive() || over == SignedOver::InstalledArchive {
        None
    } else if args.manifest.is_some() {
        Some(read_text(&manifest_path, "signed manifest", MAX_FILE_LIST_BYTES)?)
    } else {
        read_text_if_exists(&manifest_path, "signed manifest", MAX_FILE_LIST_BYTES)?
    };
    let manifest_location = manifest_path.display().to_string();
    let local = local_source(display);
    let options = VerifyOptions {
        trust,
        signature: signature.as_ref().map(|signature| SignatureEvidence {
            signature,
            location: &signature_location,
            signed_manifest: manifest_text.as_deref(),
            manifest_location: Some(&manifest_location),
            over,
        }),
        signature_location: Some(&signature_location),
        lock,
        local_source: Some(&local),
        archive_bytes: None,
        now: now(),
        require_signature: None,
    };
    let report = integrity::verify_skill(&digest, &options).map_err(anyhow::Error::new)?;
    for note in &report.notes {
        crate::ui::note!("{display}: {note}");
    }
    if report.checks_run() == 0 {
        bail!(
            "{display}: nothing to verify against: give --lock, --public-key or --trusted-keys, or [trust] in \
             skillscan.toml (and there is no .clawhub/origin.json fingerprint)"
        );
    }
    for failure in &report.failures {
        eprintln!("skillscan: integrity: {display}: {failure}");
    }
    for passed in &report.passed {
        println!("ok {display}: {passed}");
    }
    if report.is_ok() {
        println!("verified {display} (tree {})", digest.tree_digest());
        Ok(Exit::Clean)
    } else {
        Ok(Exit::Integrity)
    }
}
