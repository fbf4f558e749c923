//! The views of a file: the parts of it (prose, code, comments, strings, decoded text, front
//! matter) that analysis cuts out and rules choose to look at.

use serde::Deserialize;

/// The parts of a file a rule can look at.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The whole text of any text file.
    Raw,
    /// Markdown and plain text outside code blocks and comments.
    Prose,
    /// Scripts, and code blocks and inline code spans of Markdown.
    Code,
    /// HTML comments in Markdown; comments in scripts.
    Comments,
    /// String literals in scripts.
    Strings,
    /// Text recovered by decoding (base64, hex, escapes, char codes, XOR…) or normalisation.
    Decoded,
    /// The YAML front matter of SKILL.md.
    Frontmatter,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::Raw => "raw",
            View::Prose => "prose",
            View::Code => "code",
            View::Comments => "comments",
            View::Strings => "strings",
            View::Decoded => "decoded",
            View::Frontmatter => "frontmatter",
        }
    }
}
