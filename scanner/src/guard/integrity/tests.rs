//! Unit tests: the same files give the same tree digest as a folder, a zip, a tar and a tar.gz;
//! links, special files, unsafe paths, encrypted entries and bombs are errors; hints parse
//! defensively; and the verification checks name what differs.

use std::io::{Cursor, Write};
use std::path::Path;

use skillscan_signatures::digest::sha256;
use skillscan_signatures::minisign::{SecretKey, SignatureFile, sign};
use skillscan_signatures::{LockedSkill, SkillStatement, SkillsLock, TrustStore};

use super::*;

const SKILL_MD: &str = "---\nname: weather-brief\nversion: 1.0.0\n---\n# Weather\nRun scripts/forecast.py\n";
const FORECAST: &str = "print('sunny')\n";
const META: &str = "{\n  \"ownerId\": \"users:acme\",\n  \"slug\": \"weather-brief\",\n  \"version\": \"1.0.0\",\n  \"publishedAt\": 1767225600000\n}";

fn limits() -> IntegrityLimits {
    IntegrityLimits::default()
}

fn write_tree(root: &Path, files: &[(&str, &[u8])]) {
    for (path, content) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }
}

fn zip_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (path, content) in files {
        writer.start_file(*path, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *content).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn skill_files() -> Vec<(&'static str, &'static [u8])> {
    vec![("SKILL.md", SKILL_MD.as_bytes()), ("scripts/forecast.py", FORECAST.as_bytes())]
}

#[test]
fn folder_zip_tar_and_tar_gz_of_the_same_files_give_the_same_tree_digest() {
    let dir = tempfile::tempdir().unwrap();
    // An installed folder: the skill plus ClawHub's _meta.json and the CLI's origin.json.
    let mut installed = skill_files();
    installed.push(("_meta.json", META.as_bytes()));
    installed.push((".clawhub/origin.json", b"{\"version\":1,\"slug\":\"weather-brief\"}"));
    write_tree(dir.path(), &installed);
    let from_dir = digest_path(dir.path(), &limits()).unwrap();

    // ClawHub's flat download zip (with _meta.json), a tar, and a tar.gz under one top folder.
    let mut download = skill_files();
    download.push(("_meta.json", META.as_bytes()));
    let zip = zip_bytes(&download);
    let tar = tar_bytes(&skill_files());
    let foldered: Vec<(String, &[u8])> =
        skill_files().into_iter().map(|(p, c)| (format!("weather-brief/{p}"), c)).collect();
    let foldered: Vec<(&str, &[u8])> = foldered.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let tar_gz = gzip(&tar_bytes(&foldered));

    let from_zip = digest_archive_bytes("w.zip", &zip, &limits()).unwrap();
    let from_tar = digest_archive_bytes("w.tar", &tar, &limits()).unwrap();
    let from_tgz = digest_archive_bytes("w.tgz", &tar_gz, &limits()).unwrap();

    let expected = skillscan_signatures::TreeManifest::new(
        skill_files().iter().map(|(p, c)| skillscan_signatures::FileDigest::from_bytes(*p, c)),
    )
    .unwrap()
    .tree_digest();
    for (name, digest) in [("dir", &from_dir), ("zip", &from_zip), ("tar", &from_tar), ("tar.gz", &from_tgz)] {
        assert_eq!(digest.tree_digest(), expected, "{name}");
        assert_eq!(digest.manifest.files().len(), 2, "{name}");
    }
    assert_eq!(from_dir.kind, InputKind::Directory);
    assert_eq!(from_zip.kind, InputKind::Zip);
    assert_eq!(from_tar.kind, InputKind::Tar);
    assert_eq!(from_tgz.kind, InputKind::TarGz);
    assert_eq!(from_tgz.top_folder.as_deref(), Some("weather-brief"));
    assert_eq!(from_zip.top_folder, None);
    assert_eq!(from_zip.archive_sha256, Some(sha256(&zip)));
    assert_eq!(from_dir.archive_sha256, None);
    assert_eq!(from_dir.excluded_paths(), [".clawhub/origin.json", "_meta.json"]);
    // The installed fingerprint skips dot paths but includes _meta.json: same for zip and folder.
    assert_eq!(from_dir.clawhub_fingerprint(), from_zip.clawhub_fingerprint());
    assert_ne!(from_dir.clawhub_fingerprint(), from_tar.clawhub_fingerprint());
    assert_eq!(from_tar.server_fingerprint(), from_zip.server_fingerprint());
}

#[test]
fn archive_files_on_disk_match_archive_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_bytes(&skill_files());
    let path = dir.path().join("skill.zip");
    std::fs::write(&path, &zip).unwrap();
    let on_disk = digest_path(&path, &limits()).unwrap();
    let in_memory = digest_archive_bytes("skill.zip", &zip, &limits()).unwrap();
    assert_eq!(on_disk.tree_digest(), in_memory.tree_digest());
    assert_eq!(on_disk.archive_sha256, Some(sha256(&zip)));
    assert_eq!(on_disk.archive_size, Some(zip.len() as u64));
}

