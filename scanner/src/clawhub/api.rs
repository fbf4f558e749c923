//! The ClawHub HTTP protocol as types: every JSON body the skillscan mirror serves and every
//! answer skillscan's clients read (the install client, the mirror's upstream sync).
//!
//! Shapes follow `clawhub-protocol.md` §2 where it agrees with what CLI 0.23.3 was seen to send
//! and require (`clawhub-cli-trace.md`), the trace where they disagree. Top-level bodies are named
//! `…Response` (or `…Request`); the objects inside them are named for what they are.
//!
//! # Key order
//!
//! Fields are declared in the byte order of their JSON names, which is the order serde writes
//! them in. The mirror's answers have had their keys in that order since they were first built as
//! `serde_json` maps, and a mirror whose clients cache and compare what it serves keeps its bytes;
//! a test checks every type here against [`SortedKeys`]. Where a route has two shapes with
//! different keys (a pass and a fail, a skill and a list item), each shape is its own type: a key
//! that is `null` in one shape and absent in the other stays exactly that.
//!
//! # Decoding
//!
//! Answers come from registries we do not control, so decoding is defensive, never a panic:
//!
//! - unknown keys are ignored (ClawHub adds keys over time);
//! - a key of the wrong type is an error naming its path ([`from_slice`]);
//! - a key the CLI requires to be present (even as `null`) is required here too: `skill`,
//!   `latestVersion` and `owner` in a skill's detail, `skill` and `version` in a version's detail,
//!   `items` in lists; the other keys may be missing and then take their empty value;
//! - `tags` and `stats` are read leniently: no client reads them, and the CLI accepts any value.
//!
//! Bodies are size-capped by the clients before they get here.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// `schema` of a `GET /api/v1/skills/{slug}/verify` answer.
pub const VERIFY_SCHEMA: &str = "clawhub.skill.verify.v1";
/// `schema` of a `POST /api/v1/skills/-/security-verdicts` answer.
pub const SECURITY_VERDICTS_SCHEMA: &str = "clawhub.skill.security-verdicts.v1";
/// `schema` of the skillscan mirror's signed index (`GET /api/v1/skillscan/index.json`).
pub const INDEX_SCHEMA: &str = "skillscan.mirror.index.v1";

// ---------------------------------------------------------------- discovery

/// `GET /.well-known/clawhub.json` (and the legacy `clawdhub.json`): where the API lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WellKnownResponse {
    pub api_base: Option<String>,
    /// Device-login base; the mirror has no login and leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_base: Option<String>,
    /// Parsed by the CLI, never enforced.
    pub min_cli_version: Option<String>,
    /// The legacy name of `apiBase`; the CLI falls back to it.
    pub registry: Option<String>,
}

// ---------------------------------------------------------------- search and list

/// `GET /api/v1/search?q=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub results: Vec<SearchResult>,
}

/// One search hit. Only `score` is required; the CLI prints the rest when present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub downloads: Option<u64>,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub owner: Option<SearchOwner>,
    #[serde(default)]
    pub owner_handle: Option<String>,
    pub score: f64,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub version: Option<String>,
}

/// A search hit's owner (no `userId`, unlike [`Owner`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchOwner {
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub image: Option<String>,
}

/// `GET /api/v1/skills?limit=&cursor=&sort=&prefix=`: one page of skills.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillListResponse {
    pub items: Vec<SkillListItem>,
    /// The next page's cursor; `null` on the last page (the key is always sent).
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A skill in a list: its [`Skill`] keys plus `latestVersion`, `metadata` and `ownerHandle`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SkillListItem {
    pub created_at: i64,
    pub description: Option<String>,
    pub display_name: Option<String>,
    pub icon: Option<String>,
    /// The CLI's schema has this key optional but not nullable: left out when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<LatestVersion>,
    /// See [`SkillDetailResponse::metadata`].
    pub metadata: Option<Value>,
    pub owner_handle: Option<String>,
    /// Empty when a registry left it out; such an item names no skill.
    pub slug: String,
    #[serde(deserialize_with = "lenient")]
    pub stats: Stats,
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub tags: Tags,
    pub topics: Vec<String>,
    pub updated_at: i64,
}

