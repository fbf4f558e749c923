//! What a valid ClawHub name is: a slug, a version, an owner handle.
//!
//! One rule for the whole crate, and it is the signatures crate's: a name is valid when it could
//! appear in a signed statement (slug, version) or in `skills.lock` (owner), so that nothing the
//! protocol layer accepts is refused later by `sign`, `pin` or `verify`. The checks build a dummy
//! statement or lock entry and ask it to validate itself; they move to the signatures crate's
//! identity types once those exist.

use skillscan_signatures::digest::Sha256Digest;
use skillscan_signatures::{LockedSkill, SkillStatement};

/// Whether a slug could appear in a signed statement (the signatures crate's rule).
pub fn is_valid_slug(slug: &str) -> bool {
    statement_with(slug, "0").validate().is_ok()
}

/// Whether a version could appear in a signed statement (the signatures crate's rule).
pub fn is_valid_version(version: &str) -> bool {
    statement_with("a", version).validate().is_ok()
}

/// Whether an owner handle could appear in `skills.lock` (the signatures crate's rule).
pub fn is_valid_owner(owner: &str) -> bool {
    let entry = LockedSkill {
        slug: "a".to_owned(),
        owner: Some(owner.to_owned()),
        version: "0".to_owned(),
        source: "local:.".to_owned(),
        archive_sha256: None,
        tree_digest: Sha256Digest([0; 32]),
        clawhub_fingerprint: None,
        signing_key_id: None,
        verdict: "clean".to_owned(),
        rules_version: "0".to_owned(),
        pinned_at: 0,
        files: Default::default(),
    };
    entry.validate().is_ok()
}

fn statement_with(slug: &str, version: &str) -> SkillStatement {
    SkillStatement {
        slug: slug.to_owned(),
        version: version.to_owned(),
        archive_sha256: None,
        tree_digest: Sha256Digest([0; 32]),
        timestamp: 0,
        file: None,
    }
}
