//! What a skill is called and what may be named inside it: [`Slug`], [`Version`], [`Owner`],
//! [`SkillPath`] and [`is_manifest_name`], each defined once for all three crates.
//!
//! Each newtype can only hold a valid value: it is built by `FromStr`, `TryFrom<&str>` or
//! `TryFrom<String>` (or serde, which validates too), displays and serialises as the plain
//! string, and compares, orders and hashes exactly as that string does.
//!
//! # One base rule per name, stricter rules by name
//!
//! The base rule of each type is the one **every** crate accepts: what a signed statement or
//! `skills.lock` may name. A skill that passes it can be pinned, signed and verified anywhere.
//! A crate that needs more (the mirror serves only what ClawHub could have published) checks
//! the stricter rule *on top*, through the named method listed below, and never a copy of its
//! own.
//!
//! | Name | Base rule (this module) | Other rules, by name |
//! |---|---|---|
//! | slug | `^[a-z0-9][a-z0-9._-]{0,127}$` | [`Slug::is_registry_slug`]: `^[a-z0-9][a-z0-9-]{0,95}$` |
//! | version | `^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$` | none here; the mirror parses semver 2.0 on top |
//! | owner | `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, case kept | [`Owner::is_registry_handle`]: no `.`, ≤ 64; [`Owner::from_handle`]: strip `@`, lowercase |
//! | path | relative, `/`-separated, one spelling, ≤ 4096 bytes ([`SkillPath`]) | [`SkillPath::normalize`]: one leading `./` stripped first; [`PathProblem::is_unsafe_to_extract`] |
//! | manifest | `SKILL.md` or `skills.md`, any ASCII case ([`is_manifest_name`]) | none: one rule everywhere; [`preferred_manifest`] says which spelling is read when several exist |
//!
//! Why the base rules are as they are:
//! - **Slug.** A slug goes into a tab-separated statement, a TOML string and a folder name
//!   (`skills/<slug>`), so it has no tab, colon, newline, `/` or `\`, and cannot be `.` or
//!   `..` (it starts with a letter or digit). `.` and `_` are allowed because skills pinned from
//!   a local folder or from other catalogs (skills.sh) carry such names.
//! - **Version.** Semver with pre-release and build metadata, and git commit ids, which ClawHub
//!   stores as the version of GitHub-backed installs. The registry decides what a version is,
//!   so semver is not required here.
//! - **Owner.** GitHub-style handles with case kept, so a lock written by hand keeps its
//!   spelling; equality is exact. Handles coming from a ClawHub reference or API parameter go
//!   through [`Owner::from_handle`], which does what ClawHub does: strip one `@`, lowercase.
//! - **Path.** See [`SkillPath`]: one spelling per file, nothing that leaves the skill folder.
//! - **Manifest.** See [`is_manifest_name`].
//!
//! # Who uses them
//!
//! Every crate asks these types; none keeps a copy of a rule.
//!
//! - This crate: `skills.lock` entries and signed statements validate their names with them;
//!   [`crate::digest::normalize_path`] is [`SkillPath::normalize`].
//! - The scanner: install references (`@owner/slug@version`) are `Slug`, `Owner`
//!   (through [`Owner::from_handle`]) and `Version`; the identity hints that `pin`, `sign`,
//!   `verify`, `ci` and `inventory` read, and `--slug`/`--version`, parse them;
//!   `engine::package::is_manifest_name` re-exports [`is_manifest_name`], root manifests are
//!   [`SkillPath::is_root_manifest`], the spelling read is [`preferred_manifest`], and the
//!   loader's unsafe-path finding is [`SkillPath::normalize`] reporting what
//!   [`PathProblem::is_unsafe_to_extract`].
//! - The mirror: `validate` is these types plus its registry rules by name
//!   ([`Slug::parse_registry`], [`Owner::is_registry_handle`], semver on top of [`Version`],
//!   its own length caps), and its archives find their manifest with [`is_manifest_name`] and
//!   [`preferred_manifest`].
//!
//! The workspace test `tests/identity.rs` feeds one list of names to the scanner, the
//! installer and the mirror and expects the same answers, except where the mirror is stricter
//! by one of those names.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use crate::validate::excerpt;