// ---------------------------------------------------------------- one skill

/// `GET /api/v1/skills/{slug}`: a skill, its latest version, owner and moderation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillDetailResponse {
    /// Required, may be `null` (a skill with no hosted version).
    #[serde(deserialize_with = "required_nullable")]
    pub latest_version: Option<LatestVersion>,
    /// `null`, or an object with a `setup` array (the CLI refuses `{}`); relayed as the
    /// registry sent it, never interpreted. See [`valid_metadata`].
    #[serde(default)]
    pub metadata: Option<Value>,
    /// `null` or absent for a skill the registry does not flag.
    #[serde(default)]
    pub moderation: Option<Moderation>,
    /// Required, may be `null` (then the CLI sends no `ownerHandle`).
    #[serde(deserialize_with = "required_nullable")]
    pub owner: Option<Owner>,
    /// Required, may be `null`. `skill.slug` is the canonical slug: an alias answers with another.
    #[serde(deserialize_with = "required_nullable")]
    pub skill: Option<Skill>,
}

/// The `skill` object of a detail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Skill {
    pub created_at: i64,
    pub description: Option<String>,
    pub display_name: Option<String>,
    pub icon: Option<String>,
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub stats: Stats,
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub tags: Tags,
    pub topics: Vec<String>,
    pub updated_at: i64,
}

/// Tag name to version, e.g. `{"latest": "1.2.3"}`.
pub type Tags = BTreeMap<String, String>;

/// A skill's counters (ClawHub also sends `installsCurrent`/`installsAllTime`; unread).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub comments: u64,
    pub downloads: u64,
    pub stars: u64,
    pub versions: u64,
}

/// The newest version of a skill, in a detail or a list item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestVersion {
    /// A string (the CLI refuses `null`); missing reads as empty.
    #[serde(default)]
    pub changelog: String,
    #[serde(default)]
    pub created_at: i64,
    /// `"MIT-0"` or `null`: the CLI refuses any other licence.
    #[serde(default)]
    pub license: Option<String>,
    pub version: String,
}

/// A skill's owner, in a detail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Owner {
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub image: Option<String>,
    pub user_id: Option<String>,
}

/// What the registry's moderation says about a skill. `isMalwareBlocked` is the one refusal
/// `clawhub install --force` cannot bypass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Moderation {
    pub engine_version: Option<String>,
    pub is_malware_blocked: bool,
    pub is_suspicious: bool,
    pub reason_codes: Vec<String>,
    pub summary: Option<String>,
    pub updated_at: Option<i64>,
    pub verdict: Option<String>,
}

/// `GET /api/v1/skills/{slug}/moderation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationResponse {
    pub moderation: Moderation,
}

/// `metadata` as the CLI accepts it: an object with a `setup` array. Anything else is no metadata.
pub fn valid_metadata(metadata: &Value) -> bool {
    metadata.get("setup").is_some_and(Value::is_array)
}

// ---------------------------------------------------------------- versions

/// `GET /api/v1/skills/{slug}/versions?limit=&cursor=`: one page of versions, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionListResponse {
    pub items: Vec<VersionListItem>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// A version in a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionListItem {
    #[serde(default)]
    pub changelog: String,
    /// Where the changelog came from (the mirror says `"user"`).
    #[serde(default)]
    pub changelog_source: Option<String>,
    /// Publish time, ms since the epoch.
    #[serde(default)]
    pub created_at: Option<i64>,
    pub version: String,
}

/// `GET /api/v1/skills/{slug}/versions/{version}`: one version and its files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDetailResponse {
    /// Required, may be `null`.
    #[serde(deserialize_with = "required_nullable")]
    pub skill: Option<VersionSkill>,
    /// Required, may be `null` (the CLI's install pre-check only needs a 200 of this shape).
    #[serde(deserialize_with = "required_nullable")]
    pub version: Option<VersionDetail>,
}

/// The `skill` object of a version's detail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionSkill {
    pub display_name: Option<String>,
    pub slug: Option<String>,
}

