//! One list of names, three consumers, the same answers.
//!
//! Each name (slug, version, owner, manifest spelling, path inside a skill) is fed to:
//! - the **scanner**: the identity hints `pin`, `sign`, `verify`, `ci` and `inventory` read from
//!   a skill's `_meta.json`, the loader `scan` reads archives with, and the digest every
//!   integrity command computes;
//! - the **installer**: `skillscan install`'s reference (`@owner/slug@version`) and its checks of
//!   the downloaded archive before anything is written;
//! - the **mirror**: its validation of URLs and upstream answers (`validate`) and of archives
//!   (`SkillArchive::read`).
//!
//! They all use `skillscan_signatures::identity`, so they agree. Where the mirror is stricter
//! it is by a named rule, and the table says which ([`Answer::MirrorStricter`]).

use std::io::Write as _;
use std::sync::Arc;

use serde_json::json;
use skillscan::clawhub::state::SkillRef;
use skillscan::engine::package::{self, IssueKind, Limits, SkillSource, Source};
use skillscan::guard::install::{Artifact, Expected, check_archive};
use skillscan::guard::integrity::hints::IdentityHints;
use skillscan_mirror::archive::{ArchiveError, SkillArchive};
use skillscan_mirror::validate;

/// What every consumer answers for a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Accepted by all.
    Valid,
    /// Refused by all.
    Invalid,
    /// Accepted by the scanner and the installer (the base rule); refused by the mirror, whose
    /// stricter registry rule is named here.
    MirrorStricter(&'static str),
}

use Answer::{Invalid, MirrorStricter, Valid};

