//! `token create|list|revoke`: API tokens, stored hashed.

use anyhow::{Result, bail};
use clap::Subcommand;
use skillscan_mirror::{Mirror, auth};

use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once.
    Create {
        /// The token's name (to list and revoke it by).
        #[arg(long)]
        name: String,
        /// What it may do: admin (decisions, tokens) or read (a mirror with require_read_token).
        #[arg(long, value_parser = ["admin", "read"])]
        role: String,
    },
    /// List tokens (names, roles; never the secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

pub fn run(m: &Mirror, action: TokenAction) -> Result<Exit> {
    match action {
        TokenAction::Create { name, role } => {
            let tok = auth::create_token(m.meta.as_ref(), &name, &role)?;
            // Shown once; only its sha256 is stored.
            println!("{tok}");
        }
        TokenAction::List => {
            for t in m.meta.tokens()? {
                println!("{:<24} {:<6} {}", t.name, t.role, if t.revoked { "revoked" } else { "active" });
            }
        }
        TokenAction::Revoke { name } => {
            if !m.meta.revoke_token(&name)? {
                bail!("no active token named {name}");
            }
            println!("revoked {name}");
        }
    }
    Ok(Exit::Success)
}
