//! Analyzers for the input itself: archive anomalies, file types, encodings, parse coverage and
//! front-matter well-formedness.

use super::{Emitter, SkillInput};
use crate::engine::hit::HitLocation;
use crate::engine::package::IssueKind;
use crate::engine::package::sniff::{Magic, extension_mismatch};
use crate::engine::text::Encoding;

pub const LOADER_RULES: &[&str] = &[
    "archive-unsafe-path",
    "link-entry",
    "special-file",
    "encrypted-entry",
    "decompression-bomb",
    "archive-nesting-depth",
    "limit-file-size",
    "limit-total-size",
    "limit-entries",
    "unreadable-input",
    "empty-archive",
    "missing-skill-manifest",
    "archive-header-mismatch",
];

fn loader_rule(kind: IssueKind) -> &'static str {
    match kind {
        IssueKind::UnsafePath => "archive-unsafe-path",
        IssueKind::Link => "link-entry",
        IssueKind::SpecialFile => "special-file",
        IssueKind::Encrypted => "encrypted-entry",
        IssueKind::CompressionRatio => "decompression-bomb",
        IssueKind::NestingDepth => "archive-nesting-depth",
        IssueKind::FileTooLarge => "limit-file-size",
        IssueKind::TotalTooLarge => "limit-total-size",
        IssueKind::TooManyEntries => "limit-entries",
        IssueKind::Unreadable => "unreadable-input",
        IssueKind::EmptyArchive => "empty-archive",
        IssueKind::NoManifest => "missing-skill-manifest",
        IssueKind::HeaderMismatch => "archive-header-mismatch",
    }
}

/// Loader issues become findings on the file they concern.
pub fn loader(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    for issue in input.issues {
        let location = match input.files.iter().position(|f| f.path == issue.path) {
            Some(file) => HitLocation::File { file, range: None },
            None => HitLocation::Path(issue.path.clone()),
        };
        out.emit(loader_rule(issue.kind), location, Some(issue.detail.clone()));
    }
}

pub const FILE_TYPE_RULES: &[&str] = &[
    "content-type-mismatch",
    "bundled-executable",
    "archived-executable",
    "archived-script",
    "pyc-without-source",
    "pyc-unchecked-hash",
    "pyc-source-mismatch",
];

pub fn file_type(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    for (index, file) in input.files.iter().enumerate() {
        let location = || HitLocation::File { file: index, range: None };
        let nested = file.path.contains("!/");
        if nested && file.text.is_some() && file.lang.is_script() {
            // A script inside a document or archive inside the skill: hidden from reviewers,
            // there only to be unpacked and run (`unzip -p doc.docx word/x.sh | sh`).
            out.emit("archived-script", location(), Some(format!("{} script inside an archive", file.lang.as_str())));
        }
        let Some(magic) = file.magic else { continue };
        if let Some(what) = extension_mismatch(&file.path, magic) {
            out.emit("content-type-mismatch", location(), Some(what));
        } else if magic.is_native_executable() {
            let rule = if nested { "archived-executable" } else { "bundled-executable" };
            out.emit(rule, location(), Some(magic.name().to_string()));
        } else if magic == Magic::Script && nested {
            out.emit("archived-script", location(), Some("script with a #! line inside an archive".to_string()));
        } else if magic != Magic::Script && file.text.is_some() {
            out.emit(
                "content-type-mismatch",
                location(),
                Some(format!("the file starts with a {} signature but is text throughout (a polyglot)", magic.name())),
            );
        }
        if magic == Magic::Pyc {
            pyc_checks(input, index, out);
        }
    }
}

/// `.pyc` checks: no source; an unchecked-hash header (CPython runs it without looking at the
/// source, PEP 552); string constants the source does not contain (compiled from other code).
fn pyc_checks(input: &SkillInput<'_>, index: usize, out: &mut Emitter<'_>) {
    let file = &input.files[index];
    let location = || HitLocation::File { file: index, range: None };
    let flags = file.bytes.get(4..8).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if flags & 0b01 != 0 && flags & 0b10 == 0 {
        out.emit(
            "pyc-unchecked-hash",
            location(),
            Some("hash-based .pyc with check_source off: Python loads it even when the .py says otherwise".to_string()),
        );
    }
    match python_source(input, &file.path) {
        None => {
            out.emit(
                "pyc-without-source",
                location(),
                Some("no matching .py file in the skill; the bytecode cannot be reviewed against source".to_string()),
            );
        }
        Some(source) => {
            let strings = crate::engine::text::printable_strings(&file.bytes, 64 * 1024);
            // Marshal type codes sit right next to string bytes; split them off and compare
            // only phrases (with a space) or URLs: names alone are too weak a signal.
            let foreign: Vec<&str> = strings
                .lines()
                .flat_map(|line| {
                    line.split(|c: char| !(c.is_ascii_alphanumeric() || " /:._%-|$&>'\"=+,@~".contains(c)))
                })
                .map(str::trim)
                .filter(|s| s.len() >= 8 && (s.contains(' ') || s.contains("://")))
                .filter(|s| !source.text().contains(*s))
                .collect();
            if foreign.len() >= 2 {
                let sample: Vec<&str> = foreign.iter().take(3).copied().collect();
                out.emit(
                    "pyc-source-mismatch",
                    location(),
                    Some(format!(
                        "the bytecode holds strings its source `{}` does not: {}",
                        source.path,
                        crate::engine::text::escape_snippet(&sample.join(" | "), 200)
                    )),
                );
            }
        }
    }
}

/// `pkg/__pycache__/mod.cpython-311.pyc` and `pkg/mod.pyc` both come from `pkg/mod.py`.
fn python_source<'a>(input: &'a SkillInput<'_>, pyc_path: &str) -> Option<&'a crate::engine::analysis::FileAnalysis> {
    let (dir, name) = pyc_path.rsplit_once('/').unwrap_or(("", pyc_path));
    let module = name.split('.').next().unwrap_or(name);
    let dir = dir.strip_suffix("__pycache__").map(|d| d.trim_end_matches('/')).unwrap_or(dir);
    let source = if dir.is_empty() { format!("{module}.py") } else { format!("{dir}/{module}.py") };
    input.files.iter().find(|f| f.path == source)
}

pub const COVERAGE_RULES: &[&str] =
    &["text-undecodable", "text-unusual-encoding", "syntax-tree-skipped", "manifest-not-text", "analysis-incomplete"];

pub fn coverage(input: &SkillInput<'_>, out: &mut Emitter<'_>) {
    for (index, file) in input.files.iter().enumerate() {
        let whole = HitLocation::File { file: index, range: None };
        match file.encoding {
            Some(Encoding::Lossy) => {
                out.emit(
                    "text-undecodable",
                    whole.clone(),
                    Some("invalid UTF-8 sequences were replaced with U+FFFD before matching".to_string()),
                );
            }
            Some(encoding @ (Encoding::Utf16Le | Encoding::Utf16Be | Encoding::Utf8BehindUtf16Bom)) => {
                out.emit("text-unusual-encoding", whole.clone(), Some(format!("{} text", encoding.as_str())));
            }
            _ => {}
        }
        if file.text.is_none() && file.is_manifest() {
            out.emit("manifest-not-text", whole, Some(file.magic.map_or("binary data", |m| m.name()).to_string()));
        }
        for note in &file.notes {
            out.emit(
                note.rule_id,
                HitLocation::File { file: index, range: note.range.clone() },
                Some(note.detail.clone()),
            );
        }
    }
}