/// Whether a file name marks a skill root: `SKILL.md` or `skills.md`, compared ASCII
/// case-insensitively (so `skill.md`, `Skill.md`, `SKILLS.MD` too). Takes a file name, not a
/// path: `docs/SKILL.md` is not a root manifest (see [`SkillPath::is_root_manifest`]).
///
/// This is the one rule for every crate, and the broadest one any consumer applies:
/// - ClawHub's `publish` requires "`SKILL.md` or `skills.md` (any case)", so the registry can hold
///   skills whose manifest is spelled `Skill.md`;
/// - OpenClaw's archive installer accepts `SKILL.md`, `skill.md`, `skills.md` and `SKILL.MD`;
/// - on a case-insensitive file system (macOS, Windows) the agent opens `Skill.md` when it asks
///   for `SKILL.md`.
///
/// A security tool has to recognise every spelling that some consumer will load, or a skill
/// could hide its manifest from the scanner behind an odd case. The mirror used OpenClaw's
/// four spellings and refused `Skill.md` archives that ClawHub publishes; refusing them bought
/// no safety (the mirror vets every archive anyway) and made the mirror disagree with the
/// registry it mirrors and with the scanner, so the narrower list is not kept as a rule.
pub fn is_manifest_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("SKILL.md") || name.eq_ignore_ascii_case("skills.md")
}

/// Which of several manifest spellings a skill is read from: `SKILL.md` when present, else the
/// first other [manifest name](is_manifest_name) in byte order; `None` when there is none.
///
/// A case-sensitive file system or an archive can hold `SKILL.md` next to `skills.md` or
/// `Skill.md`. Every crate reads the same one (the scanner's identity hints, `skillscan ci`,
/// the mirror's listing), so they all describe the same skill. Takes file names, not paths.
pub fn preferred_manifest<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names.into_iter().filter(|name| is_manifest_name(name)).min_by_key(|name| (*name != "SKILL.md", *name))
}

