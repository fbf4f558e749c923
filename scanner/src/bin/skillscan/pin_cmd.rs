//! `skillscan pin`: record skills in `skills.lock` — digests and identity, and with `--scan` the
//! scanner's verdict.
//!
//! Decisions:
//! - **Identity**: slug, owner and version come from the skill's identity files (see
//!   `skillscan::guard::integrity::hints`); a folder without a slug hint falls back to its folder name
//!   when that is a valid slug. `--slug`/`--version` override them and are allowed only when the
//!   paths name exactly one skill.
//! - **Pinned by content**: a skill with no version anywhere (front matter, `_meta.json`,
//!   `.clawhub/origin.json`) is pinned as `version = "unversioned"`: the pin is its digests, which
//!   `verify` and `ci` check as for any pin; a signature's version is then not compared with the
//!   pin. Refusing such skills made `pin` useless on real collections (93 of the 1,337 skills of the
//!   development corpus have no version).
//! - **No scan by default**: the lock's `verdict` is a record of what was vetted, not a policy
//!   decision: nothing reads it to allow or refuse a skill (`ci` and `install` scan for
//!   themselves, `inventory` too). Scanning every skill made `pin` of a large collection take
//!   seconds (4.1 s for the 1,337 skills of the development corpus, 0.1 s without the scan), so `pin` records
//!   `verdict = "unscanned"` unless `--scan`. A re-pin of an unchanged tree keeps the verdict an
//!   earlier `--scan` recorded; `--scan` reuses it too when the rules are the same version (the
//!   verdict is a function of the files and the rules).
//! - **Verdict with `--scan`**: the built-in rules, default configuration, inline `skillscan-ignore`
//!   comments off (the skill's author does not get to silence the scan that approves it); for an
//!   archive holding several skill folders, the worst verdict. A suspicious or malicious verdict is
//!   pinned as such, with a warning: the lock records what was vetted, policy is for `ci`/`install`.
//! - **source**: the `registry` of `.clawhub/origin.json` when it is an `http(s)://` URL (the
//!   skill was installed from there), else `local:<path>` with the path as found under the
//!   command-line path (so run `pin` and `verify` from the same directory, like the lock).
//! - **All or nothing**: if any skill cannot be pinned, the lock is not written.
//! - `signing_key_id` is left out: `pin` does not check signatures (`verify` does).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use rayon::prelude::*;

use skillscan::engine::package::{self, Limits, SkillSource, Source};
use skillscan::guard::integrity::{self, IntegrityLimits, SkillDigest, SkillTarget};
use skillscan::{Config, RuleSet, ScanOptions, Scanner, Verdict};
use skillscan_signatures::{LockedSkill, SkillsLock, Slug, UNSCANNED, UNVERSIONED, Version};

use crate::exit::Exit;
use crate::files::{local_source, now, write_atomic};
use crate::skills::{report_tree_error, targets, worse};
use crate::trust::load_lock_if_exists;
use crate::ui;

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Skill folders or archives; a folder holding several skills pins each (as `scan` finds them).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The lock file to create or update.
    #[arg(long, value_name = "FILE", default_value = "skills.lock")]
    pub lock: PathBuf,
    /// Slug to pin as (only when pinning a single skill) [default: from its identity files].
    #[arg(long, value_name = "SLUG")]
    pub slug: Option<String>,
    /// Version to pin as (only when pinning a single skill) [default: from its identity files,
    /// else `unversioned`: pinned by content].
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Also scan each skill and record the verdict (built-in rules, inline ignores off) [default:
    /// digests and identity only, `verdict = "unscanned"`].
    #[arg(long)]
    pub scan: bool,
}