#[cfg(unix)]
#[test]
fn symlinks_in_a_folder_are_rejected_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("scripts/passwd")).unwrap();
    let err = digest_path(dir.path(), &limits()).unwrap_err();
    assert!(
        matches!(&err, TreeError::Link { path, target } if path == "scripts/passwd" && target == "/etc/passwd"),
        "{err}"
    );
    assert!(err.is_integrity());
    assert!(err.to_string().contains("scripts/passwd"), "{err}");

    // A hostile link target cannot put control sequences into the message.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    std::os::unix::fs::symlink("\u{1b}[2J\u{1b}]0;owned\u{7}", dir.path().join("x")).unwrap();
    let message = digest_path(dir.path(), &limits()).unwrap_err().to_string();
    assert!(!message.chars().any(char::is_control), "{message:?}");

    // A link to a folder is not followed either.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    std::os::unix::fs::symlink("/", dir.path().join("root")).unwrap();
    assert!(matches!(digest_path(dir.path(), &limits()), Err(TreeError::Link { path, .. }) if path == "root"));
}

#[cfg(unix)]
#[test]
fn fifos_are_rejected_without_being_opened() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let err = digest_path(dir.path(), &limits()).unwrap_err();
    assert!(matches!(&err, TreeError::SpecialFile { path, what: "a FIFO" } if path == "pipe"), "{err}");
}

#[cfg(unix)]
#[test]
fn unsafe_names_on_disk_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    std::fs::write(dir.path().join("evil\nname"), b"x").unwrap();
    let err = digest_path(dir.path(), &limits()).unwrap_err();
    assert!(matches!(err, TreeError::UnsafePath(_)), "{err}");
    assert!(!err.to_string().contains('\n'), "the message escapes the name: {err}");

    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff")), b"x").unwrap();
    assert!(matches!(digest_path(dir.path(), &limits()), Err(TreeError::NonUtf8Path { .. })));
}

#[test]
fn links_and_unsafe_paths_in_archives_are_rejected() {
    // A zip symlink entry.
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("SKILL.md", options).unwrap();
    writer.write_all(b"# x").unwrap();
    writer.add_symlink("creds", "/home/user/.ssh/id_rsa", options).unwrap();
    let zip = writer.finish().unwrap().into_inner();
    let err = digest_archive_bytes("l.zip", &zip, &limits()).unwrap_err();
    assert!(
        matches!(&err, TreeError::Link { path, target } if path == "creds" && target == "/home/user/.ssh/id_rsa"),
        "{err}"
    );

    // Tar symlink and hard link entries.
    for (entry_type, hard) in [(tar::EntryType::Symlink, false), (tar::EntryType::Link, true)] {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_entry_type(entry_type);
        builder.append_link(&mut header, "evil", "/etc/shadow").unwrap();
        let tar = builder.into_inner().unwrap();
        let err = digest_archive_bytes("l.tar", &tar, &limits()).unwrap_err();
        if hard {
            assert!(matches!(&err, TreeError::HardLink { path } if path == "evil"), "{err}");
        } else {
            assert!(
                matches!(&err, TreeError::Link { path, target } if path == "evil" && target == "/etc/shadow"),
                "{err}"
            );
        }
    }

    // `..` in a zip entry (the zip writer accepts any name) and in a tar entry (written raw).
    let zip = zip_bytes(&[("SKILL.md", b"# x"), ("../../etc/cron.d/x", b"* * * * * root sh")]);
    let err = digest_archive_bytes("t.zip", &zip, &limits()).unwrap_err();
    assert!(matches!(&err, TreeError::UnsafePath(e) if e.path == "../../etc/cron.d/x"), "{err}");
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..10].copy_from_slice(b"/etc/evil\0");
    header.set_size(1);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut tar = header.as_bytes().to_vec();
    tar.extend_from_slice(&[b'x'; 512]);
    tar.extend_from_slice(&[0; 1024]);
    let err = digest_archive_bytes("t.tar", &tar, &limits()).unwrap_err();
    assert!(matches!(&err, TreeError::UnsafePath(e) if e.path == "/etc/evil"), "{err}");
}