/// The common impls of a validated string newtype: parsing (`FromStr`, `TryFrom`), `Display`,
/// `AsRef<str>`/`Borrow<str>`, conversion back to `String`, and serde as a string that is
/// validated on the way in. `$check` returns the error for an invalid input.
macro_rules! validated_string {
    ($name:ident, $error:ident, $check:path) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = $error;

            fn from_str(input: &str) -> Result<Self, $error> {
                $check(input)?;
                Ok(Self(input.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $error;

            fn try_from(input: &str) -> Result<Self, $error> {
                input.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;

            fn try_from(input: String) -> Result<Self, $error> {
                $check(&input)?;
                Ok(Self(input))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Reads as the plain string (`slug.len()`, `&*slug`, `option.as_deref()`); the value
        /// cannot be changed through it, so it stays valid.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Lets a `BTreeMap`/`HashMap` keyed by this type be searched with a `&str`; ordering and
        /// hashing are those of the string, so this is consistent.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Self::try_from(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A skill's slug, valid under the base rule `^[a-z0-9][a-z0-9._-]{0,127}$` (see the module
/// docs for why, and [`Self::is_registry_slug`] for the registry's stricter rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

/// A string is not a [`Slug`] (or not a registry slug, from [`Slug::parse_registry`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid slug \"{}\": {reason}", excerpt(input))]
#[non_exhaustive]
pub struct SlugError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it, e.g. `must start with a lowercase letter or a digit`.
    pub reason: &'static str,
}

impl Slug {
    /// Longest slug, in bytes.
    pub const MAX_LEN: usize = 128;
    /// Longest registry slug, in bytes: ClawHub's limit.
    pub const MAX_REGISTRY_LEN: usize = 96;

    /// Whether this slug also meets the registry rule `^[a-z0-9][a-z0-9-]{0,95}$`: no `.` or
    /// `_`, at most 96 bytes.
    ///
    /// That is the rule every slug published on ClawHub meets, and what the mirror requires of
    /// anything it stores or serves: it only mirrors what ClawHub could have published, and
    /// uses the slug in URLs and storage keys. ClawHub's rule for *new* slugs is stricter still
    /// (`^[a-z0-9](?:(?!--)[a-z0-9-])*[a-z0-9]$`, 3 to 96 characters, a reserved-name list) and
    /// OpenClaw installs only `^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`, but skills published before
    /// those rules keep their slugs, so a mirror enforcing them would refuse real skills.
    pub fn is_registry_slug(&self) -> bool {
        registry_slug_problem(&self.0).is_none()
    }

    /// Parses a slug that must also meet the registry rule ([`Self::is_registry_slug`]).
    pub fn parse_registry(input: &str) -> Result<Self, SlugError> {
        let slug: Self = input.parse()?;
        match registry_slug_problem(slug.as_str()) {
            Some(reason) => Err(SlugError { input: input.to_owned(), reason }),
            None => Ok(slug),
        }
    }
}

fn check_slug(input: &str) -> Result<(), SlugError> {
    let error = |reason| Err(SlugError { input: input.to_owned(), reason });
    let mut chars = input.chars();
    match chars.next() {
        None => return error("must not be empty"),
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        Some(_) => return error("must start with a lowercase letter or a digit"),
    }
    if input.len() > Slug::MAX_LEN {
        return error("is longer than 128 characters");
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return error("may only contain a-z, 0-9, '.', '_' and '-'");
    }
    Ok(())
}

/// What keeps a (valid) slug from being a registry slug, if anything.
fn registry_slug_problem(slug: &str) -> Option<&'static str> {
    if slug.len() > Slug::MAX_REGISTRY_LEN {
        Some("is longer than 96 characters, the registry's limit")
    } else if slug.contains(['.', '_']) {
        Some("may only contain a-z, 0-9 and '-' in a registry slug")
    } else {
        None
    }
}

validated_string!(Slug, SlugError, check_slug);

/// A skill version, valid under `^[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}$`: semver (with
/// pre-release and build metadata) and git commit ids both fit.
///
/// Not every `Version` is semver: the mirror, which orders versions and follows ClawHub's
/// publish rule, parses `semver::Version` from [`Self::as_str`] on top (every semver string of
/// at most 128 bytes is a valid `Version`). `Ord` is the string order, not semver precedence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(String);

/// A string is not a [`Version`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version \"{}\": {reason}", excerpt(input))]
#[non_exhaustive]
pub struct VersionError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Version {
    /// Longest version, in bytes.
    pub const MAX_LEN: usize = 128;
}

fn check_version(input: &str) -> Result<(), VersionError> {
    let error = |reason| Err(VersionError { input: input.to_owned(), reason });
    let mut chars = input.chars();
    match chars.next() {
        None => return error("must not be empty"),
        Some(c) if c.is_ascii_alphanumeric() => {}
        Some(_) => return error("must start with a letter or a digit"),
    }
    if input.len() > Version::MAX_LEN {
        return error("is longer than 128 characters");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '-')) {
        return error("may only contain letters, digits, '.', '+', '_' and '-'");
    }
    Ok(())
}

validated_string!(Version, VersionError, check_version);

/// An owner handle, valid under `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, case kept.
///
/// Equality is exact (`Acme` and `acme` differ), as in `skills.lock`. Handles from a ClawHub
/// reference (`@owner/slug`) or API parameter should come through [`Self::from_handle`], which
/// gives the lowercase form ClawHub compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(String);

/// A string is not an [`Owner`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid owner handle \"{}\": {reason}", excerpt(input))]
#[non_exhaustive]
pub struct OwnerError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Owner {
    /// Longest handle, in bytes.
    pub const MAX_LEN: usize = 128;
    /// Longest handle the mirror accepts from a registry, in bytes.
    pub const MAX_REGISTRY_LEN: usize = 64;

    /// Parses a handle the way ClawHub reads `ownerHandle`: one leading `@` is stripped, the
    /// rest must be a valid owner and is lowercased (ClawHub compares handles
    /// case-insensitively). The error names the input as given, `@` included.
    pub fn from_handle(input: &str) -> Result<Self, OwnerError> {
        let bare = input.strip_prefix('@').unwrap_or(input);
        check_owner(bare).map_err(|e| OwnerError { input: input.to_owned(), ..e })?;
        Ok(Self(bare.to_ascii_lowercase()))
    }

    /// Whether this handle also meets the mirror's registry rule: no `.`, at most 64 bytes
    /// (ClawHub handles are GitHub logins, which have neither).
    pub fn is_registry_handle(&self) -> bool {
        self.0.len() <= Self::MAX_REGISTRY_LEN && !self.0.contains('.')
    }
}

fn check_owner(input: &str) -> Result<(), OwnerError> {
    let error = |reason| Err(OwnerError { input: input.to_owned(), reason });
    let mut chars = input.chars();
    match chars.next() {
        None => return error("must not be empty"),
        Some(c) if c.is_ascii_alphanumeric() => {}
        Some(_) => return error("must start with a letter or a digit"),
    }
    if input.len() > Owner::MAX_LEN {
        return error("is longer than 128 characters");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return error("may only contain letters, digits, '.', '_' and '-'");
    }
    Ok(())
}

validated_string!(Owner, OwnerError, check_owner);

/// A safe path of a file inside a skill, in its one canonical spelling: relative,
/// `/`-separated, no leading `./`.
///
/// Refused, each with its own [`PathProblem`]: empty paths, absolute paths, drive prefixes
/// (`C:`), `..`, `.` and empty segments (so no `//` and no trailing `/`), `\`, line breaks,
/// NUL, any other control character, and paths over [`Self::MAX_LEN`] bytes. Rejecting rather
/// than "fixing" keeps one spelling per file, so a hostile archive cannot make two entries that
/// collapse into one path after someone else normalises them. Unicode is taken as is (no
/// NFC/NFD folding) and case is kept: `SKILL.md` and `skill.md` are different files, as on
/// Linux (the mirror additionally refuses archives holding both, which would overwrite each
/// other on macOS or Windows).
///
/// Parsing is strict (a leading `./` is refused, so `parse` then `to_string` gives back the
/// input); [`Self::normalize`] accepts paths from archives and folder walks, which may carry
/// one leading `./`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkillPath(String);

/// Why a relative path was refused by [`SkillPath`] (and [`crate::digest::normalize_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// The path (or what is left after stripping `./`) is empty.
    Empty,
    /// Starts with `/`.
    Absolute,
    /// Starts with a Windows drive prefix such as `C:`.
    DrivePrefix,
    /// Contains a `..` segment.
    ParentSegment,
    /// Contains a `.` segment (other than one leading `./`).
    DotSegment,
    /// Contains `//` or ends with `/`.
    EmptySegment,
    /// Contains `\`.
    Backslash,
    /// Contains `\n` or `\r`.
    LineBreak,
    /// Contains a NUL character.
    Nul,
    /// Contains another control character.
    ControlCharacter,
    /// Longer than [`SkillPath::MAX_LEN`].
    TooLong,
    /// Starts with `./`, which the canonical form (strict parsing) does not have.
    LeadingDotSlash,
}

impl PathProblem {
    /// Whether this problem makes the path dangerous to extract (it could land outside the
    /// skill folder or be read differently by another tool: absolute or drive paths, `..`,
    /// `\`, control characters), rather than merely not canonical (empty, `.` or empty
    /// segments, a leading `./`, too long). The scanner reports the first kind as a finding.
    pub fn is_unsafe_to_extract(self) -> bool {
        match self {
            Self::Absolute
            | Self::DrivePrefix
            | Self::ParentSegment
            | Self::Backslash
            | Self::LineBreak
            | Self::Nul
            | Self::ControlCharacter => true,
            Self::Empty | Self::DotSegment | Self::EmptySegment | Self::TooLong | Self::LeadingDotSlash => false,
        }
    }
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the path is empty",
            Self::Absolute => "absolute paths are not allowed",
            Self::DrivePrefix => "drive prefixes such as `C:` are not allowed",
            Self::ParentSegment => "`..` segments are not allowed",
            Self::DotSegment => "`.` segments are not allowed (only one leading `./` is stripped)",
            Self::EmptySegment => "empty segments (`//` or a trailing `/`) are not allowed",
            Self::Backslash => "backslashes are not allowed; use `/` as the separator",
            Self::LineBreak => "line breaks are not allowed in file names",
            Self::Nul => "NUL characters are not allowed in file names",
            Self::ControlCharacter => "control characters are not allowed in file names",
            Self::TooLong => "the path is longer than 4096 bytes",
            Self::LeadingDotSlash => "a leading `./` is not part of the canonical form",
        })
    }
}

