//! `skillscan.toml`: the policy a team applies to scans — threshold, rule switches, severity
//! overrides, and scoped, reasoned, expiring ignores.
//!
//! ```toml
//! fail_on = "high"
//! inline_ignores = true
//!
//! [rules]
//! disable = ["syntax-tree-skipped"]
//! enable = []
//! severity = { "missing-skill-manifest" = "info" }
//!
//! [[ignore]]
//! rule = "fetch-pipe-shell"
//! path = "skills/installer/**"
//! reason = "documents the vendor installer; reviewed by sec-team"
//! expires = 2027-06-30
//!
//! [trust]
//! public_key = "mirror.pub"          # or trusted_keys = "trusted-keys.toml"
//! mirror = "https://skills.example.internal"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::engine::finding::Severity;

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, strum::EnumString, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_threshold)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

fn unknown_threshold(s: &str) -> String {
    format!("unknown threshold `{s}` (info, low, medium, high, critical or never)")
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub fail_on: Option<FailOn>,
    /// Honour `skillscan-ignore:` comments inside the scanned files (default true). Turn it off
    /// when the skill author is not trusted: the mirror and `skillscan install` always do.
    #[serde(default)]
    pub inline_ignores: Option<bool>,
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub ignore: Vec<IgnoreEntry>,
    /// Settings for `skillscan ci` (see README).
    #[serde(default)]
    pub ci: CiConfig,
    /// Who may sign skills, and the vetted mirror: one setting for `verify`, `ci`, `install` and
    /// `inventory` (see README).
    #[serde(default)]
    pub trust: TrustConfig,
    /// Settings for `skillscan install`'s registry client (see README).
    #[serde(default)]
    pub install: InstallConfig,
    /// The former `[inventory]` table (`mirror`, `trusted_keys`), now `[trust]`: refused with a
    /// message saying so.
    #[serde(default)]
    #[schemars(skip)]
    inventory: Option<toml::Value>,
}

/// `[trust]`: the keys `skillscan verify`, `ci`, `install` and `inventory` trust, and the mirror.
/// `--trusted-keys` and `--public-key` override the keys; `--registry`/`--mirror` the mirror.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// Trust store file (TOML: keys, validity windows, revocations, `require_signature`), or a
    /// minisign public key file (`.pub`, then used as `public_key`); relative to this file.
    #[serde(default)]
    pub trusted_keys: Option<String>,
    /// One trusted minisign public key: a `.pub` file (relative to this file) or the key line
    /// itself (`RWQ…`), such as a mirror's `/.well-known/skillscan.pub`. A signature is then
    /// required. Exclusive with `trusted_keys`.
    #[serde(default)]
    pub public_key: Option<String>,
    /// URL of the vetted mirror: the registry `skillscan install` uses when neither `--registry`
    /// nor `$CLAWHUB_REGISTRY` names one, and the registry `skillscan inventory` expects skills
    /// to come from.
    #[serde(default)]
    pub mirror: Option<String>,
}

/// Where `skillscan install` may be sent by its registry. By default redirects stay within the
/// registry's origin and never lead to loopback, private or link-local addresses.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallConfig {
    /// Hosts a redirect may lead to besides the registry's own origin (e.g. its blob store).
    #[serde(default)]
    pub redirect_hosts: Vec<String>,
    /// Allow redirects to loopback, private and link-local addresses.
    #[serde(default)]
    pub allow_private_targets: bool,
    /// PEM file of an extra certificate authority to trust for HTTPS (a registry behind a
    /// private CA), besides the bundled and the system's roots; relative to the config file.
    /// `--ca-cert` overrides it.
    #[serde(default)]
    pub ca_cert: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub enable: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// A rule id, or `*` for every rule.
    pub rule: String,
    /// Glob over the finding's path (`<skill root>/<file>` or the file path within the skill).
    #[serde(default = "any_path")]
    pub path: String,
    /// Required: why this is not a problem.
    pub reason: String,
    /// `YYYY-MM-DD`; after this date the ignore no longer applies and a warning says so.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub expires: Option<toml::value::Datetime>,
}

