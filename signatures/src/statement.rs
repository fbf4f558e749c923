//! The skill statement: the minisign trusted comment that says *what* was signed.
//!
//! A bare signature over an archive proves only "these bytes were signed". Because the
//! trusted comment is covered by minisign's global signature, putting the skill's identity
//! and digests there stops a valid signature for one skill or version from being replayed
//! for another (a downgrade to an older, vulnerable version, or a swap to another skill).
//!
//! # Format
//!
//! Tab-separated `key:value` fields, in the style of minisign's default trusted comment
//! (`timestamp:<unix>\tfile:<name>\thashed`), always in this order:
//!
//! ```text
//! timestamp:<unix secs>  file:<name>  skillscan:1  slug:<slug>  version:<version>  sha256:<hex>  tree:<hex>
//! ```
//!
//! (separated by single tab characters). `file` and `sha256` are omitted when absent:
//! a statement for a directory has no archive. `timestamp` and `file` come first so the
//! comment reads like minisign's own; `skillscan:1` names the format version. Digests are 64
//! lowercase hex digits.
//!
//! Parsing ignores unknown keys (and bare flags such as minisign's `hashed`), so the format
//! can grow, but rejects duplicated keys (which would make the statement ambiguous) and
//! missing required keys (`timestamp`, `skillscan`, `slug`, `version`, `tree`). Values are
//! validated so they can never contain a tab or a line break: the slug is a
//! [`Slug`] (`^[a-z0-9][a-z0-9._-]{0,127}$`), the version a
//! [`Version`] (`^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$`), the file name
//! any printable text up to 4096 bytes.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::digest::Sha256Digest;
use crate::identity::{Slug, Version};
use crate::validate::{self, excerpt};

/// The value of the `skillscan:` field this version writes and reads.
pub const STATEMENT_FORMAT_VERSION: &str = "1";

/// What a skillscan signature asserts about one skill version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SkillStatement {
    /// Registry slug.
    pub slug: String,
    /// Version string.
    pub version: String,
    /// SHA-256 of the exact archive bytes, when an archive was signed.
    pub archive_sha256: Option<Sha256Digest>,
    /// Tree digest of the skill's files (see [`crate::digest::TreeManifest::tree_digest`]).
    pub tree_digest: Sha256Digest,
    /// When the statement was made, in Unix seconds.
    pub timestamp: u64,
    /// File name of the signed archive, for humans.
    pub file: Option<String>,
}

/// What the verifier holds and expects the statement to be about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpectedSubject {
    /// Slug being installed.
    pub slug: String,
    /// Version being installed.
    pub version: String,
    /// SHA-256 of the archive we hold, if we hold an archive.
    pub archive_sha256: Option<Sha256Digest>,
    /// Tree digest of the files we hold, if we computed it.
    pub tree_digest: Option<Sha256Digest>,
}

impl SkillStatement {
    /// Checks every field against the rules in the module docs.
    pub fn validate(&self) -> Result<(), StatementError> {
        let invalid = |key, value: &str, reason| StatementError::InvalidValue { key, value: value.to_owned(), reason };
        Slug::from_str(&self.slug).map_err(|e| invalid("slug", &self.slug, e.reason))?;
        Version::from_str(&self.version).map_err(|e| invalid("version", &self.version, e.reason))?;
        if let Some(file) = &self.file {
            validate::single_line_text(file).map_err(|r| invalid("file", file, r))?;
        }
        Ok(())
    }

    /// Renders the trusted comment (see the module docs for the exact format).
    pub fn to_trusted_comment(&self) -> Result<String, StatementError> {
        self.validate()?;
        let mut fields = vec![format!("timestamp:{}", self.timestamp)];
        if let Some(file) = &self.file {
            fields.push(format!("file:{file}"));
        }
        fields.push(format!("skillscan:{STATEMENT_FORMAT_VERSION}"));
        fields.push(format!("slug:{}", self.slug));
        fields.push(format!("version:{}", self.version));
        if let Some(sha256) = &self.archive_sha256 {
            fields.push(format!("sha256:{sha256}"));
        }
        fields.push(format!("tree:{}", self.tree_digest));
        Ok(fields.join("\t"))
    }

