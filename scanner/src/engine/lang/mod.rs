//! Front ends: what language a file (or a Markdown code block) is in, and how it is split into
//! the views rules run on. Each file is parsed once.

pub mod markdown;
pub mod syntax;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Markdown,
    Shell,
    Python,
    Javascript,
    Typescript,
    Powershell,
    Batch,
    Json,
    Yaml,
    Toml,
    Html,
    Text,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Markdown => "markdown",
            Lang::Shell => "shell",
            Lang::Python => "python",
            Lang::Javascript => "javascript",
            Lang::Typescript => "typescript",
            Lang::Powershell => "powershell",
            Lang::Batch => "batch",
            Lang::Json => "json",
            Lang::Yaml => "yaml",
            Lang::Toml => "toml",
            Lang::Html => "html",
            Lang::Text => "text",
        }
    }

    pub fn is_script(self) -> bool {
        matches!(
            self,
            Lang::Shell | Lang::Python | Lang::Javascript | Lang::Typescript | Lang::Powershell | Lang::Batch
        )
    }

    /// The language of a Markdown fence info string (`bash`, `py`, `console`…). Untagged blocks
    /// and terminal transcripts are shell: that is what a reader pastes into a terminal.
    pub fn from_fence(info: &str) -> Lang {
        let tag = info
            .trim()
            .trim_start_matches('{')
            .trim_start_matches('.')
            .split(|c: char| c.is_whitespace() || c == ',' || c == '}' || c == '=')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match tag.as_str() {
            "" | "sh" | "bash" | "shell" | "zsh" | "ksh" | "fish" | "console" | "terminal" | "shell-session"
            | "shellsession" | "sh-session" | "bash-session" | "cmdline" | "command" | "commands" | "dockerfile"
            | "docker" | "makefile" | "make" => Lang::Shell,
            "py" | "python" | "python3" | "py3" | "pycon" | "ipython" => Lang::Python,
            "js" | "javascript" | "node" | "jsx" | "mjs" | "cjs" => Lang::Javascript,
            "ts" | "typescript" | "tsx" | "mts" => Lang::Typescript,
            "ps" | "ps1" | "powershell" | "pwsh" => Lang::Powershell,
            "bat" | "cmd" | "batch" | "winbatch" => Lang::Batch,
            "json" | "jsonc" | "json5" => Lang::Json,
            "yaml" | "yml" => Lang::Yaml,
            "toml" => Lang::Toml,
            "html" | "xml" | "svg" => Lang::Html,
            "md" | "markdown" => Lang::Markdown,
            _ => Lang::Text,
        }
    }

    /// The language of a file, from its name, then from a `#!` line.
    pub fn of_file(path: &str, text: &str) -> Lang {
        let name = path.rsplit(['/', '!']).next().unwrap_or(path).to_ascii_lowercase();
        let by_name = match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("md" | "markdown" | "mdx") => Some(Lang::Markdown),
            Some("sh" | "bash" | "zsh" | "ksh" | "command" | "tool") => Some(Lang::Shell),
            Some("py" | "pyw" | "pyi") => Some(Lang::Python),
            Some("js" | "mjs" | "cjs" | "jsx") => Some(Lang::Javascript),
            Some("ts" | "mts" | "cts" | "tsx") => Some(Lang::Typescript),
            Some("ps1" | "psm1" | "psd1") => Some(Lang::Powershell),
            Some("bat" | "cmd") => Some(Lang::Batch),
            Some("json" | "jsonc" | "json5") => Some(Lang::Json),
            Some("yaml" | "yml") => Some(Lang::Yaml),
            Some("toml") => Some(Lang::Toml),
            Some("html" | "htm" | "xml" | "svg") => Some(Lang::Html),
            _ => None,
        };
        if let Some(lang) = by_name {
            return lang;
        }
        if matches!(name.as_str(), "makefile" | "dockerfile" | "containerfile" | ".bashrc" | ".zshrc" | ".profile")
            || name.starts_with("dockerfile.")
        {
            return Lang::Shell;
        }
        if let Some(first) = text.lines().next().filter(|l| l.starts_with("#!")) {
            if first.contains("python") {
                return Lang::Python;
            }
            if first.contains("node") || first.contains("deno") || first.contains("bun") {
                return Lang::Javascript;
            }
            if first.contains("pwsh") || first.contains("powershell") {
                return Lang::Powershell;
            }
            if first.contains("sh") {
                return Lang::Shell;
            }
        }
        Lang::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_map_to_languages() {
        assert_eq!(Lang::from_fence("bash"), Lang::Shell);
        assert_eq!(Lang::from_fence(""), Lang::Shell);
        assert_eq!(Lang::from_fence("{.python title=x}"), Lang::Python);
        assert_eq!(Lang::from_fence("ts"), Lang::Typescript);
        assert_eq!(Lang::from_fence("mermaid"), Lang::Text);
    }

    #[test]
    fn files_map_by_name_then_shebang() {
        assert_eq!(Lang::of_file("scripts/run.sh", ""), Lang::Shell);
        assert_eq!(Lang::of_file("bin/tool", "#!/usr/bin/env python3\n"), Lang::Python);
        assert_eq!(Lang::of_file("bin/tool", "#!/bin/bash\n"), Lang::Shell);
        assert_eq!(Lang::of_file("SKILL.md", "#!/bin/bash\n"), Lang::Markdown);
        assert_eq!(Lang::of_file("notes", "hello"), Lang::Text);
    }
}
