//! `skillscan digest`: print each skill's tree digest, archive sha256 and ClawHub fingerprints.
//! Exit 0 when every skill could be digested, 3 when one is at fault (link, unsafe path, bomb,
//! corrupt archive), 2 when one could not be read.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;
use skillscan::guard::integrity::{self, IntegrityLimits, SkillDigest, SkillTarget, TreeError};

use crate::exit::Exit;
use crate::shared::write_output;
use crate::skills::{report_tree_error, targets, worse};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Skill folders or archives; a folder holding several skills digests each.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DigestFormat::Human)]
    pub format: DigestFormat,
}

/// One skill in `--format json` (version 1; fields may be added, never removed).
#[derive(Serialize)]
struct JsonSkill<'a> {
    path: &'a str,
    kind: &'static str,
    files: usize,
    bytes: u64,
    tree_digest: String,
    archive_sha256: Option<String>,
    /// What `clawhub install` records in origin.json (installed folder, `_meta.json` included).
    clawhub_fingerprint: String,
    /// What the registry's `/api/v1/resolve` matches (stored files only).
    server_fingerprint: String,
    top_folder: Option<&'a str>,
    excluded: &'a [String],
    slug: Option<&'a str>,
    owner: Option<&'a str>,
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonError {
    path: String,
    error: String,
    integrity: bool,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    skills: Vec<JsonSkill<'a>>,
    errors: Vec<JsonError>,
}

pub fn run(args: DigestArgs) -> anyhow::Result<Exit> {
    let mut exit = Exit::Clean;
    let mut found: Vec<SkillTarget> = Vec::new();
    let mut errors = Vec::new();
    for path in &args.paths {
        match targets(path, true) {
            Ok(more) => found.extend(more),
            Err(e) => errors.push((path.display().to_string(), e)),
        }
    }
    let results: Vec<(&SkillTarget, Result<SkillDigest, TreeError>)> = found
        .par_iter()
        .map(|target| (target, integrity::digest_path(&target.path, &IntegrityLimits::default())))
        .collect();
    let mut digests = Vec::new();
    for (target, result) in results {
        match result {
            Ok(digest) => digests.push((target, digest)),
            Err(e) => errors.push((target.display.clone(), e)),
        }
    }
    for (display, error) in &errors {
        exit = worse(exit, report_tree_error(display, error));
    }

    let out = match args.format {
        DigestFormat::Json => {
            let report = JsonReport {
                version: 1,
                skills: digests.iter().map(|(target, digest)| json_skill(target, digest)).collect(),
                errors: errors
                    .iter()
                    .map(|(path, e)| JsonError {
                        path: path.clone(),
                        error: e.to_string(),
                        integrity: e.is_integrity(),
                    })
                    .collect(),
            };
            let mut text = serde_json::to_string_pretty(&report)?;
            text.push('\n');
            text
        }
        DigestFormat::Human => {
            let mut text = String::new();
            for (target, digest) in &digests {
                human(&mut text, target, digest);
            }
            text
        }
    };
    write_output(None, out.as_bytes())?;
    Ok(exit)
}

fn json_skill<'a>(target: &'a SkillTarget, digest: &'a SkillDigest) -> JsonSkill<'a> {
    JsonSkill {
        path: &target.display,
        kind: digest.kind.as_str(),
        files: digest.manifest.files().len(),
        bytes: digest.manifest.total_size(),
        tree_digest: digest.tree_digest().to_string(),
        archive_sha256: digest.archive_sha256.map(|d| d.to_string()),
        clawhub_fingerprint: digest.clawhub_fingerprint().to_string(),
        server_fingerprint: digest.server_fingerprint().to_string(),
        top_folder: digest.top_folder.as_deref(),
        excluded: digest.excluded_paths(),
        slug: digest.hints.slug().map(|h| h.value),
        owner: digest.hints.owner().map(|h| h.value),
        version: digest.hints.version().map(|h| h.value),
    }
}

fn human(out: &mut String, target: &SkillTarget, digest: &SkillDigest) {
    use std::fmt::Write as _;
    let identity = match (digest.hints.slug(), digest.hints.version()) {
        (Some(slug), Some(version)) => format!(", {} {}", slug.value, version.value),
        (Some(slug), None) => format!(", {}", slug.value),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} ({}, {} files, {} bytes{identity})",
        target.display,
        digest.kind,
        digest.manifest.files().len(),
        digest.manifest.total_size()
    );
    let _ = writeln!(out, "  tree digest     {}", digest.tree_digest());
    if let Some(sha) = digest.archive_sha256 {
        let _ = writeln!(out, "  archive sha256  {sha}");
    }
    let _ = writeln!(out, "  clawhub         {}  (origin.json fingerprint)", digest.clawhub_fingerprint());
    let _ = writeln!(out, "  server          {}  (registry fingerprint)", digest.server_fingerprint());
    if let Some(top) = &digest.top_folder {
        let _ = writeln!(out, "  top folder      {top}/ (stripped)");
    }
    if !digest.excluded_paths().is_empty() {
        let _ = writeln!(out, "  excluded        {}", digest.excluded_paths().join(", "));
    }
}
