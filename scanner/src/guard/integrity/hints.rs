//! What a skill's own files say it is: slug, owner, version, registry and ClawHub fingerprint.
//!
//! Three sources, each parsed defensively (a corrupt file is a [`HintError`], never a panic):
//!
//! - `.clawhub/origin.json` (legacy `.clawdhub/origin.json`), written by `clawhub install`:
//!   `{"version":1,"registry","slug","ownerHandle"?,"installedVersion","installedAt","fingerprint"?}`;
//! - the root `_meta.json`, in ClawHub's download shape `{"ownerId","slug","version","publishedAt"}`
//!   or the skills archive shape `{"owner","slug","displayName","latest":{"version",...}}`
//!   (`ownerId` is a database id such as `users:abc`, not a handle, so only `owner` gives an owner);
//! - the `SKILL.md` front matter: `name` and `version`.
//!
//! Precedence, first usable value wins: slug from origin, `_meta.json`, front-matter `name`;
//! version from origin `installedVersion`, `_meta.json` `version` / `latest.version`, front matter;
//! owner from origin `ownerHandle`, `_meta.json` `owner`. A value that could not appear in a signed
//! statement or the lock (a front-matter name such as "Weather Brief" is no slug) is skipped, so
//! `sign` and `verify` derive the same defaults. All of these files can be edited by whoever can
//! edit the skill, and `origin.json` and `_meta.json` are outside the tree digest: hints choose
//! defaults and lock entries, they never vouch for anything.

use crate::engine::lang::markdown::{self, YamlBudget};
use serde_json::{Map, Value};
use skillscan_signatures::digest::Sha256Digest;
use skillscan_signatures::identity::{Owner, SkillPath, Slug, Version, preferred_manifest};

/// An identity file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct HintError {
    /// Path of the file inside the skill.
    pub file: String,
    pub message: String,
}

/// `.clawhub/origin.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginHints {
    /// Which file it was (`.clawhub/origin.json` or the legacy `.clawdhub/origin.json`).
    pub file: String,
    pub registry: Option<String>,
    pub slug: Option<String>,
    pub owner_handle: Option<String>,
    pub installed_version: Option<String>,
    pub fingerprint: Option<Sha256Digest>,
}

/// The root `_meta.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaHints {
    pub slug: Option<String>,
    /// Owner handle (archive shape only).
    pub owner: Option<String>,
    /// `version` (download shape) or `latest.version` (archive shape).
    pub version: Option<String>,
}

/// The manifest's YAML front matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatterHints {
    /// Which file (`SKILL.md`, `skill.md`...).
    pub file: String,
    pub name: Option<String>,
    pub version: Option<String>,
}

/// A hint value and the file it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint<'a> {
    pub value: &'a str,
    pub source: &'a str,
}

/// Everything the identity files say. `None` means the file is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityHints {
    pub origin: Option<Result<OriginHints, HintError>>,
    pub meta: Option<Result<MetaHints, HintError>>,
    pub front_matter: Option<Result<FrontMatterHints, HintError>>,
}

impl IdentityHints {
    /// Reads the hints from `(path, bytes)` pairs of a skill's files (paths relative to the skill
    /// root; `Err(size)` for a file too large to have been kept in memory). Other paths are
    /// ignored.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, Result<&'a [u8], u64>)>) -> Self {
        let mut origin = None;
        let mut legacy_origin = None;
        let mut meta = None;
        let mut manifests: Vec<(&str, Result<&[u8], u64>)> = Vec::new();
        for (path, content) in files {
            match path {
                ".clawhub/origin.json" => origin = Some(content),
                ".clawdhub/origin.json" => legacy_origin = Some(content),
                "_meta.json" => meta = Some(content),
                name if name.parse::<SkillPath>().is_ok_and(|path| path.is_root_manifest()) => {
                    manifests.push((name, content))
                }
                _ => {}
            }
        }
        // The spelling every crate reads: `SKILL.md` first, then the others in byte order.
        let preferred = preferred_manifest(manifests.iter().map(|(name, _)| *name));
        let manifest = manifests.iter().find(|(name, _)| Some(*name) == preferred);
        let origin_file = if origin.is_some() { ".clawhub/origin.json" } else { ".clawdhub/origin.json" };
        Self {
            origin: origin.or(legacy_origin).map(|content| parse_origin(origin_file, content)),
            meta: meta.map(|content| parse_meta("_meta.json", content)),
            front_matter: manifest.map(|(name, content)| parse_front_matter(name, *content)),
        }
    }

    fn origin(&self) -> Option<&OriginHints> {
        self.origin.as_ref().and_then(|r| r.as_ref().ok())
    }

    fn meta(&self) -> Option<&MetaHints> {
        self.meta.as_ref().and_then(|r| r.as_ref().ok())
    }

    fn front_matter(&self) -> Option<&FrontMatterHints> {
        self.front_matter.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// The slug, from the first source that has a valid one.
    pub fn slug(&self) -> Option<Hint<'_>> {
        let origin = self.origin().and_then(|o| Some(Hint { value: o.slug.as_deref()?, source: &o.file }));
        let meta = self.meta().and_then(|m| Some(Hint { value: m.slug.as_deref()?, source: "_meta.json" }));
        let front = self.front_matter().and_then(|f| Some(Hint { value: f.name.as_deref()?, source: &f.file }));
        [origin, meta, front].into_iter().flatten().find(|h| h.value.parse::<Slug>().is_ok())
    }

    /// The version, from the first source that has a valid one.
    pub fn version(&self) -> Option<Hint<'_>> {
        let origin = self.origin().and_then(|o| Some(Hint { value: o.installed_version.as_deref()?, source: &o.file }));
        let meta = self.meta().and_then(|m| Some(Hint { value: m.version.as_deref()?, source: "_meta.json" }));
        let front = self.front_matter().and_then(|f| Some(Hint { value: f.version.as_deref()?, source: &f.file }));
        [origin, meta, front].into_iter().flatten().find(|h| h.value.parse::<Version>().is_ok())
    }

    /// The owner handle, from the first source that has a valid one.
    pub fn owner(&self) -> Option<Hint<'_>> {
        let origin = self.origin().and_then(|o| Some(Hint { value: o.owner_handle.as_deref()?, source: &o.file }));
        let meta = self.meta().and_then(|m| Some(Hint { value: m.owner.as_deref()?, source: "_meta.json" }));
        [origin, meta].into_iter().flatten().find(|h| h.value.parse::<Owner>().is_ok())
    }

    /// The registry URL from `origin.json`.
    pub fn registry(&self) -> Option<&str> {
        self.origin().and_then(|o| o.registry.as_deref())
    }

    /// The ClawHub fingerprint recorded in `origin.json`.
    pub fn origin_fingerprint(&self) -> Option<Sha256Digest> {
        self.origin().and_then(|o| o.fingerprint)
    }

    /// Files that were present but could not be read or parsed.
    pub fn problems(&self) -> Vec<&HintError> {
        let origin = self.origin.as_ref().and_then(|r| r.as_ref().err());
        let meta = self.meta.as_ref().and_then(|r| r.as_ref().err());
        let front = self.front_matter.as_ref().and_then(|r| r.as_ref().err());
        [origin, meta, front].into_iter().flatten().collect()
    }
}

