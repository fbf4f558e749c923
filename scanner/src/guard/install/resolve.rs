//! Before the download: what the registry says about the skill, held against what was asked for
//! and what `skills.lock` pins. A pure function of the three, so every decision has a unit test.
//!
//! In order, the first that applies decides:
//!
//! 1. the registry blocks the skill as malware: a policy refusal (exit 1);
//! 2. the registry answers with another slug (an alias): refused as an error (exit 2), because
//!    the `clawhub` CLI would download whatever slug the detail names and we install only what
//!    was asked for;
//! 3. the request names an owner and the registry names another: an error (exit 2);
//! 4. the pin names who published the skill and the registry now names someone else: an
//!    integrity refusal (exit 3). The same slug from another owner is a transferred or
//!    re-registered skill, the classic rug pull;
//! 5. the version: the one requested, else the one pinned, else the registry's latest; none, or
//!    one the registry names that is not a valid version, is an error (exit 2).
//!
//! A registry that flags the skill as suspicious (without blocking it) only earns a note: the
//! scan decides.

use skillscan_signatures::{LockedSkill, Version};

use crate::clawhub::client::SkillDetail;
use crate::clawhub::state::SkillRef;
use crate::engine::text::escape_snippet;

/// The decision, and what is worth telling the user along the way (in order, whatever the
/// decision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub notes: Vec<String>,
    pub decision: Decision,
}

/// Whether to download, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Download(Target),
    Refuse(Refusal),
}

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub version: String,
    pub version_from: VersionSource,
    /// The owner handle the registry reports: downloads ask for it, and the install records it.
    pub owner: Option<String>,
}

/// Where the version to install came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// `slug@version`.
    Requested,
    /// The version `skills.lock` pins.
    Pinned,
    /// The registry's latest version.
    Latest,
}

impl Target {
    /// Whether to ask the registry whether the version exists before downloading it, as the
    /// `clawhub` CLI does for a version given on its command line (a clear "not found" rather than
    /// a failed download).
    pub fn precheck_version(&self) -> bool {
        self.version_from == VersionSource::Requested
    }
}

/// Why nothing is downloaded. Registry texts are escaped and cut by the client already; slugs and
/// versions that did not pass validation are escaped here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the registry blocks {slug} as {verdict}{}{}",
        summary.as_ref().map(|s| format!(": {s}")).unwrap_or_default(),
        if reason_codes.is_empty() { String::new() } else { format!(" ({})", reason_codes.join(", ")) }
    )]
    Blocked { slug: String, verdict: String, summary: Option<String>, reason_codes: Vec<String> },
    #[error(
        "the registry answers \"{asked}\" with skill \"{answered}\" (an alias?); install \"{answered}\" explicitly if \
         that is the skill you mean"
    )]
    Alias { asked: String, answered: String },
    #[error("the registry says {slug} is owned by \"{answered}\", not \"{asked}\"")]
    OwnerMismatch { slug: String, asked: String, answered: String },
    #[error("skills.lock pins {slug} as published by \"{pinned}\", but the registry now says \"{now}\" owns it")]
    OwnerChanged { slug: String, pinned: String, now: String },
    #[error("{slug} has no hosted version on this registry (GitHub-backed skills are not supported)")]
    NoHostedVersion { slug: String },
    #[error("the registry names version \"{version}\", which is not a valid version")]
    InvalidVersion { version: String },
}

/// How a refusal ends the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The registry's policy says no (exit 1).
    Policy,
    /// The registry contradicts what was pinned (exit 3).
    Integrity,
    /// The registry's answer cannot be installed as asked (exit 2).
    Error,
}

impl Refusal {
    pub fn kind(&self) -> RefusalKind {
        match self {
            Refusal::Blocked { .. } => RefusalKind::Policy,
            Refusal::OwnerChanged { .. } => RefusalKind::Integrity,
            Refusal::Alias { .. }
            | Refusal::OwnerMismatch { .. }
            | Refusal::NoHostedVersion { .. }
            | Refusal::InvalidVersion { .. } => RefusalKind::Error,
        }
    }
}

