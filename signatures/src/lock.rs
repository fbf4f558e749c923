//! `skills.lock`: the pinned, vetted state of each installed skill.
//!
//! The file is TOML in one canonical layout, so that re-writing an unchanged lock gives the
//! same bytes and a changed entry gives a small diff:
//!
//! ```toml
//! # skills.lock: written by skillscan; do not edit by hand
//! version = 1
//!
//! [[skill]]
//! slug = "weather-brief"
//! owner = "acme"
//! version = "1.0.0"
//! source = "http://127.0.0.1:8080"
//! archive_sha256 = "<64 hex>"
//! tree_digest = "<64 hex>"
//! clawhub_fingerprint = "<64 hex>"
//! signing_key_id = "8F46F8CD08D782CD"
//! verdict = "clean"
//! rules_version = "2026.01.1"
//! pinned_at = 1767225600
//!
//! [skill.files]
//! "SKILL.md" = "<64 hex>"
//! "scripts/forecast.py" = "<64 hex>"
//! ```
//!
//! Canonical form: the header comment, `version`, then entries sorted by slug and then owner
//! (an entry without owner first), keys in the order above, optional keys (`owner`,
//! `archive_sha256`, `clawhub_fingerprint`, `signing_key_id`) omitted when absent, one blank
//! line before each table, files sorted by path bytes, an entry with no files has no
//! `[skill.files]` table. [`SkillsLock::to_toml_string`] writes exactly this, and for a
//! canonical file `parse` then `to_toml_string` gives back the same bytes.
//!
//! # Why the layout is written here, not by serde or `toml_edit`
//!
//! Reading is serde (`toml::from_str` into `deny_unknown_fields` structs). Writing keeps its
//! own short layout code, because neither `toml::to_string` nor `toml_edit` (0.25) can give
//! these bytes: both choose each string's style and each key's quoting themselves, and only
//! `toml_edit`'s parser can set a representation. With the serde shape of this file,
//! `toml::to_string` writes a root file without a dot unquoted (`LICENSE = "…"`, where every
//! lock so far has `"LICENSE" = "…"`), and any value with a `"` or `\` as a literal string
//! (`source = 'local:C:\skills\x'`, a path `'say "hi".md'`). Both are valid TOML with the same
//! data, but every existing lock holding such a name would be rewritten on the next `pin`, a
//! diff in every repository, for nothing. So the layout (header, blank lines, key order,
//! always-quoted file keys, basic strings) stays this module's; the encoding of every string
//! and quoted key is `toml_writer`'s basic style (the encoder `toml` itself uses), through
//! `validate::toml_string`; integers and digests are plain.
//!
//! Parsing is strict, because a lock that silently accepts a typo pins nothing: unknown
//! keys, digests that are not 64 lowercase hex digits, paths that are not in normalised form
//! or that are install metadata (which the tree digest excludes), a `tree_digest` that does
//! not match the listed files, invalid slugs/versions/owners, and two entries with the same
//! slug and owner are all errors naming the entry and the field.
//!
//! `source` is the registry URL (`http://` or `https://`) or `local:<path>` for a skill
//! pinned from a folder or archive on disk.
//!
//! `version = "unversioned"` ([`UNVERSIONED`]) pins a skill whose files name no version by its
//! content alone; `verdict = "unscanned"` and `rules_version = "unscanned"` ([`UNSCANNED`]) mark
//! an entry written without a scan. Both are ordinary strings, so older readers accept them.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;

use crate::digest::{Sha256Digest, TreeManifest, is_install_metadata, tree_digest_of};
use crate::identity::{Owner, SkillPath, Slug, Version};
use crate::minisign::KeyId;
use crate::validate::{self, excerpt};

/// The first line of every lock we write.
pub const LOCK_HEADER: &str = "# skills.lock: written by skillscan; do not edit by hand\n";
/// The lock format version this crate reads and writes.
pub const LOCK_FORMAT_VERSION: u32 = 1;
/// `version` of a skill pinned by content: its files say no version, so the pin is its digests.
pub const UNVERSIONED: &str = "unversioned";
/// `verdict` (and `rules_version`) of an entry written without a scan (`skillscan pin` without
/// `--scan`): the lock records digests and identity; policy is enforced by whatever scans.
pub const UNSCANNED: &str = "unscanned";

