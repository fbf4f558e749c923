//! The files the `clawhub` CLI keeps in a workdir, read and written byte-for-byte as CLI 0.23.3
//! does (`clawhub-cli-trace.md` §3, checked against the real CLI):
//!
//! - `<workdir>/.clawhub/lock.json` (legacy `.clawdhub/lock.json` is read when the new one is
//!   absent): `{"version":1,"skills":{"<key>":{"version","installedAt","ownerHandle"?}}}`, where the
//!   key is the slug or `@owner/slug` for an owner-qualified install; pretty-printed with two
//!   spaces and a trailing newline. Entries we did not write keep their keys, order and values.
//! - `<skill>/.clawhub/origin.json`: `{"version":1,"registry","slug","ownerHandle"?,
//!   "installedVersion","installedAt","fingerprint"}` in that key order, same layout. Reading it
//!   is the protection suite's job (its identity hints); this module only writes it.
//! - the install target `<workdir>/skills/<slug>` or `<workdir>/skills/@<owner>/<slug>`.
//!
//! Everything here is parsed defensively: a lock file someone edited into nonsense is a
//! [`ClawhubError`] naming the file and the entry, never a panic, and keys that could point
//! outside `skills/` (`../x`, `a/b`) are refused rather than joined onto a path.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use skillscan_signatures::digest::Sha256Digest;
use skillscan_signatures::identity::{Owner, Slug, Version};

/// The folder the CLI keeps its state in, in a workdir and in each installed skill.
pub const STATE_DIR: &str = ".clawhub";
/// The name older CLIs used; read, never written.
pub const LEGACY_STATE_DIR: &str = ".clawdhub";
/// Where skills are installed inside a workdir (the CLI's `--dir` default).
pub const SKILLS_DIR: &str = "skills";
/// Lock and origin files are a few kilobytes; anything larger is not one.
pub const MAX_STATE_FILE_BYTES: u64 = 4 << 20;

/// A problem with a ClawHub state file or a skill reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClawhubError {
    #[error("invalid skill reference \"{reference}\": {reason}")]
    BadReference { reference: String, reason: String },
    #[error("{path}: not a valid ClawHub lock file: {reason}")]
    BadLock { path: String, reason: String },
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
}

/// `SLUG`, `SLUG@VERSION`, `@OWNER/SLUG` or `@OWNER/SLUG@VERSION`.
///
/// Each part is the workspace's identity type, so a reference that parses can be signed, pinned
/// and installed: slug and owner are single path segments (never `.` or `..`), and the owner is
/// lowercased as ClawHub compares it ([`Owner::from_handle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRef {
    /// Set when the user qualified the slug with an owner: the skill then installs under
    /// `skills/@owner/slug` and its lock key is `@owner/slug`, as the CLI does.
    pub owner: Option<Owner>,
    pub slug: Slug,
    pub version: Option<Version>,
}

impl FromStr for SkillRef {
    type Err = ClawhubError;

    fn from_str(reference: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ClawhubError::BadReference {
            reference: crate::engine::text::escape_snippet(reference, 120),
            reason: reason.to_owned(),
        };
        let (owner, rest) = match reference.split_once('/') {
            Some((handle, rest)) if handle.starts_with('@') => {
                let owner = Owner::from_handle(handle)
                    .map_err(|_| bad("the owner may only contain letters, digits, '.', '_' and '-'"))?;
                (Some(owner), rest)
            }
            _ if reference.starts_with('@') => return Err(bad("expected @owner/slug")),
            _ => (None, reference),
        };
        let (slug, version) = match rest.split_once('@') {
            Some((slug, version)) => (slug, Some(version)),
            None => (rest, None),
        };
        let slug: Slug = slug.parse().map_err(|_| {
            bad("a slug is lowercase letters, digits, '.', '_' and '-', starting with a letter or digit")
        })?;
        let version = version
            .map(str::parse::<Version>)
            .transpose()
            .map_err(|_| bad("the version may only contain letters, digits, '.', '+', '_' and '-'"))?;
        Ok(SkillRef { owner, slug, version })
    }
}