/// The `version` object of a version's detail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionDetail {
    #[serde(default)]
    pub changelog: String,
    #[serde(default)]
    pub changelog_source: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Shown by `clawhub inspect --files`, in the CLI's order (JS `localeCompare`).
    #[serde(default)]
    pub files: Vec<VersionFile>,
    #[serde(default)]
    pub license: Option<String>,
    pub version: String,
}

/// One file of a version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionFile {
    pub content_type: String,
    pub path: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
}

// ---------------------------------------------------------------- install and update

/// `GET /api/v1/skills/{slug}/install`, a served version: what to download.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallResponse {
    pub archive: InstallArchive,
    /// `"archive"` for hosted skills.
    pub install_kind: String,
    pub ok: bool,
    pub slug: String,
}

/// The archive an [`InstallResponse`] names. The CLI requires `downloadUrl` and never uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallArchive {
    pub download_url: String,
    pub version: String,
}

/// `GET /api/v1/skills/{slug}/install`, refused: the JSON error body the CLI reads with 403
/// (blocked) and 423 (pending review), and `status` repeats the HTTP status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallRefusal {
    pub message: String,
    pub ok: bool,
    /// ClawHub's code, e.g. `github_scan_failed`, `github_verification_pending`.
    pub reason: String,
    pub slug: String,
    pub status: u16,
}

/// `GET /api/v1/resolve?slug=&hash=`: which version a local folder's fingerprint is, and the
/// latest one (what `clawhub update` compares).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveResponse {
    #[serde(deserialize_with = "required_nullable")]
    pub latest_version: Option<VersionRef>,
    #[serde(rename = "match", deserialize_with = "required_nullable")]
    pub matched: Option<VersionRef>,
    /// Not required by the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
}

/// A version by its number alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRef {
    pub version: String,
}

/// `POST /api/cli/telemetry/install` and other acknowledgements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub ok: bool,
}

// ---------------------------------------------------------------- verify and security verdicts

/// `GET /api/v1/skills/{slug}/verify`, passed: the version and the proof material.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyPass {
    pub artifact: VerifyArtifact,
    /// A generated skill card; the mirror makes none.
    pub card: Option<Value>,
    pub created_at: i64,
    /// `"pass"`.
    pub decision: String,
    pub display_name: String,
    pub ok: bool,
    pub page_url: Option<String>,
    pub provenance: VerifyProvenance,
    pub publisher_handle: Option<String>,
    pub reasons: Vec<String>,
    /// `"version"` when the request named one, else `"latest"`.
    pub resolved_from: String,
    /// [`VERIFY_SCHEMA`].
    pub schema: String,
    pub security: VerifySecurity,
    pub signature: VerifySignature,
    pub slug: String,
    /// `"latest"` when resolved from the tag, else `null`.
    pub tag: Option<String>,
    pub version: String,
}

/// `GET /api/v1/skills/{slug}/verify`, failed: the reasons, and what was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyFail {
    /// `"fail"`.
    pub decision: String,
    pub ok: bool,
    pub reasons: Vec<String>,
    pub schema: String,
    pub security: SecurityStatus,
    pub slug: String,
    /// The version asked for, `null` for the latest.
    pub version: Option<String>,
}

/// The archive a [`VerifyPass`] vouches for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyArtifact {
    /// Of the archive, lowercase hex.
    pub sha256: String,
    /// Where its minisign signature is.
    pub signature_url: String,
    pub size: u64,
    pub tree_digest: String,
}

/// Who vouches, and since when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyProvenance {
    pub approved_at: i64,
    pub mirror: String,
}

/// The scan behind a [`VerifyPass`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySecurity {
    pub passed: bool,
    /// `null` for a version approved by hand without a scan.
    pub rules_version: Option<String>,
    pub status: String,
}

/// How a [`VerifyPass`]'s archive is signed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignature {
    /// `"minisign"`.
    pub format: String,
    pub present: bool,
    pub public_key_url: String,
}

/// A security status alone: `passed` and a word (`malicious`, `pending`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityStatus {
    pub passed: bool,
    pub status: String,
}

/// `POST /api/v1/skills/-/security-verdicts`: 1 to 100 versions to look up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityVerdictsRequest {
    pub items: Vec<SecurityVerdictQuery>,
}

