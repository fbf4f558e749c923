//! `skillscan sign`: sign a skill archive or folder with a statement binding slug, version and
//! digests.
//!
//! What is signed (the minisign "message"):
//! - an **archive**: its exact bytes, so `minisign -Vm skill.zip -p key.pub` verifies our
//!   signature with the stock tool;
//! - a **folder**: its manifest text (`"<sha256>  <path>\n"` per file, the text the tree digest
//!   hashes), written next to the signature as `<name>.manifest`. `minisign -Vm x.manifest -x
//!   x.minisig -p key.pub` verifies it with the stock tool, and `skillscan verify` compares the
//!   signed list with the files to name the ones that changed.
//!
//! The trusted comment is the [`SkillStatement`]; its `timestamp` is the signing time.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use skillscan::guard::caps::MAX_KEY_FILE_BYTES;
use skillscan::guard::integrity::{self, IntegrityLimits, SkillDigest};
use skillscan_signatures::digest::sha256_reader;
use skillscan_signatures::error::KeyError;
use skillscan_signatures::minisign::{SecretKey, sign};
use skillscan_signatures::{SkillStatement, Slug, Version};

use crate::exit::Exit;
use crate::files::{default_signature_path, ensure_outside, manifest_path_for, now, read_text, write_atomic};
use crate::password;
use crate::skills::report_tree_error;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The secret key (minisign format).
    #[arg(long, value_name = "FILE")]
    pub secret_key: PathBuf,
    /// Read the secret key's password from FILE (otherwise asked on the terminal if needed).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Slug to sign as [default: from .clawhub/origin.json, _meta.json or the front-matter name].
    #[arg(long, value_name = "SLUG")]
    pub slug: Option<String>,
    /// Version to sign as [default: from origin.json, _meta.json or the front matter].
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Where to write the signature [default: PATH.minisig, beside PATH].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A skill folder or a zip, tar or tar.gz archive.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// Loads a secret key, asking for its password only if it is encrypted.
pub fn load_secret_key(path: &Path, password_file: Option<&Path>) -> anyhow::Result<SecretKey> {
    let text = zeroize::Zeroizing::new(read_text(path, "secret key", MAX_KEY_FILE_BYTES)?);
    let context = || format!("secret key {}", path.display());
    match SecretKey::parse(&text, None) {
        Err(KeyError::PasswordRequired) => {}
        other => return other.with_context(context),
    }
    let password = match password_file {
        Some(file) => password::from_file(file)?,
        None if password::can_prompt() => password::prompt(&format!("Password for {}: ", path.display()))?,
        None => bail!("secret key {} is encrypted: pass --password-file FILE (no terminal to ask on)", path.display()),
    };
    SecretKey::parse(&text, Some(&password)).with_context(context)
}

/// Slug and version: the flags, else the hints; each validated as the statement requires.
fn identity(digest: &SkillDigest, slug: Option<&str>, version: Option<&str>) -> anyhow::Result<(String, String)> {
    let shown = digest.path.display();
    let slug = match slug {
        Some(slug) if slug.parse::<Slug>().is_ok() => slug.to_owned(),
        Some(slug) => {
            bail!("--slug {slug:?} is not a valid slug (a-z, 0-9, '.', '_', '-'; starting with a letter or digit)")
        }
        None => match digest.hints.slug() {
            Some(hint) => hint.value.to_owned(),
            None => bail!("{shown}: no slug in .clawhub/origin.json, _meta.json or a front-matter `name`; pass --slug"),
        },
    };
    let version = match version {
        Some(version) if version.parse::<Version>().is_ok() => version.to_owned(),
        Some(version) => bail!("--version {version:?} is not a valid version (letters, digits, '.', '+', '_', '-')"),
        None => match digest.hints.version() {
            Some(hint) => hint.value.to_owned(),
            None => {
                bail!("{shown}: no version in .clawhub/origin.json, _meta.json or the front matter; pass --version")
            }
        },
    };
    Ok((slug, version))
}

pub fn run(args: SignArgs) -> anyhow::Result<Exit> {
    let secret = load_secret_key(&args.secret_key, args.password_file.as_deref())?;
    let digest = match integrity::digest_path(&args.path, &IntegrityLimits::default()) {
        Ok(digest) => digest,
        Err(e) => return Ok(report_tree_error(&args.path.display().to_string(), &e)),
    };
    for problem in digest.hints.problems() {
        eprintln!("skillscan: warning: ignored {problem}");
    }
    let (slug, version) = identity(&digest, args.slug.as_deref(), args.version.as_deref())?;
    let signature_path = match &args.output {
        Some(path) => path.clone(),
        None => default_signature_path(&args.path)?,
    };
    let manifest_path = (!digest.kind.is_archive()).then(|| manifest_path_for(&signature_path));
    if !digest.kind.is_archive() {
        for output in std::iter::once(&signature_path).chain(manifest_path.as_ref()) {
            ensure_outside(output, &args.path)?;
        }
    }
    let statement = SkillStatement {
        slug,
        version,
        archive_sha256: digest.archive_sha256,
        tree_digest: digest.tree_digest(),
        timestamp: now(),
        file: if digest.kind.is_archive() {
            digest.path.file_name().map(|n| n.to_string_lossy().into_owned()).filter(|n| hints_safe_file_name(n))
        } else {
            None
        },
    };
    let comment = statement.to_trusted_comment()?;
    let untrusted = format!("signature from skillscan secret key {}", secret.key_id());
    let manifest_text = digest.manifest.manifest_text();
    let signature = if digest.kind.is_archive() {
        let file =
            std::fs::File::open(&digest.path).with_context(|| format!("cannot read {}", digest.path.display()))?;
        sign(&secret, file, &comment, &untrusted)
    } else {
        sign(&secret, manifest_text.as_bytes(), &comment, &untrusted)
    }
    .with_context(|| format!("signing {}", digest.path.display()))?;

    // A signature over bytes that changed while we read them would verify nothing useful.
    if digest.kind.is_archive() {
        let file =
            std::fs::File::open(&digest.path).with_context(|| format!("cannot read {}", digest.path.display()))?;
        let (again, _) = sha256_reader(file).with_context(|| format!("cannot read {}", digest.path.display()))?;
        if Some(again) != digest.archive_sha256 {
            bail!("{} changed while it was being signed; nothing was written", args.path.display());
        }
    }
    if let Some(manifest_path) = &manifest_path {
        write_atomic(manifest_path, manifest_text.as_bytes(), 0o644)?;
    }
    write_atomic(&signature_path, signature.to_file_string().as_bytes(), 0o644)?;

    println!("signed {} as {} {} with key {}", args.path.display(), statement.slug, statement.version, secret.key_id());
    println!("  tree digest     {}", statement.tree_digest);
    if let Some(sha) = statement.archive_sha256 {
        println!("  archive sha256  {sha}");
    }
    println!("  signature       {}", signature_path.display());
    if let Some(manifest_path) = &manifest_path {
        println!("  signed manifest {} ({} files)", manifest_path.display(), digest.manifest.files().len());
    }
    Ok(Exit::Clean)
}

/// The `file:` field is for humans and optional: leave it out rather than fail on a file name
/// the statement cannot hold (control characters).
fn hints_safe_file_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 4096 && !name.chars().any(char::is_control)
}