pub fn run(args: PinArgs) -> anyhow::Result<Exit> {
    let mut lock = load_lock_if_exists(&args.lock)?.unwrap_or_else(SkillsLock::new);
    let mut exit = Exit::Clean;
    let mut found: Vec<SkillTarget> = Vec::new();
    for path in &args.paths {
        match targets(path, true) {
            Ok(more) => found.extend(more),
            Err(e) => exit = worse(exit, report_tree_error(&path.display().to_string(), &e)),
        }
    }
    if found.len() != 1 && (args.slug.is_some() || args.version.is_some()) {
        bail!("--slug and --version apply to one skill; the paths name {}", found.len());
    }
    let scanner = if args.scan { Some(Scanner::new(RuleSet::builtin()?, &Config::default())) } else { None };
    let options = ScanOptions { inline_ignores: false, ..ScanOptions::default() };
    let rules_version = scanner.as_ref().map(|s| s.rules().version.clone());
    let pinned_at = now();
    let context = PinContext {
        scanner: scanner.as_ref(),
        options: &options,
        rules_version: rules_version.as_deref(),
        lock: &lock,
    };

    let bar = ui::progress_bar(found.len() as u64, "skills");
    let results: Vec<(&SkillTarget, Result<LockedSkill, Exit>)> = found
        .par_iter()
        .map(|target| {
            ui::detail!("pinning {}", target.display);
            let result = pin_one(&context, target, &args, pinned_at);
            bar.inc(1);
            (target, result)
        })
        .collect();
    bar.finish_and_clear();
    let mut entries = Vec::new();
    for (target, result) in results {
        match result {
            Ok(entry) => entries.push((target, entry)),
            Err(code) => exit = worse(exit, code),
        }
    }
    let mut seen: Vec<(String, Option<String>, &str)> = Vec::new();
    for (target, entry) in &entries {
        if let Some((_, _, other)) = seen.iter().find(|(s, o, _)| *s == entry.slug && *o == entry.owner) {
            eprintln!(
                "skillscan: error: {} and {} both pin as slug \"{}\"; pin them separately with --slug",
                other, target.display, entry.slug
            );
            exit = worse(exit, Exit::Error);
        }
        seen.push((entry.slug.clone(), entry.owner.clone(), &target.display));
    }
    if exit != Exit::Clean {
        eprintln!("skillscan: {} not written", args.lock.display());
        return Ok(exit);
    }
    let (mut by_version, mut by_content) = (0usize, 0usize);
    for (target, entry) in entries {
        let version = match entry.pinned_version() {
            Some(version) => {
                by_version += 1;
                version.to_owned()
            }
            None => {
                by_content += 1;
                "(by content)".to_owned()
            }
        };
        let verdict = if entry.is_scanned() { format!(", verdict {}", entry.verdict) } else { String::new() };
        let line = format!(
            "{} {version} from {} (tree {}, {} files{verdict})",
            entry.slug,
            target.display,
            entry.tree_digest,
            entry.files.len(),
        );
        if matches!(entry.verdict.as_str(), "suspicious" | "malicious") {
            eprintln!(
                "skillscan: warning: {} is {}; pinned anyway (run `skillscan scan {}` to see why)",
                target.display, entry.verdict, target.display
            );
        }
        let tree = entry.tree_digest;
        let replaced = lock.upsert(entry).with_context(|| format!("pinning {}", target.display))?;
        let verb = match replaced {
            None => "pinned",
            Some(old) if old.tree_digest == tree => "re-pinned",
            Some(_) => "updated",
        };
        println!("{verb} {line}");
    }
    write_atomic(&args.lock, lock.to_toml_string().as_bytes(), 0o644)?;
    let total = by_version + by_content;
    println!(
        "pinned {} skill{}: {} by version, {} by content (no version in their files); wrote {}",
        thousands(total),
        if total == 1 { "" } else { "s" },
        thousands(by_version),
        thousands(by_content),
        args.lock.display()
    );
    Ok(Exit::Clean)
}

/// `1337` → `1,337`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What every skill's pin is made with.
struct PinContext<'a> {
    /// `Some` with `--scan`.
    scanner: Option<&'a Scanner>,
    options: &'a ScanOptions,
    rules_version: Option<&'a str>,
    /// The lock as it was: an unchanged tree keeps the verdict recorded for it.
    lock: &'a SkillsLock,
}

