//! The rule file format: one YAML file per rule in `rules/`, file stem == `id`.
//!
//! A rule says what it detects and why (so `skillscan rules explain` and SARIF `help` need no
//! other source), what part of a skill it looks at (`views`, `languages`), how it matches
//! (`match`), what is not a match (`unless`), and carries examples that must and must not match.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engine::finding::{Category, Confidence, Severity};
use crate::engine::lang::Lang;
pub use crate::engine::view::View;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Stable identifier, kebab-case, never reused; equal to the file stem.
    pub id: String,
    /// Short human title.
    pub name: String,
    /// Severity of a finding; `none` for rules that only record a capability.
    pub severity: RuleSeverity,
    pub category: Category,
    #[serde(default)]
    pub confidence: Confidence,
    /// The finding message; `{name}` is replaced by the named capture `name` of the match.
    pub message: String,
    /// What it detects, why it is dangerous, an example, references (Markdown).
    pub description: String,
    /// What the skill author or the user should do instead.
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// The parts of a file the matcher runs on.
    #[serde(default = "default_views")]
    pub views: Vec<View>,
    /// Restricts code views to these languages (decoded payloads are always included).
    #[serde(default)]
    pub languages: Vec<Lang>,
    /// A fact the match contributes to the skill's capability manifest, e.g. `network`.
    #[serde(default)]
    pub capability: Option<String>,
    /// How the source of a matched download changes the severity (`installer`: a download that
    /// is run is low from a trusted installer host, medium from the skill's own vendor, critical
    /// from a raw IP, paste site, file host, shortener or tunnel).
    #[serde(default)]
    pub provenance: Option<Provenance>,
    #[serde(rename = "match")]
    pub matcher: MatchSpec,
    #[serde(default)]
    pub unless: Unless,
    /// Rules off by default (`enable` them in skillscan.toml).
    #[serde(default)]
    pub disabled: bool,
    pub examples: Examples,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    /// The match downloads code and runs it: judge the download's host.
    Installer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    None,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl RuleSeverity {
    pub fn finding_severity(self) -> Option<Severity> {
        match self {
            RuleSeverity::None => None,
            RuleSeverity::Info => Some(Severity::Info),
            RuleSeverity::Low => Some(Severity::Low),
            RuleSeverity::Medium => Some(Severity::Medium),
            RuleSeverity::High => Some(Severity::High),
            RuleSeverity::Critical => Some(Severity::Critical),
        }
    }
}

fn default_views() -> Vec<View> {
    vec![View::Raw]
}

/// Exactly one matcher.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// A regular expression (Rust `regex` syntax). Named groups become message placeholders;
    /// a group named `value` is the capability value, one named `url` or `host` is checked
    /// against host lists.
    #[serde(default)]
    pub regex: Option<String>,
    /// At least `count` distinct members of a term list in one line (or one segment).
    #[serde(default)]
    pub at_least: Option<AtLeast>,
    /// A named analyzer implemented in Rust.
    #[serde(default)]
    pub analyzer: Option<String>,
    /// Capabilities that must co-occur (in one file, or across the skill).
    #[serde(default)]
    pub correlate: Option<Correlate>,
    /// With `regex`: the host of the `url`/`host` capture (or of a URL in the
    /// match) must be in one of these lists (`rules/lists/<name>.txt`).
    #[serde(default)]
    pub host_in: Vec<String>,
    /// With `regex`: the URL host must be one the skill vouches for (the inverse
    /// of `unless.corroborated`).
    #[serde(default)]
    pub corroborated: bool,
}