/// Decides; see the module docs. `pin` is the `skills.lock` entry for the request
/// ([`super::find_pin`]), `detail` what the registry said about the slug.
pub fn resolve(reference: &SkillRef, pin: Option<&LockedSkill>, detail: &SkillDetail) -> Resolution {
    let mut notes = Vec::new();
    let decision = match decide(reference, pin, detail, &mut notes) {
        Ok(target) => Decision::Download(target),
        Err(refusal) => Decision::Refuse(refusal),
    };
    Resolution { notes, decision }
}

fn decide(
    reference: &SkillRef,
    pin: Option<&LockedSkill>,
    detail: &SkillDetail,
    notes: &mut Vec<String>,
) -> Result<Target, Refusal> {
    check_moderation(reference, detail, notes)?;
    check_identity(reference, pin, detail)?;
    let (version, version_from) = choose_version(reference, pin, detail, notes)?;
    Ok(Target { version, version_from, owner: detail.owner_handle.clone() })
}

fn check_moderation(reference: &SkillRef, detail: &SkillDetail, notes: &mut Vec<String>) -> Result<(), Refusal> {
    let Some(moderation) = &detail.moderation else {
        return Ok(());
    };
    if moderation.is_malware_blocked {
        return Err(Refusal::Blocked {
            slug: reference.slug.to_string(),
            verdict: moderation.verdict.clone().unwrap_or_else(|| "malware".to_owned()),
            summary: moderation.summary.clone(),
            reason_codes: moderation.reason_codes.clone(),
        });
    }
    if moderation.is_suspicious {
        notes.push(format!("the registry flags {} as suspicious; scanning it anyway", reference.slug));
    }
    Ok(())
}

/// The skill the registry describes is the one asked for, from the owner asked for and pinned.
fn check_identity(reference: &SkillRef, pin: Option<&LockedSkill>, detail: &SkillDetail) -> Result<(), Refusal> {
    if let Some(canonical) = detail.slug.as_deref().filter(|s| *s != reference.slug.as_str()) {
        return Err(Refusal::Alias { asked: reference.slug.to_string(), answered: escape_snippet(canonical, 80) });
    }
    if let (Some(asked), Some(answered)) = (&reference.owner, &detail.owner_handle)
        && asked.as_str() != answered
    {
        return Err(Refusal::OwnerMismatch {
            slug: reference.slug.to_string(),
            asked: asked.to_string(),
            answered: answered.clone(),
        });
    }
    if let Some(pin) = pin
        && let (Some(pinned), Some(now)) = (&pin.owner, &detail.owner_handle)
        && pinned != now
    {
        return Err(Refusal::OwnerChanged { slug: pin.slug.clone(), pinned: pinned.clone(), now: now.clone() });
    }
    Ok(())
}

fn choose_version(
    reference: &SkillRef,
    pin: Option<&LockedSkill>,
    detail: &SkillDetail,
    notes: &mut Vec<String>,
) -> Result<(String, VersionSource), Refusal> {
    let chosen = match (&reference.version, pin) {
        (Some(version), _) => (version.to_string(), VersionSource::Requested),
        (None, Some(pin)) => {
            notes.push(format!("installing {} {}, the version skills.lock pins", pin.slug, pin.version));
            (pin.version.clone(), VersionSource::Pinned)
        }
        (None, None) => match &detail.latest_version {
            Some(version) => (version.clone(), VersionSource::Latest),
            None => return Err(Refusal::NoHostedVersion { slug: reference.slug.to_string() }),
        },
    };
    if chosen.0.parse::<Version>().is_err() {
        return Err(Refusal::InvalidVersion { version: escape_snippet(&chosen.0, 80) });
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests;
