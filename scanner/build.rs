//! Embeds the rule files of `rules/` into the binary, so `skillscan` needs no data files at
//! run time (`--rules DIR` adds or overrides rules, `--ioc FILE` replaces the indicators).
//!
//! `rules/` beside this file is a symbolic link to the workspace's top-level `rules/` (the one
//! source of truth); `cargo package` follows it, so the published crate carries real copies.
//! A build that finds no rules fails: a scanner built without its rules would call everything
//! clean.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => panic!("skillscan build: cannot read the rules folder {}: {e}", dir.display()),
    };
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("skillscan build: reading {}: {e}", dir.display())).path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn is_rule_data(rel: &str) -> bool {
    rel.ends_with(".yaml") || rel.ends_with(".yml") || rel.ends_with(".txt") || rel.ends_with(".toml")
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules_dir = manifest_dir.join("rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    if !rules_dir.is_dir() {
        panic!(
            "skillscan build: no rules folder at {} (in the repository it is a symbolic link to ../rules; \
             check that the link exists and that git checked it out as a link, e.g. core.symlinks on Windows)",
            rules_dir.display()
        );
    }
    let mut files = Vec::new();
    collect(&rules_dir, &mut files);
    files.sort();
    let mut code = String::from(
        "/// (path relative to rules/, contents) of every embedded rule data file.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    let mut embedded = 0;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&rules_dir).expect("collected under rules_dir");
        let rel = rel.to_string_lossy().replace('\\', "/");
        if !is_rule_data(&rel) {
            continue;
        }
        writeln!(code, "    ({rel:?}, include_str!({:?})),", file.canonicalize().expect("rule file exists").display())
            .expect("write to String");
        embedded += 1;
    }
    if embedded == 0 {
        panic!(
            "skillscan build: no rule files (*.yaml, *.yml, *.txt, *.toml) under {}; refusing to build a scanner \
             without rules",
            rules_dir.display()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_rules.rs");
    std::fs::write(out, code).expect("write embedded_rules.rs");
}
