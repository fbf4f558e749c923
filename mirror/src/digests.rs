//! Archive digests: ClawHub bundle fingerprints and the tree digest, computed by
//! `skillscan-signatures` so that the mirror, the installer and the signing statement agree
//! on one definition.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use skillscan_signatures::digest::{self as sd, FileDigest, FingerprintScope, Sha256Digest, TreeManifest};

/// JS `localeCompare` order (what ClawHub sorts paths by).
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    sd::locale_compare(a, b)
}

fn fingerprint(files: &BTreeMap<String, Vec<u8>>, scope: FingerprintScope) -> String {
    let digests: Vec<(&str, Sha256Digest)> =
        files.iter().filter(|(p, _)| scope.includes(p)).map(|(p, b)| (p.as_str(), sd::sha256(b))).collect();
    sd::clawhub_fingerprint(digests.iter().map(|(p, d)| (*p, d))).to_string()
}

/// The server's files-only fingerprint (what `/api/v1/resolve` matches).
pub fn server_fingerprint(files: &BTreeMap<String, Vec<u8>>) -> String {
    fingerprint(files, FingerprintScope::ServerFiles)
}

/// What `clawhub install` records in `origin.json` (`_meta.json` included).
pub fn installed_fingerprint(files: &BTreeMap<String, Vec<u8>>) -> String {
    fingerprint(files, FingerprintScope::Installed)
}

/// The signing crate's tree digest (install metadata such as `_meta.json` excluded), hex.
pub fn tree_digest(files: &BTreeMap<String, Vec<u8>>) -> Result<String, String> {
    TreeManifest::new(files.iter().map(|(p, b)| FileDigest::from_bytes(p.as_str(), b)))
        .map(|m| m.tree_digest().to_string())
        .map_err(|e| e.to_string())
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