#[test]
fn encrypted_zip_entries_are_rejected() {
    let mut zip = zip_bytes(&[("SKILL.md", b"# x"), ("payload.sh", b"curl x | sh")]);
    // Set bit 0 (encrypted) of the general purpose flags in every local and central header.
    let mut i = 0;
    while i + 4 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => zip[i + 6] |= 1,
            b"PK\x01\x02" => zip[i + 8] |= 1,
            _ => {}
        }
        i += 1;
    }
    let err = digest_archive_bytes("e.zip", &zip, &limits()).unwrap_err();
    assert!(matches!(&err, TreeError::Encrypted { path } if path == "SKILL.md"), "{err}");
}

#[test]
fn duplicate_paths_are_rejected() {
    let tar = tar_bytes(&[("SKILL.md", b"# one"), ("./SKILL.md", b"# two")]);
    let err = digest_archive_bytes("d.tar", &tar, &limits()).unwrap_err();
    assert!(matches!(&err, TreeError::Duplicate { path } if path == "SKILL.md"), "{err}");
}

#[test]
fn archive_bombs_stop_at_the_limits() {
    let small = IntegrityLimits { max_entries: 50, max_total_bytes: 1 << 20 };
    // 64 MiB of zeros in a zip: a few dozen KiB compressed.
    let zeros = vec![0u8; 64 << 20];
    let zip = zip_bytes(&[("SKILL.md", b"# x"), ("zeros.bin", &zeros)]);
    assert!(zip.len() < 1 << 20);
    let started = std::time::Instant::now();
    let err = digest_archive_bytes("bomb.zip", &zip, &small).unwrap_err();
    assert!(matches!(err, TreeError::TooManyBytes { limit, .. } if limit == 1 << 20), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let tgz = gzip(&tar_bytes(&[("SKILL.md", b"# x"), ("zeros.bin", &zeros)]));
    let err = digest_archive_bytes("bomb.tgz", &tgz, &small).unwrap_err();
    assert!(matches!(err, TreeError::TooManyBytes { .. }), "{err}");
    drop(zeros);

    // Many entries: stopped at the entry limit, zip before reading any (central directory count).
    let names: Vec<String> = (0..60).map(|i| format!("f{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    for (name, bytes) in [("many.zip", zip_bytes(&files)), ("many.tar", tar_bytes(&files))] {
        let err = digest_archive_bytes(name, &bytes, &small).unwrap_err();
        assert!(matches!(err, TreeError::TooManyEntries { limit: 50, .. }), "{name}: {err}");
    }

    // A tar.gz whose gzip stream is endless padding: the decompressed-stream bound stops it.
    let padding = gzip(&vec![0u8; 8 << 20]);
    let tiny = IntegrityLimits { max_entries: 4, max_total_bytes: 1024 };
    let err = digest_archive_bytes("pad.tgz", &padding, &tiny);
    // All-zero blocks are end-of-archive markers: an empty, valid tar. Either outcome is bounded.
    assert!(err.is_ok() || matches!(err, Err(TreeError::TooManyBytes { .. })));
}

#[test]
fn data_the_hasher_skips_still_counts_against_the_stream_limit() {
    // A directory entry that declares 16 MiB of data: nothing is hashed, but the tar reader must
    // read past it, and that is bounded too.
    let mut header = tar::Header::new_gnu();
    header.set_path("dir/").unwrap();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_size(16 << 20);
    header.set_cksum();
    let mut tar = header.as_bytes().to_vec();
    tar.resize(512 + (16 << 20), 0);
    tar.extend_from_slice(&tar_bytes(&[("SKILL.md", b"# x")]));
    let tgz = gzip(&tar);
    let small = IntegrityLimits { max_entries: 4, max_total_bytes: 1 << 20 };
    let err = digest_archive_bytes("skip.tgz", &tgz, &small).unwrap_err();
    assert!(matches!(err, TreeError::TooManyBytes { .. }), "{err}");
    // With room for it, the same archive reads fine.
    let digest = digest_archive_bytes("skip.tgz", &tgz, &limits()).unwrap();
    assert_eq!(digest.manifest.files().len(), 1);
}

#[test]
fn a_large_sparse_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    let big = std::fs::File::create(dir.path().join("big.bin")).unwrap();
    big.set_len(2 << 30).unwrap();
    let limits = IntegrityLimits { max_total_bytes: 1 << 30, ..IntegrityLimits::default() };
    let started = std::time::Instant::now();
    let err = digest_path(dir.path(), &limits).unwrap_err();
    assert!(matches!(err, TreeError::TooManyBytes { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn files_larger_than_memory_buffers_are_streamed() {
    // 24 MiB sparse file: hashed in 64 KiB chunks; the digest matches a one-shot hash.
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &skill_files());
    std::fs::File::create(dir.path().join("zeros.bin")).unwrap().set_len(24 << 20).unwrap();
    let digest = digest_path(dir.path(), &limits()).unwrap();
    let zeros = digest.manifest.get("zeros.bin").unwrap();
    assert_eq!(zeros.size, 24 << 20);
    assert_eq!(zeros.sha256, sha256(&vec![0u8; 24 << 20]));
}

#[test]
fn truncated_and_garbage_archives_are_corrupt() {
    let tgz = gzip(&tar_bytes(&skill_files()));
    let err = digest_archive_bytes("cut.tgz", &tgz[..tgz.len() / 2], &limits()).unwrap_err();
    assert!(matches!(err, TreeError::CorruptArchive { kind: InputKind::TarGz, .. }), "{err}");
    assert!(err.is_integrity());

    let tar = tar_bytes(&[("SKILL.md", &[b'a'; 2000][..])]);
    let err = digest_archive_bytes("cut.tar", &tar[..1024], &limits()).unwrap_err();
    assert!(matches!(err, TreeError::CorruptArchive { .. }), "{err}");

    let zip = zip_bytes(&skill_files());
    let err = digest_archive_bytes("cut.zip", &zip[..zip.len() - 30], &limits()).unwrap_err();
    assert!(matches!(err, TreeError::CorruptArchive { kind: InputKind::Zip, .. }), "{err}");

    // A flipped byte in the deflated data: the CRC check fails.
    let mut zip = zip_bytes(&[("SKILL.md", SKILL_MD.as_bytes())]);
    zip[40] ^= 0xff;
    assert!(digest_archive_bytes("flip.zip", &zip, &limits()).is_err());

    let err = digest_archive_bytes("x.txt", b"just text", &limits()).unwrap_err();
    assert!(matches!(err, TreeError::NotASkill { .. }));
    assert!(!err.is_integrity());
}

#[test]
fn long_tar_names_round_trip() {
    let long = format!("{}/SKILL-notes.md", "d".repeat(150));
    let tar = tar_bytes(&[("SKILL.md", b"# x"), (long.as_str(), b"notes")]);
    let digest = digest_archive_bytes("long.tar", &tar, &limits()).unwrap();
    assert!(digest.manifest.get(&long).is_some());
}

#[test]
fn hints_come_from_origin_meta_and_front_matter() {
    let origin = br#"{"version":1,"registry":"https://clawhub.ai","slug":"weather-brief","ownerHandle":"acme","installedVersion":"1.0.1","installedAt":1,"fingerprint":"0b4a401d17338f062457c2cca263d62eec34c06094500fb8bcc3bbca7fea80d9"}"#;
    let hints = IdentityHints::from_files([
        (".clawhub/origin.json", Ok(&origin[..])),
        ("_meta.json", Ok(META.as_bytes())),
        ("SKILL.md", Ok(SKILL_MD.as_bytes())),
    ]);
    assert_eq!(hints.slug().map(|h| (h.value, h.source)), Some(("weather-brief", ".clawhub/origin.json")));
    assert_eq!(hints.version().map(|h| h.value), Some("1.0.1"));
    assert_eq!(hints.owner().map(|h| h.value), Some("acme"));
    assert_eq!(hints.registry(), Some("https://clawhub.ai"));
    assert!(hints.origin_fingerprint().is_some());

    // The archive shape of _meta.json; a front-matter name that is no slug is skipped.
    let archive_meta = br#"{"owner":"alonw0","slug":"molt-bar","displayName":"Molt Bar","latest":{"version":"2.1.0","publishedAt":1},"history":[]}"#;
    let hints = IdentityHints::from_files([
        ("_meta.json", Ok(&archive_meta[..])),
        ("SKILL.md", Ok(&b"---\nname: Molt Bar\nversion: 9\n---\n"[..])),
    ]);
    assert_eq!(hints.slug().map(|h| h.value), Some("molt-bar"));
    assert_eq!(hints.owner().map(|h| h.value), Some("alonw0"));
    assert_eq!(hints.version().map(|h| h.value), Some("2.1.0"));
    let hints = IdentityHints::from_files([("SKILL.md", Ok(&b"---\nname: Molt Bar\nversion: 1.5\n---\n"[..]))]);
    assert_eq!(hints.slug(), None);
    assert_eq!(hints.version().map(|h| h.value), Some("1.5"));
}

#[test]
fn corrupt_identity_files_are_errors_not_panics() {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (".clawhub/origin.json", b"{\"slug\": ".to_vec()),
        (".clawhub/origin.json", b"[1,2]".to_vec()),
        (".clawhub/origin.json", br#"{"slug": 7}"#.to_vec()),
        (".clawhub/origin.json", br#"{"fingerprint": "abc"}"#.to_vec()),
        (".clawhub/origin.json", nested.into_bytes()),
        ("_meta.json", b"\xff\xfe{".to_vec()),
        ("_meta.json", br#"{"latest": 3}"#.to_vec()),
        ("SKILL.md", b"---\nname: [unclosed\n---\n".to_vec()),
        ("SKILL.md", b"\xff\xfe---".to_vec()),
    ];
    for (path, content) in &cases {
        let hints = IdentityHints::from_files([(*path, Ok(content.as_slice()))]);
        let problems = hints.problems();
        assert_eq!(problems.len(), 1, "{path}: {content:?}");
        assert_eq!(problems[0].file, *path);
        assert_eq!(hints.slug(), None);
    }
    let too_big = IdentityHints::from_files([("_meta.json", Err(5 << 20))]);
    assert!(too_big.problems()[0].message.contains("too large"));
    // The legacy origin location is read when the current one is absent.
    let legacy = IdentityHints::from_files([(".clawdhub/origin.json", Ok(&br#"{"slug":"x"}"#[..]))]);
    assert_eq!(legacy.slug().map(|h| h.source), Some(".clawdhub/origin.json"));
}

#[test]
fn discover_finds_skills_like_scan() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("a/SKILL.md", b"# a"), ("b/c/SKILL.md", b"# c"), ("loose/readme", b"x")]);
    std::fs::write(dir.path().join("d.zip"), zip_bytes(&skill_files())).unwrap();
    let found = discover(dir.path()).unwrap();
    let names: Vec<(String, bool)> =
        found.iter().map(|t| (t.path.strip_prefix(dir.path()).unwrap().display().to_string(), t.is_archive)).collect();
    assert_eq!(names, [("a".to_owned(), false), ("b/c".to_owned(), false), ("d.zip".to_owned(), true)]);
    assert!(matches!(discover(&dir.path().join("nope")), Err(TreeError::NotFound { .. })));
}

// ---- verification ----

fn signed_dir_statement(digest: &SkillDigest, slug: &str, secret: &SecretKey) -> SignatureFile {
    let statement = SkillStatement {
        slug: slug.to_owned(),
        version: "1.0.0".to_owned(),
        archive_sha256: None,
        tree_digest: digest.tree_digest(),
        timestamp: 1_767_225_600,
        file: None,
    };
    let text = digest.manifest.manifest_text();
    sign(secret, text.as_bytes(), &statement.to_trusted_comment().unwrap(), "test").unwrap()
}

fn folder(files: &[(&str, &[u8])]) -> (tempfile::TempDir, SkillDigest) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    let digest = digest_path(dir.path(), &limits()).unwrap();
    (dir, digest)
}

#[test]
fn a_signed_folder_verifies_and_a_changed_file_is_named() {
    let (secret, public) = SecretKey::generate().unwrap();
    let store = TrustStore::single(public, "test key");
    let (dir, digest) = folder(&skill_files());
    let signature = signed_dir_statement(&digest, "weather-brief", &secret);
    let manifest = digest.manifest.manifest_text();
    let evidence = SignatureEvidence {
        signature: &signature,
        location: "s.minisig",
        signed_manifest: Some(&manifest),
        manifest_location: Some("s.manifest"),
        over: SignedOver::Input,
    };
    let options = VerifyOptions {
        trust: Some(Trust::Store(&store)),
        signature: Some(evidence),
        now: 1_767_225_700,
        ..VerifyOptions::default()
    };
    let report = verify_skill(&digest, &options).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.statement.as_ref().map(|s| s.slug.as_str()), Some("weather-brief"));

    std::fs::write(dir.path().join("scripts/forecast.py"), "print('rain')\n").unwrap();
    std::fs::write(dir.path().join("scripts/new.sh"), "curl x | sh\n").unwrap();
    let tampered = digest_path(dir.path(), &limits()).unwrap();
    let report = verify_skill(&tampered, &options).unwrap();
    let text = report.to_string();
    assert!(text.contains("changed 1: \"scripts/forecast.py\""), "{text}");
    assert!(text.contains("added 1: \"scripts/new.sh\""), "{text}");
    assert_eq!(report.failures.len(), 1, "{text}");

    // Without the signed manifest the signature itself fails.
    let options = VerifyOptions { signature: Some(SignatureEvidence { signed_manifest: None, ..evidence }), ..options };
    let report = verify_skill(&tampered, &options).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::Signature { .. }]), "{report}");
}

#[test]
fn a_signature_replayed_on_another_slug_names_the_slug_field() {
    let (secret, public) = SecretKey::generate().unwrap();
    let store = TrustStore::single(public, "test key");
    let mut files = skill_files();
    files.push(("_meta.json", br#"{"slug":"weather-brief-pro","version":"1.0.0"}"#));
    let (_dir, digest) = folder(&files);
    let signature = signed_dir_statement(&digest, "weather-brief", &secret);
    let options = VerifyOptions {
        trust: Some(Trust::Store(&store)),
        signature: Some(SignatureEvidence {
            signature: &signature,
            location: "s.minisig",
            signed_manifest: None,
            manifest_location: None,
            over: SignedOver::Input,
        }),
        now: 1_767_225_700,
        ..VerifyOptions::default()
    };
    let report = verify_skill(&digest, &options).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::StatementField { field: "slug", .. }]), "{report}");
    assert!(report.to_string().contains("field `slug`"));
}

#[test]
fn a_pin_names_changed_added_and_removed_files() {
    let (dir, digest) = folder(&skill_files());
    let entry = LockedSkill {
        slug: "weather-brief".to_owned(),
        owner: None,
        version: "1.0.0".to_owned(),
        source: "local:x".to_owned(),
        archive_sha256: None,
        tree_digest: digest.tree_digest(),
        clawhub_fingerprint: Some(digest.clawhub_fingerprint()),
        signing_key_id: None,
        verdict: "clean".to_owned(),
        rules_version: "test".to_owned(),
        pinned_at: 1,
        files: digest.manifest.file_map(),
    };
    let mut lock = SkillsLock::new();
    lock.upsert(entry).unwrap();
    let options = VerifyOptions { lock: Some(&lock), ..VerifyOptions::default() };
    assert!(verify_skill(&digest, &options).unwrap().is_ok());

    std::fs::remove_file(dir.path().join("scripts/forecast.py")).unwrap();
    std::fs::write(dir.path().join("SKILL.md"), SKILL_MD.replace("1.0.0", "2.0.0")).unwrap();
    let report = verify_skill(&digest_path(dir.path(), &limits()).unwrap(), &options).unwrap();
    let text = report.to_string();
    assert!(text.contains("changed 1: \"SKILL.md\""), "{text}");
    assert!(text.contains("removed 1: \"scripts/forecast.py\""), "{text}");
    // The front matter now says 2.0.0: the version field is named as well.
    assert!(text.contains("field `version` pins 1.0.0, but SKILL.md has 2.0.0"), "{text}");

    // A skill the lock does not know.
    let (_other, unknown) = folder(&[("SKILL.md", b"---\nname: other\n---\n")]);
    let report = verify_skill(&unknown, &options).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::NotPinned { .. }]), "{report}");
}

