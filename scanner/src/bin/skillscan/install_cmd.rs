//! `skillscan install`: resolve, download, verify, scan, and only then install.
//!
//! The library makes the decisions and does the writing ([`skillscan::guard::install`], from
//! [`skillscan::guard::install::resolve`] before the download to the install plan) and talks to
//! the registry ([`skillscan::clawhub::client`]); this file orders the steps, maps outcomes to
//! exit codes and prints. Every refusal happens before
//! the first write, so a refused install leaves the workdir exactly as it was.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use skillscan::clawhub::client::{ClientOptions, Containment, Download, RegistryClient, RegistryError, TlsRoots};
use skillscan::clawhub::state::{SkillRef, now_millis};
use skillscan::guard::install::resolve::{Decision, Refusal, RefusalKind, Target, resolve};
use skillscan::guard::install::{
    Artifact, Expected, InstallPlan, InstallRecord, VerifiedArchive, check_archive, check_policy, find_pin,
    load_skills_lock,
};
use skillscan::{FailOn, ScanOptions, Scanner};

use crate::exit::Exit;
use crate::shared::{RuleArgs, load_config};
use crate::trust::{LoadedTrust, TrustArgs};
use crate::ui;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// SLUG, SLUG@VERSION, @OWNER/SLUG or @OWNER/SLUG@VERSION. Without a version: the version
    /// pinned in skills.lock, else the registry's latest.
    #[arg(value_name = "SLUG[@VERSION]")]
    pub reference: String,
    /// Registry speaking the ClawHub API (a skillscan mirror) [default: $CLAWHUB_REGISTRY, else
    /// [trust] mirror in skillscan.toml]. There is deliberately no built-in default; see the README.
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
    /// PEM file of an extra certificate authority to trust (a registry behind a private CA),
    /// besides the bundled and the system's roots [default: the config's install.ca_cert].
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// `--registry`, else `CLAWHUB_REGISTRY`, else `[trust] mirror`. Never a built-in default: an
/// installer that silently falls back to the public registry when the mirror is not configured
/// would bypass the vetting the mirror exists for, and do so without anyone noticing.
fn registry_url(args: &InstallArgs, config_mirror: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = &args.registry {
        return Ok(url.clone());
    }
    match std::env::var("CLAWHUB_REGISTRY") {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        _ => match config_mirror.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => Ok(url.to_owned()),
            None => bail!(
                "no registry given: pass --registry URL, set CLAWHUB_REGISTRY or [trust] mirror in skillscan.toml \
                 (normally your vetted skillscan mirror). skillscan never falls back to the public registry on its \
                 own."
            ),
        },
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

/// Ends the command on a refusal decided before the download: policy and integrity refusals are
/// printed and exit 1 or 3, an answer that cannot be installed as asked is an error (exit 2).
fn refused(what: &str, refusal: Refusal) -> anyhow::Result<Exit> {
    match refusal.kind() {
        RefusalKind::Policy => refuse(what, &[refusal.to_string()], Exit::Findings),
        RefusalKind::Integrity => refuse(what, &[refusal.to_string()], Exit::Integrity),
        RefusalKind::Error => Err(refusal.into()),
    }
}

/// The download and what comes with it.
struct Fetched {
    download: Download,
    signature: Option<String>,
}

impl Fetched {
    fn artifact(&self) -> Artifact<'_> {
        Artifact {
            bytes: &self.download.bytes,
            sha256_header: self.download.sha256_header.as_deref(),
            tree_digest_header: self.download.tree_digest_header.as_deref(),
            signature: self.signature.as_deref(),
        }
    }
}

/// The version pre-check (for a version given on the command line), the archive, and the
/// mirror's signature. A signature that cannot be fetched fails the install only when one will
/// be checked.
fn fetch(
    client: &RegistryClient,
    slug: &str,
    target: &Target,
    signature_checked: bool,
) -> Result<Fetched, RegistryError> {
    let owner = target.owner.as_deref();
    if target.precheck_version() {
        client.check_version(slug, &target.version, owner)?;
    }
    let download = client.download(slug, &target.version, owner)?;
    let signature = match client.signature(slug, &target.version, owner) {
        Ok(signature) => signature,
        Err(e) if signature_checked => return Err(e),
        Err(e) => {
            ui::note!("could not fetch a signature ({e}); none is required");
            None
        }
    };
    Ok(Fetched { download, signature })
}

/// How the archive is vouched for, in the CLI's words.
fn signed_by(verified: &VerifiedArchive, trust: Option<&LoadedTrust>) -> String {
    match (&verified.signer, trust) {
        (Some((key_id, name)), Some(trust)) => format!("signed by key {key_id} (\"{name}\", from {})", trust.origin),
        (Some((key_id, name)), None) => format!("signed by key {key_id} (\"{name}\")"),
        (None, _) if verified.signature.is_some() => {
            "signature kept, not checked (no --public-key, --trusted-keys or [trust] keys)".into()
        }
        (None, _) => "unsigned".to_owned(),
    }
}

