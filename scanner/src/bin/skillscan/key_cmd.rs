//! `skillscan key generate`: a minisign key pair.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use skillscan_signatures::minisign::{KdfParams, SecretKey};

use crate::exit::Exit;
use crate::files::write_new;
use crate::password;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a minisign-compatible Ed25519 key pair (the secret key file gets mode 0600).
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Where to write the secret key (minisign format; never printed).
    #[arg(long, value_name = "FILE")]
    pub secret_key: PathBuf,
    /// Where to write the public key (minisign format, `minisign -p` reads it).
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
    /// Encrypt the secret key with the password in FILE (scrypt, as minisign does).
    #[arg(long, value_name = "FILE", conflicts_with = "unencrypted")]
    pub password_file: Option<PathBuf>,
    /// Store the secret key without a password (for automation that keeps it elsewhere safe).
    #[arg(long)]
    pub unencrypted: bool,
    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: KeyCommand) -> anyhow::Result<Exit> {
    match command {
        KeyCommand::Generate(args) => generate(args),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<Exit> {
    if args.secret_key == args.public_key {
        bail!("--secret-key and --public-key name the same file");
    }
    // Check both before writing either, so a refusal leaves nothing half done.
    if !args.force {
        for path in [&args.secret_key, &args.public_key] {
            if std::fs::symlink_metadata(path).is_ok() {
                bail!("{} already exists; pass --force to replace it", path.display());
            }
        }
    }
    let password = match (&args.password_file, args.unencrypted) {
        (Some(file), _) => Some(password::from_file(file)?),
        (None, true) => None,
        (None, false) if password::can_prompt() => Some(password::prompt_new()?),
        (None, false) => bail!(
            "no terminal to ask for a password: pass --password-file FILE to encrypt the secret key, \
             or --unencrypted to store it without one"
        ),
    };
    let (secret, public) = SecretKey::generate()?;
    // minisign's own cost (1 GiB, about a second), so the file is as strong as `minisign -G`'s.
    let secret_text = secret.to_file_string(password.as_ref().map(|p| p.as_slice()), KdfParams::default())?;
    write_new(&args.secret_key, secret_text.as_bytes(), 0o600, args.force)?;
    write_new(&args.public_key, public.to_file_string(&public.default_comment()).as_bytes(), 0o644, args.force)?;
    println!("key id:      {}", public.key_id);
    println!("public key:  {}", public.to_base64());
    println!(
        "secret key:  {} ({}, mode 0600)",
        args.secret_key.display(),
        if password.is_some() { "encrypted" } else { "unencrypted" }
    );
    println!("public key file: {}", args.public_key.display());
    println!();
    println!("Trust store entry (for --trusted-keys):");
    println!("[[key]]\nname = \"{}\"\npublic_key = \"{}\"", public.default_comment(), public.to_base64());
    Ok(Exit::Clean)
}
