//! Human output: one block per skill with its verdict, each finding as `file:line:col`, severity,
//! rule, category name and message, the source line with a marker under the match, decoded text when there is
//! some, the capability manifest, and a summary table (verdicts, severities, the rules that fired
//! most). Colour only when asked (see [`super::paint`]). With a minimum severity, only skills whose worst
//! active finding reaches it are shown, with their findings at or above it; the summary counts all.

use std::io::{self, Write};

use super::paint::{self, Paint};
use super::{Hidden, VERDICTS, finding_shown, skill_shown, suppressed_count, top_rules};
use crate::engine::finding::{Finding, Severity};
use crate::engine::scan::{ScanReport, SkillReport};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Show suppressed findings too (marked as such).
    pub show_suppressed: bool,
    /// Show only skills whose worst active finding is at or above this, and only their findings
    /// at or above it (`--min-severity`). The summary still counts everything.
    pub min_severity: Option<Severity>,
}

/// Rules listed in the summary's "top rules" table.
const TOP_RULES: usize = 10;

pub fn render(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint::new(style.color);
    for skill in report.skills.iter().filter(|s| skill_shown(s, style.min_severity)) {
        render_skill(skill, &paint, style, out)?;
    }
    for warning in &report.warnings {
        writeln!(out, "{} {warning}", paint.paint(paint::WARNING, "warning:"))?;
    }
    render_summary(report, &paint, style, out)
}

/// The closing table: totals, verdicts next to severities, the rules with the most findings,
/// and what was left out.
fn render_summary(report: &ScanReport, paint: &Paint, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "{} {} skill(s) scanned, {} file(s), {} bytes, {} ms; rules {}",
        paint.bold("Summary:"),
        s.skills,
        s.files,
        s.bytes,
        s.elapsed_ms,
        report.tool.rules_version
    )?;
    writeln!(out)?;
    let header = format!("{:<10} {:>6}   {:<9} {:>9}", "verdict", "skills", "severity", "findings");
    writeln!(out, "  {}", paint.dim(&header))?;
    let severities: Vec<Severity> = Severity::ALL.iter().rev().copied().collect();
    for row in 0..severities.len().max(VERDICTS.len()) {
        let verdict = VERDICTS.get(row).map_or_else(
            || " ".repeat(17),
            |v| format!("{} {:>6}", paint.verdict_cell(*v), s.verdicts.get(v).copied().unwrap_or(0)),
        );
        let severity = severities.get(row).map_or_else(String::new, |sev| {
            format!("{} {:>9}", paint.severity_padded(*sev, 9), s.findings_by_severity.get(sev).copied().unwrap_or(0))
        });
        writeln!(out, "  {verdict}   {severity}")?;
    }
    let rules = top_rules(report, TOP_RULES);
    if !rules.is_empty() {
        let width = rules.iter().map(|r| r.rule_id.chars().count()).max().unwrap_or(0).max("top rules".len());
        writeln!(out)?;
        let header = format!("{:<width$}   {:<9} {:>9} {:>7}", "top rules", "severity", "findings", "skills");
        writeln!(out, "  {}", paint.dim(&header))?;
        for rule in &rules {
            writeln!(
                out,
                "  {:<width$}   {} {:>9} {:>7}",
                rule.rule_id,
                paint.severity_padded(rule.severity, 9),
                rule.findings,
                rule.skills
            )?;
        }
    }
    let mut notes = Vec::new();
    let suppressed = suppressed_count(report);
    if suppressed > 0 {
        notes.push(format!(
            "{suppressed} suppressed finding(s) not counted{}",
            if style.show_suppressed { "" } else { " (--show-suppressed lists them)" }
        ));
    }
    if let Some(baseline) = &report.baseline {
        notes.push(format!(
            "{} finding(s) already in the baseline {} not counted or shown",
            baseline.baselined, baseline.file
        ));
    }
    if let Some(min) = style.min_severity {
        let hidden = Hidden::of(report, Some(min));
        if !hidden.is_empty() {
            notes.push(format!(
                "not shown (--min-severity {min}): {} skill(s) whose worst finding is below {min}, and {} \
                 finding(s) below {min} of the skills shown",
                hidden.skills, hidden.findings
            ));
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for note in notes {
            writeln!(out, "  {}", paint.dim(&note))?;
        }
    }
    Ok(())
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
    for finding in skill
        .findings
        .iter()
        .filter(|f| style.show_suppressed || f.is_active())
        .filter(|f| finding_shown(f, style.min_severity))
    {
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
        writeln!(out, "      {pad}{}", paint.paint(paint::ERROR, &"^".repeat(marked.width().max(1))))?;
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