/// Digest, (scan,) and describe one skill; failures are printed here and become an exit code.
fn pin_one(
    context: &PinContext<'_>,
    target: &SkillTarget,
    args: &PinArgs,
    pinned_at: u64,
) -> Result<LockedSkill, Exit> {
    let digest = integrity::digest_path(&target.path, &IntegrityLimits::default())
        .map_err(|e| report_tree_error(&target.display, &e))?;
    let mut entry = entry_for(&digest, target, args, pinned_at).map_err(|error| {
        eprintln!("skillscan: error: {error:#}");
        Exit::Error
    })?;
    // The verdict recorded for these very files, if any: kept without --scan, and reused by
    // --scan when the rules are the same version.
    let earlier = context
        .lock
        .find(&entry.slug, entry.owner.as_deref())
        .filter(|old| old.tree_digest == entry.tree_digest && old.is_scanned());
    match (context.scanner, earlier) {
        (None, Some(old)) | (Some(_), Some(old)) if context.rules_version.is_none_or(|v| v == old.rules_version) => {
            entry.verdict = old.verdict.clone();
            entry.rules_version = old.rules_version.clone();
        }
        (Some(scanner), _) => {
            entry.verdict = scan_verdict(scanner, context.options, target)?.as_str().to_owned();
            entry.rules_version = scanner.rules().version.clone();
        }
        (None, _) => {}
    }
    Ok(entry)
}

fn scan_verdict(scanner: &Scanner, options: &ScanOptions, target: &SkillTarget) -> Result<Verdict, Exit> {
    let source = if target.is_archive {
        Source::Archive(target.path.clone())
    } else {
        Source::Dir { path: target.path.clone(), exclude: Vec::new() }
    };
    let skills =
        package::load(&SkillSource { display: target.display.clone(), source }, &Limits::default()).map_err(|e| {
            eprintln!("skillscan: error: {e}");
            Exit::Error
        })?;
    Ok(skills.into_iter().map(|skill| scanner.scan_loaded(skill, options).verdict).max().unwrap_or(Verdict::Clean))
}

/// The entry for one skill, unscanned.
fn entry_for(
    digest: &SkillDigest,
    target: &SkillTarget,
    args: &PinArgs,
    pinned_at: u64,
) -> anyhow::Result<LockedSkill> {
    let shown = &target.display;
    let folder_name = (!target.is_archive)
        .then(|| target.path.canonicalize().ok()?.file_name()?.to_str().map(str::to_owned))
        .flatten()
        .filter(|name| name.parse::<Slug>().is_ok());
    let slug = match &args.slug {
        Some(slug) if slug.parse::<Slug>().is_ok() => slug.clone(),
        Some(slug) => bail!("--slug {slug:?} is not a valid slug"),
        None => match digest.hints.slug().map(|h| h.value.to_owned()).or(folder_name) {
            Some(slug) => slug,
            None => bail!("{shown}: no slug in its identity files or folder name; pin it alone with --slug"),
        },
    };
    let version = match &args.version {
        Some(version) if version.parse::<Version>().is_ok() => version.clone(),
        Some(version) => bail!("--version {version:?} is not a valid version"),
        None => digest.hints.version().map_or_else(|| UNVERSIONED.to_owned(), |hint| hint.value.to_owned()),
    };
    for problem in digest.hints.problems() {
        eprintln!("skillscan: warning: {shown}: ignored {problem}");
    }
    let source = match digest.hints.registry() {
        Some(registry) if registry.starts_with("https://") || registry.starts_with("http://") => registry.to_owned(),
        _ => local_source(shown),
    };
    let entry = LockedSkill {
        slug,
        owner: digest.hints.owner().map(|h| h.value.to_owned()),
        version,
        source,
        archive_sha256: digest.archive_sha256,
        tree_digest: digest.tree_digest(),
        clawhub_fingerprint: Some(digest.clawhub_fingerprint()),
        signing_key_id: None,
        verdict: UNSCANNED.to_owned(),
        rules_version: UNSCANNED.to_owned(),
        pinned_at,
        files: digest.manifest.file_map(),
    };
    entry.validate().with_context(|| format!("pinning {shown}"))?;
    Ok(entry)
}