    /// Parses a trusted comment. Unknown keys are ignored; duplicated keys, missing required
    /// keys and invalid values are errors.
    pub fn parse(text: &str) -> Result<Self, StatementError> {
        let mut fields: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for field in text.split('\t') {
            let (key, value) = match field.split_once(':') {
                Some((key, value)) => (key, Some(value)),
                None => (field, None),
            };
            if key.is_empty() {
                return Err(StatementError::MalformedField { field: field.to_owned() });
            }
            if fields.insert(key, value).is_some() {
                return Err(StatementError::DuplicateKey { key: key.to_owned() });
            }
        }
        let required = |key: &'static str| -> Result<&str, StatementError> {
            match fields.get(key) {
                None => Err(StatementError::MissingKey { key }),
                Some(None) => Err(StatementError::InvalidValue { key, value: String::new(), reason: "has no value" }),
                Some(Some(value)) => Ok(value),
            }
        };
        let optional = |key: &'static str| -> Result<Option<&str>, StatementError> {
            match fields.get(key) {
                None => Ok(None),
                Some(_) => required(key).map(Some),
            }
        };
        let invalid = |key, value: &str, reason| StatementError::InvalidValue { key, value: value.to_owned(), reason };
        let digest =
            |key, value: &str| Sha256Digest::parse_canonical_hex(value).map_err(|e| invalid(key, value, e.reason));

        let format = required("skillscan")?;
        if format != STATEMENT_FORMAT_VERSION {
            return Err(StatementError::UnsupportedFormat { found: format.to_owned() });
        }
        let timestamp_text = required("timestamp")?;
        let timestamp = validate::canonical_u64(timestamp_text).map_err(|r| invalid("timestamp", timestamp_text, r))?;
        let statement = Self {
            slug: required("slug")?.to_owned(),
            version: required("version")?.to_owned(),
            archive_sha256: optional("sha256")?.map(|v| digest("sha256", v)).transpose()?,
            tree_digest: digest("tree", required("tree")?)?,
            timestamp,
            file: optional("file")?.map(str::to_owned),
        };
        statement.validate()?;
        Ok(statement)
    }

    /// Checks that this (verified) statement is about `expected`; the error is the first of
    /// [`Self::mismatches`].
    pub fn check(&self, expected: &ExpectedSubject) -> Result<(), StatementMismatch> {
        self.mismatches(expected).into_iter().next().map_or(Ok(()), Err)
    }

    /// Every field in which this (verified) statement differs from `expected`, in the order
    /// slug, version, sha256, tree; empty when it is about `expected`.
    ///
    /// All are reported, not just the first: a signature for another skill *and* version reads
    /// differently from one for another version of the same skill.
    ///
    /// A digest is compared only when `expected` has it: a verifier holding an archive sets
    /// `archive_sha256` (and the statement must then carry one), a verifier holding a folder
    /// sets `tree_digest`. If `expected` has neither, nothing binds the signature to the
    /// content, so that is a mismatch too ([`StatementMismatch::NoDigestToCompare`]).
    pub fn mismatches(&self, expected: &ExpectedSubject) -> Vec<StatementMismatch> {
        let mut found = Vec::new();
        if self.slug != expected.slug {
            found.push(StatementMismatch::Slug { expected: expected.slug.clone(), found: self.slug.clone() });
        }
        if self.version != expected.version {
            found.push(StatementMismatch::Version { expected: expected.version.clone(), found: self.version.clone() });
        }
        if expected.archive_sha256.is_none() && expected.tree_digest.is_none() {
            found.push(StatementMismatch::NoDigestToCompare);
        }
        if let Some(archive) = expected.archive_sha256
            && self.archive_sha256 != Some(archive)
        {
            found.push(StatementMismatch::ArchiveSha256 { expected: archive, found: self.archive_sha256 });
        }
        if let Some(tree) = expected.tree_digest
            && self.tree_digest != tree
        {
            found.push(StatementMismatch::Tree { expected: tree, found: self.tree_digest });
        }
        found
    }
}

