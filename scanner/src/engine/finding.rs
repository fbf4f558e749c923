//! Findings: the evidence a scan produces, and the scales they are measured on.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a finding is if it is true.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_severity)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_severity(s: &str) -> String {
    format!("unknown severity `{s}` (expected info, low, medium, high or critical)")
}

/// How sure a rule is that a match means what its message says.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default, strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The threat taxonomy of `threats.md` (B1–B16), plus `coverage` for findings that say the
/// scanner could not fully analyse something (a limit was hit, a file could not be decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    B1,
    B2,
    B3,
    B4,
    B5,
    B6,
    B7,
    B8,
    B9,
    B10,
    B11,
    B12,
    B13,
    B14,
    B15,
    B16,
    #[serde(rename = "coverage")]
    Coverage,
}

impl Category {
    pub const ALL: [Category; 17] = [
        Category::B1,
        Category::B2,
        Category::B3,
        Category::B4,
        Category::B5,
        Category::B6,
        Category::B7,
        Category::B8,
        Category::B9,
        Category::B10,
        Category::B11,
        Category::B12,
        Category::B13,
        Category::B14,
        Category::B15,
        Category::B16,
        Category::Coverage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::B1 => "B1",
            Category::B2 => "B2",
            Category::B3 => "B3",
            Category::B4 => "B4",
            Category::B5 => "B5",
            Category::B6 => "B6",
            Category::B7 => "B7",
            Category::B8 => "B8",
            Category::B9 => "B9",
            Category::B10 => "B10",
            Category::B11 => "B11",
            Category::B12 => "B12",
            Category::B13 => "B13",
            Category::B14 => "B14",
            Category::B15 => "B15",
            Category::B16 => "B16",
            Category::Coverage => "coverage",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Category::B1 => "fake prerequisite / dropper",
            Category::B2 => "fetch and execute",
            Category::B3 => "encoded or obfuscated payload",
            Category::B4 => "credential harvesting",
            Category::B5 => "exfiltration channel",
            Category::B6 => "reverse shell / remote access",
            Category::B7 => "persistence",
            Category::B8 => "prompt injection / social engineering",
            Category::B9 => "hidden content",
            Category::B10 => "agent memory, identity or config tampering",
            Category::B11 => "remote instruction loading / rug pull",
            Category::B12 => "typosquatting / impersonation",
            Category::B13 => "smuggling in binaries, archives and bytecode",
            Category::B14 => "insecure credential handling / hardcoded secret",
            Category::B15 => "destruction / resource abuse / mining",
            Category::B16 => "crypto and financial theft",
            Category::Coverage => "analysis coverage",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown category `{s}` (expected B1..B16 or coverage)"))
    }
}

/// A decoded payload: how it was decoded and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decoded {
    /// Decoding steps from the file's text to the matched text, e.g. `["base64", "xor(0x5a)"]`.
    pub chain: Vec<String>,
    /// The decoded text around the match (truncated, control characters escaped).
    pub text: String,
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `config` (an `[[ignore]]` entry of skillscan.toml) or `inline` (a `skillscan-ignore` comment).
    pub kind: SuppressionKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    Config,
    Inline,
}

/// A second location that contributes to a finding (e.g. the network send of a credential read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub snippet: String,
}

/// One piece of evidence: which rule matched, where, and what it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub category: Category,
    pub confidence: Confidence,
    pub message: String,
    /// Path relative to the skill root, `/`-separated; entries of nested archives read `a.zip!/b.sh`.
    pub file: String,
    /// 1-based line and column (columns count Unicode scalar values); 0 when the finding is about
    /// the file as a whole.
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// The matched text, truncated, with control and invisible characters escaped.
    pub snippet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded: Option<Decoded>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub related: Vec<RelatedLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// The source line for human output (not part of the JSON contract).
    #[serde(skip)]
    pub context: Option<SourceContext>,
}

/// The line a finding starts on, escaped and cut to a window, with the matched part marked.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SourceContext {
    pub line: String,
    /// Character offset and length of the marker within `line`.
    pub marker_start: usize,
    pub marker_len: usize,
}

impl Finding {
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}
