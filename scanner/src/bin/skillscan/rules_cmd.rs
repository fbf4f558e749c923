//! `skillscan rules list|explain|test`.

use std::io::Write;

use anyhow::bail;
use clap::Subcommand;
use skillscan::Scanner;
use skillscan::engine::config::Config;
use skillscan::engine::rules::Matcher;
use skillscan::engine::rules::schema::CorrelateScope;
use skillscan::engine::selftest;

use crate::exit::Exit;
use crate::shared::{Format, RuleArgs};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules (id, severity, category, name).
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show a rule's documentation: what it detects, why, examples, remediation.
    Explain {
        /// The rule's id (see `skillscan rules list`).
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's examples (or those of the rules named) and report all failures.
    Test {
        /// Only these rule ids.
        ids: Vec<String>,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

pub fn run(command: RulesCommand) -> anyhow::Result<Exit> {
    // Written with `?`: `skillscan rules list | head` closes the pipe, which is not an error.
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List { rules, format } => {
            let set = rules.load()?;
            if format == Format::Json {
                let list: Vec<_> = set
                    .rules
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "name": r.name, "severity": r.severity, "category": r.category.code(),
                            "category_name": r.category.name(),
                            "confidence": r.confidence.as_str(), "views": r.view_list, "capability": r.capability,
                            "enabled": !r.disabled_by_default, "origin": r.origin.to_string(),
                            "prefilter": match &r.matcher {
                                Matcher::Regex(re) => serde_json::json!(skillscan::engine::rules::prefilter_literals(re.as_str())),
                                _ => serde_json::Value::Null,
                            },
                        })
                    })
                    .collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "rules_version": set.version, "rules": list }))?
                )?;
            } else {
                for r in &set.rules {
                    let severity = r.severity.map_or("capability".to_string(), |s| s.to_string());
                    let off = if r.disabled_by_default { "  (off by default)" } else { "" };
                    writeln!(out, "{:<34} {:<10} {:<21} {}{off}", r.id, severity, r.category.name(), r.name)?;
                }
                writeln!(out, "{} rules, version {}", set.rules.len(), set.version)?;
            }
            Ok(Exit::Clean)
        }
        RulesCommand::Explain { id, rules } => {
            let set = rules.load()?;
            let Some(r) = set.get(&id) else { bail!("no rule `{id}` (see `skillscan rules list`)") };
            let severity = r.severity.map_or("none (records a capability)".to_string(), |s| s.to_string());
            writeln!(out, "{} — {}\n", r.id, r.name)?;
            writeln!(
                out,
                "severity: {severity}   category: {} ({}, {})   confidence: {}",
                r.category.name(),
                r.category.code(),
                r.category.title(),
                r.confidence.as_str()
            )?;
            let views: Vec<&str> = r.view_list.iter().map(|v| v.as_str()).collect();
            let langs: Vec<&str> = r.languages.iter().map(|l| l.as_str()).collect();
            writeln!(
                out,
                "looks at: {}{}",
                views.join(", "),
                if langs.is_empty() { String::new() } else { format!(" ({})", langs.join(", ")) }
            )?;
            let how = match &r.matcher {
                Matcher::Regex(re) => format!("regex `{}`", re.as_str()),
                Matcher::AtLeast { count, members, within } => {
                    let names = members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
                    format!("at least {count} distinct of [{names}] in one {}", within.as_str())
                }
                Matcher::Analyzer(name) => format!("analyzer `{name}`"),
                Matcher::Correlate { all, scope } => {
                    let scope = match scope {
                        CorrelateScope::File => "file",
                        CorrelateScope::Skill => "skill",
                    };
                    format!("co-occurrence of {} ({scope} scope)", all.join(" + "))
                }
            };
            writeln!(out, "matches with: {how}")?;
            if let Some(cap) = &r.capability {
                writeln!(out, "records capability: {cap}")?;
            }
            writeln!(out, "message: {}\n", r.message)?;
            writeln!(out, "{}\n", r.description)?;
            writeln!(out, "## Remediation\n{}\n", r.remediation)?;
            if !r.references.is_empty() {
                writeln!(out, "## References")?;
                for reference in &r.references {
                    writeln!(out, "- {reference}")?;
                }
            }
            writeln!(
                out,
                "\ndefined in {}; {} match and {} no_match examples",
                r.origin,
                r.examples.positive.len(),
                r.examples.negative.len()
            )?;
            Ok(Exit::Clean)
        }
        RulesCommand::Test { ids, rules } => {
            let set = rules.load()?;
            let mut scanner = Scanner::new(set, &Config::default());
            scanner.enable_all();
            let only = (!ids.is_empty()).then_some(ids.as_slice());
            let report = selftest::run(&scanner, only);
            for failure in &report.failures {
                eprintln!("FAIL {failure}");
            }
            writeln!(out, "{} rules, {} examples, {} failures", report.rules, report.examples, report.failures.len())?;
            Ok(if report.failures.is_empty() { Exit::Clean } else { Exit::Findings })
        }
    }
}