impl fmt::Display for SkillRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lock_key())?;
        if let Some(version) = &self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

impl SkillRef {
    /// The key of this skill in `.clawhub/lock.json`.
    pub fn lock_key(&self) -> String {
        match &self.owner {
            Some(owner) => format!("@{owner}/{}", self.slug),
            None => self.slug.to_string(),
        }
    }

    /// The install folder, relative to the workdir. Slug and owner were validated as single path
    /// segments (no `/`, never `.` or `..`), so this cannot leave `skills/`.
    pub fn install_dir(&self) -> PathBuf {
        let mut path = PathBuf::from(SKILLS_DIR);
        if let Some(owner) = &self.owner {
            path.push(format!("@{owner}"));
        }
        path.push(self.slug.as_str());
        path
    }
}

/// Milliseconds since the Unix epoch, as the CLI records `installedAt`.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

// ---------------------------------------------------------------- order-preserving JSON

/// A JSON value that keeps object keys in document order, so that rewriting a lock file the
/// user or the CLI wrote changes only the entry we touch. (`serde_json`'s `preserve_order`
/// feature would do this for the whole workspace and reorder every report's maps.)
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedJson {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<OrderedJson>),
    Object(Vec<(String, OrderedJson)>),
}

impl OrderedJson {
    pub fn get(&self, key: &str) -> Option<&OrderedJson> {
        match self {
            OrderedJson::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            OrderedJson::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            OrderedJson::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            OrderedJson::Null => "null",
            OrderedJson::Bool(_) => "a boolean",
            OrderedJson::Number(_) => "a number",
            OrderedJson::String(_) => "a string",
            OrderedJson::Array(_) => "an array",
            OrderedJson::Object(_) => "an object",
        }
    }