#[test]
fn origin_fingerprint_is_checked() {
    let mut files = skill_files();
    let (_dir, clean) = folder(&files);
    let origin = format!("{{\"slug\":\"weather-brief\",\"fingerprint\":\"{}\"}}", clean.clawhub_fingerprint());
    files.push((".clawhub/origin.json", origin.as_bytes()));
    let (dir, digest) = folder(&files);
    let report = verify_skill(&digest, &VerifyOptions::default()).unwrap();
    assert!(report.is_ok() && report.checks_run() == 1, "{report}");

    std::fs::write(dir.path().join("SKILL.md"), "# changed").unwrap();
    let report = verify_skill(&digest_path(dir.path(), &limits()).unwrap(), &VerifyOptions::default()).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::OriginFingerprint { .. }]), "{report}");

    std::fs::write(dir.path().join(".clawhub/origin.json"), "{not json").unwrap();
    let report = verify_skill(&digest_path(dir.path(), &limits()).unwrap(), &VerifyOptions::default()).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::OriginUnreadable(_)]), "{report}");
}

#[test]
fn input_kinds_keep_their_names() {
    let kinds = [InputKind::Directory, InputKind::Zip, InputKind::Tar, InputKind::TarGz];
    assert_eq!(kinds.map(InputKind::as_str), ["directory", "zip", "tar", "tar.gz"]);
    assert_eq!(kinds.map(|k| k.to_string()), ["directory", "zip", "tar", "tar.gz"]);
    assert_eq!(serde_json::to_value(InputKind::TarGz).ok(), Some(serde_json::json!("tar-gz")));
}

