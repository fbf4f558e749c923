//! `skillscan install`: resolve, download, verify, scan, and only then install.
//!
//! The library does the checks and the writing ([`skillscan::guard::install`], [`skillscan::clawhub::client`]);
//! this file orders them, maps outcomes to exit codes and prints. Every refusal happens before
//! the first write, so a refused install leaves the workdir exactly as it was.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use skillscan::clawhub::client::{ClientOptions, RegistryClient, RegistryError};
use skillscan::clawhub::state::{SkillRef, now_millis};
use skillscan::guard::install::{
    Artifact, Expected, InstallPlan, InstallRecord, check_archive, check_policy, find_pin, load_skills_lock,
};
use skillscan::{FailOn, ScanOptions, Scanner};

use crate::exit::Exit;
use crate::shared::{RuleArgs, load_config};
use crate::trust::{LoadedTrust, TrustArgs};

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// SLUG, SLUG@VERSION, @OWNER/SLUG or @OWNER/SLUG@VERSION. Without a version: the version
    /// pinned in skills.lock, else the registry's latest.
    #[arg(value_name = "SLUG[@VERSION]")]
    pub reference: String,
    /// Registry speaking the ClawHub API (a skillscan mirror) [default: $CLAWHUB_REGISTRY].
    /// There is deliberately no built-in default; see the README.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Folder holding skills/ and .clawhub/ [default: $CLAWHUB_WORKDIR, else the current folder].
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Refuse when an active finding is at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Install even when the scanner could not analyse everything (files over its size limits,
    /// archives nested too deep, unreadable content).
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Replace an existing skill folder (as `clawhub install --force` does).
    #[arg(long)]
    pub force: bool,
    /// Run every check, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Configuration file [default: ./skillscan.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `--registry`, else `CLAWHUB_REGISTRY`. Never a built-in default: an installer that silently
/// falls back to the public registry when the mirror variable is unset would bypass the vetting
/// the mirror exists for, and do so without anyone noticing.
fn registry_url(args: &InstallArgs) -> anyhow::Result<String> {
    if let Some(url) = &args.registry {
        return Ok(url.clone());
    }
    match std::env::var("CLAWHUB_REGISTRY") {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => bail!(
            "no registry given: pass --registry URL or set CLAWHUB_REGISTRY (normally your vetted skillscan \
             mirror). skillscan never falls back to the public registry on its own."
        ),
    }
}

fn workdir(args: &InstallArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.workdir {
        return Ok(dir.clone());
    }
    if let Some(dir) = std::env::var_os("CLAWHUB_WORKDIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    std::env::current_dir().context("finding the current folder")
}

fn unix_now() -> u64 {
    now_millis() / 1000
}

fn refuse(what: &str, reasons: &[String], exit: Exit) -> anyhow::Result<Exit> {
    let kind = match exit {
        Exit::Integrity => "integrity check failed",
        _ => "refused by policy",
    };
    eprintln!("skillscan: {what}: {kind}:");
    for reason in reasons {
        eprintln!("  - {reason}");
    }
    Ok(exit)
}

/// Maps a registry error: policy refusals exit 1, the rest are errors (exit 2).
fn registry_failure(what: &str, error: RegistryError) -> anyhow::Result<Exit> {
    if error.is_refusal() {
        return refuse(what, &[error.to_string()], Exit::Findings);
    }
    Err(anyhow::Error::new(error))
}

pub fn run(args: InstallArgs) -> anyhow::Result<Exit> {
    let reference: SkillRef = args.reference.parse()?;
    let registry = registry_url(&args)?;
    let trust = args.trust.load()?;
    let (config, _) = load_config(args.config.as_deref())?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::High);
    let scanner = Scanner::new(args.rules.load()?, &config);
    let workdir = workdir(&args)?;
    let skills_lock_path = workdir.join("skills.lock");
    // A corrupt lock is an error before anything else happens (and it would block the write).
    let skills_lock = load_skills_lock(&skills_lock_path)?;
    let pin = find_pin(&skills_lock, &reference).cloned();
    let target = workdir.join(reference.install_dir());
    if !args.force && std::fs::symlink_metadata(&target).is_ok() {
        // Checked again (with links and lock files) before writing; this only spares the download.
        bail!("{} is already installed; pass --force to replace it", target.display());
    }

    let options = ClientOptions {
        token: std::env::var("CLAWHUB_TOKEN").ok().filter(|t| !t.trim().is_empty()),
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(&registry, options)?;
    let what = reference.to_string();

    let detail = match client.skill_detail(&reference.slug, reference.owner.as_deref()) {
        Ok(detail) => detail,
        Err(e) => return registry_failure(&what, e),
    };
    if let Some(moderation) = detail.moderation.as_ref().filter(|m| m.is_malware_blocked) {
        let mut reason =
            format!("the registry blocks {} as {}", reference.slug, moderation.verdict.as_deref().unwrap_or("malware"));
        if let Some(summary) = &moderation.summary {
            reason.push_str(&format!(": {summary}"));
        }
        if !moderation.reason_codes.is_empty() {
            reason.push_str(&format!(" ({})", moderation.reason_codes.join(", ")));
        }
        return refuse(&what, &[reason], Exit::Findings);
    }
    if detail.moderation.as_ref().is_some_and(|m| m.is_suspicious) {
        eprintln!("skillscan: note: the registry flags {} as suspicious; scanning it anyway", reference.slug);
    }
    // The CLI downloads whatever slug the detail names (an alias); we install only what was asked.
    if let Some(canonical) = detail.slug.as_deref().filter(|s| *s != reference.slug) {
        bail!(
            "the registry answers \"{}\" with skill \"{}\" (an alias?); install \"{}\" explicitly if that is the \
             skill you mean",
            reference.slug,
            skillscan::engine::text::escape_snippet(canonical, 80),
            skillscan::engine::text::escape_snippet(canonical, 80)
        );
    }
    if let (Some(asked), Some(answered)) = (&reference.owner, &detail.owner_handle)
        && asked != answered
    {
        bail!("the registry says {} is owned by \"{answered}\", not \"{asked}\"", reference.slug);
    }
    // A pin records who published the skill; the same slug from someone else is a transferred or
    // re-registered skill, the classic rug pull.
    if let Some(pin) = &pin
        && let (Some(pinned), Some(now)) = (&pin.owner, &detail.owner_handle)
        && pinned != now
    {
        let reason = format!(
            "skills.lock pins {} as published by \"{pinned}\", but the registry now says \"{now}\" owns it",
            pin.slug
        );
        return refuse(&reference.to_string(), &[reason], Exit::Integrity);
    }
    let version = match (&reference.version, &pin) {
        (Some(version), _) => version.clone(),
        (None, Some(pin)) => {
            eprintln!("skillscan: note: installing {} {}, the version skills.lock pins", pin.slug, pin.version);
            pin.version.clone()
        }
        (None, None) => match &detail.latest_version {
            Some(version) => version.clone(),
            None => bail!(
                "{} has no hosted version on this registry (GitHub-backed skills are not supported)",
                reference.slug
            ),
        },
    };
    if !skillscan::clawhub::names::is_valid_version(&version) {
        bail!(
            "the registry names version \"{}\", which is not a valid version",
            skillscan::engine::text::escape_snippet(&version, 80)
        );
    }
    let what = format!("{}@{version}", reference.lock_key());
    let owner = detail.owner_handle.clone();
    if reference.version.is_some()
        && let Err(e) = client.check_version(&reference.slug, &version, owner.as_deref())
    {
        return registry_failure(&what, e);
    }
    let download = match client.download(&reference.slug, &version, owner.as_deref()) {
        Ok(download) => download,
        Err(e) => return registry_failure(&what, e),
    };
    let signature = match client.signature(&reference.slug, &version, owner.as_deref()) {
        Ok(signature) => signature,
        Err(e) if trust.is_some() => return registry_failure(&what, e),
        Err(e) => {
            eprintln!("skillscan: note: could not fetch a signature ({e}); none is required");
            None
        }
    };

    let expected = Expected { slug: reference.slug.clone(), owner_handle: owner.clone(), version: version.clone() };
    let artifact = Artifact {
        bytes: &download.bytes,
        sha256_header: download.sha256_header.as_deref(),
        tree_digest_header: download.tree_digest_header.as_deref(),
        signature: signature.as_deref(),
    };
    let verified =
        match check_archive(&artifact, &expected, pin.as_ref(), trust.as_ref().map(LoadedTrust::trust), unix_now()) {
            Ok(verified) => verified,
            Err(refusal) => return refuse(&what, &refusal.problems, Exit::Integrity),
        };

    // Scanned in memory, before anything is extracted; the skill's own skillscan-ignore comments
    // are not honoured (its author is the party being checked).
    let scan_options = ScanOptions { inline_ignores: false, ..ScanOptions::default() };
    let report = scanner.scan_archive_bytes(&format!("{what}.zip"), &download.bytes, &scan_options);
    for warning in &report.warnings {
        eprintln!("skillscan: warning: {warning}");
    }
    let verdict = match check_policy(&report, fail_on, args.allow_incomplete) {
        Ok(verdict) => verdict,
        Err(refusal) => return refuse(&what, &refusal.reasons, Exit::Findings),
    };

    for note in &verified.notes {
        eprintln!("skillscan: note: {note}");
    }
    let signed = match &verified.signer {
        Some((key_id, name)) => format!("signed by key {key_id} (\"{name}\")"),
        None if verified.signature.is_some() => {
            "signature kept, not checked (no --public-key or --trusted-keys)".into()
        }
        None => "unsigned".to_owned(),
    };
    let record = InstallRecord {
        reference: &reference,
        expected: &expected,
        registry: client.base(),
        verdict,
        rules_version: &report.tool.rules_version,
        installed_at_ms: now_millis(),
        force: args.force,
    };
    // Validates the destination (links, lock files) and renders every file; writes nothing.
    let plan = InstallPlan::prepare(&workdir, &download.bytes, verified, &record, skills_lock)?;
    if args.dry_run {
        println!("{what}: verdict {verdict}, {signed}; every check passed (dry run: nothing written)");
        return Ok(Exit::Clean);
    }
    plan.commit()?;
    println!(
        "Installed {what} -> {}{}",
        plan.target().display(),
        if plan.replaces_existing() { " (replaced the previous folder)" } else { "" }
    );
    println!("  verdict {verdict}, {signed}; pinned in {}", skills_lock_path.display());
    Ok(Exit::Clean)
}