    /// Sets `key`, in place if present (keeping its position), else at the end.
    fn set(entries: &mut Vec<(String, OrderedJson)>, key: &str, value: OrderedJson) {
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => entries.push((key.to_owned(), value)),
        }
    }

    /// `JSON.stringify(value, null, 2) + "\n"`.
    pub fn to_pretty_string(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).unwrap_or_default();
        out.push('\n');
        out
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OrderedJson::Null => serializer.serialize_unit(),
            OrderedJson::Bool(b) => serializer.serialize_bool(*b),
            OrderedJson::Number(n) => n.serialize(serializer),
            OrderedJson::String(s) => serializer.serialize_str(s),
            OrderedJson::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            OrderedJson::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<OrderedJson, E> {
                Ok(OrderedJson::Null)
            }
            fn visit_none<E>(self) -> Result<OrderedJson, E> {
                Ok(OrderedJson::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<OrderedJson, E> {
                Ok(OrderedJson::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<OrderedJson, E> {
                Ok(OrderedJson::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<OrderedJson, E> {
                Ok(OrderedJson::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OrderedJson, E> {
                serde_json::Number::from_f64(v)
                    .map(OrderedJson::Number)
                    .ok_or_else(|| E::custom("a number that is not finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<OrderedJson, E> {
                Ok(OrderedJson::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<OrderedJson, E> {
                Ok(OrderedJson::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(OrderedJson::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
                let mut entries: Vec<(String, OrderedJson)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, OrderedJson>()? {
                    // JSON.parse keeps the last of duplicated keys; so do we, in its first position.
                    OrderedJson::set(&mut entries, &key, value);
                }
                Ok(OrderedJson::Object(entries))
            }
        }
        // serde_json bounds nesting at 128 levels, so hostile input cannot overflow the stack.
        deserializer.deserialize_any(V)
    }
}

// ---------------------------------------------------------------- lock.json

/// One entry of `.clawhub/lock.json`, as far as we understand it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    /// The key: a slug, `@owner/slug`, or another source's key (`skills-sh:o/r/s`).
    pub key: String,
    /// `null` in the file is `None` (the CLI writes null for some sources).
    pub version: Option<String>,
    pub installed_at: Option<u64>,
    pub owner_handle: Option<String>,
}

impl LockEntry {
    /// The folder the CLI installed this entry into, relative to the workdir, or why the key
    /// cannot name one. A key from another source (`skills-sh:...`) or with `..` is never
    /// turned into a path.
    pub fn install_dir(&self) -> Result<PathBuf, String> {
        let reference: SkillRef = self.key.parse().map_err(|_| {
            format!(
                "key \"{}\" is not a ClawHub slug or @owner/slug",
                crate::engine::text::escape_snippet(&self.key, 120)
            )
        })?;
        if reference.version.is_some() {
            return Err(format!("key \"{}\" carries a version", crate::engine::text::escape_snippet(&self.key, 120)));
        }
        Ok(reference.install_dir())
    }
}

/// `<workdir>/.clawhub/lock.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockJson {
    /// The whole document, order preserved (unknown keys kept).
    document: OrderedJson,
}

impl Default for LockJson {
    fn default() -> Self {
        LockJson {
            document: OrderedJson::Object(vec![
                ("version".to_owned(), OrderedJson::Number(1.into())),
                ("skills".to_owned(), OrderedJson::Object(Vec::new())),
            ]),
        }
    }
}

impl LockJson {
    /// Where the lock of `workdir` is read from: `.clawhub/lock.json`, else the legacy file if
    /// only that exists. Always written to `.clawhub/lock.json`.
    pub fn read_path(workdir: &Path) -> PathBuf {
        let current = workdir.join(STATE_DIR).join("lock.json");
        let legacy = workdir.join(LEGACY_STATE_DIR).join("lock.json");
        if std::fs::symlink_metadata(&current).is_err() && std::fs::symlink_metadata(&legacy).is_ok() {
            legacy
        } else {
            current
        }
    }

    pub fn write_path(workdir: &Path) -> PathBuf {
        workdir.join(STATE_DIR).join("lock.json")
    }

    /// Parses a lock file. `path` only labels errors. The checks are the CLI's schema
    /// (`version` 1, `skills` an object of objects) plus ours (`version` a string or null,
    /// `installedAt` a non-negative integer, `ownerHandle` a string): a lock that fails them is
    /// not rewritten, so a corrupt file is reported rather than silently "repaired".
    pub fn parse(path: &str, text: &str) -> Result<LockJson, ClawhubError> {
        let bad = |reason: String| ClawhubError::BadLock { path: path.to_owned(), reason };
        let document: OrderedJson = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        if !matches!(document, OrderedJson::Object(_)) {
            return Err(bad(format!("the document is {}, not an object", document.kind())));
        }
        match document.get("version") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => return Err(bad(format!("`version` is {}, expected 1", describe(v)))),
            None => return Err(bad("`version` is missing".to_owned())),
        }
        match document.get("skills") {
            Some(OrderedJson::Object(_)) => {}
            Some(other) => return Err(bad(format!("`skills` is {}, not an object", other.kind()))),
            None => return Err(bad("`skills` is missing".to_owned())),
        }
        let lock = LockJson { document };
        lock.entries().map_err(bad)?;
        Ok(lock)
    }

    /// Reads the lock of `workdir`; `Ok(None)` when there is none. Links are not followed: a lock
    /// file that is a symlink is an error, as it could make us rewrite a file elsewhere.
    pub fn load(workdir: &Path) -> Result<Option<(PathBuf, LockJson)>, ClawhubError> {
        let path = Self::read_path(workdir);
        let Some(text) = read_state_file(&path)? else {
            return Ok(None);
        };
        Ok(Some((path.clone(), Self::parse(&path.display().to_string(), &text)?)))
    }

    /// The entries, in file order.
    pub fn entries(&self) -> Result<Vec<LockEntry>, String> {
        let Some(OrderedJson::Object(skills)) = self.document.get("skills") else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(skills.len());
        for (key, value) in skills {
            let label = crate::engine::text::escape_snippet(key, 120);
            let OrderedJson::Object(_) = value else {
                return Err(format!("entry \"{label}\" is {}, not an object", value.kind()));
            };
            let version = match value.get("version") {
                None | Some(OrderedJson::Null) => None,
                Some(OrderedJson::String(s)) => Some(s.clone()),
                Some(other) => return Err(format!("entry \"{label}\": `version` is {}", other.kind())),
            };
            let installed_at = match value.get("installedAt") {
                None => None,
                Some(v) => {
                    Some(v.as_u64().ok_or_else(|| format!("entry \"{label}\": `installedAt` is {}", describe(v)))?)
                }
            };
            let owner_handle = match value.get("ownerHandle") {
                None | Some(OrderedJson::Null) => None,
                Some(OrderedJson::String(s)) => Some(s.clone()),
                Some(other) => return Err(format!("entry \"{label}\": `ownerHandle` is {}", other.kind())),
            };
            out.push(LockEntry { key: key.clone(), version, installed_at, owner_handle });
        }
        Ok(out)
    }

    /// Records an install the way the CLI does: `{"version","installedAt","ownerHandle"?}`
    /// under the key, replacing an existing entry in place.
    pub fn record(&mut self, key: &str, version: &str, installed_at: u64, owner_handle: Option<&str>) {
        let mut entry = vec![
            ("version".to_owned(), OrderedJson::String(version.to_owned())),
            ("installedAt".to_owned(), OrderedJson::Number(installed_at.into())),
        ];
        if let Some(owner) = owner_handle {
            entry.push(("ownerHandle".to_owned(), OrderedJson::String(owner.to_owned())));
        }
        let OrderedJson::Object(top) = &mut self.document else {
            return;
        };
        if !matches!(top.iter().find(|(k, _)| k == "skills"), Some((_, OrderedJson::Object(_)))) {
            OrderedJson::set(top, "skills", OrderedJson::Object(Vec::new()));
        }
        if let Some((_, OrderedJson::Object(skills))) = top.iter_mut().find(|(k, _)| k == "skills") {
            OrderedJson::set(skills, key, OrderedJson::Object(entry));
        }
    }

    /// The file's text: two-space indentation and a trailing newline.
    pub fn to_file_string(&self) -> String {
        self.document.to_pretty_string()
    }
}

fn describe(value: &OrderedJson) -> String {
    match value {
        OrderedJson::Number(n) => n.to_string(),
        OrderedJson::String(s) => format!("\"{}\"", crate::engine::text::escape_snippet(s, 60)),
        other => other.kind().to_owned(),
    }
}

/// Reads a small state file without following a link at its last component: `Ok(None)` when
/// it does not exist, an error when it is a link, not a regular file, too large or not UTF-8.
pub fn read_state_file(path: &Path) -> Result<Option<String>, ClawhubError> {
    read_state_file_limited(path, MAX_STATE_FILE_BYTES)
}

/// [`read_state_file`] with another size limit (`skills.lock` lists every file of every skill).
pub fn read_state_file_limited(path: &Path, limit: u64) -> Result<Option<String>, ClawhubError> {
    let shown = path.display().to_string();
    let unreadable = |reason: String| ClawhubError::Unreadable { path: shown.clone(), reason };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e.to_string())),
    };
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
        return Err(unreadable(format!("is a symbolic link (to \"{target}\"); not followed")));
    }
    if !meta.is_file() {
        return Err(unreadable("is not a regular file".to_owned()));
    }
    if meta.len() > limit {
        return Err(unreadable(format!("is {} bytes, more than the {limit} a state file may have", meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(unreadable("grew while being read".to_owned()));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| unreadable("is not UTF-8 text".to_owned()))
}

// ---------------------------------------------------------------- origin.json

/// `<skill>/.clawhub/origin.json` as `clawhub install` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The registry URL exactly as configured (no trailing slash added or removed).
    pub registry: String,
    pub slug: String,
    pub owner_handle: Option<String>,
    pub installed_version: String,
    pub installed_at: u64,
    /// The ClawHub fingerprint of the installed files (dot paths skipped, `_meta.json` included).
    pub fingerprint: Option<Sha256Digest>,
}

impl Origin {
    pub fn to_file_string(&self) -> String {
        let mut entries = vec![
            ("version".to_owned(), OrderedJson::Number(1.into())),
            ("registry".to_owned(), OrderedJson::String(self.registry.clone())),
            ("slug".to_owned(), OrderedJson::String(self.slug.clone())),
        ];
        if let Some(owner) = &self.owner_handle {
            entries.push(("ownerHandle".to_owned(), OrderedJson::String(owner.clone())));
        }
        entries.push(("installedVersion".to_owned(), OrderedJson::String(self.installed_version.clone())));
        entries.push(("installedAt".to_owned(), OrderedJson::Number(self.installed_at.into())));
        if let Some(fingerprint) = &self.fingerprint {
            entries.push(("fingerprint".to_owned(), OrderedJson::String(fingerprint.to_string())));
        }
        OrderedJson::Object(entries).to_pretty_string()
    }
}

/// Compares registry URLs the way a person means them: scheme and host case-insensitively,
/// trailing slashes ignored. `http://Mirror:8080/` and `http://mirror:8080` are the same.
pub fn same_registry(a: &str, b: &str) -> bool {
    normalize_registry(a) == normalize_registry(b)
}

fn normalize_registry(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let mut out = format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase());
            if !path.is_empty() {
                out.push('/');
                out.push_str(path);
            }
            out
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r: SkillRef = "weather-brief".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.owner.as_deref(), r.slug.as_str(), r.version.as_deref()), (None, "weather-brief", None));
        assert_eq!(r.install_dir(), PathBuf::from("skills/weather-brief"));
        let r: SkillRef = "@Acme/weather-brief@1.0.0".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.owner.as_deref(), r.version.as_deref()), (Some("acme"), Some("1.0.0")));
        assert_eq!(r.lock_key(), "@acme/weather-brief");
        assert_eq!(r.install_dir(), PathBuf::from("skills/@acme/weather-brief"));
        assert_eq!(r.to_string(), "@acme/weather-brief@1.0.0");
        for bad in
            ["", "..", "../x", "a/b", "@acme", "@/x", "@../x", "x@", "x@../1", "X", ".hidden", "a b", "a\nb", "@a/b/c"]
        {
            assert!(bad.parse::<SkillRef>().is_err(), "{bad:?}");
        }
    }

    const CLI_LOCK: &str = "{\n  \"version\": 1,\n  \"skills\": {\n    \"weather-brief\": {\n      \"version\": \"1.0.0\",\n      \"installedAt\": 1795604183544,\n      \"ownerHandle\": \"acme\"\n    }\n  }\n}\n";

    #[test]
    fn lock_round_trips_and_records_like_the_cli() {
        let lock = LockJson::parse("lock.json", CLI_LOCK).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lock.to_file_string(), CLI_LOCK);
        let mut fresh = LockJson::default();
        fresh.record("weather-brief", "1.0.0", 1_795_604_183_544, Some("acme"));
        assert_eq!(fresh.to_file_string(), CLI_LOCK);

        // Other entries and unknown keys keep their order; an existing entry is replaced in place.
        let text = "{\"version\":1,\"extra\":{\"z\":1,\"a\":2},\"skills\":{\"zeta\":{\"version\":null,\"installedAt\":1,\"sourceRef\":\"x\"},\"weather-brief\":{\"version\":\"0.9.0\",\"installedAt\":2}}}";
        let mut lock = LockJson::parse("l", text).unwrap_or_else(|e| panic!("{e}"));
        lock.record("weather-brief", "1.0.0", 3, None);
        lock.record("alpha", "2.0.0", 4, Some("o"));
        let out = lock.to_file_string();
        let order: Vec<usize> =
            ["\"extra\"", "\"z\"", "\"a\"", "\"zeta\"", "\"sourceRef\"", "\"weather-brief\"", "\"alpha\""]
                .iter()
                .map(|k| out.find(k).unwrap_or_else(|| panic!("{k} missing in {out}")))
                .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
        let entries = LockJson::parse("l", &out)
            .and_then(|l| l.entries().map_err(|reason| ClawhubError::BadLock { path: "l".into(), reason }));
        let entries = entries.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries[1].version.as_deref(), Some("1.0.0"));
        assert_eq!(entries[0].version, None);
    }

    #[test]
    fn corrupt_locks_are_errors_naming_the_problem() {
        for (text, expected) in [
            ("", "not JSON"),
            ("[]", "not an object"),
            ("{\"skills\":{}}", "`version` is missing"),
            ("{\"version\":2,\"skills\":{}}", "`version` is 2"),
            ("{\"version\":1}", "`skills` is missing"),
            ("{\"version\":1,\"skills\":[]}", "`skills` is an array"),
            ("{\"version\":1,\"skills\":{\"a\":1}}", "entry \"a\" is a number"),
            ("{\"version\":1,\"skills\":{\"a\":{\"version\":1}}}", "`version` is a number"),
            ("{\"version\":1,\"skills\":{\"a\":{\"installedAt\":-1}}}", "`installedAt` is -1"),
            ("{\"version\":1,\"skills\":{\"a\":{\"ownerHandle\":[]}}}", "`ownerHandle` is an array"),
        ] {
            match LockJson::parse("lock.json", text) {
                Err(e) => assert!(e.to_string().contains(expected), "{text}: {e}"),
                Ok(_) => panic!("{text} parsed"),
            }
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(LockJson::parse("lock.json", &deep).is_err());
    }

    #[test]
    fn lock_keys_never_become_paths_outside_skills() {
        let entry = |key: &str| LockEntry { key: key.into(), version: None, installed_at: None, owner_handle: None };
        assert_eq!(entry("@acme/x").install_dir(), Ok(PathBuf::from("skills/@acme/x")));
        for key in ["../../etc", "a/../../b", "/abs", "skills-sh:o/r/s", "x@1.0.0", ""] {
            assert!(entry(key).install_dir().is_err(), "{key}");
        }
    }

    #[test]
    fn origin_matches_the_cli_bytes() {
        let origin = Origin {
            registry: "http://127.0.0.1:35967".into(),
            slug: "weather-brief".into(),
            owner_handle: Some("acme".into()),
            installed_version: "1.0.0".into(),
            installed_at: 1_795_604_183_544,
            fingerprint: "0b4a401d17338f062457c2cca263d62eec34c06094500fb8bcc3bbca7fea80d9".parse().ok(),
        };
        assert_eq!(
            origin.to_file_string(),
            "{\n  \"version\": 1,\n  \"registry\": \"http://127.0.0.1:35967\",\n  \"slug\": \"weather-brief\",\n  \"ownerHandle\": \"acme\",\n  \"installedVersion\": \"1.0.0\",\n  \"installedAt\": 1795604183544,\n  \"fingerprint\": \"0b4a401d17338f062457c2cca263d62eec34c06094500fb8bcc3bbca7fea80d9\"\n}\n"
        );
    }

    #[test]
    fn registries_compare_loosely() {
        assert!(same_registry("http://Mirror.example:8080/", "http://mirror.example:8080"));
        assert!(same_registry("https://h/prefix/", "HTTPS://H/prefix"));
        assert!(!same_registry("https://h/Prefix", "https://h/prefix"));
        assert!(!same_registry("https://clawhub.ai", "http://mirror"));
    }
}
