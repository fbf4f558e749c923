//! `key init|rotate`: the signing key's lifecycle. Secret keys are written 0600 and never
//! printed; only the public key's path is.

use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Subcommand;
use skillscan_mirror::Mirror;
use skillscan_mirror::adapters::NativeSigner;
use skillscan_mirror::vetting::ApprovalSigner;

use crate::exit::Exit;
use crate::shared::blocking;

#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Create the signing key of a mirror that has none and has never signed anything.
    Init,
    /// Make a new signing key and re-sign every approved version with it (audited). Also
    /// the way back after the key was lost; clients must then pin the new public key.
    Rotate {
        /// Who rotates (recorded in the audit log).
        #[arg(long)]
        by: String,
    },
}

pub async fn run(m: Arc<Mirror>, action: KeyAction) -> Result<Exit> {
    let public = m.data_dir.join("keys").join("mirror.pub");
    match action {
        KeyAction::Init => {
            let signed = m.meta.signed_versions()?;
            if signed > 0 && !m.data_dir.join("keys").join("mirror.key").exists() {
                bail!(
                    "{signed} approved version(s) were signed with a key that is now missing; `key init` will not \
                     replace it silently: restore keys/ from a backup or run `skillscan-mirror key rotate --by NAME`"
                );
            }
            NativeSigner::generate(&m.data_dir)?;
            println!("created the signing key; public key: {}", public.display());
        }
        KeyAction::Rotate { by } => {
            let data = m.data_dir.clone();
            let m2 = m.clone();
            let n = blocking(move || {
                // Resumable: an interrupted rotation reuses its pending key.
                let new = NativeSigner::begin_rotation(&data)?;
                let key_id = key_id(&new);
                let reason = format!("signing key rotated to key id {key_id} (by {by})");
                let n = m2.resign_all(&new, &by, &reason)?;
                NativeSigner::finish_rotation(&data)?;
                Ok(n)
            })
            .await?;
            println!("rotated the signing key; {n} approved version(s) re-signed; public key: {}", public.display());
        }
    }
    Ok(Exit::Success)
}

/// The key id line of the public key file (the base64 key), for the audit log.
fn key_id(signer: &NativeSigner) -> String {
    signer.public_key().lines().nth(1).unwrap_or_default().to_string()
}
