//! Terminal styles of the human outputs (scan, ci, inventory), as anstyle styles. Whether to
//! use them is the caller's decision (the command line asks anstream: a terminal, `NO_COLOR`,
//! `CLICOLOR_FORCE`, `--color`); without colour every text comes back unchanged.

use anstyle::{AnsiColor, Style};

use crate::engine::finding::Severity;
use crate::engine::verdict::Verdict;

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const WARNING: Style = AnsiColor::Yellow.on_default();
pub const ERROR: Style = AnsiColor::Red.on_default();
pub const OK: Style = AnsiColor::Green.on_default().bold();
pub const FAIL: Style = AnsiColor::Red.on_default().bold();

/// The style of a severity in listings.
pub fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => AnsiColor::Magenta.on_default().bold(),
        Severity::High => FAIL,
        Severity::Medium => WARNING,
        Severity::Low => AnsiColor::Cyan.on_default(),
        Severity::Info => DIM,
    }
}

/// The style of a verdict.
pub fn verdict_style(verdict: Verdict) -> Style {
    match verdict {
        Verdict::Malicious => AnsiColor::Magenta.on_default().bold(),
        Verdict::Suspicious => FAIL,
        Verdict::Caution => AnsiColor::Yellow.on_default().bold(),
        Verdict::Clean => OK,
    }
}

/// Applies styles when colour is on.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub color: bool,
}

impl Paint {
    pub fn new(color: bool) -> Self {
        Paint { color }
    }

    /// `text` in `style` (reset after it), or `text` alone without colour.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_owned() }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(DIM, text)
    }

    /// A severity, padded to the width of the longest one.
    pub fn severity(&self, severity: Severity) -> String {
        self.severity_padded(severity, 8)
    }

    /// A severity, padded to `width`.
    pub fn severity_padded(&self, severity: Severity, width: usize) -> String {
        self.paint(severity_style(severity), &format!("{:<width$}", severity.as_str()))
    }

    /// A verdict, lower case, padded to the widest one; `clean` unstyled (a table cell).
    pub fn verdict_cell(&self, verdict: Verdict) -> String {
        let text = format!("{:<10}", verdict.as_str());
        if verdict == Verdict::Clean { text } else { self.paint(verdict_style(verdict), &text) }
    }

    /// A verdict, in capitals.
    pub fn verdict(&self, verdict: Verdict) -> String {
        self.paint(verdict_style(verdict), &verdict.as_str().to_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_apply_only_with_colour() {
        assert_eq!(Paint::new(false).paint(FAIL, "FAIL"), "FAIL");
        let painted = Paint::new(true).paint(FAIL, "FAIL");
        assert!(painted.starts_with('\x1b') && painted.contains("FAIL") && painted.ends_with("\x1b[0m"), "{painted:?}");
        assert_eq!(Paint::new(false).verdict(Verdict::Clean), "CLEAN");
    }
}