pub fn run(args: InstallArgs) -> anyhow::Result<Exit> {
    let reference: SkillRef = args.reference.parse()?;
    let (config, config_path) = load_config(args.config.as_deref())?;
    let registry = registry_url(&args, config.trust.mirror.as_deref())?;
    // With keys (flags or [trust]) the mirror's signature is required and checked before
    // anything is written; a missing or bad one refuses the install (exit 3).
    let trust = args.trust.resolve(&config.trust, config_path.as_deref())?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(FailOn::High);
    let scanner = Scanner::new(args.rules.load()?, &config);
    let workdir = workdir(&args)?;
    let skills_lock_path = workdir.join("skills.lock");
    // A corrupt lock is an error before anything else happens (and it would block the write).
    let skills_lock = load_skills_lock(&skills_lock_path)?;
    let pin = find_pin(&skills_lock, &reference).cloned();
    let install_dir = workdir.join(reference.install_dir());
    if !args.force && std::fs::symlink_metadata(&install_dir).is_ok() {
        // Checked again (with links and lock files) before writing; this only spares the download.
        bail!("{} is already installed; pass --force to replace it", install_dir.display());
    }
    // `--ca-cert` as given; the config's relative to the config file.
    let ca_cert = args.ca_cert.clone().or_else(|| {
        let configured = PathBuf::from(config.install.ca_cert.as_ref()?);
        let base = config_path.as_deref().and_then(std::path::Path::parent).unwrap_or(std::path::Path::new(""));
        Some(base.join(configured))
    });
    let tls = TlsRoots::with_ca_file(ca_cert.as_deref())?;
    if let Some(file) = tls.ca_file() {
        ui::detail!("trusting {} extra CA certificate(s) from {file}", tls.extra_certificates());
    }
    let options = ClientOptions {
        token: std::env::var("CLAWHUB_TOKEN").ok().filter(|t| !t.trim().is_empty()),
        containment: Containment {
            redirect_hosts: config.install.redirect_hosts.clone(),
            allow_private_targets: config.install.allow_private_targets,
        },
        tls,
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(&registry, options)?;
    ui::detail!("registry {}", client.base());

    // What to download: the registry's answer against the request and the pin.
    let what = reference.to_string();
    let detail = match client.skill_detail(&reference.slug, reference.owner.as_deref()) {
        Ok(detail) => detail,
        Err(e) => return registry_failure(&what, e),
    };
    let resolution = resolve(&reference, pin.as_ref(), &detail);
    for note in &resolution.notes {
        ui::note!("{note}");
    }
    let target = match resolution.decision {
        Decision::Download(target) => target,
        Decision::Refuse(refusal) => return refused(&what, refusal),
    };

    let what = format!("{}@{}", reference.lock_key(), target.version);
    ui::detail!("resolved {} to version {}", reference, target.version);
    let fetched = match fetch(&client, &reference.slug, &target, trust.is_some()) {
        Ok(fetched) => fetched,
        Err(e) => return registry_failure(&what, e),
    };
    ui::detail!(
        "downloaded {what}: {} bytes, {}",
        fetched.download.bytes.len(),
        if fetched.signature.is_some() { "with the registry's signature" } else { "no signature" }
    );
    let expected = Expected {
        slug: reference.slug.to_string(),
        owner_handle: target.owner.clone(),
        version: target.version.clone(),
    };
    let verified = match check_archive(
        &fetched.artifact(),
        &expected,
        pin.as_ref(),
        trust.as_ref().map(LoadedTrust::trust),
        unix_now(),
    ) {
        Ok(verified) => verified,
        Err(refusal) => return refuse(&what, &refusal.problems, Exit::Integrity),
    };

    // Scanned in memory, before anything is extracted; the skill's own skillscan-ignore comments
    // are not honoured (its author is the party being checked).
    let scan_options = ScanOptions { inline_ignores: false, ..ScanOptions::default() };
    let report = scanner.scan_archive_bytes(&format!("{what}.zip"), &fetched.download.bytes, &scan_options);
    for warning in &report.warnings {
        eprintln!("skillscan: warning: {warning}");
    }
    ui::detail!(
        "scanned {what}: {} finding(s), rules {}",
        report.skills.iter().map(|s| s.findings.len()).sum::<usize>(),
        report.tool.rules_version
    );
    let verdict = match check_policy(&report, fail_on, args.allow_incomplete) {
        Ok(verdict) => verdict,
        Err(refusal) => return refuse(&what, &refusal.reasons, Exit::Findings),
    };

    for note in &verified.notes {
        ui::note!("{note}");
    }
    let signed = signed_by(&verified, trust.as_ref());
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
    let plan = InstallPlan::prepare(&workdir, &fetched.download.bytes, verified, &record, skills_lock)?;
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