/// The mirror's signature an installed folder keeps: its trusted comment against one key, the
/// tree digest it binds against the folder, and what a re-pin after a local edit changes.
#[test]
fn an_installed_signature_is_checked_through_its_trusted_comment() {
    let (secret, public) = SecretKey::generate().unwrap();
    let (dir, digest) = folder(&skill_files());
    let statement = SkillStatement {
        slug: "weather-brief".into(),
        version: "1.0.0".into(),
        archive_sha256: Some(sha256(b"the archive")),
        tree_digest: digest.tree_digest(),
        timestamp: 1_767_225_600,
        file: Some("weather-brief-1.0.0.zip".into()),
    };
    // Made over the archive, which the folder no longer has.
    let signature = sign(&secret, &b"the archive"[..], &statement.to_trusted_comment().unwrap(), "mirror").unwrap();
    std::fs::create_dir_all(dir.path().join(".clawhub")).unwrap();
    std::fs::write(dir.path().join(INSTALLED_SIGNATURE_FILE), signature.to_file_string()).unwrap();
    let loaded = load_installed_signature(dir.path()).unwrap().unwrap();
    let evidence = SignatureEvidence {
        signature: &loaded,
        location: "x/.clawhub/skillscan.minisig",
        signed_manifest: None,
        manifest_location: None,
        over: SignedOver::InstalledArchive,
    };
    let options = VerifyOptions {
        trust: Some(Trust::Key(&public)),
        signature: Some(evidence),
        now: 1_767_225_700,
        ..VerifyOptions::default()
    };
    let report = verify_skill(&digest, &options).unwrap();
    assert!(report.is_ok() && report.signer.is_some(), "{report}");
    // As full signature over the folder's manifest it would not verify: it is the archive's.
    let as_input =
        VerifyOptions { signature: Some(SignatureEvidence { over: SignedOver::Input, ..evidence }), ..options };
    assert!(matches!(
        verify_skill(&digest, &as_input).unwrap().failures.as_slice(),
        [IntegrityFailure::Signature { .. }]
    ));
    // Another key.
    let (_, stranger) = SecretKey::generate().unwrap();
    let other = VerifyOptions { trust: Some(Trust::Key(&stranger)), ..options };
    assert!(matches!(verify_skill(&digest, &other).unwrap().failures.as_slice(), [IntegrityFailure::Signature { .. }]));

    // Edited: the signed tree no longer matches.
    std::fs::write(dir.path().join("scripts/forecast.py"), "print('rain')\n").unwrap();
    let edited = digest_path(dir.path(), &limits()).unwrap();
    let report = verify_skill(&edited, &options).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::StatementField { field: "tree", .. }]), "{report}");

    // Re-pinned: the pin covers the files; the signature is stale, and a single key requires one.
    let entry = LockedSkill {
        slug: "weather-brief".to_owned(),
        owner: None,
        version: "1.0.0".to_owned(),
        source: "local:x".to_owned(),
        archive_sha256: None,
        tree_digest: edited.tree_digest(),
        clawhub_fingerprint: None,
        signing_key_id: None,
        verdict: "clean".to_owned(),
        rules_version: "test".to_owned(),
        pinned_at: 1,
        files: edited.manifest.file_map(),
    };
    let mut lock = SkillsLock::new();
    lock.upsert(entry).unwrap();
    let pinned = VerifyOptions { lock: Some(&lock), ..options };
    let report = verify_skill(&edited, &pinned).unwrap();
    assert!(report.stale_signature && report.signer.is_none(), "{report}");
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::StaleSignature { .. }]), "{report}");
    let mut store = TrustStore::new(false);
    store.add_key(skillscan_signatures::TrustedKey::new("mirror", public)).unwrap();
    let lenient = VerifyOptions { trust: Some(Trust::Store(&store)), ..pinned };
    let report = verify_skill(&edited, &lenient).unwrap();
    assert!(report.is_ok() && report.stale_signature, "{report}");
    // Required by the caller even though the store is lenient.
    let required = VerifyOptions { require_signature: Some("the gate"), ..lenient };
    let report = verify_skill(&edited, &required).unwrap();
    assert!(report.to_string().contains("the gate requires one"), "{report}");
}

