//! Embeds the rule files of `../rules` into the binary, so `skillscan` needs no data files at
//! run time (`--rules DIR` adds or overrides rules, `--ioc FILE` replaces the indicators).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let rules_dir = manifest_dir.join("../rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    let mut files = Vec::new();
    collect(&rules_dir, &mut files);
    files.sort();
    let mut code = String::from(
        "/// (path relative to rules/, contents) of every embedded rule data file.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&rules_dir).expect("collected under rules_dir");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let keep = rel.ends_with(".yaml") || rel.ends_with(".yml") || rel.ends_with(".txt") || rel.ends_with(".toml");
        if !keep {
            continue;
        }
        writeln!(code, "    ({rel:?}, include_str!({:?})),", file.canonicalize().expect("rule file exists").display())
            .expect("write to String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_rules.rs");
    std::fs::write(out, code).expect("write embedded_rules.rs");
}
