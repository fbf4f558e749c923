//! Archive digests: the ClawHub bundle fingerprint and the tree digest.
//!
//! INTERIM: these belong to `skillscan-signatures` (`digest::{clawhub_fingerprint,
//! locale_compare, TreeManifest}`), which is being written in parallel. Until it lands on
//! main the mirror uses this small port of the reference table in
//! `shared/reference/fake_registry.py` (checked against Node there). When the crate lands,
//! the three functions below become thin calls into it and this file shrinks to that; the
//! rest of the mirror only calls these functions.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Printable ASCII in JS `localeCompare` (ICU root) primary order; letters are
/// case-insensitive at primary level, lowercase wins ties.
const ICU_ASCII: &str = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ";

fn primary(c: char) -> u32 {
    let lc = c.to_ascii_lowercase();
    let mut rank = 0u32;
    let mut seen = [false; 128];
    for ch in ICU_ASCII.chars() {
        let l = ch.to_ascii_lowercase();
        if !seen[l as usize] {
            seen[l as usize] = true;
            if l == lc {
                return rank;
            }
            rank += 1;
        }
    }
    1000 + c as u32
}

/// Approximates `a.localeCompare(b)` for the paths skills use.
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    let pa: Vec<u32> = a.chars().map(primary).collect();
    let pb: Vec<u32> = b.chars().map(primary).collect();
    pa.cmp(&pb).then_with(|| {
        let ta: Vec<u8> = a.chars().map(|c| c.is_uppercase() as u8).collect();
        let tb: Vec<u8> = b.chars().map(|c| c.is_uppercase() as u8).collect();
        ta.cmp(&tb)
    })
}

fn hashes(files: &BTreeMap<String, Vec<u8>>, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(p, _)| keep(p))
        .map(|(p, b)| (p.clone(), hex::encode(Sha256::digest(b))))
        .collect()
}

fn dot_segment(path: &str) -> bool {
    path.split('/').any(|s| s.starts_with('.'))
}

/// ClawHub `buildSkillFingerprint`: lines `path:sha256` sorted by `localeCompare`, joined
/// with `\n`, sha256 hex.
fn fingerprint_of(files: &[(String, String)]) -> String {
    let mut v: Vec<&(String, String)> = files
        .iter()
        .filter(|(p, h)| !p.is_empty() && !h.is_empty())
        .collect();
    v.sort_by(|a, b| locale_cmp(&a.0, &b.0));
    let joined = v
        .iter()
        .map(|(p, h)| format!("{p}:{h}"))
        .collect::<Vec<_>>()
        .join("\n");
    hex::encode(Sha256::digest(joined.as_bytes()))
}

/// The server's files-only fingerprint (what `/api/v1/resolve` matches): no `_meta.json`,
/// no generated `skill-card.md`, no dot-paths.
pub fn server_fingerprint(files: &BTreeMap<String, Vec<u8>>) -> String {
    fingerprint_of(&hashes(files, |p| {
        !dot_segment(p) && p != "_meta.json" && p != "skill-card.md"
    }))
}

/// What `clawhub install` records in `origin.json`: the installed folder, `_meta.json`
/// included, dot-paths excluded.
pub fn installed_fingerprint(files: &BTreeMap<String, Vec<u8>>) -> String {
    fingerprint_of(&hashes(files, |p| !dot_segment(p)))
}

/// Tree digest of the skill's own files (install metadata such as `_meta.json` excluded):
/// sha256 hex of the byte-sorted lines `<path>\0<sha256 hex>\n`. Independent of zip
/// ordering, compression and timestamps.
pub fn tree_digest(files: &BTreeMap<String, Vec<u8>>) -> Result<String, String> {
    let v = hashes(files, |p| {
        p != "_meta.json" && !p.split('/').any(|s| s == ".clawhub" || s == ".clawdhub")
    });
    let mut h = Sha256::new();
    for (p, d) in &v {
        h.update(p.as_bytes());
        h.update([0u8]);
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_order_matches_node() {
        let mut v = vec!["SKILL.md", "_meta.json", "scripts/forecast.py"];
        v.sort_by(|a, b| locale_cmp(a, b));
        assert_eq!(v, ["_meta.json", "scripts/forecast.py", "SKILL.md"]);
        let mut w = vec!["a1", "a/b", "A.md", "a.md"];
        w.sort_by(|a, b| locale_cmp(a, b));
        assert_eq!(w, ["a.md", "A.md", "a/b", "a1"]);
    }

    #[test]
    fn fingerprint_of_trace_fixture() {
        // weather-brief 1.0.0 from fake_registry.py, files only.
        let skill = "---\nname: weather-brief\ndescription: Short weather briefings for a city.\nversion: 1.0.0\nmetadata: {\"openclaw\":{\"emoji\":\"\u{1F326}\",\"requires\":{\"bins\":[\"python3\"]}}}\n---\n# Weather brief\n\nRun `python3 scripts/forecast.py <city>` and summarise the output.\n";
        let fc = "#!/usr/bin/env python3\nimport sys\n\ndef main():\n    city = sys.argv[1] if len(sys.argv) > 1 else \"Berlin\"\n    print(f\"{city}: 18C, light rain\")\n\nif __name__ == \"__main__\":\n    main()\n";
        let mut files = BTreeMap::new();
        files.insert("SKILL.md".to_string(), skill.as_bytes().to_vec());
        files.insert("scripts/forecast.py".to_string(), fc.as_bytes().to_vec());
        files.insert("_meta.json".to_string(), b"{}".to_vec());
        // Value recorded in clawhub-cli-trace.md §6.2 (files-only fingerprint).
        assert!(server_fingerprint(&files).starts_with("becefa"));
        assert_ne!(installed_fingerprint(&files), server_fingerprint(&files));
    }
}