fn any_path() -> String {
    "**".to_string()
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiConfig {
    /// Every skill must carry a signature that verifies against the `[trust]` keys.
    #[serde(default)]
    pub require_signatures: bool,
    /// The former `[ci] trusted_keys`, now `[trust] trusted_keys`: refused with a message saying so.
    #[serde(default)]
    #[schemars(skip)]
    trusted_keys: Option<toml::Value>,
    /// Lock file (default `skills.lock` next to the config file).
    #[serde(default)]
    pub lock: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })?;
        Config::parse(&path.display().to_string(), &text)
    }

    pub fn parse(origin: &str, text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::Invalid { path: origin.to_string(), message: e.to_string() })?;
        let invalid = |message: &str| ConfigError::Invalid { path: origin.to_string(), message: message.to_owned() };
        if config.ci.trusted_keys.is_some() {
            return Err(invalid(
                "`[ci] trusted_keys` is now `[trust] trusted_keys`: one [trust] table serves verify, ci, install \
                 and inventory",
            ));
        }
        if config.inventory.is_some() {
            return Err(invalid(
                "the `[inventory]` table is now `[trust]` (`mirror`, `trusted_keys`, `public_key`): one [trust] \
                 table serves verify, ci, install and inventory",
            ));
        }
        if config.trust.trusted_keys.is_some() && config.trust.public_key.is_some() {
            return Err(invalid("[trust]: set `trusted_keys` or `public_key`, not both"));
        }
        for (i, entry) in config.ignore.iter().enumerate() {
            if entry.reason.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    path: origin.to_string(),
                    message: format!("ignore #{} (rule `{}`): a non-empty `reason` is required", i + 1, entry.rule),
                });
            }
            if let Err(e) = globset::Glob::new(&entry.path) {
                return Err(ConfigError::Invalid {
                    path: origin.to_string(),
                    message: format!("ignore #{}: {e}", i + 1),
                });
            }
            if let Some(date) = &entry.expires
                && date.date.is_none()
            {
                return Err(ConfigError::Invalid {
                    path: origin.to_string(),
                    message: format!("ignore #{}: `expires` must be a date like 2027-06-30", i + 1),
                });
            }
        }
        Ok(config)
    }
}

/// Today's date (UTC), for ignore expiry.
pub fn today() -> Date {
    TimeZone::UTC.to_datetime(Timestamp::now()).date()
}

impl IgnoreEntry {
    /// Whether the ignore's `expires` date has passed: it applies through that day (UTC).
    pub fn expired(&self, today: Date) -> bool {
        let Some(date) = self.expires.as_ref().and_then(|d| d.date) else {
            return false;
        };
        // Compared field by field, so any date TOML accepts compares, valid in jiff's calendar or not.
        (i32::from(date.year), i32::from(date.month), i32::from(date.day))
            < (i32::from(today.year()), i32::from(today.month()), i32::from(today.day()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config() {
        let config = Config::parse(
            "t",
            r#"
fail_on = "medium"
inline_ignores = false
[rules]
disable = ["a"]
severity = { "b" = "low" }
[[ignore]]
rule = "c"
path = "skills/x/**"
reason = "reviewed"
expires = 2027-01-31
"#,
        )
        .unwrap();
        assert_eq!(config.fail_on, Some(FailOn::Medium));
        assert_eq!(config.rules.severity["b"], Severity::Low);
        assert!(!config.ignore[0].expired(jiff::civil::date(2027, 1, 31)));
        assert!(config.ignore[0].expired(jiff::civil::date(2027, 2, 1)));
    }

    #[test]
    fn an_ignore_without_reason_is_an_error() {
        let err = Config::parse("t", "[[ignore]]\nrule = \"c\"\nreason = \" \"\n").unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        assert!(Config::parse("t", "unknown = 1\n").is_err());
    }

    #[test]
    fn one_trust_table() {
        let config = Config::parse(
            "t",
            "[trust]\npublic_key = \"mirror.pub\"\nmirror = \"https://m.example\"\n[ci]\nrequire_signatures = true\n",
        )
        .unwrap();
        assert_eq!(config.trust.public_key.as_deref(), Some("mirror.pub"));
        assert_eq!(config.trust.mirror.as_deref(), Some("https://m.example"));
        let both = Config::parse("t", "[trust]\npublic_key = \"a.pub\"\ntrusted_keys = \"k.toml\"\n").unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        // The former places say where the setting went.
        let moved = Config::parse("t", "[ci]\ntrusted_keys = \"k.toml\"\n").unwrap_err();
        assert!(moved.to_string().contains("now `[trust] trusted_keys`"), "{moved}");
        let moved = Config::parse("t", "[inventory]\nmirror = \"https://m.example\"\n").unwrap_err();
        assert!(moved.to_string().contains("is now `[trust]`"), "{moved}");
    }

    #[test]
    fn thresholds_parse_as_before() {
        assert_eq!("never".parse::<FailOn>(), Ok(FailOn::Never));
        assert_eq!("High".parse::<FailOn>(), Ok(FailOn::High));
        assert_eq!("INFO".parse::<FailOn>(), Ok(FailOn::Info));
        assert_eq!(
            "always".parse::<FailOn>(),
            Err("unknown threshold `always` (info, low, medium, high, critical or never)".to_owned())
        );
    }

    #[test]
    fn ignores_expire_the_day_after_their_date() {
        let config =
            Config::parse("t", "[[ignore]]\nrule = \"c\"\nreason = \"reviewed\"\nexpires = 2028-02-29\n").unwrap();
        let entry = &config.ignore[0];
        assert!(!entry.expired(jiff::civil::date(2027, 12, 31)));
        assert!(!entry.expired(jiff::civil::date(2028, 2, 29)));
        assert!(entry.expired(jiff::civil::date(2028, 3, 1)));
        assert!(entry.expired(jiff::civil::date(2029, 1, 1)));
        assert!(today() >= jiff::civil::date(2026, 1, 1));
    }
}
