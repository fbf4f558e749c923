//! The trust store: which minisign keys may sign skills, when, and which are revoked.
//!
//! ```toml
//! require_signature = true            # optional, default true
//!
//! [[key]]
//! name = "acme mirror"
//! public_key = "RWQ..."               # the minisign public key line (`minisign -P` form)
//! not_before = 2026-01-01T00:00:00Z   # optional: TOML offset date-time, date, or RFC 3339 string
//! not_after = 2027-01-01T00:00:00Z    # optional
//!
//! [revoked]
//! key_ids = ["8F46F8CD08D782CD"]      # key ids as minisign prints them
//! ```
//!
//! Decisions:
//! - `require_signature` defaults to `true`: someone who writes a trust store wants
//!   signatures; forgetting the line must not silently turn checking off (fail closed).
//! - Unknown keys anywhere are errors (a typo such as `not_afer` must not drop a limit).
//! - Dates: an offset date-time (`Z` or `±HH:MM`) either as a TOML datetime or as an RFC 3339
//!   string, or a bare date meaning 00:00:00 UTC. Local date-times (no offset) are refused:
//!   their instant depends on the machine's time zone. Fractions of a second are dropped.
//!   Dates before 1970 are refused.
//! - Windows are inclusive: a key is valid at `t` when `not_before <= t <= not_after`.
//! - [`TrustStore::verify`] checks the window twice: at `now` (the key must be valid when
//!   it is used; an expired key no longer vouches for anything, like an expired
//!   certificate) and at the signature's own `timestamp:` field when the trusted comment
//!   has one (after the signature is verified, so the value is authentic). The second check
//!   catches a key that signs statements dated outside its window, e.g. back-dated ones
//!   made after the key was retired but before the store was updated. A trusted comment
//!   without a `timestamp:` field (possible with other signers) is only checked at `now`.
//! - A revoked key id is refused even when it is not (or no longer) listed under `[[key]]`,
//!   and that is reported as a revocation, not as an unknown key.

use std::collections::BTreeSet;
use std::io::Read;

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use serde::Deserialize;

use crate::minisign::{self, KeyError, KeyId, ParseKeyIdError, PublicKey, SignatureFile, VerifyError};
use crate::validate::{self, excerpt};

/// One trusted signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Human name, shown in messages.
    pub name: String,
    /// The key.
    pub public_key: PublicKey,
    /// Not valid before this Unix time (inclusive).
    pub not_before: Option<u64>,
    /// Not valid after this Unix time (inclusive).
    pub not_after: Option<u64>,
}

impl TrustedKey {
    /// A key valid at all times.
    pub fn new(name: impl Into<String>, public_key: PublicKey) -> Self {
        Self { name: name.into(), public_key, not_before: None, not_after: None }
    }

    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.public_key.key_id
    }

    /// Checks `instant` against the validity window.
    fn check_window(&self, instant: u64, instant_kind: &'static str) -> Result<(), TrustError> {
        if let Some(not_before) = self.not_before
            && instant < not_before
        {
            return Err(TrustError::NotYetValid {
                key_id: self.key_id(),
                name: self.name.clone(),
                not_before: format_rfc3339(not_before),
                instant_kind,
                instant: format_rfc3339(instant),
            });
        }
        if let Some(not_after) = self.not_after
            && instant > not_after
        {
            return Err(TrustError::Expired {
                key_id: self.key_id(),
                name: self.name.clone(),
                not_after: format_rfc3339(not_after),
                instant_kind,
                instant: format_rfc3339(instant),
            });
        }
        Ok(())
    }
}

