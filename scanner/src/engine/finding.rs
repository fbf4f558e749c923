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
    schemars::JsonSchema,
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
    Default,
    strum::IntoStaticStr,
    schemars::JsonSchema,
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
///
/// Each category has a stable code (`B4`, what JSON's `category` and SARIF carry) and a readable
/// kebab-case name (`credential-theft`, what rule files and human output use). Rule files may
/// give either; parsing ignores ASCII case.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(ascii_case_insensitive, parse_err_ty = String, parse_err_fn = unknown_category)]
pub enum Category {
    #[strum(to_string = "fake-prerequisite", serialize = "B1")]
    B1,
    #[strum(to_string = "fetch-and-execute", serialize = "B2")]
    B2,
    #[strum(to_string = "obfuscated-payload", serialize = "B3")]
    B3,
    #[strum(to_string = "credential-theft", serialize = "B4")]
    B4,
    #[strum(to_string = "exfiltration", serialize = "B5")]
    B5,
    #[strum(to_string = "remote-access", serialize = "B6")]
    B6,
    #[strum(to_string = "persistence", serialize = "B7")]
    B7,
    #[strum(to_string = "prompt-injection", serialize = "B8")]
    B8,
    #[strum(to_string = "hidden-content", serialize = "B9")]
    B9,
    #[strum(to_string = "agent-tampering", serialize = "B10")]
    B10,
    #[strum(to_string = "remote-instructions", serialize = "B11")]
    B11,
    #[strum(to_string = "impersonation", serialize = "B12")]
    B12,
    #[strum(to_string = "binary-smuggling", serialize = "B13")]
    B13,
    #[strum(to_string = "insecure-credentials", serialize = "B14")]
    B14,
    #[strum(to_string = "destruction-and-abuse", serialize = "B15")]
    B15,
    #[strum(to_string = "financial-theft", serialize = "B16")]
    B16,
    #[serde(rename = "coverage")]
    #[strum(to_string = "coverage")]
    Coverage,
}

fn unknown_category(s: &str) -> String {
    let names = Category::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ");
    format!("unknown category `{s}` (expected one of {names}, or a code B1..B16)")
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

    /// The stable code: `B1`..`B16` or `coverage` (JSON `category`, SARIF, `rules list`).
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

    /// The readable kebab-case name: `credential-theft` (rule files, human output, JSON
    /// `category_name`).
    pub fn name(self) -> &'static str {
        self.into()
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

/// A name or a code, as [`FromStr`] parses them (rule files say `category: credential-theft`;
/// older ones and reports say `B4`).
impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Category::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// In a schema, a category is one of the codes or one of the names (rule files may give either;
/// reports carry the code as `category` and the name as `category_name`).
impl schemars::JsonSchema for Category {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Category".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut spellings: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
        spellings.extend(Category::ALL.iter().map(|c| c.name()).filter(|name| *name != "coverage"));
        schemars::json_schema!({ "type": "string", "enum": spellings })
    }
}

/// A finding's category in JSON: the code as `category` (unchanged for existing consumers) and
/// the readable name next to it as `category_name`.
mod category_fields {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Category;

    #[derive(Serialize, schemars::JsonSchema)]
    pub struct Written {
        category: Category,
        category_name: &'static str,
    }

    #[derive(Deserialize)]
    struct Read {
        category: Category,
    }

    pub fn serialize<S: Serializer>(category: &Category, serializer: S) -> Result<S::Ok, S::Error> {
        Written { category: *category, category_name: category.name() }.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Category, D::Error> {
        Read::deserialize(deserializer).map(|read| read.category)
    }
}

/// A decoded payload: how it was decoded and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decoded {
    /// Decoding steps from the file's text to the matched text, e.g. `["base64", "xor(0x5a)"]`.
    pub chain: Vec<String>,
    /// The decoded text around the match (truncated, control characters escaped).
    pub text: String,
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suppression {
    /// `config` (an `[[ignore]]` entry of skillscan.toml), `inline` (a `skillscan-ignore` comment)
    /// or `baseline` (present in the report given to `--baseline`).
    pub kind: SuppressionKind,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    Config,
    Inline,
    // Already in the earlier report given to `--baseline`: known, not new.
    Baseline,
}

/// A second location that contributes to a finding (e.g. the network send of a credential read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelatedLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub snippet: String,
}

/// One piece of evidence: which rule matched, where, and what it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    /// Serialised as `category` (the code) and `category_name`.
    #[serde(flatten, with = "category_fields")]
    #[schemars(with = "category_fields::Written")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_parse_by_name_or_code_and_names_are_unique_kebab_case() {
        for category in Category::ALL {
            assert_eq!(category.code().parse::<Category>(), Ok(category));
            assert_eq!(category.name().parse::<Category>(), Ok(category));
            assert_eq!(category.name().to_ascii_uppercase().parse::<Category>(), Ok(category));
            assert!(category.name().bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", category.name());
        }
        let names: std::collections::BTreeSet<_> = Category::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Category::ALL.len());
        assert_eq!(Category::B4.name(), "credential-theft");
        let error = "B17".parse::<Category>().unwrap_err();
        assert!(error.contains("credential-theft") && error.contains("B1..B16"), "{error}");
    }

    #[test]
    fn findings_serialise_the_code_and_the_name_and_read_back() {
        let finding = Finding {
            rule_id: "credential-sweep".to_string(),
            severity: Severity::High,
            category: Category::B4,
            confidence: Confidence::Medium,
            message: "m".to_string(),
            file: "scripts/a.sh".to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            snippet: "x".to_string(),
            decoded: None,
            related: Vec::new(),
            suppressed: None,
            context: None,
        };
        let json = serde_json::to_string(&finding).unwrap();
        assert!(
            json.contains(r#""severity":"high","category":"B4","category_name":"credential-theft","confidence""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), finding);
        let coverage = serde_json::to_value(Finding { category: Category::Coverage, ..finding }).unwrap();
        assert_eq!(
            (coverage["category"].as_str(), coverage["category_name"].as_str()),
            (Some("coverage"), Some("coverage"))
        );
    }
}