/// A path that cannot name a file inside a skill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path \"{}\": {reason}", excerpt(path))]
#[non_exhaustive]
pub struct PathError {
    /// The path as given (unescaped; the message escapes it).
    pub path: String,
    /// What is wrong with it.
    pub reason: PathProblem,
}

impl SkillPath {
    /// Longest path, in bytes (Linux `PATH_MAX`).
    pub const MAX_LEN: usize = 4096;

    /// Validates a path taken from an archive or a folder walk and returns its canonical
    /// form: like parsing, but one leading `./` is stripped first.
    pub fn normalize(input: &str) -> Result<Self, PathError> {
        canonical_path(input, true).map(|path| Self(path.to_owned()))
    }

    /// The last segment: the file name.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// Whether this is the skill's manifest: a [manifest name](is_manifest_name) at the root.
    pub fn is_root_manifest(&self) -> bool {
        !self.0.contains('/') && is_manifest_name(&self.0)
    }
}

fn check_path(input: &str) -> Result<(), PathError> {
    canonical_path(input, false).map(|_| ())
}

/// The canonical form of `path` (a suffix of it), or why there is none. With `strip_dot_slash`
/// one leading `./` is dropped; without, it is an error.
///
/// A path can have several problems; the one reported is the most dangerous, in this order:
/// leaving the folder from the start (absolute, drive prefix), characters other tools read
/// differently (`\`, then line breaks, NUL and other control characters), `..`; only then
/// what is merely not canonical (a leading `./`, empty, too long, empty or `.` segments). So
/// [`PathProblem::is_unsafe_to_extract`] of the reported problem answers for the whole path:
/// `a//../b` is refused for its `..`, not for its `//`.
fn canonical_path(path: &str, strip_dot_slash: bool) -> Result<&str, PathError> {
    let error = |reason| Err(PathError { path: path.to_owned(), reason });
    let stripped = path.strip_prefix("./");
    let relative = stripped.unwrap_or(path);
    if path.starts_with('/') {
        return error(PathProblem::Absolute);
    }
    if relative.split('/').next().is_some_and(is_drive_prefix) {
        return error(PathProblem::DrivePrefix);
    }
    if path.contains('\\') {
        return error(PathProblem::Backslash);
    }
    let control = path.chars().find_map(|c| match c {
        '\n' | '\r' => Some(PathProblem::LineBreak),
        '\0' => Some(PathProblem::Nul),
        c if c.is_control() => Some(PathProblem::ControlCharacter),
        _ => None,
    });
    if let Some(problem) = control {
        return error(problem);
    }
    if relative.split('/').any(|segment| segment == "..") {
        return error(PathProblem::ParentSegment);
    }
    if stripped.is_some() && !strip_dot_slash {
        return error(PathProblem::LeadingDotSlash);
    }
    if relative.is_empty() {
        return error(PathProblem::Empty);
    }
    if relative.len() > SkillPath::MAX_LEN {
        return error(PathProblem::TooLong);
    }
    for segment in relative.split('/') {
        match segment {
            "" => return error(PathProblem::EmptySegment),
            "." => return error(PathProblem::DotSegment),
            _ => {}
        }
    }
    Ok(relative)
}

/// `C:` (or `C:foo`): on Windows this is drive-relative, never inside the skill folder.
fn is_drive_prefix(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    matches!(bytes, [letter, b':', ..] if letter.is_ascii_alphabetic())
}

validated_string!(SkillPath, PathError, check_path);

#[cfg(test)]
mod tests;