/// A trusted comment is not a valid skill statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// A field has an empty key (e.g. `:value` or an empty field between two tabs).
    #[error("statement field \"{}\" has no key", excerpt(field))]
    MalformedField {
        /// The field as found.
        field: String,
    },
    /// The same key appears twice.
    #[error("statement key `{}` appears more than once", excerpt(key))]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A required key is absent.
    #[error("statement has no `{key}` field; this is not a skillscan statement")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A value is malformed.
    #[error("statement field `{key}` (\"{}\") {reason}", excerpt(value))]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The rejected value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `skillscan:<n>` names a format this version does not know.
    #[error("statement format skillscan:{} is not supported (this version reads skillscan:1)", excerpt(found))]
    UnsupportedFormat {
        /// The value found.
        found: String,
    },
}

/// A verified statement is about something else than what we hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementMismatch {
    /// Different slug.
    #[error("the signature is for skill \"{found}\", not \"{expected}\"")]
    Slug {
        /// What we hold.
        expected: String,
        /// What was signed.
        found: String,
    },
    /// Different version.
    #[error("the signature is for version {found}, not {expected}")]
    Version {
        /// What we hold.
        expected: String,
        /// What was signed.
        found: String,
    },
    /// Different (or missing) archive digest.
    #[error("the signed archive sha256 is {}, but the archive's is {expected}", found.map_or_else(|| "absent".to_owned(), |d| d.to_string()))]
    ArchiveSha256 {
        /// What we hold.
        expected: Sha256Digest,
        /// What was signed.
        found: Option<Sha256Digest>,
    },
    /// Different tree digest.
    #[error("the signed tree digest is {found}, but the files' tree digest is {expected}")]
    Tree {
        /// What we hold.
        expected: Sha256Digest,
        /// What was signed.
        found: Sha256Digest,
    },
    /// The caller gave neither an archive digest nor a tree digest to compare.
    #[error("nothing to compare: expected an archive sha256 or a tree digest")]
    NoDigestToCompare,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256;

    fn example() -> SkillStatement {
        SkillStatement {
            slug: "weather-brief".to_owned(),
            version: "1.0.0".to_owned(),
            archive_sha256: Some(sha256(b"zip")),
            tree_digest: sha256(b"tree"),
            timestamp: 1_767_225_600,
            file: Some("weather-brief-1.0.0.zip".to_owned()),
        }
    }

    const EXAMPLE_TEXT: &str = "timestamp:1767225600\tfile:weather-brief-1.0.0.zip\tskillscan:1\tslug:weather-brief\t\
version:1.0.0\tsha256:aeb5a1c4a8ee3e2a9c3adda4a44b1c9cf7df78dbd25f1aa4aadcd0e8a59a0e38\t\
tree:3b9c2b8c0f0b0c63d0f7d6ee53e85e8a1b9f3a0b7b4b5d6a3ef4a0c0a0f3b6d7";

    #[test]
    fn renders_the_documented_format() {
        let text = example().to_trusted_comment().unwrap_or_default();
        let expected = format!(
            "timestamp:1767225600\tfile:weather-brief-1.0.0.zip\tskillscan:1\tslug:weather-brief\tversion:1.0.0\t\
sha256:{}\ttree:{}",
            sha256(b"zip"),
            sha256(b"tree")
        );
        assert_eq!(text, expected);
        let minimal = SkillStatement { archive_sha256: None, file: None, ..example() };
        assert_eq!(
            minimal.to_trusted_comment().unwrap_or_default(),
            format!("timestamp:1767225600\tskillscan:1\tslug:weather-brief\tversion:1.0.0\ttree:{}", sha256(b"tree"))
        );
    }

    #[test]
    fn round_trips() {
        for statement in [example(), SkillStatement { archive_sha256: None, file: None, ..example() }] {
            let text = statement.to_trusted_comment().unwrap_or_default();
            assert_eq!(SkillStatement::parse(&text), Ok(statement));
        }
        let parsed = SkillStatement::parse(EXAMPLE_TEXT);
        assert_eq!(parsed.as_ref().map(|s| s.slug.as_str()), Ok("weather-brief"));
        assert_eq!(parsed.and_then(|s| s.to_trusted_comment()).as_deref(), Ok(EXAMPLE_TEXT));
    }

    #[test]
    fn ignores_unknown_keys_and_flags() {
        let text = format!("{EXAMPLE_TEXT}\thashed\tlog:42\tfuture:x:y");
        assert!(SkillStatement::parse(&text).is_ok());
    }

    #[test]
    fn parse_errors() {
        let tree = sha256(b"tree");
        let base = format!("timestamp:1\tskillscan:1\tslug:s\tversion:1\ttree:{tree}");
        let cases: Vec<(String, StatementError)> = vec![
            (String::new(), StatementError::MalformedField { field: String::new() }),
            (format!("{base}\t"), StatementError::MalformedField { field: String::new() }),
            (format!("{base}\t:x"), StatementError::MalformedField { field: ":x".to_owned() }),
            (format!("{base}\tslug:t"), StatementError::DuplicateKey { key: "slug".to_owned() }),
            (format!("{base}\tx:1\tx:2"), StatementError::DuplicateKey { key: "x".to_owned() }),
            (base.replace("skillscan:1\t", ""), StatementError::MissingKey { key: "skillscan" }),
            (base.replace("skillscan:1", "skillscan:2"), StatementError::UnsupportedFormat { found: "2".to_owned() }),
            (base.replace("slug:s\t", ""), StatementError::MissingKey { key: "slug" }),
            (base.replace("version:1\t", ""), StatementError::MissingKey { key: "version" }),
            ("timestamp:1\tskillscan:1\tslug:s\tversion:1".to_owned(), StatementError::MissingKey { key: "tree" }),
            (base.replace("timestamp:1\t", ""), StatementError::MissingKey { key: "timestamp" }),
            (
                base.replace("timestamp:1", "timestamp:+1"),
                StatementError::InvalidValue {
                    key: "timestamp",
                    value: "+1".to_owned(),
                    reason: "must be a decimal number",
                },
            ),
            (
                base.replace("timestamp:1", "timestamp:01"),
                StatementError::InvalidValue {
                    key: "timestamp",
                    value: "01".to_owned(),
                    reason: "must not have leading zeros",
                },
            ),
            (
                base.replace("slug:s", "slug"),
                StatementError::InvalidValue { key: "slug", value: String::new(), reason: "has no value" },
            ),
            (
                base.replace("slug:s", "slug:S"),
                StatementError::InvalidValue {
                    key: "slug",
                    value: "S".to_owned(),
                    reason: "must start with a lowercase letter or a digit",
                },
            ),
            (
                base.replace("version:1", "version:1 0"),
                StatementError::InvalidValue {
                    key: "version",
                    value: "1 0".to_owned(),
                    reason: "may only contain letters, digits, '.', '+', '_' and '-'",
                },
            ),
            (
                base.replace(&tree.to_string(), &tree.to_string().to_uppercase()),
                StatementError::InvalidValue {
                    key: "tree",
                    value: tree.to_string().to_uppercase(),
                    reason: "must be lowercase hex",
                },
            ),
            (
                format!("{base}\tsha256:abc"),
                StatementError::InvalidValue {
                    key: "sha256",
                    value: "abc".to_owned(),
                    reason: "expected 64 hexadecimal digits",
                },
            ),
            (
                format!("{base}\tfile:"),
                StatementError::InvalidValue { key: "file", value: String::new(), reason: "must not be empty" },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(SkillStatement::parse(&text), Err(expected), "{text:?}");
        }
        // minisign's own default comment is not a statement.
        assert_eq!(
            SkillStatement::parse("timestamp:1795599950\tfile:msg.txt\thashed"),
            Err(StatementError::MissingKey { key: "skillscan" })
        );
    }

    #[test]
    fn render_refuses_invalid_values() {
        let bad_slug = SkillStatement { slug: "a\tb".to_owned(), ..example() };
        assert!(matches!(bad_slug.to_trusted_comment(), Err(StatementError::InvalidValue { key: "slug", .. })));
        let bad_file = SkillStatement { file: Some("x\ny".to_owned()), ..example() };
        assert!(matches!(bad_file.to_trusted_comment(), Err(StatementError::InvalidValue { key: "file", .. })));
        let bad_version = SkillStatement { version: String::new(), ..example() };
        assert!(matches!(bad_version.to_trusted_comment(), Err(StatementError::InvalidValue { key: "version", .. })));
    }

    fn expected() -> ExpectedSubject {
        ExpectedSubject {
            slug: "weather-brief".to_owned(),
            version: "1.0.0".to_owned(),
            archive_sha256: Some(sha256(b"zip")),
            tree_digest: Some(sha256(b"tree")),
        }
    }

    #[test]
    fn check_names_the_differing_field() {
        let statement = example();
        assert_eq!(statement.check(&expected()), Ok(()));
        assert_eq!(statement.check(&ExpectedSubject { archive_sha256: None, ..expected() }), Ok(()));
        assert_eq!(statement.check(&ExpectedSubject { tree_digest: None, ..expected() }), Ok(()));
        assert_eq!(
            statement.check(&ExpectedSubject { slug: "other".to_owned(), ..expected() }),
            Err(StatementMismatch::Slug { expected: "other".to_owned(), found: "weather-brief".to_owned() })
        );
        assert_eq!(
            statement.check(&ExpectedSubject { version: "0.9.0".to_owned(), ..expected() }),
            Err(StatementMismatch::Version { expected: "0.9.0".to_owned(), found: "1.0.0".to_owned() })
        );
        assert_eq!(
            statement.check(&ExpectedSubject { archive_sha256: Some(sha256(b"other")), ..expected() }),
            Err(StatementMismatch::ArchiveSha256 { expected: sha256(b"other"), found: Some(sha256(b"zip")) })
        );
        assert_eq!(
            statement.check(&ExpectedSubject { tree_digest: Some(sha256(b"other")), ..expected() }),
            Err(StatementMismatch::Tree { expected: sha256(b"other"), found: sha256(b"tree") })
        );
        let directory_statement = SkillStatement { archive_sha256: None, ..example() };
        assert_eq!(
            directory_statement.check(&expected()),
            Err(StatementMismatch::ArchiveSha256 { expected: sha256(b"zip"), found: None })
        );
        assert_eq!(
            statement.check(&ExpectedSubject { archive_sha256: None, tree_digest: None, ..expected() }),
            Err(StatementMismatch::NoDigestToCompare)
        );
        let message = statement
            .check(&ExpectedSubject { version: "0.9.0".to_owned(), ..expected() })
            .err()
            .map(|e| e.to_string());
        assert_eq!(message.as_deref(), Some("the signature is for version 1.0.0, not 0.9.0"));
    }

    #[test]
    fn mismatches_names_every_differing_field() {
        let statement = example();
        assert!(statement.mismatches(&expected()).is_empty());
        let other = ExpectedSubject {
            slug: "other".to_owned(),
            version: "0.9.0".to_owned(),
            archive_sha256: Some(sha256(b"other zip")),
            tree_digest: Some(sha256(b"other tree")),
        };
        assert_eq!(
            statement.mismatches(&other),
            vec![
                StatementMismatch::Slug { expected: "other".to_owned(), found: "weather-brief".to_owned() },
                StatementMismatch::Version { expected: "0.9.0".to_owned(), found: "1.0.0".to_owned() },
                StatementMismatch::ArchiveSha256 { expected: sha256(b"other zip"), found: Some(sha256(b"zip")) },
                StatementMismatch::Tree { expected: sha256(b"other tree"), found: sha256(b"tree") },
            ]
        );
        assert_eq!(statement.check(&other), Err(statement.mismatches(&other).remove(0)));
    }
}