/// `origin.json`'s fingerprint records the install; a pin of the files as they are now outranks it.
#[test]
fn a_pin_of_the_current_files_outranks_a_stale_origin_fingerprint() {
    let mut files = skill_files();
    let (_dir, clean) = folder(&files);
    let origin = format!("{{\"slug\":\"weather-brief\",\"fingerprint\":\"{}\"}}", clean.clawhub_fingerprint());
    files.push((".clawhub/origin.json", origin.as_bytes()));
    let (dir, _) = folder(&files);
    std::fs::write(dir.path().join("SKILL.md"), SKILL_MD.replace("# Weather", "# Weather, reviewed")).unwrap();
    let edited = digest_path(dir.path(), &limits()).unwrap();
    let pin_of = |digest: &SkillDigest| LockedSkill {
        slug: "weather-brief".to_owned(),
        owner: None,
        version: "1.0.0".to_owned(),
        source: "local:x".to_owned(),
        archive_sha256: None,
        tree_digest: digest.tree_digest(),
        clawhub_fingerprint: None,
        signing_key_id: None,
        verdict: "clean".to_owned(),
        rules_version: "test".to_owned(),
        pinned_at: 1,
        files: digest.manifest.file_map(),
    };
    // Pinned as installed: the edit fails the pin and the fingerprint.
    let mut old = SkillsLock::new();
    old.upsert(pin_of(&clean)).unwrap();
    let report = verify_skill(&edited, &VerifyOptions { lock: Some(&old), ..VerifyOptions::default() }).unwrap();
    let kinds: Vec<String> =
        report.failures.iter().map(|f| format!("{f:?}").split([' ', '(']).next().unwrap_or("").to_owned()).collect();
    assert_eq!(kinds, ["Lock", "OriginFingerprint"], "{report}");
    // Re-pinned: a note, no failure.
    let mut new = SkillsLock::new();
    new.upsert(pin_of(&edited)).unwrap();
    let report = verify_skill(&edited, &VerifyOptions { lock: Some(&new), ..VerifyOptions::default() }).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.notes.iter().any(|n| n.contains("the pin is the authority")), "{report}");
    // Without any pin the fingerprint still decides.
    let report = verify_skill(&edited, &VerifyOptions::default()).unwrap();
    assert!(matches!(report.failures.as_slice(), [IntegrityFailure::OriginFingerprint { .. }]), "{report}");
}