/// `match: { at_least: { count: 2, list: credential-stores, within: line } }`: fires where a
/// region holds `count` or more *distinct* members of a list; one member named many times counts
/// once. The finding spans from the first member of the region to the one that completes the
/// count; the capture `value` is that text, `members` the distinct members found (by their first
/// spelling, comma-separated).
///
/// A member is one entry of the list: its spellings separated by `|`, each spelling with
/// optional `{a,b}` alternatives (`.{openclaw,clawdbot}/.env`). Spellings match ASCII
/// case-insensitively, and an edge of a spelling that is a word character must not touch another
/// word character (`.ssh` matches in `~/.ssh/id_rsa`, not in `~/.sshd`; `wallet.dat` not in
/// `mywallet.dat`). A mention inside a longer mention of another member counts only for the
/// longer one.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtLeast {
    /// How many distinct members make a match (at least 2).
    pub count: usize,
    /// A term list by name (`rules/lists/terms/<name>.txt`), or the members inline.
    pub list: MemberList,
    /// The region the members must share.
    #[serde(default)]
    pub within: Within,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum MemberList {
    Named(String),
    Inline(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Within {
    /// One line of the segment (one command, one array literal written on a line).
    #[default]
    Line,
    /// The whole segment: a script, one fenced code block, one decoded payload.
    Segment,
}

impl Within {
    pub fn as_str(self) -> &'static str {
        match self {
            Within::Line => "line",
            Within::Segment => "segment",
        }
    }
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Correlate {
    /// Every one of these capabilities must be present.
    pub all: Vec<String>,
    #[serde(default)]
    pub scope: CorrelateScope,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CorrelateScope {
    /// All facts in one file (a Markdown file's code blocks count as one file).
    #[default]
    File,
    /// Facts in SKILL.md and in the files it tells the agent to run.
    Skill,
}

/// Conditions under which a match is not a finding.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unless {
    /// The line holding the match matches this regex (e.g. a deny-list: "never run …").
    #[serde(default)]
    pub line: Option<String>,
    /// The matched text matches this regex.
    #[serde(default)]
    pub matched: Option<String>,
    /// The lines that introduce the match match this regex: the earlier lines of its paragraph,
    /// and for a fenced code block the label above the fence ("❌ Malicious:", "Never run:").
    /// See `matching::lead_in`.
    #[serde(default)]
    pub lead_in: Option<String>,
    /// The match is a sentence of its own that refers back to the list just above it ("Don't ask
    /// permission." after a list of steps), and every step of that list matches this regex. See
    /// `text::steps_above`.
    #[serde(default)]
    pub steps_above: Option<String>,
    /// The host of the `url`/`host` capture (or of the first URL in the match) is in one of
    /// these lists (`rules/lists/<name>.txt`).
    #[serde(default)]
    pub host_in: Vec<String>,
    /// The file path matches one of these globs.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The URL host is one the skill itself vouches for (its homepage or repository, a domain
    /// its documents link repeatedly, or a domain named after the skill): see `corroborate.rs`.
    #[serde(default)]
    pub corroborated: bool,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(rename = "match")]
    pub positive: Vec<Example>,
    #[serde(rename = "no_match")]
    pub negative: Vec<Example>,
}

/// A small skill to scan: a string is the content of one file (named after the rule's first
/// language, or SKILL.md); the long form names files, wraps them in an archive, or gives bytes.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Example {
    Text(String),
    Spec(Box<ExampleSpec>),
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleSpec {
    /// For a `match` example of a rule whose severity depends on what matched (installer
    /// provenance, a secret's owner, the context of a match): the severity the finding must have.
    #[serde(default)]
    pub severity: Option<RuleSeverity>,
    /// With `code`: the file name (default as for the short form).
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    /// Several files: path → content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Files given as hex bytes: path → hex.
    #[serde(default)]
    pub binary_files: BTreeMap<String, String>,
    /// Symbolic link entries: path → target (the files are then packed as a tar archive).
    #[serde(default)]
    pub symlinks: BTreeMap<String, String>,
    /// Special entries (`char`, `block`, `fifo`): path → kind (the files are packed as tar).
    #[serde(default)]
    pub special_files: BTreeMap<String, String>,
    /// Large files: path → `{fill, size}` (the text `fill` repeated up to `size` bytes).
    #[serde(default)]
    pub generated_files: BTreeMap<String, GeneratedFile>,
    /// Do not add the stub SKILL.md that short examples get.
    #[serde(default)]
    pub no_manifest: bool,
    /// Pack the files as `zip` or `tar.gz` before scanning.
    #[serde(default)]
    pub archive: Option<String>,
    /// A complete archive, base64-encoded (for structures no writer produces, e.g. encrypted).
    #[serde(default)]
    pub archive_base64: Option<String>,
    /// Loader limits for this example.
    #[serde(default)]
    pub limits: Option<ExampleLimits>,
    /// Why this example is here (not used by the engine).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedFile {
    pub fill: String,
    pub size: usize,
}

#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleLimits {
    pub max_entries: Option<usize>,
    pub max_file_bytes: Option<u64>,
    pub max_total_bytes: Option<u64>,
    pub max_ratio: Option<u64>,
    pub max_depth: Option<u32>,
    /// The per-skill analysis deadline, in milliseconds (0: it has passed before matching starts).
    pub analysis_ms: Option<u64>,
}
