//! The admission policy (TOML). Pure: [`Policy::decide`] maps facts to a decision, so it is
//! tested without storage or a scanner.
//!
//! Fail closed everywhere: a policy file that does not parse stops the mirror from
//! starting, a scanner error never reaches `decide` (the caller quarantines), and anything
//! not explicitly auto-approvable is held for review.
//!
//! ```toml
//! min_age = "7d"                  # hold versions younger than this (upstream publish time)
//! review_unseen_publishers = true # first version from an owner never auto-approves
//! require_allowlist = false       # only versions matching an [[allow]] entry auto-approve
//!
//! [verdicts]                      # approve | quarantine | reject
//! clean = "approve"
//! caution = "quarantine"
//! suspicious = "reject"
//! malicious = "reject"
//!
//! [updates]                       # new versions of a skill that already has an approved one
//! hold_new_capabilities = true    # any new host/binary/credential path/persistence/privilege → review
//! auto_approve_unchanged = false  # no new capability and not rejected → approve (skips min_age etc.)
//!
//! [[deny]]                        # matching versions are rejected whatever the scan says
//! owner = "mallory"               # all keys optional; an entry matches when all given keys match
//! slug = "crypto-*"               # glob
//! versions = ">=1.0.0, <2.0.0"    # semver requirement
//! reason = "known bad publisher"
//!
//! [[allow]]                       # trusted: skips min_age, unseen-publisher review and require_allowlist
//! owner = "acme"
//! ```