/// One version to look up; an empty string is the same as a missing key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityVerdictQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_handle: Option<String>,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The answer to a [`SecurityVerdictsRequest`], one item per query, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityVerdictsResponse {
    pub items: Vec<SecurityVerdict>,
    /// [`SECURITY_VERDICTS_SCHEMA`].
    pub schema: String,
}

/// A looked-up version: passed, or failed with an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecurityVerdict {
    Pass(SecurityVerdictPass),
    Fail(SecurityVerdictFail),
}

/// A served version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityVerdictPass {
    pub decision: String,
    pub ok: bool,
    pub publisher_handle: Option<String>,
    pub reasons: Vec<String>,
    pub requested_slug: String,
    pub requested_version: Option<String>,
    pub security: VerdictSecurity,
    pub security_audit_url: Option<String>,
    pub skill_url: Option<String>,
    pub slug: String,
    pub version: String,
}

/// A version that is refused, pending, unknown or not a valid name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityVerdictFail {
    pub decision: String,
    pub error: VerdictError,
    pub ok: bool,
    pub reasons: Vec<String>,
    pub requested_slug: String,
    pub requested_version: Option<String>,
    /// Always `null` for a failed lookup.
    pub security: Option<VerdictSecurity>,
}

/// The security status of a served version, by source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictSecurity {
    pub passed: bool,
    pub signals: VerdictSignals,
    pub status: String,
}

/// The scanners behind a [`VerdictSecurity`]; the mirror has only its own (`staticScan`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictSignals {
    pub dependency_registry: Option<String>,
    pub skill_spector: Option<String>,
    pub static_scan: Option<String>,
    pub virus_total: Option<String>,
}

/// Why a lookup failed: a code (`blocked`, `pending`, `not_found`, `invalid`) and a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictError {
    pub code: String,
    pub message: String,
}

// ---------------------------------------------------------------- archives and proofs

/// ClawHub's `_meta.json` inside a skill archive (the registry writes `ownerId, slug, version,
/// publishedAt`; the mirror's imports have always written this order, and imported archives'
/// digests depend on it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveMeta {
    /// A database id such as `users:abc`, not a handle.
    pub owner_id: Option<String>,
    pub published_at: i64,
    pub slug: String,
    pub version: String,
}

/// `GET /api/v1/skillscan/index.json`: every version the mirror serves, signed as a whole
/// (`index.json.minisig`), so a client can check what is approved without trusting other JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexResponse {
    pub count: usize,
    /// [`INDEX_SCHEMA`].
    pub schema: String,
    pub versions: Vec<IndexEntry>,
}

/// One served version in the index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub approved_at: Option<i64>,
    pub archive_sha256: String,
    pub owner: Option<String>,
    pub slug: String,
    pub tree_digest: String,
    pub version: String,
}

// ---------------------------------------------------------------- decoding and encoding

/// Why an answer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() || path == "." { String::new() } else { format!("at `{path}`: ") })]
pub struct DecodeError {
    /// Where in the document (`skill.slug`, `items[2].version`); `.` for the whole document.
    pub path: String,
    pub message: String,
}

/// Decodes a JSON answer into `T`; errors name the key at fault.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| DecodeError { path: e.path().to_string(), message: e.into_inner().to_string() })?;
    de.end().map_err(|e| DecodeError { path: String::new(), message: e.to_string() })?;
    Ok(value)
}

/// A key that must be present but may be `null` (serde lets a missing `Option` through).
fn required_nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// A value no client reads and the CLI accepts whatever it is: one that does not fit is empty.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

/// Serialises a value with the keys of every JSON object in byte order, whatever order its type
/// declares them in: the order of the skillscan mirror's own answers (admin API, `--json` output,
/// webhooks), which carry stored records whose fields are declared in their natural order.
#[derive(Debug, Clone, Copy)]
pub struct SortedKeys<T>(pub T);

impl<T: Serialize> Serialize for SortedKeys<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?;
        Sorted(&value).serialize(serializer)
    }
}

struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    out.serialize_entry(key, &Sorted(value))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&Sorted(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests;
