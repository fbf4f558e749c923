//! Capability plus intent decides severity: a `correlate` rule fires when all of its
//! capabilities occur together — in one file, or across SKILL.md and the files it tells the agent
//! to run — and reports the first fact with the others as related locations.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::analysis::FileAnalysis;
use crate::engine::capabilities::Fact;
use crate::engine::finding::RelatedLocation;
use crate::engine::hit::Hit;
use crate::engine::matching;
use crate::engine::rules::schema::CorrelateScope;
use crate::engine::rules::{Matcher, RuleSet};

/// Files SKILL.md refers to by path (`scripts/setup.sh`, `./run.py`), or by a distinctive file
/// name: the ones an agent following the instructions will run or read.
pub fn instructed_files(files: &[FileAnalysis]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let Some((manifest, doc)) = files.iter().enumerate().find(|(_, f)| f.is_manifest()) else {
        return out;
    };
    out.insert(manifest);
    let text = doc.text();
    for (index, file) in files.iter().enumerate() {
        if index == manifest || file.text.is_none() {
            continue;
        }
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let distinctive = name.len() >= 5 && name.contains('.') && !name.eq_ignore_ascii_case("readme.md");
        if text.contains(file.path.as_str()) || (distinctive && text.contains(name)) {
            out.insert(index);
        }
    }
    out
}

fn related(files: &[FileAnalysis], fact: &Fact<'_>) -> RelatedLocation {
    let at = matching::locate(files, fact.hit);
    RelatedLocation {
        file: at.file,
        line: at.line,
        column: at.column,
        message: format!("{}: {}", fact.kind, fact.value),
        snippet: at.snippet,
    }
}

pub fn correlate(rules: &RuleSet, enabled: &[bool], files: &[FileAnalysis], facts: &[Fact<'_>]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let instructed = instructed_files(files);
    for (index, rule) in rules.rules.iter().enumerate() {
        let Matcher::Correlate { all, scope } = &rule.matcher else {
            continue;
        };
        if !enabled.get(index).copied().unwrap_or(false) {
            continue;
        }
        let groups: Vec<Vec<&Fact<'_>>> = match scope {
            CorrelateScope::File => {
                let mut by_file: BTreeMap<usize, Vec<&Fact<'_>>> = BTreeMap::new();
                for fact in facts {
                    if let Some(file) = fact.hit.file() {
                        by_file.entry(file).or_default().push(fact);
                    }
                }
                by_file.into_values().collect()
            }
            CorrelateScope::Skill => {
                let group: Vec<&Fact<'_>> =
                    facts.iter().filter(|f| f.hit.file().is_some_and(|file| instructed.contains(&file))).collect();
                // Within one file the file-scope rules already speak; this rule is about spread.
                let files_involved: BTreeSet<usize> = group.iter().filter_map(|f| f.hit.file()).collect();
                if files_involved.len() < 2 { vec![] } else { vec![group] }
            }
        };
        for group in groups {
            let chosen: Option<Vec<&Fact<'_>>> =
                all.iter().map(|kind| group.iter().copied().find(|f| f.kind == kind)).collect();
            let Some(chosen) = chosen else { continue };
            if *scope == CorrelateScope::Skill {
                let spread: BTreeSet<usize> = chosen.iter().filter_map(|f| f.hit.file()).collect();
                if spread.len() < 2 {
                    continue;
                }
            }
            let primary = chosen[0];
            hits.push(Hit {
                rule: index,
                location: primary.hit.location.clone(),
                captures: primary.hit.captures.clone(),
                detail: Some(
                    chosen.iter().map(|f| format!("{} `{}`", f.kind, f.value)).collect::<Vec<_>>().join(" + "),
                ),
                related: chosen[1..].iter().map(|f| related(files, f)).collect(),
                severity: None,
            });
        }
    }
    hits
}
