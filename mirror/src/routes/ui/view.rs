//! What the pages show, shaped from stored records: the queue's rows, filters and order, a
//! version's findings with the source around them, and a file as text or as a binary's size
//! and type. No markup here (see [`super::pages`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::archive::SkillArchive;
use crate::model::{State, VersionRecord, now_ms};
use crate::policy::HoldReason;
use crate::service::UpdateReview;
use crate::vetting::Verdict;

/// The most bytes of a file the file browser shows; the rest is cut with a note.
pub const MAX_SHOWN_BYTES: usize = 256 * 1024;
/// Lines of source shown before and after a finding's line.
pub const CONTEXT_LINES: usize = 3;
/// Findings listed per version in the queue.
pub const TOP_FINDINGS: usize = 3;

/// `/ui/versions/{slug}/{version}`, its segments percent-encoded.
pub fn version_url(slug: &str, version: &str) -> String {
    format!("/ui/versions/{}/{}", urlencoding::encode(slug), urlencoding::encode(version))
}

/// The file browser's URL of `path` in a version (each segment percent-encoded).
pub fn file_url(slug: &str, version: &str, path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(|s| urlencoding::encode(s).into_owned()).collect();
    format!("{}/files/{}", version_url(slug, version), segments.join("/"))
}

// ---------------------------------------------------------------- the scan report

/// One finding of the stored scanner report, read leniently: a field a report does not have
/// is empty, so reports of older scanner versions still show.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportFinding {
    pub rule_id: String,
    pub severity: String,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub snippet: String,
    pub decoded: Option<ReportDecoded>,
    pub suppressed: Option<ReportSuppression>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportDecoded {
    pub chain: Vec<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportSuppression {
    pub kind: String,
    pub reason: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportSkill {
    findings: Vec<ReportFinding>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Report {
    skills: Vec<ReportSkill>,
}

impl ReportFinding {
    /// Higher is worse; unknown severities sort last.
    pub fn severity_rank(&self) -> u8 {
        match self.severity.as_str() {
            "critical" => 5,
            "high" => 4,
            "medium" => 3,
            "low" => 2,
            "info" => 1,
            _ => 0,
        }
    }

    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The findings of a version's stored report, worst first (empty when there is none).
pub fn findings(rec: &VersionRecord) -> Vec<ReportFinding> {
    let report: Report = rec.report_json.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    let mut all: Vec<ReportFinding> = report.skills.into_iter().flat_map(|s| s.findings).collect();
    all.sort_by(|a, b| {
        (a.suppressed.is_some(), std::cmp::Reverse(a.severity_rank()), &a.file, a.line).cmp(&(
            b.suppressed.is_some(),
            std::cmp::Reverse(b.severity_rank()),
            &b.file,
            b.line,
        ))
    });
    all
}

// ---------------------------------------------------------------- the queue

/// The queue's GET parameters, as given.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    /// `pending` (the default: fetched, scanned, quarantined), `all`, or one state.
    pub state: Option<String>,
    /// A verdict, or `none` (not scanned).
    pub verdict: Option<String>,
    /// A [`HoldReason`].
    pub reason: Option<String>,
    /// `age` (the default: oldest first), `slug` or `verdict` (worst first).
    pub sort: Option<String>,
}

/// Which states the queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Pending,
    All,
    One(State),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictFilter {
    None,
    One(Verdict),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Age,
    Slug,
    Verdict,
}

impl SortBy {
    pub const ALL: [SortBy; 3] = [SortBy::Age, SortBy::Slug, SortBy::Verdict];
    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Age => "age",
            SortBy::Slug => "slug",
            SortBy::Verdict => "verdict",
        }
    }
}

/// The validated filter.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub state: StateFilter,
    pub verdict: Option<VerdictFilter>,
    pub reason: Option<HoldReason>,
    pub sort: SortBy,
}

pub const VERDICTS: [Verdict; 4] = [Verdict::Clean, Verdict::Caution, Verdict::Suspicious, Verdict::Malicious];