/// The set of keys that may sign skills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    require_signature: bool,
    keys: Vec<TrustedKey>,
    revoked: BTreeSet<KeyId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrustStore {
    require_signature: Option<bool>,
    #[serde(default)]
    key: Vec<RawKey>,
    #[serde(default)]
    revoked: RawRevoked,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    name: String,
    public_key: String,
    not_before: Option<toml::Value>,
    not_after: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRevoked {
    #[serde(default)]
    key_ids: Vec<String>,
}

impl TrustStore {
    /// An empty store (no key will verify).
    pub fn new(require_signature: bool) -> Self {
        Self { require_signature, keys: Vec::new(), revoked: BTreeSet::new() }
    }

    /// A store with one key, valid at all times, signatures required.
    pub fn single(public_key: PublicKey, name: impl Into<String>) -> Self {
        Self { require_signature: true, keys: vec![TrustedKey::new(name, public_key)], revoked: BTreeSet::new() }
    }

    /// Parses the TOML trust store (format and decisions in the module docs).
    pub fn parse(text: &str) -> Result<Self, TrustError> {
        let raw: RawTrustStore = toml::from_str(text).map_err(|e| TrustError::Toml { message: e.to_string() })?;
        let mut store = Self::new(raw.require_signature.unwrap_or(true));
        for (index, key) in raw.key.into_iter().enumerate() {
            validate::single_line_text(&key.name)
                .map_err(|reason| TrustError::InvalidName { index: index + 1, reason })?;
            let public_key = PublicKey::parse(key.public_key.trim())
                .map_err(|source| TrustError::InvalidKey { name: key.name.clone(), source })?;
            let date = |field, value: Option<toml::Value>| {
                value.map(|v| parse_instant(&v)).transpose().map_err(|reason| TrustError::InvalidDate {
                    name: key.name.clone(),
                    field,
                    reason,
                })
            };
            let not_before = date("not_before", key.not_before)?;
            let not_after = date("not_after", key.not_after)?;
            store.add_key(TrustedKey { name: key.name, public_key, not_before, not_after })?;
        }
        for key_id in raw.revoked.key_ids {
            store.revoke(key_id.trim().parse()?);
        }
        Ok(store)
    }

    /// Adds a key. Fails if its id is already present or its window is empty.
    pub fn add_key(&mut self, key: TrustedKey) -> Result<(), TrustError> {
        validate::single_line_text(&key.name)
            .map_err(|reason| TrustError::InvalidName { index: self.keys.len() + 1, reason })?;
        for (field, value) in [("not_before", key.not_before), ("not_after", key.not_after)] {
            if value.is_some_and(|v| v > MAX_INSTANT) {
                return Err(TrustError::InvalidDate {
                    name: key.name,
                    field,
                    reason: "is after the year 9999".to_owned(),
                });
            }
        }
        if let (Some(start), Some(end)) = (key.not_before, key.not_after)
            && start > end
        {
            return Err(TrustError::EmptyWindow { name: key.name });
        }
        if let Some(existing) = self.find(key.key_id()) {
            return Err(TrustError::DuplicateKey {
                key_id: key.key_id(),
                first: existing.name.clone(),
                second: key.name,
            });
        }
        self.keys.push(key);
        Ok(())
    }

    /// Marks a key id as revoked.
    pub fn revoke(&mut self, key_id: KeyId) {
        self.revoked.insert(key_id);
    }

    /// Whether unsigned skills must be refused.
    pub fn require_signature(&self) -> bool {
        self.require_signature
    }

    /// The keys, in file order.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The revoked key ids, sorted.
    pub fn revoked_key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.revoked.iter().copied()
    }

    /// Whether `key_id` is revoked.
    pub fn is_revoked(&self, key_id: KeyId) -> bool {
        self.revoked.contains(&key_id)
    }

    /// The key with this id, if listed.
    pub fn find(&self, key_id: KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.key_id() == key_id)
    }

    /// Verifies `signature` over `message` with the store's key for the signature's key id.
    ///
    /// Fails on: revoked key id, unknown key id, `now_unix` outside the key's window, a bad
    /// signature or trusted comment, a malformed `timestamp:` in the trusted comment, and a
    /// `timestamp:` outside the key's window. Returns the key that vouched, so the caller can
    /// record its name and id. The caller still has to check *what* was signed
    /// ([`crate::statement::SkillStatement::check`]).
    pub fn verify(
        &self,
        message: impl Read,
        signature: &SignatureFile,
        now_unix: u64,
    ) -> Result<&TrustedKey, TrustError> {
        self.verify_with(signature, now_unix, |key| minisign::verify(key, message, signature))
    }

    /// Like [`Self::verify`] but checks only the trusted comment (see
    /// [`minisign::verify_trusted_comment`] for when that is enough): the same key lookup,
    /// revocation and validity-window checks, then the global signature.
    pub fn verify_trusted_comment(&self, signature: &SignatureFile, now_unix: u64) -> Result<&TrustedKey, TrustError> {
        self.verify_with(signature, now_unix, |key| minisign::verify_trusted_comment(key, signature))
    }

    fn verify_with(
        &self,
        signature: &SignatureFile,
        now_unix: u64,
        check: impl FnOnce(&PublicKey) -> Result<(), VerifyError>,
    ) -> Result<&TrustedKey, TrustError> {
        let key_id = signature.key_id;
        let key = self.find(key_id);
        if self.is_revoked(key_id) {
            let name = key.map_or_else(|| "not listed under [[key]]".to_owned(), |k| k.name.clone());
            return Err(TrustError::Revoked { key_id, name });
        }
        let key = key.ok_or(TrustError::UnknownKey { key_id })?;
        key.check_window(now_unix, "current time")?;
        check(&key.public_key).map_err(|source: VerifyError| TrustError::Signature {
            key_id,
            name: key.name.clone(),
            source,
        })?;
        if let Some(timestamp) = trusted_comment_timestamp(&signature.trusted_comment)? {
            key.check_window(timestamp, "statement timestamp")?;
        }
        Ok(key)
    }

    /// Renders the store as TOML in the documented layout (keys in store order, dates as
    /// `YYYY-MM-DDTHH:MM:SSZ`, revoked ids sorted). [`TrustStore::parse`] reads it back to
    /// an equal store.
    pub fn to_toml_string(&self) -> String {
        let mut out = format!("require_signature = {}\n", self.require_signature);
        for key in &self.keys {
            out.push_str("\n[[key]]\n");
            out.push_str(&format!("name = {}\n", validate::toml_string(&key.name)));
            out.push_str(&format!("public_key = {}\n", validate::toml_string(&key.public_key.to_base64())));
            if let Some(instant) = key.not_before {
                out.push_str(&format!("not_before = {}\n", format_rfc3339(instant)));
            }
            if let Some(instant) = key.not_after {
                out.push_str(&format!("not_after = {}\n", format_rfc3339(instant)));
            }
        }
        if !self.revoked.is_empty() {
            let ids: Vec<String> = self.revoked.iter().map(|id| validate::toml_string(&id.to_string())).collect();
            out.push_str(&format!("\n[revoked]\nkey_ids = [{}]\n", ids.join(", ")));
        }
        out
    }
}