fn error(file: &str, message: impl Into<String>) -> HintError {
    HintError { file: file.to_owned(), message: message.into() }
}

fn json_object(file: &str, content: Result<&[u8], u64>) -> Result<Map<String, Value>, HintError> {
    let bytes = content.map_err(|size| error(file, format!("{size} bytes is too large for an identity file")))?;
    // serde_json refuses nesting deeper than 128 levels with an error, not a stack overflow.
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(file, "expected a JSON object")),
        Err(e) => Err(error(file, format!("invalid JSON: {e}"))),
    }
}

/// An optional string field; present with another type is an error.
fn string_field(file: &str, map: &Map<String, Value>, key: &str) -> Result<Option<String>, HintError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(error(file, format!("`{key}` must be a string"))),
    }
}

fn parse_origin(file: &str, content: Result<&[u8], u64>) -> Result<OriginHints, HintError> {
    let map = json_object(file, content)?;
    let fingerprint = string_field(file, &map, "fingerprint")?
        .map(|text| text.parse::<Sha256Digest>().map_err(|e| error(file, format!("`fingerprint`: {e}"))))
        .transpose()?;
    Ok(OriginHints {
        file: file.to_owned(),
        registry: string_field(file, &map, "registry")?,
        slug: string_field(file, &map, "slug")?,
        owner_handle: string_field(file, &map, "ownerHandle")?,
        installed_version: string_field(file, &map, "installedVersion")?,
        fingerprint,
    })
}

fn parse_meta(file: &str, content: Result<&[u8], u64>) -> Result<MetaHints, HintError> {
    let map = json_object(file, content)?;
    let version = match string_field(file, &map, "version")? {
        Some(version) => Some(version),
        None => match map.get("latest") {
            None | Some(Value::Null) => None,
            Some(Value::Object(latest)) => {
                string_field(file, latest, "version").map_err(|_| error(file, "`latest.version` must be a string"))?
            }
            Some(_) => return Err(error(file, "`latest` must be an object")),
        },
    };
    Ok(MetaHints { slug: string_field(file, &map, "slug")?, owner: string_field(file, &map, "owner")?, version })
}

fn parse_front_matter(file: &str, content: Result<&[u8], u64>) -> Result<FrontMatterHints, HintError> {
    let bytes = content.map_err(|size| error(file, format!("{size} bytes is too large to read the front matter")))?;
    let text = std::str::from_utf8(bytes).map_err(|_| error(file, "not valid UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = markdown::parse(text, &YamlBudget::default());
    let mut hints = FrontMatterHints { file: file.to_owned(), name: None, version: None };
    let Some(value) = doc.frontmatter_value else {
        return Ok(hints);
    };
    let value = value.map_err(|e| error(file, format!("front matter: {e}")))?;
    let scalar = |key: &str| -> Option<String> {
        match value.get(key)? {
            Value::String(s) => Some(s.trim().to_owned()),
            // `version: 1.2` parses as a number; keep its spelling as YAML gave it.
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    hints.name = scalar("name");
    hints.version = scalar("version");
    Ok(hints)
}
