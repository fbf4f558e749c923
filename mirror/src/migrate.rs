//! `migrate`: copy a mirror from one pair of backends to another (typically the embedded
//! SQLite + files to PostgreSQL + S3), checking everything it copies.
//!
//! Order, so that an interruption leaves nothing the target would serve wrongly:
//! 1. the source's rows are exported in one read transaction (a consistent state; the source
//!    may keep serving and syncing meanwhile, and what it does after that point is not copied);
//! 2. every pinned blob is read from the source (its sha256 checked), every signature is
//!    verified against the mirror's public key over those exact bytes, and the blob is written
//!    to the target and read back (its sha256 checked again);
//! 3. only then are the rows imported, in one transaction, into a target that must be empty;
//! 4. the target's rows are exported again and compared with what was copied.
//!
//! A blob under an open blob fault may be missing or corrupt at the source: it is copied if
//! it verifies, else left out, and the fault travels with the rows so the target reports it
//! too. Any other unreadable blob or bad signature stops the migration before a row is written.

use std::collections::BTreeSet;

use thiserror::Error;

use crate::store::{BlobStore, MetaStore, StoreError};

#[derive(Debug, Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the target already holds a mirror ({0}); migrate only into an empty database")]
    TargetNotEmpty(String),
    #[error("{key}: the source blob cannot be copied: {source}")]
    Blob { key: String, source: StoreError },
    #[error("{key}: {reason}")]
    Signature { key: String, reason: String },
    #[error("{key}: the target returned blob {got} for bytes pinned as {pinned}")]
    BlobMismatch { key: String, pinned: String, got: String },
    #[error("the target's rows differ from the source's after the import: {0}")]
    RowsDiffer(String),
}

/// What a migration copied and checked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    pub versions: usize,
    /// Distinct blobs written to the target (several versions may share bytes).
    pub blobs: usize,
    pub blob_bytes: u64,
    pub signatures_verified: usize,
    pub audit_events: usize,
    pub tokens: usize,
    /// Versions under an open blob fault whose blob could not be read: rows copied, blob not.
    pub faulted_not_copied: Vec<String>,
}

/// Copy everything from (`meta_from`, `blobs_from`) to (`meta_to`, `blobs_to`); see the module
/// docs. `public_key` is the mirror's minisign public key file text: needed when any version
/// carries a signature. `progress(done, total)` is called after each version.
pub fn migrate(
    meta_from: &dyn MetaStore,
    blobs_from: &dyn BlobStore,
    meta_to: &dyn MetaStore,
    blobs_to: &dyn BlobStore,
    public_key: Option<&str>,
    progress: &dyn Fn(usize, usize),
) -> Result<MigrateReport, MigrateError> {
    // Every table, not only versions: queued webhooks or alerts left in a reused database
    // would otherwise be merged into the copy (and delivered).
    let held = meta_to.export()?;
    let counts = [
        ("versions", held.versions.len()),
        ("audit events", held.audit.len()),
        ("tokens", held.tokens.len()),
        ("alerts", held.alerts.len()),
        ("sync failures", held.sync_failures.len()),
        ("queued webhooks", held.outbox.len()),
        ("blob faults", held.blob_faults.len()),
    ];
    if let Some((what, n)) = counts.iter().find(|(_, n)| *n > 0) {
        return Err(MigrateError::TargetNotEmpty(format!("{n} {what}")));
    }
    let export = meta_from.export()?;
    let faulted: BTreeSet<(&str, &str)> =
        export.blob_faults.iter().map(|f| (f.slug.as_str(), f.version.as_str())).collect();
    let mut report = MigrateReport {
        versions: export.versions.len(),
        audit_events: export.audit.len(),
        tokens: export.tokens.len(),
        ..MigrateReport::default()
    };
    let mut copied: BTreeSet<&str> = BTreeSet::new();
    let total = export.versions.len();
    for (done, v) in export.versions.iter().enumerate() {
        let key = v.key();
        let bytes = match blobs_from.get(&v.archive_sha256) {
            Ok(bytes) => bytes,
            Err(e) if faulted.contains(&(v.slug.as_str(), v.version.as_str())) => {
                tracing::warn!(version = %key, error = %e, "blob under an open fault not copied");
                report.faulted_not_copied.push(key);
                progress(done + 1, total);
                continue;
            }
            Err(source) => return Err(MigrateError::Blob { key, source }),
        };
        if let Some(sig) = &v.signature {
            let Some(pk) = public_key else {
                return Err(MigrateError::Signature {
                    key,
                    reason: "signed, but no public key to verify it with (keys/mirror.pub or --public-key)".into(),
                });
            };
            crate::adapters::verify_approval(pk, &v.slug, &v.version, &bytes, sig)
                .map_err(|reason| MigrateError::Signature { key: key.clone(), reason })?;
            report.signatures_verified += 1;
        }
        if copied.insert(v.archive_sha256.as_str()) {
            let got = blobs_to.put(&bytes).map_err(|source| MigrateError::Blob { key: key.clone(), source })?;
            if got != v.archive_sha256 {
                return Err(MigrateError::BlobMismatch { key, pinned: v.archive_sha256.clone(), got });
            }
            // Read back through the target's own verification before any row points at it.
            blobs_to.get(&got).map_err(|source| MigrateError::Blob { key: key.clone(), source })?;
            report.blobs += 1;
            report.blob_bytes += bytes.len() as u64;
        }
        progress(done + 1, total);
    }
    meta_to.import(&export)?;
    let again = meta_to.export()?;
    let (want, got) = (serde_json::to_value(&export), serde_json::to_value(&again));
    match (want, got) {
        (Ok(w), Ok(g)) if w == g => Ok(report),
        (Ok(_), Ok(_)) => Err(MigrateError::RowsDiffer(format!(
            "source {} versions / {} audit events, target {} / {}",
            export.versions.len(),
            export.audit.len(),
            again.versions.len(),
            again.audit.len()
        ))),
        (Err(e), _) | (_, Err(e)) => Err(MigrateError::RowsDiffer(e.to_string())),
    }
}