/// The `timestamp:` field of a tab-separated trusted comment, if there is exactly one.
fn trusted_comment_timestamp(comment: &str) -> Result<Option<u64>, TrustError> {
    let mut values = comment.split('\t').filter_map(|field| field.strip_prefix("timestamp:"));
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TrustError::InvalidTimestamp { value: "(more than one timestamp field)".to_owned() });
    }
    validate::canonical_u64(value).map(Some).map_err(|_| TrustError::InvalidTimestamp { value: value.to_owned() })
}

/// 9999-12-31T23:59:59Z: the largest instant RFC 3339 (four-digit years) can write.
const MAX_INSTANT: u64 = 253_402_300_799;

/// 1970-01-01T00:00:00, the Unix epoch as a civil date-time at UTC.
const UNIX_EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (valid TOML datetime and RFC 3339).
pub fn format_rfc3339(unix: u64) -> String {
    let unix = i64::try_from(unix.min(MAX_INSTANT)).unwrap_or(0);
    // Civil arithmetic at UTC (jiff's `Timestamp` stops a day short of 9999-12-31). Every
    // instant from 0 to MAX_INSTANT is a civil date-time, so the fallback is never taken.
    let utc = UNIX_EPOCH.checked_add(SignedDuration::from_secs(unix)).unwrap_or(UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// Parses an RFC 3339 date-time with offset, or a bare date (midnight UTC), into Unix
/// seconds. Accepts what TOML accepts (`T`, `t` or space between date and time).
pub fn parse_rfc3339(text: &str) -> Result<u64, String> {
    let datetime: toml::value::Datetime =
        text.trim().parse().map_err(|_| format!("\"{}\" is not an RFC 3339 date-time", validate::excerpt(text)))?;
    datetime_to_unix(&datetime)
}

fn parse_instant(value: &toml::Value) -> Result<u64, String> {
    match value {
        toml::Value::Datetime(datetime) => datetime_to_unix(datetime),
        toml::Value::String(text) => parse_rfc3339(text),
        other => Err(format!("must be a date-time, not a {}", other.type_str())),
    }
}

fn datetime_to_unix(datetime: &toml::value::Datetime) -> Result<u64, String> {
    let date = datetime.date.ok_or("must include a date")?;
    let (seconds_of_day, offset_minutes) = match (datetime.time, datetime.offset) {
        (None, None) => (0, 0),
        (Some(_), None) => {
            return Err("must include a UTC offset such as `Z` (a local time depends on the machine)".to_owned());
        }
        (None, Some(_)) => return Err("has an offset but no time".to_owned()),
        (Some(time), Some(offset)) => {
            let minutes = match offset {
                toml::value::Offset::Z => 0,
                toml::value::Offset::Custom { minutes } => i64::from(minutes),
            };
            let seconds = i64::from(time.hour) * 3600 + i64::from(time.minute) * 60 + i64::from(time.second);
            (seconds, minutes)
        }
    };
    let unix = midnight_utc(date)? + seconds_of_day - offset_minutes * 60;
    u64::try_from(unix).map_err(|_| "is before 1970-01-01T00:00:00Z".to_owned())
}

/// Unix time of 00:00:00 UTC on `date`. The time of day and the offset are added by the caller
/// as plain seconds, so a leap second (`23:59:60`, which TOML allows) is the next midnight, as
/// POSIX time has it.
fn midnight_utc(date: toml::value::Date) -> Result<i64, String> {
    let invalid = || format!("{:04}-{:02}-{:02} is not a valid calendar date", date.year, date.month, date.day);
    let year = i16::try_from(date.year).map_err(|_| invalid())?;
    let month = i8::try_from(date.month).map_err(|_| invalid())?;
    let day = i8::try_from(date.day).map_err(|_| invalid())?;
    let date = Date::new(year, month, day).map_err(|_| invalid())?;
    Ok(date.duration_since(UNIX_EPOCH.date()).as_secs())
}

/// Loading a trust store, or verifying against it, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The file is not valid TOML or has unknown/mistyped keys.
    #[error("invalid trust store: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
    },
    /// A key has an empty or multi-line name.
    #[error("trust store key #{index}: `name` {reason}")]
    InvalidName {
        /// 1-based position in the file.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key's `public_key` does not parse.
    #[error("trust store key \"{}\": {source}", excerpt(name))]
    InvalidKey {
        /// The key's name.
        name: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// `not_before` or `not_after` is not a date-time we accept.
    #[error("trust store key \"{}\": `{field}` {reason}", excerpt(name))]
    InvalidDate {
        /// The key's name.
        name: String,
        /// `not_before` or `not_after`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `not_before` is after `not_after`.
    #[error("trust store key \"{}\": `not_before` is after `not_after`", excerpt(name))]
    EmptyWindow {
        /// The key's name.
        name: String,
    },
    /// Two entries have the same key id.
    #[error("trust store lists key {key_id} twice (\"{}\" and \"{}\")", excerpt(first), excerpt(second))]
    DuplicateKey {
        /// The id.
        key_id: KeyId,
        /// Name of the first entry.
        first: String,
        /// Name of the second entry.
        second: String,
    },
    /// A `revoked.key_ids` entry does not parse.
    #[error("trust store `revoked.key_ids`: {0}")]
    InvalidRevokedKeyId(#[from] ParseKeyIdError),
    /// The signing key is not in the store.
    #[error("the signature was made with key {key_id}, which is not in the trust store")]
    UnknownKey {
        /// Key id from the signature.
        key_id: KeyId,
    },
    /// The signing key is revoked.
    #[error("the signature was made with key {key_id} (\"{}\"), which is revoked", excerpt(name))]
    Revoked {
        /// The key id.
        key_id: KeyId,
        /// Its name in the store, or `unknown` if it is only listed as revoked.
        name: String,
    },
    /// The key is not valid yet at the given instant.
    #[error("key {key_id} (\"{}\") is not valid before {not_before}; the {instant_kind} is {instant}", excerpt(name))]
    NotYetValid {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// RFC 3339 rendering of `not_before`.
        not_before: String,
        /// `current time` or `statement timestamp`.
        instant_kind: &'static str,
        /// RFC 3339 rendering of the instant checked.
        instant: String,
    },
    /// The key has expired at the given instant.
    #[error("key {key_id} (\"{}\") expired at {not_after}; the {instant_kind} is {instant}", excerpt(name))]
    Expired {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// RFC 3339 rendering of `not_after`.
        not_after: String,
        /// `current time` or `statement timestamp`.
        instant_kind: &'static str,
        /// RFC 3339 rendering of the instant checked.
        instant: String,
    },
    /// The trusted comment has a `timestamp:` field that is not a number.
    #[error("the trusted comment's timestamp \"{}\" is not a valid Unix time", excerpt(value))]
    InvalidTimestamp {
        /// The value found.
        value: String,
    },
    /// The signature itself does not verify.
    #[error("signature by key {key_id} (\"{}\") does not verify: {source}", excerpt(name))]
    Signature {
        /// The key id.
        key_id: KeyId,
        /// Its name.
        name: String,
        /// Why.
        #[source]
        source: VerifyError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minisign::{SecretKey, sign};

    const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn pair() -> (SecretKey, PublicKey) {
        SecretKey::generate().unwrap_or_else(|e| panic!("{e}"))
    }

    fn signed(secret: &SecretKey, message: &[u8], trusted: &str) -> SignatureFile {
        sign(secret, message, trusted, "sig").unwrap_or_else(|e| panic!("{e}"))
    }

    fn store(text: &str) -> TrustStore {
        TrustStore::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dates() {
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Ok(NOW));
        assert_eq!(parse_rfc3339("2026-01-01"), Ok(NOW));
        assert_eq!(parse_rfc3339("2026-01-01T01:00:00+01:00"), Ok(NOW));
        assert_eq!(parse_rfc3339("2025-12-31T23:00:00-01:00"), Ok(NOW));
        assert_eq!(parse_rfc3339("2026-01-01 00:00:00.999Z"), Ok(NOW));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2000-02-29T12:34:56Z"), Ok(951_827_696));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Ok(MAX_INSTANT));
        for bad in ["", "yesterday", "2026-01-01T00:00:00", "1969-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "12:00:00Z"]
        {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
        assert_eq!(format_rfc3339(NOW), "2026-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
        for unix in [0, 59, 86_399, 86_400, 951_782_400, NOW, MAX_INSTANT] {
            assert_eq!(parse_rfc3339(&format_rfc3339(unix)), Ok(unix));
        }
    }

    /// Known answers from Python's `calendar.timegm`, across century and 400-year leap rules,
    /// plus TOML's leap second, which counts as the next midnight (as it did before jiff).
    #[test]
    fn calendar_known_answers() {
        let cases = [
            ("1972-12-31T23:59:59Z", 94_694_399),
            ("2000-03-01T00:00:00Z", 951_868_800),
            ("2100-02-28T23:59:59Z", 4_107_542_399),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
            ("2400-02-29T12:00:00Z", 13_574_606_400),
            ("9999-12-31T00:00:00Z", 253_402_214_400),
        ];
        for (text, unix) in cases {
            assert_eq!(parse_rfc3339(text), Ok(unix), "{text}");
            assert_eq!(format_rfc3339(unix), text);
        }
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), Ok(1_483_228_800));
        assert_eq!(parse_rfc3339("2017-01-01T00:59:60+01:00"), Ok(1_483_228_800));
        assert!(parse_rfc3339("2100-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn parses_the_documented_format() {
        let (_, public) = pair();
        let text = format!(
            "require_signature = true\n[[key]]\nname = \"acme mirror\"\npublic_key = \"{}\"\n\
             not_before = 2026-01-01T00:00:00Z\nnot_after = \"2027-01-01T00:00:00Z\"\n\
             [revoked]\nkey_ids = [\"8F46F8CD08D782CD\"]\n",
            public.to_base64()
        );
        let parsed = store(&text);
        assert!(parsed.require_signature());
        assert_eq!(parsed.keys().len(), 1);
        let key = &parsed.keys()[0];
        assert_eq!(key.name, "acme mirror");
        assert_eq!(key.public_key, public);
        assert_eq!(key.not_before, Some(NOW));
        assert_eq!(key.not_after, Some(1_798_761_600));
        let revoked: Vec<String> = parsed.revoked_key_ids().map(|id| id.to_string()).collect();
        assert_eq!(revoked, ["8F46F8CD08D782CD"]);
        assert_eq!(TrustStore::parse(&parsed.to_toml_string()).ok(), Some(parsed));
        // Defaults: signatures required, no keys.
        let empty = store("");
        assert!(empty.require_signature());
        assert!(empty.keys().is_empty());
        assert!(!store("require_signature = false").require_signature());
    }

    #[test]
    fn parse_errors() {
        let (_, public) = pair();
        let key = public.to_base64();
        let with_key = |extra: &str| format!("[[key]]\nname = \"k\"\npublic_key = \"{key}\"\n{extra}");
        type Check = fn(&TrustError) -> bool;
        let cases: Vec<(String, Check)> = vec![
            ("require_signature = \"yes\"".into(), |e| matches!(e, TrustError::Toml { .. })),
            ("requires_signature = true".into(), |e| matches!(e, TrustError::Toml { .. })),
            (with_key("not_afer = 2026-01-01"), |e| matches!(e, TrustError::Toml { .. })),
            ("[[key]]\nname = \"k\"\npublic_key = \"RWnope\"".into(), |e| matches!(e, TrustError::InvalidKey { .. })),
            ("[[key]]\nname = \"k\"".into(), |e| matches!(e, TrustError::Toml { .. })),
            (format!("[[key]]\nname = \"\"\npublic_key = \"{key}\""), |e| {
                matches!(e, TrustError::InvalidName { index: 1, .. })
            }),
            (with_key("not_before = 2026-01-01T00:00:00"), |e| {
                matches!(e, TrustError::InvalidDate { field: "not_before", .. })
            }),
            (with_key("not_after = \"soon\""), |e| matches!(e, TrustError::InvalidDate { field: "not_after", .. })),
            (with_key("not_after = 5"), |e| matches!(e, TrustError::InvalidDate { field: "not_after", .. })),
            (with_key("not_after = 12:00:00"), |e| matches!(e, TrustError::InvalidDate { field: "not_after", .. })),
            (with_key("not_before = 2027-01-01T00:00:00Z\nnot_after = 2026-01-01T00:00:00Z"), |e| {
                matches!(e, TrustError::EmptyWindow { .. })
            }),
            (format!("{}\n{}", with_key(""), with_key("")), |e| matches!(e, TrustError::DuplicateKey { .. })),
            ("[revoked]\nkey_ids = [\"XYZ\"]".into(), |e| matches!(e, TrustError::InvalidRevokedKeyId(_))),
            ("[revoked]\nkeys = []".into(), |e| matches!(e, TrustError::Toml { .. })),
        ];
        for (text, check) in cases {
            let err = TrustStore::parse(&text).err();
            assert!(err.as_ref().is_some_and(check), "{text:?} gave {err:?}");
        }
    }

    #[test]
    fn verify_accepts_a_good_signature() {
        let (secret, public) = pair();
        let trust = TrustStore::single(public, "acme mirror");
        let sig = signed(&secret, b"zip", "timestamp:1767225600\tslug:x");
        let key = trust.verify(&b"zip"[..], &sig, NOW).map(|k| k.name.clone());
        assert_eq!(key.ok().as_deref(), Some("acme mirror"));
    }

    #[test]
    fn verify_failures() {
        let (secret, public) = pair();
        let (other_secret, _) = pair();
        let mut trust = TrustStore::new(true);
        let _ = trust.add_key(TrustedKey {
            name: "windowed".to_owned(),
            public_key: public,
            not_before: Some(NOW),
            not_after: Some(NOW + 1000),
        });
        let good = signed(&secret, b"zip", &format!("timestamp:{}", NOW + 10));
        assert!(trust.verify(&b"zip"[..], &good, NOW + 10).is_ok());
        assert!(trust.verify(&b"zip"[..], &good, NOW + 1000).is_ok());

        let unknown = signed(&other_secret, b"zip", "x");
        assert!(matches!(trust.verify(&b"zip"[..], &unknown, NOW), Err(TrustError::UnknownKey { .. })));

        assert!(matches!(
            trust.verify(&b"zip"[..], &good, NOW - 1),
            Err(TrustError::NotYetValid { instant_kind: "current time", .. })
        ));
        assert!(matches!(
            trust.verify(&b"zip"[..], &good, NOW + 1001),
            Err(TrustError::Expired { instant_kind: "current time", .. })
        ));

        let backdated = signed(&secret, b"zip", &format!("timestamp:{}", NOW - 5));
        assert!(matches!(
            trust.verify(&b"zip"[..], &backdated, NOW + 10),
            Err(TrustError::NotYetValid { instant_kind: "statement timestamp", .. })
        ));
        let future = signed(&secret, b"zip", &format!("timestamp:{}", NOW + 5000));
        assert!(matches!(
            trust.verify(&b"zip"[..], &future, NOW + 10),
            Err(TrustError::Expired { instant_kind: "statement timestamp", .. })
        ));
        let garbled = signed(&secret, b"zip", "timestamp:soon");
        assert!(matches!(trust.verify(&b"zip"[..], &garbled, NOW + 10), Err(TrustError::InvalidTimestamp { .. })));
        let twice = signed(&secret, b"zip", &format!("timestamp:{NOW}\ttimestamp:{NOW}"));
        assert!(matches!(trust.verify(&b"zip"[..], &twice, NOW + 10), Err(TrustError::InvalidTimestamp { .. })));
        let no_timestamp = signed(&secret, b"zip", "slug:x");
        assert!(trust.verify(&b"zip"[..], &no_timestamp, NOW + 10).is_ok());

        assert!(matches!(
            trust.verify(&b"zap"[..], &good, NOW + 10),
            Err(TrustError::Signature { source: VerifyError::InvalidSignature, .. })
        ));
        let mut tampered = good.clone();
        tampered.trusted_comment = format!("timestamp:{}", NOW + 11);
        assert!(matches!(
            trust.verify(&b"zip"[..], &tampered, NOW + 10),
            Err(TrustError::Signature { source: VerifyError::InvalidGlobalSignature, .. })
        ));

        trust.revoke(public.key_id);
        let err = trust.verify(&b"zip"[..], &good, NOW + 10).err();
        assert!(matches!(err, Some(TrustError::Revoked { ref name, .. }) if name == "windowed"), "{err:?}");
        let mut only_revoked = TrustStore::new(true);
        only_revoked.revoke(public.key_id);
        assert!(matches!(only_revoked.verify(&b"zip"[..], &good, NOW), Err(TrustError::Revoked { .. })));
    }

    #[test]
    fn verify_trusted_comment_applies_the_same_key_checks() {
        let (secret, public) = pair();
        let (other_secret, _) = pair();
        let mut trust = TrustStore::new(true);
        let _ = trust.add_key(TrustedKey { not_after: Some(NOW + 1000), ..TrustedKey::new("mirror", public) });
        let good = signed(&secret, b"archive no longer at hand", &format!("timestamp:{NOW}\tslug:x"));
        assert_eq!(trust.verify_trusted_comment(&good, NOW).map(|k| k.name.clone()).ok().as_deref(), Some("mirror"));
        let mut edited = good.clone();
        edited.trusted_comment = format!("timestamp:{NOW}\tslug:y");
        assert!(matches!(
            trust.verify_trusted_comment(&edited, NOW),
            Err(TrustError::Signature { source: VerifyError::InvalidGlobalSignature, .. })
        ));
        let unknown = signed(&other_secret, b"x", "x");
        assert!(matches!(trust.verify_trusted_comment(&unknown, NOW), Err(TrustError::UnknownKey { .. })));
        assert!(matches!(trust.verify_trusted_comment(&good, NOW + 1001), Err(TrustError::Expired { .. })));
        trust.revoke(public.key_id);
        assert!(matches!(trust.verify_trusted_comment(&good, NOW), Err(TrustError::Revoked { .. })));
    }

    #[test]
    fn error_messages_name_the_key() {
        let (secret, public) = pair();
        let mut trust = TrustStore::new(true);
        let _ = trust.add_key(TrustedKey { not_after: Some(NOW), ..TrustedKey::new("acme mirror", public) });
        let sig = signed(&secret, b"x", "c");
        let message = trust.verify(&b"x"[..], &sig, NOW + 86_400).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            format!(
                "key {} (\"acme mirror\") expired at 2026-01-01T00:00:00Z; the current time is 2026-01-02T00:00:00Z",
                public.key_id
            )
        );
    }
}