impl QueueFilter {
    pub fn parse(&self) -> Result<QueueQuery, String> {
        let nonempty = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        let state = match nonempty(&self.state).as_deref() {
            None | Some("pending") => StateFilter::Pending,
            Some("all") => StateFilter::All,
            Some(s) => StateFilter::One(s.parse()?),
        };
        let verdict = match nonempty(&self.verdict).as_deref() {
            None => None,
            Some("none") => Some(VerdictFilter::None),
            Some(v) => Some(VerdictFilter::One(
                VERDICTS.into_iter().find(|x| x.as_str() == v).ok_or_else(|| format!("unknown verdict `{v}`"))?,
            )),
        };
        let reason = nonempty(&self.reason)
            .map(|r| r.parse::<HoldReason>().map_err(|_| format!("unknown hold reason `{r}`")))
            .transpose()?;
        let sort = match nonempty(&self.sort).as_deref() {
            None => SortBy::Age,
            Some(s) => {
                SortBy::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| format!("unknown sort `{s}`"))?
            }
        };
        Ok(QueueQuery { state, verdict, reason, sort })
    }
}

/// One row of the queue.
#[derive(Debug)]
pub struct QueueItem {
    pub rec: VersionRecord,
    pub hold: HoldReason,
    pub top_findings: Vec<ReportFinding>,
    pub findings: usize,
}

pub fn queue(rows: Vec<VersionRecord>, q: &QueueQuery) -> Vec<QueueItem> {
    let mut items: Vec<QueueItem> = rows
        .into_iter()
        .filter(|r| match q.state {
            StateFilter::Pending => r.state.is_pending(),
            StateFilter::All => true,
            StateFilter::One(s) => r.state == s,
        })
        .filter(|r| match q.verdict {
            None => true,
            Some(VerdictFilter::None) => r.verdict.is_none(),
            Some(VerdictFilter::One(v)) => r.verdict == Some(v),
        })
        .map(|rec| {
            let all = findings(&rec);
            let findings = all.iter().filter(|f| f.suppressed.is_none()).count();
            let top_findings = all.into_iter().filter(|f| f.suppressed.is_none()).take(TOP_FINDINGS).collect();
            QueueItem { hold: HoldReason::of(&rec.state_reason), rec, top_findings, findings }
        })
        .filter(|i| q.reason.is_none_or(|r| i.hold == r))
        .collect();
    match q.sort {
        SortBy::Age => items.sort_by_key(|i| (i.rec.fetched_at, i.rec.id)),
        SortBy::Slug => items.sort_by(|a, b| (&a.rec.slug, &a.rec.version).cmp(&(&b.rec.slug, &b.rec.version))),
        SortBy::Verdict => items.sort_by_key(|i| (std::cmp::Reverse(i.rec.verdict), i.rec.fetched_at)),
    }
    items
}

// ---------------------------------------------------------------- a version

/// A finding with the source lines around it.
#[derive(Debug)]
pub struct FindingView {
    pub finding: ReportFinding,
    /// (line number, text) around the finding's line; empty when the file is not text in the
    /// archive (a nested archive's entry, a binary).
    pub context: Vec<(usize, String)>,
}

/// Everything the version page shows.
#[derive(Debug)]
pub struct VersionPage {
    pub rec: VersionRecord,
    pub review: UpdateReview,
    pub findings: Vec<FindingView>,
    /// Why the policy refuses the version: approving needs the override.
    pub objection: Option<String>,
}

impl VersionPage {
    pub fn new(
        rec: VersionRecord,
        review: UpdateReview,
        archive: Option<&SkillArchive>,
        objection: Option<String>,
    ) -> VersionPage {
        let texts: BTreeMap<&str, &str> = archive
            .map(|a| a.files.iter().filter_map(|(p, b)| Some((p.as_str(), std::str::from_utf8(b).ok()?))).collect())
            .unwrap_or_default();
        let findings = findings(&rec)
            .into_iter()
            .map(|finding| {
                let context = match texts.get(finding.file.as_str()) {
                    Some(text) if finding.line > 0 => context_lines(text, finding.line as usize),
                    _ => Vec::new(),
                };
                FindingView { finding, context }
            })
            .collect();
        VersionPage { rec, review, findings, objection }
    }

    /// The decisions the version's state allows, as the curator checks them.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.rec.state != State::Fetched {
            for (action, to) in [("approve", State::Approved), ("reject", State::Rejected), ("revoke", State::Revoked)]
            {
                if self.rec.state.can_transition(to) {
                    out.push(action);
                }
            }
        }
        out
    }
}

