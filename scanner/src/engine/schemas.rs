//! JSON Schemas of the files skillscan writes and reads, derived from the types that write and
//! read them (so they cannot drift from the code): the scan report (`--format json`), a rule
//! file (`rules/**/<id>.yaml`) and `skillscan.toml`. `skillscan schema` prints them; the copies in
//! `docs/schemas/` are checked against these by the test suite.

use strum::IntoStaticStr;

use crate::engine::config::Config;
use crate::engine::rules::schema::RuleFile;
use crate::engine::scan::ScanReport;

/// The documents that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum Document {
    /// `skillscan scan --format json` (and the reports of `ci` and the mirror's scans).
    Report,
    /// One rule file.
    Rule,
    /// `skillscan.toml`.
    Config,
}

impl Document {
    pub const ALL: [Document; 3] = [Document::Report, Document::Rule, Document::Config];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The file name of its copy under `docs/schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Document::Report => "scan-report.schema.json",
            Document::Rule => "rule.schema.json",
            Document::Config => "skillscan-toml.schema.json",
        }
    }

    pub fn schema(self) -> schemars::Schema {
        // The report is written by skillscan (fields it omits when empty are optional); the
        // other two are read by it (fields with defaults are optional).
        let settings = schemars::generate::SchemaSettings::default();
        match self {
            Document::Report => settings.for_serialize().into_generator().into_root_schema_for::<ScanReport>(),
            Document::Rule => settings.for_deserialize().into_generator().into_root_schema_for::<RuleFile>(),
            Document::Config => settings.for_deserialize().into_generator().into_root_schema_for::<Config>(),
        }
    }

    /// The schema as the checked-in files hold it: pretty JSON with a final newline.
    pub fn schema_text(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}
