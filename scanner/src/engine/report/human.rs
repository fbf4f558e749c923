//! Human output: one block per skill with its verdict, each finding as `file:line:col`, severity,
//! rule, category name and message, the source line with a marker under the match, decoded text when there is
//! some, the capability manifest, and a summary line. Colour only when asked (on a TTY).

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::engine::finding::{Finding, Severity};
use crate::engine::scan::{ScanReport, SkillReport};
use crate::engine::verdict::Verdict;

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Show suppressed findings too (marked as such).
    pub show_suppressed: bool,
}

struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn severity(&self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &format!("{:<8}", severity.as_str()))
    }
    fn verdict(&self, verdict: Verdict) -> String {
        let code = match verdict {
            Verdict::Malicious => "1;35",
            Verdict::Suspicious => "1;31",
            Verdict::Caution => "1;33",
            Verdict::Clean => "1;32",
        };
        self.wrap(code, &verdict.as_str().to_uppercase())
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

pub fn render(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { color: style.color };
    for skill in &report.skills {
        render_skill(skill, &paint, style, out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "{} {warning}", paint.wrap("33", "warning:"))?;
    }
    let s = &report.summary;
    let verdicts = [Verdict::Malicious, Verdict::Suspicious, Verdict::Caution, Verdict::Clean]
        .iter()
        .map(|v| format!("{} {}", s.verdicts.get(v).copied().unwrap_or(0), v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let findings = Severity::ALL
        .iter()
        .rev()
        .filter_map(|sev| s.findings_by_severity.get(sev).filter(|n| **n > 0).map(|n| format!("{n} {sev}")))
        .collect::<Vec<_>>();
    let findings = if findings.is_empty() { "no findings".to_string() } else { findings.join(", ") };
    writeln!(
        out,
        "{} {} skill(s) ({verdicts}); {} file(s), {} bytes; {findings}; {} ms; rules {}",
        paint.bold("Summary:"),
        s.skills,
        s.files,
        s.bytes,
        s.elapsed_ms,
        report.tool.rules_version
    )
}

fn render_skill(skill: &SkillReport, paint: &Paint, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let name = skill.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    let max = skill.max_severity.map_or("none".to_string(), |s| s.to_string());
    writeln!(
        out,
        "{}{name}  {}  score {}  max severity {max}",
        paint.bold(&skill.root),
        paint.verdict(skill.verdict),
        skill.score
    )?;
    for finding in skill.findings.iter().filter(|f| style.show_suppressed || f.is_active()) {
        render_finding(finding, paint, out)?;
    }
    let suppressed = skill.findings.iter().filter(|f| !f.is_active()).count();
    if suppressed > 0 && !style.show_suppressed {
        writeln!(out, "  {}", paint.dim(&format!("{suppressed} suppressed finding(s) not shown")))?;
    }
    let caps = &skill.capabilities;
    if !caps.is_empty() {
        let mut parts = Vec::new();
        let list = |label: &str, set: &std::collections::BTreeSet<String>| {
            (!set.is_empty())
                .then(|| format!("{label}: {}", set.iter().take(8).cloned().collect::<Vec<_>>().join(", ")))
        };
        parts.extend(list("hosts", &caps.hosts));
        parts.extend(list("runs", &caps.binaries));
        parts.extend(list("env", &caps.env_vars));
        parts.extend(list("credentials", &caps.credential_paths));
        parts.extend(list("writes", &caps.paths_written));
        parts.extend(list("persistence", &caps.persistence));
        if !caps.install_specs.is_empty() {
            parts.push(format!("installs: {}", caps.install_specs.join(", ")));
        }
        writeln!(
            out,
            "  {} {} (least privilege: {})",
            paint.dim("capabilities:"),
            parts.join("; "),
            caps.privilege.as_str()
        )?;
    }
    writeln!(out)
}

fn render_finding(finding: &Finding, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let place = if finding.line > 0 {
        format!("{}:{}:{}", finding.file, finding.line, finding.column)
    } else if finding.file.is_empty() {
        "(skill)".to_string()
    } else {
        finding.file.clone()
    };
    let suppressed =
        finding.suppressed.as_ref().map(|s| paint.dim(&format!(" [suppressed: {}]", s.reason))).unwrap_or_default();
    writeln!(
        out,
        "  {}  {}  {}{suppressed}",
        paint.severity(finding.severity),
        paint.bold(&place),
        paint.dim(&format!("{} [{}]", finding.rule_id, finding.category.name()))
    )?;
    writeln!(out, "      {}", finding.message)?;
    if let Some(context) = &finding.context {
        let gutter = format!("{} | ", finding.line);
        writeln!(out, "      {}{}", paint.dim(&gutter), context.line)?;
        // The marker is in characters; a terminal lays out columns: a CJK character or an emoji
        // takes two, a combining mark none.
        let before: String = context.line.chars().take(context.marker_start).collect();
        let marked: String = context.line.chars().skip(context.marker_start).take(context.marker_len).collect();
        let pad = " ".repeat(gutter.width() + before.width());
        writeln!(out, "      {pad}{}", paint.wrap("31", &"^".repeat(marked.width().max(1))))?;
    }
    if let Some(decoded) = &finding.decoded {
        writeln!(out, "      {} {}", paint.dim(&format!("decoded ({}):", decoded.chain.join(" → "))), decoded.text)?;
    }
    for related in &finding.related {
        writeln!(
            out,
            "      {} {}:{}:{} {}",
            paint.dim("and"),
            related.file,
            related.line,
            related.column,
            related.message
        )?;
    }
    Ok(())
}