fn context_lines(text: &str, line: usize) -> Vec<(usize, String)> {
    let first = line.saturating_sub(CONTEXT_LINES).max(1);
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .skip(first - 1)
        .take(line + CONTEXT_LINES + 1 - first)
        .map(|(n, l)| (n, l.chars().take(400).collect()))
        .collect()
}

// ---------------------------------------------------------------- a file

/// A file of an archive as the browser shows it.
#[derive(Debug)]
pub struct FileView {
    pub slug: String,
    pub version: String,
    pub path: String,
    pub size: usize,
    pub content: FileContent,
    /// Lines with a finding, to mark.
    pub finding_lines: Vec<u32>,
}

#[derive(Debug)]
pub enum FileContent {
    /// UTF-8 text, cut at [`MAX_SHOWN_BYTES`] (`truncated`).
    Text { text: String, truncated: bool },
    /// Anything else: only its sniffed type is shown.
    Binary { kind: &'static str },
}

impl FileView {
    pub fn new(rec: &VersionRecord, path: &str, bytes: &[u8]) -> FileView {
        let shown = &bytes[..bytes.len().min(MAX_SHOWN_BYTES)];
        // A cut may split a character: keep the valid prefix.
        let text = match std::str::from_utf8(shown) {
            Ok(t) => Some(t),
            Err(e) if shown.len() < bytes.len() && e.error_len().is_none() => {
                std::str::from_utf8(&shown[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        };
        let content = match text {
            Some(t) if !t.contains('\0') => {
                FileContent::Text { text: t.to_string(), truncated: shown.len() < bytes.len() }
            }
            _ => FileContent::Binary { kind: sniff(bytes) },
        };
        let finding_lines = findings(rec).iter().filter(|f| f.file == path).map(|f| f.line).collect();
        FileView {
            slug: rec.slug.clone(),
            version: rec.version.clone(),
            path: path.to_string(),
            size: bytes.len(),
            content,
            finding_lines,
        }
    }
}

/// What a binary looks like from its first bytes: enough for a reviewer to tell an image from
/// an executable. Never used to serve the file (the browser only ever gets escaped text).
pub fn sniff(bytes: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x7fELF", "ELF executable or library"),
        (b"MZ", "Windows (PE) executable"),
        (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
        (b"\xca\xfe\xba\xbe", "Mach-O universal binary or Java class"),
        (b"\0asm", "WebAssembly module"),
        (b"#!", "script with a shebang (not UTF-8)"),
        (b"PK\x03\x04", "zip archive"),
        (b"\x1f\x8b", "gzip data"),
        (b"BZh", "bzip2 data"),
        (b"\xfd7zXZ\0", "xz data"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive"),
        (b"%PDF", "PDF document"),
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"RIFF", "RIFF container (WebP, WAV, AVI)"),
        (b"SQLite format 3\0", "SQLite database"),
    ];
    MAGIC.iter().find(|(m, _)| bytes.starts_with(m)).map_or("binary data", |(_, kind)| kind)
}

// ---------------------------------------------------------------- time

/// A time (ms since the epoch) as UTC, to the second.
pub fn when(ms: i64) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000)).map_or_else(|_| "-".into(), |t| t.to_string())
}

/// How long ago a time was, roughly: `3d 4h`, `12m`.
pub fn age(ms: i64) -> String {
    let secs = (now_ms().saturating_sub(ms) / 1000).max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_the_lines_around_clamped_to_the_file() {
        let text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let nums = |v: Vec<(usize, String)>| v.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(nums(context_lines(text, 5)), [2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(nums(context_lines(text, 1)), [1, 2, 3, 4]);
        assert_eq!(nums(context_lines(text, 9)), [6, 7, 8, 9]);
    }

    #[test]
    fn file_urls_encode_each_segment() {
        assert_eq!(file_url("a", "1.0.0", "dir/<x> y.md"), "/ui/versions/a/1.0.0/files/dir/%3Cx%3E%20y.md");
        assert_eq!(sniff(b"\x7fELF\x02"), "ELF executable or library");
        assert_eq!(sniff(b"\x00\x01"), "binary data");
    }
}
