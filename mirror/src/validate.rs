//! Validation of untrusted identifiers (slugs, versions, owner handles, file paths).
//!
//! Everything that comes from a URL, a query string or an upstream response passes through
//! here before it touches storage or a log line. Rules are deliberately stricter than
//! ClawHub's publish rules where that costs nothing (e.g. a slug is ASCII lowercase only),
//! because the mirror only needs to serve what it has vetted.

use thiserror::Error;

pub const MAX_SLUG_LEN: usize = 96;
pub const MAX_VERSION_LEN: usize = 64;
pub const MAX_OWNER_LEN: usize = 64;
pub const MAX_PATH_LEN: usize = 1024;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum InvalidInput {
    #[error("Invalid slug")]
    Slug,
    #[error("Invalid version")]
    Version,
    #[error("Invalid owner handle")]
    Owner,
    #[error("Invalid path")]
    Path,
}

/// `^[a-z0-9][a-z0-9-]*$`, at most 96 characters (ClawHub's `prefix` rule, which every
/// published slug satisfies).
pub fn slug(s: &str) -> Result<&str, InvalidInput> {
    let ok = !s.is_empty()
        && s.len() <= MAX_SLUG_LEN
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(s) } else { Err(InvalidInput::Slug) }
}

/// A semantic version (ClawHub requires semver on publish).
pub fn version(s: &str) -> Result<semver::Version, InvalidInput> {
    if s.is_empty() || s.len() > MAX_VERSION_LEN {
        return Err(InvalidInput::Version);
    }
    semver::Version::parse(s).map_err(|_| InvalidInput::Version)
}

/// Owner handles: a leading `@` is stripped (ClawHub does the same), then
/// `[A-Za-z0-9_-]`, compared lowercase.
pub fn owner(s: &str) -> Result<String, InvalidInput> {
    let s = s.strip_prefix('@').unwrap_or(s);
    let ok = !s.is_empty()
        && s.len() <= MAX_OWNER_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(s.to_ascii_lowercase()) } else { Err(InvalidInput::Owner) }
}

/// A relative file path inside a skill: no NUL or control characters, no backslash, no
/// absolute path, no empty, `.` or `..` segment.
pub fn file_path(s: &str) -> Result<&str, InvalidInput> {
    if s.is_empty() || s.len() > MAX_PATH_LEN || s.starts_with('/') {
        return Err(InvalidInput::Path);
    }
    if s.chars().any(|c| c.is_control() || c == '\\') {
        return Err(InvalidInput::Path);
    }
    if s.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(InvalidInput::Path);
    }
    Ok(s)
}

/// A lowercase 64-hex sha256.
pub fn sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(slug("weather-brief").is_ok());
        assert!(slug("a").is_ok());
        for bad in ["", "-x", "A", "a/b", "..", "a\0b", "a b", &"a".repeat(97), "ä"] {
            assert!(slug(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions() {
        assert!(version("1.0.0").is_ok());
        assert!(version("1.0.0-beta.1+x").is_ok());
        for bad in ["", "1", "1.0", "../1.0.0", "1.0.0\0", &"1".repeat(100)] {
            assert!(version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        assert!(file_path("SKILL.md").is_ok());
        assert!(file_path("scripts/a.py").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "a\0b", "./a", "a/"] {
            assert!(file_path(bad).is_err(), "{bad:?}");
        }
        assert!(file_path(&"a".repeat(10_000)).is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(owner("@Acme").unwrap(), "acme");
        assert!(owner("a/b").is_err());
        assert!(owner("").is_err());
    }
}