/// One pinned skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedSkill {
    /// Registry slug.
    pub slug: String,
    /// Owner handle, when the skill was installed owner-qualified.
    pub owner: Option<String>,
    /// Pinned version.
    pub version: String,
    /// Registry URL or `local:<path>`.
    pub source: String,
    /// SHA-256 of the archive, when installed from one.
    pub archive_sha256: Option<Sha256Digest>,
    /// Tree digest of the files.
    pub tree_digest: Sha256Digest,
    /// ClawHub bundle fingerprint, when known.
    pub clawhub_fingerprint: Option<Sha256Digest>,
    /// Key that signed the approval, when signed.
    pub signing_key_id: Option<KeyId>,
    /// Scanner verdict at pin time (e.g. `clean`), or [`UNSCANNED`]. A record of what was
    /// vetted, not a policy decision: `ci` and `install` scan for themselves.
    pub verdict: String,
    /// Version of the rule set that produced the verdict ([`UNSCANNED`] when there was no scan).
    pub rules_version: String,
    /// When the entry was written, Unix seconds.
    pub pinned_at: u64,
    /// Path → SHA-256 of every file covered by the tree digest.
    pub files: BTreeMap<String, Sha256Digest>,
}

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillsLock {
    /// Format version (always [`LOCK_FORMAT_VERSION`] once parsed).
    pub version: u32,
    /// Entries. Kept sorted by [`SkillsLock::upsert`]; written sorted regardless.
    pub skills: Vec<LockedSkill>,
}

