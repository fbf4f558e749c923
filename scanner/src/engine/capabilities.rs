//! The capability manifest: the facts behind a verdict — what a skill contacts, runs, reads and
//! writes — and the least privilege it needs. Facts come from rule hits whose rule declares a
//! `capability`; the mirror diffs manifests between versions of a skill.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::engine::analysis::FileAnalysis;
use crate::engine::hit::{Hit, HitLocation};
use crate::engine::rules::RuleSet;
use crate::engine::urls;

/// Least privilege a skill needs, in increasing order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Privilege {
    /// Reads its own files only.
    #[default]
    ReadOnly,
    /// Writes inside its workspace.
    Workspace,
    /// Talks to the network.
    Network,
    /// Runs programs.
    Shell,
    /// Reads credentials, writes outside the workspace, or installs persistence.
    HostWide,
}

impl Privilege {
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::ReadOnly => "read-only",
            Privilege::Workspace => "workspace",
            Privilege::Network => "network",
            Privilege::Shell => "shell",
            Privilege::HostWide => "host-wide",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capabilities {
    pub hosts: BTreeSet<String>,
    pub binaries: BTreeSet<String>,
    pub env_vars: BTreeSet<String>,
    pub credential_paths: BTreeSet<String>,
    pub paths_written: BTreeSet<String>,
    pub persistence: BTreeSet<String>,
    pub install_specs: Vec<String>,
    pub privilege: Privilege,
}

impl Capabilities {
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
            && self.binaries.is_empty()
            && self.env_vars.is_empty()
            && self.credential_paths.is_empty()
            && self.paths_written.is_empty()
            && self.persistence.is_empty()
            && self.install_specs.is_empty()
    }

    /// What `newer` can do that `self` could not (the update review of the mirror).
    pub fn added_in(&self, newer: &Capabilities) -> Capabilities {
        let diff = |old: &BTreeSet<String>, new: &BTreeSet<String>| new.difference(old).cloned().collect();
        Capabilities {
            hosts: diff(&self.hosts, &newer.hosts),
            binaries: diff(&self.binaries, &newer.binaries),
            env_vars: diff(&self.env_vars, &newer.env_vars),
            credential_paths: diff(&self.credential_paths, &newer.credential_paths),
            paths_written: diff(&self.paths_written, &newer.paths_written),
            persistence: diff(&self.persistence, &newer.persistence),
            install_specs: newer.install_specs.iter().filter(|s| !self.install_specs.contains(s)).cloned().collect(),
            privilege: if newer.privilege > self.privilege { newer.privilege } else { Privilege::ReadOnly },
        }
    }
}

/// A capability observed at a place: the unit correlation works on.
#[derive(Debug, Clone)]
pub struct Fact<'h> {
    pub kind: &'h str,
    pub value: String,
    pub hit: &'h Hit,
}

/// The value a hit contributes: its `value` capture, the host of its `url` capture or of the
/// first URL in the match, or the matched text.
fn fact_value(files: &[FileAnalysis], hit: &Hit, kind: &str) -> String {
    if let Some(value) = hit.capture("value") {
        return value.trim().trim_matches(['"', '\'', '`']).to_string();
    }
    let matched = matched_text(files, hit);
    // Network facts are hosts; a fact without one says nothing the manifest can use.
    if kind.starts_with("network") || kind == "exec-remote" {
        let url = hit.capture("url").or_else(|| urls::find_urls(&matched).map(|(_, u)| u).next());
        return match url.and_then(urls::host_and_path) {
            Some((host, _)) => host,
            None => hit.capture("host").map(str::to_ascii_lowercase).unwrap_or_default(),
        };
    }
    crate::engine::text::escape_snippet(matched.trim(), 120)
}

/// The text a hit matched (a file's path for hits about a whole file).
pub fn matched_text(files: &[FileAnalysis], hit: &Hit) -> String {
    match &hit.location {
        HitLocation::Segment { file, segment, range } => {
            let f = &files[*file];
            f.segments[*segment].text(f.text()).get(range.clone()).unwrap_or("").to_string()
        }
        HitLocation::File { file, range: Some(range) } => {
            files[*file].text().get(range.clone()).unwrap_or("").to_string()
        }
        HitLocation::File { file, range: None } => files[*file].path.clone(),
        HitLocation::Path(path) => path.clone(),
    }
}

pub fn facts<'h>(rules: &'h RuleSet, files: &[FileAnalysis], hits: &'h [Hit]) -> Vec<Fact<'h>> {
    hits.iter()
        .filter_map(|hit| {
            let kind = rules.rules[hit.rule].capability.as_deref()?;
            Some(Fact { kind, value: fact_value(files, hit, kind), hit })
        })
        .collect()
}

pub fn build(facts: &[Fact<'_>], install_specs: Vec<String>) -> Capabilities {
    let mut caps = Capabilities { install_specs, ..Default::default() };
    for fact in facts {
        let value = fact.value.clone();
        if value.is_empty() {
            continue;
        }
        match fact.kind {
            "network" | "network-send" | "network-fetch" => {
                caps.hosts.insert(value);
            }
            "exec-remote" => {
                caps.hosts.insert(value);
            }
            "exec" => {
                caps.binaries.insert(value);
            }
            "env-read" => {
                caps.env_vars.insert(value);
            }
            "credential-read" => {
                caps.credential_paths.insert(value);
            }
            "file-write" => {
                caps.paths_written.insert(value);
            }
            "persistence" => {
                caps.persistence.insert(value);
            }
            _ => {}
        }
    }
    let outside_workspace =
        caps.paths_written.iter().any(|p| p.starts_with('/') || p.starts_with('~') || p.starts_with("$HOME"));
    caps.privilege = if !caps.credential_paths.is_empty() || !caps.persistence.is_empty() || outside_workspace {
        Privilege::HostWide
    } else if !caps.binaries.is_empty() || facts.iter().any(|f| f.kind.starts_with("exec")) {
        // Running anything (including a fetched script) needs a shell.
        Privilege::Shell
    } else if !caps.hosts.is_empty() {
        Privilege::Network
    } else if !caps.paths_written.is_empty() {
        Privilege::Workspace
    } else {
        Privilege::ReadOnly
    };
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_capabilities_are_the_new_ones_only() {
        let old = Capabilities {
            hosts: ["api.example.com".to_string()].into(),
            privilege: Privilege::Network,
            ..Default::default()
        };
        let new = Capabilities {
            hosts: ["api.example.com".to_string(), "drop.example.invalid".to_string()].into(),
            credential_paths: ["~/.ssh".to_string()].into(),
            privilege: Privilege::HostWide,
            ..Default::default()
        };
        let added = old.added_in(&new);
        assert_eq!(added.hosts, ["drop.example.invalid".to_string()].into());
        assert_eq!(added.credential_paths.len(), 1);
        assert_eq!(added.privilege, Privilege::HostWide);
        assert!(new.added_in(&old).is_empty());
    }
}