const NOW: u64 = 1_767_225_600;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (path, bytes) in files {
        w.start_file(*path, options).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        w.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

/// The scanner's reading of `_meta.json` (archive shape), as every integrity command reads it.
fn scanner_hints(meta: &serde_json::Value) -> IdentityHints {
    let bytes = serde_json::to_vec(meta).unwrap_or_default();
    IdentityHints::from_files([("_meta.json", Ok(bytes.as_slice()))])
}

fn check(kind: &str, name: &str, expected: Answer, scanner: bool, installer: bool, mirror: bool) -> Option<String> {
    let (want_base, want_mirror) = match expected {
        Valid => (true, true),
        Invalid => (false, false),
        MirrorStricter(_) => (true, false),
    };
    (scanner != want_base || installer != want_base || mirror != want_mirror).then(|| {
        format!("{kind} {name:?}: expected {expected:?}, got scanner={scanner} installer={installer} mirror={mirror}")
    })
}

fn report(failures: Vec<Option<String>>) {
    let failures: Vec<String> = failures.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{} disagreement(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn slugs() {
    let long_registry = "a".repeat(96);
    let long_base = "a".repeat(128);
    let too_long = "a".repeat(129);
    let cases: &[(&str, Answer)] = &[
        ("weather-brief", Valid),
        ("a", Valid),
        ("0x", Valid),
        ("a--b", Valid),
        ("trailing-", Valid),
        (&long_registry, Valid),
        ("a.b", MirrorStricter("Slug::parse_registry: only a-z, 0-9 and '-'")),
        ("a_b", MirrorStricter("Slug::parse_registry: only a-z, 0-9 and '-'")),
        ("v1.2", MirrorStricter("Slug::parse_registry: only a-z, 0-9 and '-'")),
        (&long_base, MirrorStricter("Slug::parse_registry: at most 96 bytes")),
        ("", Invalid),
        ("-a", Invalid),
        ("Weather", Invalid),
        ("aB", Invalid),
        ("a b", Invalid),
        ("a/b", Invalid),
        ("..", Invalid),
        ("../x", Invalid),
        (".hidden", Invalid),
        ("é", Invalid),
        ("a\tb", Invalid),
        ("a\nb", Invalid),
        (&too_long, Invalid),
    ];
    report(
        cases
            .iter()
            .map(|&(slug, expected)| {
                let scanner = scanner_hints(&json!({ "slug": slug })).slug().is_some();
                let installer = slug.parse::<SkillRef>().is_ok_and(|r| r.slug.as_str() == slug);
                let mirror = validate::slug(slug).is_ok();
                check("slug", slug, expected, scanner, installer, mirror)
            })
            .collect(),
    );
}

#[test]
fn versions() {
    let long_semver = format!("1.0.0-{}", "a".repeat(60));
    let cases: &[(&str, Answer)] = &[
        ("1.0.0", Valid),
        ("0.0.1", Valid),
        ("1.0.0-rc.1+build.5", Valid),
        ("2.10.3-beta", Valid),
        ("v2", MirrorStricter("semver 2.0 on top of Version")),
        ("1.0", MirrorStricter("semver 2.0 on top of Version")),
        ("0123abcdef", MirrorStricter("semver 2.0 on top of Version (a git commit id)")),
        (&long_semver, MirrorStricter("validate::MAX_VERSION_LEN: at most 64 bytes")),
        ("", Invalid),
        (".1", Invalid),
        ("../1", Invalid),
        ("1.0 ", Invalid),
        ("1:0", Invalid),
        ("1.0.0\n", Invalid),
        ("1/0", Invalid),
    ];
    report(
        cases
            .iter()
            .map(|&(version, expected)| {
                let scanner = scanner_hints(&json!({ "latest": { "version": version } })).version().is_some();
                let installer = format!("weather-brief@{version}")
                    .parse::<SkillRef>()
                    .is_ok_and(|r| r.version.as_deref() == Some(version));
                let mirror = validate::version(version).is_ok();
                check("version", version, expected, scanner, installer, mirror)
            })
            .collect(),
    );
}

#[test]
fn owners() {
    let long_base = "a".repeat(65);
    let too_long = "a".repeat(129);
    let cases: &[(&str, Answer)] = &[
        ("acme", Valid),
        ("Acme", Valid),
        ("a-b_c", Valid),
        ("0", Valid),
        ("a.b", MirrorStricter("Owner::is_registry_handle: no '.'")),
        (&long_base, MirrorStricter("Owner::is_registry_handle: at most 64 bytes")),
        ("", Invalid),
        ("-acme", Invalid),
        ("_acme", Invalid),
        ("a b", Invalid),
        ("a/b", Invalid),
        ("..", Invalid),
        ("ä", Invalid),
        (&too_long, Invalid),
    ];
    report(
        cases
            .iter()
            .map(|&(owner, expected)| {
                let scanner = scanner_hints(&json!({ "owner": owner })).owner().is_some();
                let installer = format!("@{owner}/weather-brief@1.0.0")
                    .parse::<SkillRef>()
                    .is_ok_and(|r| r.slug.as_str() == "weather-brief");
                let mirror = validate::owner(owner).is_ok();
                check("owner", owner, expected, scanner, installer, mirror)
            })
            .collect(),
    );
    // A handle as ClawHub reads one: one `@` stripped, lowercased, by the installer and the
    // mirror alike (`Owner::from_handle`); the scanner's hints keep a lock's spelling.
    let installer = "@Acme/weather-brief".parse::<SkillRef>().ok().and_then(|r| r.owner).map(String::from);
    let mirror = validate::owner("@Acme").ok().map(String::from);
    assert_eq!((installer.as_deref(), mirror.as_deref()), (Some("acme"), Some("acme")));
    assert_eq!(scanner_hints(&json!({ "owner": "Acme" })).owner().map(|h| h.value), Some("Acme"));
}

/// A flat archive holding `files`, checked by the installer the way `skillscan install` checks
/// a download (no signature, no pin).
fn installer_accepts(zip: &[u8]) -> Result<(), String> {
    let artifact = Artifact { bytes: zip, sha256_header: None, tree_digest_header: None, signature: None };
    let expected = Expected { slug: "weather-brief".into(), owner_handle: None, version: "1.0.0".into() };
    check_archive(&artifact, &expected, None, None, NOW).map(|_| ()).map_err(|e| e.to_string())
}

/// The skills `scan` loads from an archive held in memory.
fn scanner_loads(zip: &[u8]) -> Vec<package::LoadedSkill> {
    let source =
        SkillSource { display: "x.zip".into(), source: Source::Bytes { name: "x.zip".into(), bytes: Arc::from(zip) } };
    package::load(&source, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

const MANIFEST: &[u8] = b"---\nname: weather-brief\ndescription: Weather.\n---\n# Weather\n";

#[test]
fn manifest_spellings() {
    // One rule everywhere (`is_manifest_name`): the mirror is not stricter here.
    let cases: &[(&str, Answer)] = &[
        ("SKILL.md", Valid),
        ("skill.md", Valid),
        ("Skill.md", Valid),
        ("SKILL.MD", Valid),
        ("skills.md", Valid),
        ("SKILLS.md", Valid),
        ("Skills.Md", Valid),
        ("SKILL.markdown", Invalid),
        ("SKILL.md.txt", Invalid),
        ("SKILL", Invalid),
        ("README.md", Invalid),
        ("skill.mdx", Invalid),
    ];
    report(
        cases
            .iter()
            .map(|&(name, expected)| {
                let zip = zip_of(&[(name, MANIFEST), ("scripts/run.sh", b"echo hi\n")]);
                let skills = scanner_loads(&zip);
                let scanner = skills.len() == 1 && !skills[0].issues.iter().any(|i| i.kind == IssueKind::NoManifest);
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                std::fs::write(dir.path().join(name), MANIFEST).unwrap_or_else(|e| panic!("{e}"));
                let on_disk = package::is_skill_root(dir.path());
                assert_eq!(on_disk, scanner, "{name:?}: a folder and an archive disagree in the scanner");
                let installer = installer_accepts(&zip).is_ok();
                let mirror = match SkillArchive::read(&zip, &Default::default()) {
                    Ok(archive) => archive.skill_md().is_some(),
                    Err(ArchiveError::NoSkillMd) => false,
                    Err(e) => panic!("{name:?}: the mirror refused the archive for another reason: {e}"),
                };
                check("manifest", name, expected, scanner, installer, mirror)
            })
            .collect(),
    );
    // Only at the root: a manifest in a folder of a flat archive does not make it a skill.
    let nested = zip_of(&[("README.md", b"x"), ("docs/SKILL.md", MANIFEST), ("docs/x.md", b"y")]);
    assert!(installer_accepts(&nested).is_err());
    assert!(matches!(SkillArchive::read(&nested, &Default::default()), Err(ArchiveError::NoSkillMd)));
}

/// What each consumer says about a path inside a skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathAnswer {
    /// Accepted by all.
    Valid,
    /// Refused by all; `scan` reports it as an unsafe archive path (it could escape the folder).
    Unsafe,
    /// Refused by all as not one canonical spelling; `scan` reads the entry under its name and
    /// reports nothing, because extracting it cannot escape the folder.
    NotCanonical,
    /// Accepted by the scanner and the installer; refused by the mirror, by the named rule.
    MirrorStricter(&'static str),
}

#[test]
fn paths() {
    let long = format!("{}/x.md", "a".repeat(1100));
    let cases: &[(&str, PathAnswer)] = &[
        ("scripts/run.sh", PathAnswer::Valid),
        ("docs/ü 🌦.md", PathAnswer::Valid),
        ("..a/b..", PathAnswer::Valid),
        ("ab:c", PathAnswer::Valid),
        ("1:x", PathAnswer::Valid),
        (".hidden/x", PathAnswer::Valid),
        ("../x", PathAnswer::Unsafe),
        ("a/../../x", PathAnswer::Unsafe),
        ("/etc/passwd", PathAnswer::Unsafe),
        ("C:x", PathAnswer::Unsafe),
        ("c:/x", PathAnswer::Unsafe),
        ("a\\b", PathAnswer::Unsafe),
        ("..\\x", PathAnswer::Unsafe),
        ("a\u{1b}[31m", PathAnswer::Unsafe),
        ("a//../b", PathAnswer::Unsafe),
        ("a//b", PathAnswer::NotCanonical),
        ("a/./b", PathAnswer::NotCanonical),
        ("./a", PathAnswer::MirrorStricter("strict SkillPath: one spelling, no leading ./")),
        (&long, PathAnswer::MirrorStricter("validate::MAX_PATH_LEN: at most 1024 bytes")),
    ];
    let mut failures = Vec::new();
    for &(path, expected) in cases {
        let zip = zip_of(&[("SKILL.md", MANIFEST), (path, b"echo hi\n")]);
        let skills = scanner_loads(&zip);
        let reported = skills.iter().flat_map(|s| &s.issues).any(|i| i.kind == IssueKind::UnsafePath);
        let digest = skillscan::guard::integrity::digest_archive_bytes(
            "x.zip",
            &zip,
            &skillscan::guard::integrity::IntegrityLimits::default(),
        )
        .is_ok();
        let installer = installer_accepts(&zip).is_ok();
        let mirror_archive = SkillArchive::read(&zip, &Default::default()).is_ok();
        let mirror_path = validate::file_path(path).is_ok();
        let want = match expected {
            // (scan reports, digest accepts, installer accepts, mirror accepts)
            PathAnswer::Valid => (false, true, true, true),
            PathAnswer::Unsafe => (true, false, false, false),
            PathAnswer::NotCanonical => (false, false, false, false),
            PathAnswer::MirrorStricter(_) => (false, true, true, false),
        };
        let got = (reported, digest, installer, mirror_archive);
        if got != want || mirror_path != mirror_archive {
            failures.push(format!(
                "path {path:?}: expected {expected:?} (scan reports, digest, installer, mirror) = {want:?}, got \
                 {got:?}, mirror validate::file_path = {mirror_path}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} disagreement(s):\n{}", failures.len(), failures.join("\n"));
}