impl Default for SkillsLock {
    fn default() -> Self {
        Self { version: LOCK_FORMAT_VERSION, skills: Vec::new() }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    version: i64,
    #[serde(default)]
    skill: Vec<RawSkill>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    slug: String,
    owner: Option<String>,
    version: String,
    source: String,
    archive_sha256: Option<String>,
    tree_digest: String,
    clawhub_fingerprint: Option<String>,
    signing_key_id: Option<String>,
    verdict: String,
    rules_version: String,
    pinned_at: i64,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

/// Names an entry in errors: `skill #2 "weather-brief" (owner "acme")`, without the number
/// when the entry is not (yet) in a file.
fn entry_label(index: Option<usize>, slug: &str, owner: Option<&str>) -> String {
    let number = index.map(|i| format!("#{} ", i + 1)).unwrap_or_default();
    let mut label = format!("skill {number}\"{}\"", validate::excerpt(slug));
    if let Some(owner) = owner {
        label.push_str(&format!(" (owner \"{}\")", validate::excerpt(owner)));
    }
    label
}

fn sort_key(skill: &LockedSkill) -> (&str, Option<&str>) {
    (skill.slug.as_str(), skill.owner.as_deref())
}

impl RawSkill {
    fn into_locked(self, entry: &str) -> Result<LockedSkill, LockError> {
        let invalid = |field: &str, reason: String| LockError::InvalidField {
            entry: entry.to_owned(),
            field: field.to_owned(),
            reason,
        };
        let digest = |field: &str, value: &str| {
            Sha256Digest::parse_canonical_hex(value)
                .map_err(|e| invalid(field, format!("{}: {}", e.reason, validate::excerpt(value))))
        };
        let mut files = BTreeMap::new();
        for (path, value) in &self.files {
            let field = format!("files.{}", validate::toml_string(path));
            files.insert(path.clone(), digest(&field, value)?);
        }
        let pinned_at =
            u64::try_from(self.pinned_at).map_err(|_| invalid("pinned_at", "must not be negative".to_owned()))?;
        let signing_key_id = self
            .signing_key_id
            .as_deref()
            .map(|text| text.parse::<KeyId>().map_err(|e| invalid("signing_key_id", e.to_string())))
            .transpose()?;
        Ok(LockedSkill {
            archive_sha256: self.archive_sha256.as_deref().map(|v| digest("archive_sha256", v)).transpose()?,
            tree_digest: digest("tree_digest", &self.tree_digest)?,
            clawhub_fingerprint: self
                .clawhub_fingerprint
                .as_deref()
                .map(|v| digest("clawhub_fingerprint", v))
                .transpose()?,
            slug: self.slug,
            owner: self.owner,
            version: self.version,
            source: self.source,
            signing_key_id,
            verdict: self.verdict,
            rules_version: self.rules_version,
            pinned_at,
            files,
        })
    }
}

impl LockedSkill {
    /// Checks the entry against the rules in the module docs. `entry` names it in errors.
    fn validate_as(&self, entry: &str) -> Result<(), LockError> {
        let invalid = |field: &str, reason: &str| LockError::InvalidField {
            entry: entry.to_owned(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        Slug::from_str(&self.slug).map_err(|e| invalid("slug", e.reason))?;
        if let Some(owner) = &self.owner {
            Owner::from_str(owner).map_err(|e| invalid("owner", e.reason))?;
        }
        Version::from_str(&self.version).map_err(|e| invalid("version", e.reason))?;
        validate::single_line_text(&self.source).map_err(|r| invalid("source", r))?;
        if !["http://", "https://", "local:"].iter().any(|prefix| self.source.starts_with(prefix)) {
            return Err(invalid("source", "must be an http(s):// registry URL or local:<path>"));
        }
        validate::single_line_text(&self.verdict).map_err(|r| invalid("verdict", r))?;
        validate::single_line_text(&self.rules_version).map_err(|r| invalid("rules_version", r))?;
        if i64::try_from(self.pinned_at).is_err() {
            return Err(invalid("pinned_at", "is larger than a TOML integer can hold"));
        }
        for path in self.files.keys() {
            let field = format!("files.{}", validate::toml_string(path));
            match SkillPath::normalize(path) {
                Err(e) => return Err(invalid(&field, &e.reason.to_string())),
                Ok(normalized) if normalized.as_str() != path => {
                    return Err(invalid(&field, "is not in normalised form (no leading `./`)"));
                }
                Ok(_) => {}
            }
            if is_install_metadata(path) {
                return Err(invalid(&field, "is install metadata, which the tree digest excludes"));
            }
        }
        if !self.files.is_empty() && self.files_tree_digest() != self.tree_digest {
            return Err(invalid("tree_digest", "does not match the digest of [skill.files] (was the file edited?)"));
        }
        Ok(())
    }

    /// The version a skill must say it is, `None` for an entry pinned by content
    /// ([`UNVERSIONED`]): that pin is its digests, and a signature's version is not checked
    /// against it.
    pub fn pinned_version(&self) -> Option<&str> {
        (self.version != UNVERSIONED).then_some(self.version.as_str())
    }

    /// Whether [`Self::verdict`] records a scan (not [`UNSCANNED`]).
    pub fn is_scanned(&self) -> bool {
        self.verdict != UNSCANNED
    }

    /// Checks the entry the way [`SkillsLock::parse`] does.
    pub fn validate(&self) -> Result<(), LockError> {
        self.validate_as(&entry_label(None, &self.slug, self.owner.as_deref()))
    }

    /// Tree digest recomputed from [`Self::files`].
    fn files_tree_digest(&self) -> Sha256Digest {
        tree_digest_of(self.files.iter().map(|(path, digest)| (path.as_str(), digest)))
    }

    /// Compares the files on disk (`manifest`) with what this entry pinned.
    ///
    /// With a file list, the error lists changed, added (on disk but not pinned) and removed
    /// (pinned but missing) files. Without one, only the tree digest can be compared.
    pub fn check_tree(&self, manifest: &TreeManifest) -> Result<(), IntegrityError> {
        if self.files.is_empty() {
            let found = manifest.tree_digest();
            if found != self.tree_digest {
                return Err(IntegrityError::TreeDigestMismatch {
                    slug: self.slug.clone(),
                    expected: self.tree_digest,
                    found,
                });
            }
            return Ok(());
        }
        let mut changed = Vec::new();
        let mut added = Vec::new();
        for file in manifest.files() {
            match self.files.get(&file.path) {
                None => added.push(file.path.clone()),
                Some(pinned) if *pinned != file.sha256 => changed.push(file.path.clone()),
                Some(_) => {}
            }
        }
        let removed: Vec<String> = self.files.keys().filter(|path| manifest.get(path).is_none()).cloned().collect();
        if !(changed.is_empty() && added.is_empty() && removed.is_empty()) {
            return Err(IntegrityError::FilesChanged { slug: self.slug.clone(), changed, added, removed });
        }
        let found = manifest.tree_digest();
        if found != self.tree_digest {
            // Same files but a different digest: the entry itself is inconsistent.
            return Err(IntegrityError::TreeDigestMismatch {
                slug: self.slug.clone(),
                expected: self.tree_digest,
                found,
            });
        }
        Ok(())
    }

    fn write_toml(&self, out: &mut String) {
        let mut line = |key: &str, value: &str| {
            out.push_str(key);
            out.push_str(" = ");
            out.push_str(&validate::toml_string(value));
            out.push('\n');
        };
        line("slug", &self.slug);
        if let Some(owner) = &self.owner {
            line("owner", owner);
        }
        line("version", &self.version);
        line("source", &self.source);
        if let Some(digest) = &self.archive_sha256 {
            line("archive_sha256", &digest.to_string());
        }
        line("tree_digest", &self.tree_digest.to_string());
        if let Some(digest) = &self.clawhub_fingerprint {
            line("clawhub_fingerprint", &digest.to_string());
        }
        if let Some(key_id) = &self.signing_key_id {
            line("signing_key_id", &key_id.to_string());
        }
        line("verdict", &self.verdict);
        line("rules_version", &self.rules_version);
        out.push_str(&format!("pinned_at = {}\n", self.pinned_at));
        if !self.files.is_empty() {
            out.push_str("\n[skill.files]\n");
            for (path, digest) in &self.files {
                out.push_str(&format!("{} = \"{digest}\"\n", validate::toml_string(path)));
            }
        }
    }
}

impl SkillsLock {
    /// An empty lock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses and validates a lock (see the module docs for what is rejected).
    pub fn parse(text: &str) -> Result<Self, LockError> {
        let raw: RawLock = toml::from_str(text).map_err(|e| LockError::Toml { message: e.to_string() })?;
        if raw.version != i64::from(LOCK_FORMAT_VERSION) {
            return Err(LockError::UnsupportedVersion { found: raw.version });
        }
        let mut skills = Vec::with_capacity(raw.skill.len());
        for (index, raw_skill) in raw.skill.into_iter().enumerate() {
            let entry = entry_label(Some(index), &raw_skill.slug, raw_skill.owner.as_deref());
            let skill = raw_skill.into_locked(&entry)?;
            skill.validate_as(&entry)?;
            if skills.iter().any(|other: &LockedSkill| sort_key(other) == sort_key(&skill)) {
                return Err(LockError::DuplicateEntry { entry });
            }
            skills.push(skill);
        }
        skills.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        Ok(Self { version: LOCK_FORMAT_VERSION, skills })
    }

    /// The canonical text (see the module docs). Entries are written sorted even if
    /// [`Self::skills`] was reordered by hand. This does not validate: entries added through
    /// [`Self::upsert`] are valid; call [`LockedSkill::validate`] on hand-built ones.
    pub fn to_toml_string(&self) -> String {
        let mut sorted: Vec<&LockedSkill> = self.skills.iter().collect();
        sorted.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let mut out = String::from(LOCK_HEADER);
        out.push_str(&format!("version = {}\n", self.version));
        for skill in sorted {
            out.push_str("\n[[skill]]\n");
            skill.write_toml(&mut out);
        }
        out
    }

    /// Validates `skill` and inserts it, replacing the entry with the same slug and owner.
    /// Returns the replaced entry, so callers can tell a new pin from an update.
    pub fn upsert(&mut self, skill: LockedSkill) -> Result<Option<LockedSkill>, LockError> {
        skill.validate()?;
        let position = self.skills.iter().position(|other| sort_key(other) == sort_key(&skill));
        let replaced = match position.and_then(|i| self.skills.get_mut(i)) {
            Some(existing) => Some(std::mem::replace(existing, skill)),
            None => {
                self.skills.push(skill);
                None
            }
        };
        self.skills.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        Ok(replaced)
    }

    /// The entry with exactly this slug and owner (`None` matches only entries without an
    /// owner: an owner-qualified pin is a different pin).
    pub fn find(&self, slug: &str, owner: Option<&str>) -> Option<&LockedSkill> {
        self.skills.iter().find(|skill| sort_key(skill) == (slug, owner))
    }

    /// All entries for a slug, whatever the owner.
    pub fn find_by_slug<'a>(&'a self, slug: &'a str) -> impl Iterator<Item = &'a LockedSkill> + 'a {
        self.skills.iter().filter(move |skill| skill.slug == slug)
    }

    /// Removes and returns the entry with this slug and owner.
    pub fn remove(&mut self, slug: &str, owner: Option<&str>) -> Option<LockedSkill> {
        let position = self.skills.iter().position(|skill| sort_key(skill) == (slug, owner))?;
        Some(self.skills.remove(position))
    }
}

/// A `skills.lock` file could not be read, or an entry is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The file is not valid TOML or has unknown/mistyped keys.
    #[error("invalid skills.lock: {message}")]
    Toml {
        /// The TOML parser's message.
        message: String,
    },
    /// The `version` is not one we can read.
    #[error("skills.lock version {found} is not supported (this tool reads version 1)")]
    UnsupportedVersion {
        /// The version found.
        found: i64,
    },
    /// A field of an entry is invalid.
    #[error("skills.lock {entry}: `{field}` {reason}")]
    InvalidField {
        /// Which entry, e.g. `skill #2 "weather-brief"`.
        entry: String,
        /// The field, e.g. `archive_sha256` or `files."a/b.py"`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Two entries have the same slug and owner.
    #[error("skills.lock has two entries for {entry}")]
    DuplicateEntry {
        /// Which entry.
        entry: String,
    },
}

/// Files on disk do not match what the lock pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// Some files changed, appeared or disappeared.
    #[error("{}", describe_tree_mismatch(slug, changed, added, removed))]
    FilesChanged {
        /// The skill.
        slug: String,
        /// Files whose content differs from the lock.
        changed: Vec<String>,
        /// Files present now but not in the lock.
        added: Vec<String>,
        /// Files in the lock but missing now.
        removed: Vec<String>,
    },
    /// The lock has no file list and the tree digest differs.
    #[error("skill \"{slug}\" does not match skills.lock: tree digest is {found}, the lock pins {expected}")]
    TreeDigestMismatch {
        /// The skill.
        slug: String,
        /// Pinned digest.
        expected: Sha256Digest,
        /// Digest of the files now.
        found: Sha256Digest,
    },
}

/// Lists at most this many paths per category in an integrity message.
const MAX_LISTED_PATHS: usize = 20;

fn describe_tree_mismatch(slug: &str, changed: &[String], added: &[String], removed: &[String]) -> String {
    let mut out = format!("skill \"{}\" does not match skills.lock:", excerpt(slug));
    for (label, paths) in [("changed", changed), ("added", added), ("removed", removed)] {
        if paths.is_empty() {
            continue;
        }
        out.push_str(&format!(" {label} {}:", paths.len()));
        for path in paths.iter().take(MAX_LISTED_PATHS) {
            out.push_str(&format!(" \"{}\"", excerpt(path)));
        }
        if paths.len() > MAX_LISTED_PATHS {
            out.push_str(&format!(" and {} more", paths.len() - MAX_LISTED_PATHS));
        }
        out.push(';');
    }
    if out.ends_with(';') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{FileDigest, sha256};

    fn manifest() -> TreeManifest {
        TreeManifest::new([
            FileDigest::from_bytes("SKILL.md", b"# skill"),
            FileDigest::from_bytes("scripts/forecast.py", b"print(1)"),
        ])
        .unwrap_or_default()
    }

    fn entry() -> LockedSkill {
        let manifest = manifest();
        LockedSkill {
            slug: "weather-brief".to_owned(),
            owner: Some("acme".to_owned()),
            version: "1.0.0".to_owned(),
            source: "http://127.0.0.1:8080".to_owned(),
            archive_sha256: Some(sha256(b"zip")),
            tree_digest: manifest.tree_digest(),
            clawhub_fingerprint: Some(sha256(b"fp")),
            signing_key_id: "8F46F8CD08D782CD".parse().ok(),
            verdict: "clean".to_owned(),
            rules_version: "2026.01.1".to_owned(),
            pinned_at: 1_767_225_600,
            files: manifest.file_map(),
        }
    }

    fn canonical_text() -> String {
        let files = manifest().file_map();
        format!(
            "# skills.lock: written by skillscan; do not edit by hand\n\
version = 1\n\
\n\
[[skill]]\n\
slug = \"local-tool\"\n\
version = \"0.1.0\"\n\
source = \"local:/home/me/skills/local-tool\"\n\
tree_digest = \"{empty}\"\n\
verdict = \"clean\"\n\
rules_version = \"2026.01.1\"\n\
pinned_at = 1767225600\n\
\n\
[[skill]]\n\
slug = \"weather-brief\"\n\
owner = \"acme\"\n\
version = \"1.0.0\"\n\
source = \"http://127.0.0.1:8080\"\n\
archive_sha256 = \"{zip}\"\n\
tree_digest = \"{tree}\"\n\
clawhub_fingerprint = \"{fp}\"\n\
signing_key_id = \"8F46F8CD08D782CD\"\n\
verdict = \"clean\"\n\
rules_version = \"2026.01.1\"\n\
pinned_at = 1767225600\n\
\n\
[skill.files]\n\
\"SKILL.md\" = \"{skill}\"\n\
\"scripts/forecast.py\" = \"{script}\"\n",
            empty = sha256(b"empty"),
            zip = sha256(b"zip"),
            tree = manifest().tree_digest(),
            fp = sha256(b"fp"),
            skill = files.get("SKILL.md").copied().unwrap_or(Sha256Digest([0; 32])),
            script = files.get("scripts/forecast.py").copied().unwrap_or(Sha256Digest([0; 32])),
        )
    }

    fn lock(text: &str) -> SkillsLock {
        SkillsLock::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn canonical_text_round_trips_byte_for_byte() {
        let text = canonical_text();
        let parsed = lock(&text);
        assert_eq!(parsed.skills.len(), 2);
        assert_eq!(parsed.to_toml_string(), text);
        assert_eq!(parsed.find("weather-brief", Some("acme")), Some(&entry()));
        assert_eq!(parsed.find("weather-brief", None), None);
        assert_eq!(parsed.find_by_slug("weather-brief").count(), 1);
        assert_eq!(parsed.find("local-tool", None).map(|s| s.files.len()), Some(0));
    }

    #[test]
    fn writes_canonically_whatever_the_input_order() {
        let mut lock = SkillsLock::new();
        let mut second = entry();
        second.owner = None;
        second.slug = "a-first".to_owned();
        let _ = lock.upsert(entry());
        let _ = lock.upsert(second.clone());
        lock.skills.reverse();
        let text = lock.to_toml_string();
        assert!(text.find("slug = \"a-first\"") < text.find("slug = \"weather-brief\""));
        let reparsed = SkillsLock::parse(&text).unwrap_or_default();
        assert_eq!(reparsed.to_toml_string(), text);
        // Same content, keys scrambled and no header: parses, writes canonically.
        let scrambled = text
            .replace("# skills.lock: written by skillscan; do not edit by hand\n", "")
            .replace("verdict = \"clean\"\n", "")
            .replace("slug = ", "verdict = \"clean\"\nslug = ");
        assert_eq!(SkillsLock::parse(&scrambled).map(|l| l.to_toml_string()), Ok(text));
        assert_eq!(SkillsLock::new().to_toml_string(), format!("{LOCK_HEADER}version = 1\n"));
    }

    #[test]
    fn upsert_replaces_and_validates() {
        let mut lock = SkillsLock::new();
        assert_eq!(lock.upsert(entry()), Ok(None));
        let newer = LockedSkill { version: "1.0.1".to_owned(), ..entry() };
        assert_eq!(lock.upsert(newer.clone()), Ok(Some(entry())));
        assert_eq!(lock.skills.len(), 1);
        assert_eq!(lock.find("weather-brief", Some("acme")), Some(&newer));
        let other_owner = LockedSkill { owner: Some("mallory".to_owned()), ..entry() };
        assert_eq!(lock.upsert(other_owner), Ok(None));
        assert_eq!(lock.skills.len(), 2);
        assert!(matches!(
            lock.upsert(LockedSkill { slug: "Bad Slug".to_owned(), ..entry() }),
            Err(LockError::InvalidField { ref field, .. }) if field == "slug"
        ));
        assert!(lock.remove("weather-brief", Some("mallory")).is_some());
        assert!(lock.remove("weather-brief", Some("mallory")).is_none());
    }

    #[test]
    fn strict_parse_errors_name_entry_and_field() {
        let text = canonical_text();
        let tree = manifest().tree_digest().to_string();
        let field_error = |edited: String| match SkillsLock::parse(&edited) {
            Err(LockError::InvalidField { entry, field, .. }) => Some((entry, field)),
            other => panic!("expected a field error, got {other:?} for\n{edited}"),
        };
        let weather = "skill #2 \"weather-brief\" (owner \"acme\")".to_owned();
        let cases = [
            (text.replace(&tree, &tree.to_uppercase()), "tree_digest"),
            (text.replace(&sha256(b"zip").to_string(), "abc"), "archive_sha256"),
            (text.replace(&sha256(b"fp").to_string(), &"g".repeat(64)), "clawhub_fingerprint"),
            (text.replace("8F46F8CD08D782CD", "nope"), "signing_key_id"),
            (text.replace("\"SKILL.md\"", "\"./SKILL.md\""), "files.\"./SKILL.md\""),
            (text.replace("\"SKILL.md\"", "\"../SKILL.md\""), "files.\"../SKILL.md\""),
            (text.replace("\"SKILL.md\"", "\"_meta.json\""), "files.\"_meta.json\""),
            (text.replace("\"SKILL.md\"", "\"README.md\""), "tree_digest"),
            (text.replace("version = \"1.0.0\"", "version = \"1.0.0 beta\""), "version"),
            (text.replace("source = \"http://127.0.0.1:8080\"", "source = \"ftp://x\""), "source"),
            (text.replace("pinned_at = 1767225600\n\n[skill.files]", "pinned_at = -1\n\n[skill.files]"), "pinned_at"),
            (
                text.replace(
                    "verdict = \"clean\"\nrules_version = \"2026.01.1\"\npinned_at = 1767225600\n\n[skill.files]",
                    "verdict = \"\"\nrules_version = \"2026.01.1\"\npinned_at = 1767225600\n\n[skill.files]",
                ),
                "verdict",
            ),
        ];
        for (edited, field) in cases {
            assert_eq!(field_error(edited), Some((weather.clone(), field.to_owned())), "{field}");
        }
        assert_eq!(
            field_error(text.replace("owner = \"acme\"", "owner = \"-acme\"")),
            Some(("skill #2 \"weather-brief\" (owner \"-acme\")".to_owned(), "owner".to_owned()))
        );
        let duplicate = format!(
            "{text}\n[[skill]]\nslug = \"local-tool\"\nversion = \"9\"\nsource = \"local:x\"\ntree_digest = \"{}\"\nverdict = \"clean\"\nrules_version = \"r\"\npinned_at = 1\n",
            sha256(b"x")
        );
        assert_eq!(
            SkillsLock::parse(&duplicate),
            Err(LockError::DuplicateEntry { entry: "skill #3 \"local-tool\"".to_owned() })
        );
        assert_eq!(SkillsLock::parse("version = 2"), Err(LockError::UnsupportedVersion { found: 2 }));
        for bad in [
            "",
            "version = \"1\"",
            "version = 1\nextra = 1",
            "version = 1\n[[skill]]\nslug = \"x\"",
            &text.replace("verdict", "verdikt"),
        ] {
            assert!(matches!(SkillsLock::parse(bad), Err(LockError::Toml { .. })), "{bad}");
        }
    }

    #[test]
    fn check_tree_lists_differences() {
        let pinned = entry();
        assert_eq!(pinned.check_tree(&manifest()), Ok(()));
        let on_disk = TreeManifest::new([
            FileDigest::from_bytes("SKILL.md", b"# skill, edited"),
            FileDigest::from_bytes("evil.sh", b"curl | sh"),
            FileDigest::from_bytes("_meta.json", b"{}"),
        ])
        .unwrap_or_default();
        assert_eq!(
            pinned.check_tree(&on_disk),
            Err(IntegrityError::FilesChanged {
                slug: "weather-brief".to_owned(),
                changed: vec!["SKILL.md".to_owned()],
                added: vec!["evil.sh".to_owned()],
                removed: vec!["scripts/forecast.py".to_owned()],
            })
        );
        let digest_only = LockedSkill { files: BTreeMap::new(), ..entry() };
        assert_eq!(digest_only.check_tree(&manifest()), Ok(()));
        assert!(matches!(digest_only.check_tree(&on_disk), Err(IntegrityError::TreeDigestMismatch { .. })));
        let inconsistent = LockedSkill { tree_digest: sha256(b"wrong"), ..entry() };
        assert!(matches!(inconsistent.check_tree(&manifest()), Err(IntegrityError::TreeDigestMismatch { .. })));
        assert!(inconsistent.validate().is_err());
    }

    #[test]
    fn odd_but_valid_paths_survive_the_round_trip() {
        let odd = TreeManifest::new([
            FileDigest::from_bytes("docs/say \"hi\".md", b"1"),
            FileDigest::from_bytes("ü/🌦.txt", b"2"),
            FileDigest::from_bytes("a = b.toml", b"3"),
        ])
        .unwrap_or_default();
        let skill = LockedSkill { tree_digest: odd.tree_digest(), files: odd.file_map(), ..entry() };
        let mut lock = SkillsLock::new();
        assert_eq!(lock.upsert(skill), Ok(None));
        let text = lock.to_toml_string();
        let back = SkillsLock::parse(&text);
        assert_eq!(back.as_ref().map(|l| l.to_toml_string()), Ok(text));
        assert_eq!(back.ok(), Some(lock));
    }

    /// The reason the layout is written here (module docs): `toml`'s serde writer would quote
    /// file names and strings its own way, changing the bytes of existing locks.
    #[test]
    fn serde_writer_would_change_the_bytes() {
        #[derive(serde::Serialize)]
        struct Shape<'a> {
            source: &'a str,
            files: BTreeMap<&'a str, &'a str>,
        }
        let shape = Shape { source: "local:C:\\skills\\x", files: BTreeMap::from([("LICENSE", "h")]) };
        let serde_text = toml::to_string(&shape).unwrap_or_default();
        assert!(serde_text.contains("source = 'local:C:\\skills\\x'\n"), "{serde_text}");
        assert!(serde_text.contains("\nLICENSE = \"h\"\n"), "{serde_text}");

        let license = TreeManifest::new([FileDigest::from_bytes("LICENSE", b"MIT")]).unwrap_or_default();
        let skill = LockedSkill {
            source: "local:C:\\skills\\x".to_owned(),
            tree_digest: license.tree_digest(),
            files: license.file_map(),
            ..entry()
        };
        let mut lock = SkillsLock::new();
        assert_eq!(lock.upsert(skill), Ok(None));
        let text = lock.to_toml_string();
        assert!(text.contains("source = \"local:C:\\\\skills\\\\x\"\n"), "{text}");
        assert!(text.contains("\n\"LICENSE\" = \""), "{text}");
        assert_eq!(SkillsLock::parse(&text).map(|l| l.to_toml_string()), Ok(text));
    }

    #[test]
    fn integrity_message_lists_files() {
        let err = IntegrityError::FilesChanged {
            slug: "weather-brief".to_owned(),
            changed: vec!["SKILL.md".to_owned()],
            added: vec!["evil.sh".to_owned()],
            removed: vec![],
        };
        assert_eq!(
            err.to_string(),
            "skill \"weather-brief\" does not match skills.lock: changed 1: \"SKILL.md\"; added 1: \"evil.sh\""
        );
    }

    #[test]
    fn integrity_message_truncates_long_lists() {
        let many: Vec<String> = (0..25).map(|i| format!("f{i}")).collect();
        let err = IntegrityError::FilesChanged { slug: "s".to_owned(), changed: vec![], added: many, removed: vec![] };
        assert!(err.to_string().ends_with("\"f19\" and 5 more"));
    }
}