use std::path::Path;
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::vetting::{CapabilityDelta, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Approve,
    Quarantine,
    Reject,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerdictActions {
    pub clean: Action,
    pub caution: Action,
    pub suspicious: Action,
    pub malicious: Action,
}

impl Default for VerdictActions {
    fn default() -> Self {
        VerdictActions {
            clean: Action::Approve,
            caution: Action::Quarantine,
            suspicious: Action::Reject,
            malicious: Action::Reject,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateRules {
    pub hold_new_capabilities: bool,
    pub auto_approve_unchanged: bool,
}

impl Default for UpdateRules {
    fn default() -> Self {
        UpdateRules { hold_new_capabilities: true, auto_approve_unchanged: false }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub owner: Option<String>,
    pub slug: Option<String>,
    pub versions: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyFile {
    pub min_age: String,
    pub review_unseen_publishers: bool,
    pub require_allowlist: bool,
    pub verdicts: VerdictActions,
    pub updates: UpdateRules,
    pub allow: Vec<RuleEntry>,
    pub deny: Vec<RuleEntry>,
}

impl Default for PolicyFile {
    fn default() -> Self {
        PolicyFile {
            min_age: "0s".into(),
            review_unseen_publishers: false,
            require_allowlist: false,
            verdicts: VerdictActions::default(),
            updates: UpdateRules::default(),
            allow: vec![],
            deny: vec![],
        }
    }
}

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid policy: {0}")]
    Parse(String),
}

#[derive(Debug, Clone)]
struct Rule {
    owner: Option<String>,
    slug: Option<GlobMatcher>,
    versions: Option<semver::VersionReq>,
    reason: String,
}

impl Rule {
    fn compile(e: &RuleEntry, kind: &str) -> Result<Rule, PolicyError> {
        if e.owner.is_none() && e.slug.is_none() && e.versions.is_none() {
            return Err(PolicyError::Parse(format!("a [[{kind}]] entry needs at least one of owner, slug, versions")));
        }
        let slug = e
            .slug
            .as_deref()
            .map(|g| Glob::new(g).map(|g| g.compile_matcher()))
            .transpose()
            .map_err(|err| PolicyError::Parse(format!("[[{kind}]] slug glob: {err}")))?;
        let versions = e
            .versions
            .as_deref()
            .map(semver::VersionReq::parse)
            .transpose()
            .map_err(|err| PolicyError::Parse(format!("[[{kind}]] versions: {err}")))?;
        Ok(Rule {
            owner: e.owner.as_deref().map(|o| o.trim_start_matches('@').to_ascii_lowercase()),
            slug,
            versions,
            reason: e.reason.clone().unwrap_or_else(|| format!("matched a [[{kind}]] entry")),
        })
    }

    fn matches(&self, slug: &str, version: &semver::Version, owner: Option<&str>) -> bool {
        self.owner.as_deref().is_none_or(|o| owner.is_some_and(|x| x.eq_ignore_ascii_case(o)))
            && self.slug.as_ref().is_none_or(|g| g.is_match(slug))
            && self.versions.as_ref().is_none_or(|r| r.matches(version))
    }
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PolicyFile,
    min_age: Duration,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from_file(PolicyFile::default()).unwrap_or_else(|_| unreachable_default())
    }
}

fn unreachable_default() -> Policy {
    Policy { file: PolicyFile::default(), min_age: Duration::ZERO, allow: vec![], deny: vec![] }
}

/// Everything `decide` looks at.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub slug: &'a str,
    pub version: &'a semver::Version,
    pub owner: Option<&'a str>,
    pub published_at: i64,
    pub now: i64,
    pub verdict: Verdict,
    pub scan_summary: &'a str,
    /// Whether the owner already has an approved (or once-approved) version here.
    pub owner_seen: bool,
    /// For an update of a skill with an approved version: what it adds.
    pub update_delta: Option<&'a CapabilityDelta>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve(String),
    Quarantine(String),
    Reject(String),
}

/// Why a version is held, read back from the reason [`Policy::decide`] (and the curator) wrote
/// for it: the review queue filters and labels by it. The texts it reads are written in this file
/// and in `service.rs`; the tests below pin each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum HoldReason {
    /// The scanner's verdict maps to quarantine (`caution` by default).
    Verdict,
    NewCapabilities,
    UnseenPublisher,
    MinAge,
    OwnerChange,
    NotAllowlisted,
    /// The scanner failed or timed out: held, fail closed.
    ScanFailed,
    Other,
}

impl HoldReason {
    pub const ALL: [HoldReason; 8] = [
        HoldReason::Verdict,
        HoldReason::NewCapabilities,
        HoldReason::UnseenPublisher,
        HoldReason::MinAge,
        HoldReason::OwnerChange,
        HoldReason::NotAllowlisted,
        HoldReason::ScanFailed,
        HoldReason::Other,
    ];

    pub fn of(state_reason: &str) -> HoldReason {
        let r = state_reason;
        if r.starts_with("update adds capabilities") {
            HoldReason::NewCapabilities
        } else if r.starts_with("owner changed from") {
            HoldReason::OwnerChange
        } else if r.starts_with("publisher ") && r.contains("not seen before") {
            HoldReason::UnseenPublisher
        } else if r.contains("policy minimum age") {
            HoldReason::MinAge
        } else if r.starts_with("not on the policy allowlist") {
            HoldReason::NotAllowlisted
        } else if r.starts_with("scanner verdict ") && r.contains("held for review") {
            HoldReason::Verdict
        } else if r.ends_with("(fail closed)") {
            HoldReason::ScanFailed
        } else {
            HoldReason::Other
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A duration of the config and policy files: `"0"` or a number and one unit, `s`, `m`, `h`, `d`
/// (24 hours) or `w` (7 days): `"7d"`, `"12h"`, `"30m"`, `"45s"`. Nothing else (`"7 days"` is
/// refused, as the documented grammar says).
///
/// The number and unit become a `jiff::Span`, whose units are bounded (about 20,000 years
/// each), and jiff turns it into a duration. So a number too large (`"99999999999999999d"`) is
/// an error naming the input and the allowed range, where the hand-written parser this replaced
/// multiplied `u64`s and overflowed (a panic in debug builds, a wrapped `min_age` in release
/// ones); and every duration accepted here also fits the millisecond timestamps and the timers
/// it is added to. jiff's own friendly format is not used as the grammar: it also reads
/// `"7 days"`, `"1d 12h"` and ISO 8601, which would widen what a config file may say.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = match number.parse() {
        Ok(n) => n,
        Err(_) if number.is_empty() => return Err(format!("invalid duration `{s}`")),
        Err(_) => return Err(format!("invalid duration `{s}`: the number is too large")),
    };
    let span = match unit {
        "s" => jiff::Span::new().try_seconds(n),
        "m" => jiff::Span::new().try_minutes(n),
        "h" => jiff::Span::new().try_hours(n),
        "d" => jiff::Span::new().try_days(n),
        "w" => jiff::Span::new().try_weeks(n),
        _ => return Err(format!("invalid duration `{s}` (use s, m, h, d or w)")),
    };
    let duration = span
        .and_then(|span| span.to_duration(jiff::SpanRelativeTo::days_are_24_hours()))
        .map_err(|e| format!("invalid duration `{s}`: {e}"))?;
    Duration::try_from(duration).map_err(|e| format!("invalid duration `{s}`: {e}"))
}

impl Policy {
    pub fn from_file(file: PolicyFile) -> Result<Policy, PolicyError> {
        let min_age = parse_duration(&file.min_age).map_err(PolicyError::Parse)?;
        let allow = file.allow.iter().map(|e| Rule::compile(e, "allow")).collect::<Result<_, _>>()?;
        let deny = file.deny.iter().map(|e| Rule::compile(e, "deny")).collect::<Result<_, _>>()?;
        Ok(Policy { file, min_age, allow, deny })
    }

    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        Policy::from_file(file)
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::Read { path: path.display().to_string(), source: e })?;
        Policy::parse(&text)
    }

    pub fn action_for(&self, v: Verdict) -> Action {
        match v {
            Verdict::Clean => self.file.verdicts.clean,
            Verdict::Caution => self.file.verdicts.caution,
            Verdict::Suspicious => self.file.verdicts.suspicious,
            Verdict::Malicious => self.file.verdicts.malicious,
        }
    }

    /// The deny entry matching this version, if any.
    pub fn denied(&self, slug: &str, version: &semver::Version, owner: Option<&str>) -> Option<&str> {
        self.deny.iter().find(|r| r.matches(slug, version, owner)).map(|r| r.reason.as_str())
    }

    pub fn decide(&self, f: &Facts<'_>) -> Decision {
        if let Some(reason) = self.denied(f.slug, f.version, f.owner) {
            return Decision::Reject(format!("denied by policy: {reason}"));
        }
        let action = self.action_for(f.verdict);
        if action == Action::Reject {
            return Decision::Reject(format!("scanner verdict {}: {}", f.verdict, f.scan_summary));
        }
        let allowed = self.allow.iter().any(|r| r.matches(f.slug, f.version, f.owner));
        if self.file.require_allowlist && !allowed {
            return Decision::Quarantine("not on the policy allowlist: held for review".into());
        }
        if let Some(delta) = f.update_delta {
            if !delta.is_empty() && self.file.updates.hold_new_capabilities {
                return Decision::Quarantine(format!(
                    "update adds capabilities over the last approved version: {}",
                    delta.lines().join(", ")
                ));
            }
            if delta.is_empty() && self.file.updates.auto_approve_unchanged {
                return Decision::Approve(format!("update with no new capability (verdict {})", f.verdict));
            }
        }
        if action == Action::Quarantine {
            return Decision::Quarantine(format!("scanner verdict {}: held for review: {}", f.verdict, f.scan_summary));
        }
        if !allowed && self.file.review_unseen_publishers && !f.owner_seen {
            return Decision::Quarantine(format!(
                "publisher {} not seen before: mandatory review",
                f.owner.unwrap_or("(unknown)")
            ));
        }
        if !allowed && !self.min_age.is_zero() {
            let age_ms = f.now.saturating_sub(f.published_at);
            if age_ms < self.min_age.as_millis() as i64 {
                return Decision::Quarantine(format!(
                    "younger than the policy minimum age ({}): held",
                    self.file.min_age
                ));
            }
        }
        Decision::Approve(format!("scanner verdict {}; approved by policy", f.verdict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reasons the curator writes besides `decide`'s (service.rs) read back as what they are.
    #[test]
    fn hold_reasons_written_elsewhere_read_back() {
        let owner = "owner changed from acme to mallory since the last approved version: held for review";
        assert_eq!(HoldReason::of(owner), HoldReason::OwnerChange);
        let failed = "scan failed: marker SCANFAIL: held in quarantine (fail closed)";
        assert_eq!(HoldReason::of(failed), HoldReason::ScanFailed);
        assert_eq!(HoldReason::of("by hand"), HoldReason::Other);
        for reason in HoldReason::ALL {
            assert_eq!(reason.as_str().parse::<HoldReason>(), Ok(reason));
        }
    }

    #[test]
    fn durations() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs());
        for (text, expected) in [
            ("0", 0),
            ("0s", 0),
            ("45s", 45),
            ("30m", 1_800),
            ("12h", 43_200),
            ("7d", 604_800),
            ("2w", 1_209_600),
            (" 7d ", 604_800),
        ] {
            assert_eq!(secs(text), Ok(expected), "{text:?}");
        }
        for bad in ["", "7", "7x", "-7d", "+7d", "1mo", "1y", "d", "7 days", "1d 12h", "P7D"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    /// Regression: `n * 86_400` on `u64` overflowed (a panic in debug builds).
    #[test]
    fn huge_durations_are_errors_not_overflows() {
        for huge in ["99999999999999999d", "18446744073709551615s", "99999999999999999w", "9999999999999999999999h"] {
            let error = parse_duration(huge).err().unwrap_or_default();
            assert!(error.starts_with(&format!("invalid duration `{huge}`: ")), "{huge}: {error}");
        }
    }

    fn facts<'a>(v: &'a semver::Version, verdict: Verdict) -> Facts<'a> {
        Facts {
            slug: "weather-brief",
            version: v,
            owner: Some("acme"),
            published_at: 0,
            now: 1_000,
            verdict,
            scan_summary: "s",
            owner_seen: true,
            update_delta: None,
        }
    }

    #[test]
    fn defaults() {
        let p = Policy::default();
        let v = semver::Version::new(1, 0, 0);
        assert!(matches!(p.decide(&facts(&v, Verdict::Clean)), Decision::Approve(_)));
        assert!(
            matches!(p.decide(&facts(&v, Verdict::Caution)), Decision::Quarantine(r) if HoldReason::of(&r) == HoldReason::Verdict)
        );
        assert!(matches!(p.decide(&facts(&v, Verdict::Suspicious)), Decision::Reject(_)));
        assert!(matches!(p.decide(&facts(&v, Verdict::Malicious)), Decision::Reject(_)));
    }

    #[test]
    fn rules() {
        let p = Policy::parse(
            r#"
            min_age = "7d"
            review_unseen_publishers = true
            [updates]
            auto_approve_unchanged = true
            [[deny]]
            slug = "crypto-*"
            versions = ">=1.0.0"
            reason = "no miners"
            [[allow]]
            owner = "@Trusted"
            "#,
        )
        .unwrap();
        let v = semver::Version::new(1, 2, 0);
        let mut f = facts(&v, Verdict::Clean);
        f.slug = "crypto-tracker";
        assert_eq!(p.decide(&f), Decision::Reject("denied by policy: no miners".into()));
        f.slug = "weather-brief";
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if r.contains("minimum age")));
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if HoldReason::of(&r) == HoldReason::MinAge));
        f.now = 8 * 86_400_000;
        assert!(matches!(p.decide(&f), Decision::Approve(_)));
        f.owner_seen = false;
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if r.contains("not seen before")));
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if HoldReason::of(&r) == HoldReason::UnseenPublisher));
        f.owner = Some("trusted");
        f.now = 1;
        assert!(matches!(p.decide(&f), Decision::Approve(_)), "allowlisted owner skips age and review");
        // Updates: unchanged capabilities auto-approve even a caution verdict; new ones hold.
        let empty = CapabilityDelta::default();
        let mut f = facts(&v, Verdict::Caution);
        f.update_delta = Some(&empty);
        assert!(matches!(p.decide(&f), Decision::Approve(_)));
        let mut grown = CapabilityDelta::default();
        grown.new_hosts.insert("evil.example.invalid".into());
        f.update_delta = Some(&grown);
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if r.contains("evil.example.invalid")));
        assert!(matches!(p.decide(&f), Decision::Quarantine(r) if HoldReason::of(&r) == HoldReason::NewCapabilities));
        f.verdict = Verdict::Malicious;
        assert!(matches!(p.decide(&f), Decision::Reject(_)));
    }

    #[test]
    fn bad_policies_fail() {
        assert!(Policy::parse("min_age = \"7 days\"").is_err());
        assert!(Policy::parse("[verdicts]\nclean = \"yes\"").is_err());
        assert!(Policy::parse("unknown = 1").is_err());
        assert!(Policy::parse("[[deny]]\nreason = \"x\"").is_err());
        assert!(Policy::parse("[[deny]]\nversions = \"not a req\"").is_err());
    }
}
