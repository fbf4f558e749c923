//! GitHub Actions workflow annotations (`::error file=…,line=…::message`).

use std::io::{self, Write};

use crate::engine::finding::Severity;
use crate::engine::scan::ScanReport;

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The path of a finding as the repository sees it: the skill root joined with the file.
pub fn full_path(root: &str, file: &str) -> String {
    let root = root.replace("!/", "/");
    if file.is_empty() {
        root
    } else if root.is_empty() || root == "." {
        file.to_string()
    } else {
        format!("{}/{}", root.trim_end_matches('/'), file)
    }
}

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    for skill in &report.skills {
        for finding in skill.findings.iter().filter(|f| f.is_active()) {
            let level = match finding.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low | Severity::Info => "notice",
            };
            let mut props = vec![format!("file={}", escape_property(&full_path(&skill.root, &finding.file)))];
            if finding.line > 0 {
                props.push(format!("line={}", finding.line));
                props.push(format!("col={}", finding.column));
                props.push(format!("endLine={}", finding.end_line));
                props.push(format!("endColumn={}", finding.end_column));
            }
            props.push(format!(
                "title={}",
                escape_property(&format!("skillscan {} ({})", finding.rule_id, finding.severity))
            ));
            let mut message = finding.message.clone();
            if let Some(decoded) = &finding.decoded {
                message.push_str(&format!("\ndecoded ({}): {}", decoded.chain.join(" → "), decoded.text));
            }
            writeln!(out, "::{level} {}::{}", props.join(","), escape_data(&message))?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "::notice title=skillscan summary::{} skill(s), {} file(s); {} critical, {} high, {} medium findings",
        s.skills,
        s.files,
        s.findings_by_severity.get(&Severity::Critical).unwrap_or(&0),
        s.findings_by_severity.get(&Severity::High).unwrap_or(&0),
        s.findings_by_severity.get(&Severity::Medium).unwrap_or(&0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_syntax() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(full_path("x.zip!/a", "SKILL.md"), "x.zip/a/SKILL.md");
        assert_eq!(full_path("skills/a", ""), "skills/a");
    }
}
