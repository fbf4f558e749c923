//! Validation of untrusted identifiers (slugs, versions, owner handles, file paths).
//!
//! Everything that comes from a URL, a query string, an upstream response or an archive passes
//! through here before it touches storage or a log line. Each check is the workspace's identity
//! type (`skillscan_signatures::identity`: the rule every crate accepts, so whatever the mirror
//! serves can be pinned, signed and verified by the scanner), with the mirror's stricter
//! registry rule added on top, by name, where it has one:
//!
//! | Name | Base type | Stricter here, by name | Why |
//! |---|---|---|---|
//! | slug | [`Slug`] | [`Slug::parse_registry`]: `[a-z0-9-]`, ≤ 96 | every slug ClawHub publishes meets it; the mirror only mirrors what ClawHub could have published |
//! | version | [`Version`] | semver 2.0, ≤ [`MAX_VERSION_LEN`] | ClawHub requires semver on publish, and the mirror orders versions by semver precedence |
//! | owner | [`Owner::from_handle`] | [`Owner::is_registry_handle`]: no `.`, ≤ 64 | ClawHub handles are GitHub logins |
//! | path | [`SkillPath`] (strict: one spelling) | ≤ [`MAX_PATH_LEN`] | the mirror's own cap on what it stores and lists |
//! | manifest | [`skillscan_signatures::is_manifest_name`] (in [`crate::archive`]) | none | one rule everywhere |
//!
//! The errors name only the kind of name ("Invalid slug"): they are the API's answers, byte for
//! byte what they were before the identity types.

use skillscan_signatures::identity::{Owner, SkillPath, Slug, Version};
use thiserror::Error;

/// Longest slug, in bytes: the registry's limit ([`Slug::MAX_REGISTRY_LEN`]).
pub const MAX_SLUG_LEN: usize = Slug::MAX_REGISTRY_LEN;
/// Longest version the mirror accepts, in bytes. Stricter than [`Version::MAX_LEN`] (128): the
/// mirror's own cap, far above any real semver version, which keeps storage keys, URLs and log
/// lines short.
pub const MAX_VERSION_LEN: usize = 64;
/// Longest owner handle, in bytes: the registry's limit ([`Owner::MAX_REGISTRY_LEN`]).
pub const MAX_OWNER_LEN: usize = Owner::MAX_REGISTRY_LEN;
/// Longest file path inside a skill the mirror stores, in bytes. Stricter than
/// [`SkillPath::MAX_LEN`] (4096, a file system's limit): every path is listed in
/// `versions/{v}.files[]` and may be asked for in a URL, and real skills nest a few folders.
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

/// A registry slug: a [`Slug`] that is also [`Slug::parse_registry`]'s
/// `^[a-z0-9][a-z0-9-]{0,95}$`. The base rule also allows `.` and `_` (slugs of local folders
/// and other catalogs); the mirror only mirrors what ClawHub could have published, and the slug
/// names its storage keys and URLs.
pub fn slug(s: &str) -> Result<Slug, InvalidInput> {
    Slug::parse_registry(s).map_err(|_| InvalidInput::Slug)
}

/// A version the mirror accepts: a [`Version`] that is also a semantic version of at most
/// [`MAX_VERSION_LEN`] bytes. The base rule also allows git commit ids (ClawHub stores them for
/// GitHub-backed installs); the mirror requires what ClawHub's publish requires, and orders the
/// versions it serves by semver precedence (which a commit id has none of).
pub fn version(s: &str) -> Result<semver::Version, InvalidInput> {
    let version: Version = s.parse().map_err(|_| InvalidInput::Version)?;
    if version.len() > MAX_VERSION_LEN {
        return Err(InvalidInput::Version);
    }
    semver::Version::parse(&version).map_err(|_| InvalidInput::Version)
}

/// An owner handle as ClawHub reads one ([`Owner::from_handle`]: one leading `@` stripped,
/// lowercased) that is also a registry handle ([`Owner::is_registry_handle`]: no `.`, at most 64
/// bytes). The base rule keeps `.` and 128 bytes for locks written by hand; ClawHub handles are
/// GitHub logins, which have neither, and the handle names storage rows and URLs here.
pub fn owner(s: &str) -> Result<Owner, InvalidInput> {
    Owner::from_handle(s).ok().filter(Owner::is_registry_handle).ok_or(InvalidInput::Owner)
}

/// A file path inside a skill, in its one canonical spelling ([`SkillPath`]: relative, `/`
/// only, no `.`, `..` or empty segment, no drive prefix, no control character), at most
/// [`MAX_PATH_LEN`] bytes. Strict (a leading `./` is refused): the mirror serves the stored zip
/// byte for byte, so the name it lists is the name a client writes.
pub fn file_path(s: &str) -> Result<SkillPath, InvalidInput> {
    let path: SkillPath = s.parse().map_err(|_| InvalidInput::Path)?;
    if path.len() > MAX_PATH_LEN {
        return Err(InvalidInput::Path);
    }
    Ok(path)
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
        for bad in [
            "",
            "1",
            "1.0",
            "../1.0.0",
            "1.0.0\0",
            &"1".repeat(100),
            "0123abcdef",
            &format!("1.0.0-{}", "a".repeat(59)),
        ] {
            assert!(version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        assert!(file_path("SKILL.md").is_ok());
        assert!(file_path("scripts/a.py").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "a\0b", "./a", "a/", "C:x", "c:/x"] {
            assert!(file_path(bad).is_err(), "{bad:?}");
        }
        assert!(file_path(&"a".repeat(10_000)).is_err());
        assert!(file_path(&"a".repeat(MAX_PATH_LEN)).is_ok());
        assert!(file_path(&"a".repeat(MAX_PATH_LEN + 1)).is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(owner("@Acme").map(Owner::into_string), Ok("acme".to_owned()));
        assert_eq!(owner("a_b-c").map(Owner::into_string), Ok("a_b-c".to_owned()));
        // The base rule's first character (GitHub never issues `-x` or `_x`), the registry's
        // no-`.` and 64 bytes.
        for bad in ["a/b", "", "@", "-acme", "_acme", "a.b", &"a".repeat(65)] {
            assert!(owner(bad).is_err(), "{bad:?}");
        }
    }
}
