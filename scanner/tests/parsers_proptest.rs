//! Property tests of the parsers between a downloaded skill and its digest: zip and tar(.gz)
//! readers, the install metadata they look at (`.clawhub/origin.json`, `_meta.json`) and
//! `.clawhub/lock.json`. Whatever the bytes, they return a result, never panic, and the same
//! files give the same tree digest in every container.

mod common;

use common::{tar_gz_of, zip_of};

use proptest::prelude::*;
use skillscan::clawhub::state::LockJson;
use skillscan::guard::integrity::{IntegrityLimits, digest_archive_bytes, digest_dir};

fn limits() -> IntegrityLimits {
    IntegrityLimits::default()
}

/// A small skill: relative paths of one to three safe segments, and their contents.
fn skill_files() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let segment = "[a-z][a-z0-9_-]{0,7}";
    let path = prop::collection::vec(segment, 1..=3).prop_map(|parts| parts.join("/"));
    prop::collection::btree_map(path, prop::collection::vec(any::<u8>(), 0..200), 1..6).prop_map(|files| {
        let mut files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
        // A path must not also be a folder of another path.
        let all: Vec<String> = files.iter().map(|(p, _)| p.clone()).collect();
        files.retain(|(p, _)| !all.iter().any(|q| q.starts_with(&format!("{p}/"))));
        files.push(("SKILL.md".to_owned(), b"---\nname: prop\n---\n# Prop\n".to_vec()));
        files
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_an_error_or_a_digest(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = digest_archive_bytes("random", &bytes, &limits());
    }

    #[test]
    fn corrupted_archives_are_an_error_or_a_digest(
        files in skill_files(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        for mut bytes in [zip_of(&files), tar_gz_of(&files)] {
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= value | 1;
            }
            let _ = digest_archive_bytes("flipped", &bytes, &limits());
            let keep = cut.index(bytes.len());
            let _ = digest_archive_bytes("truncated", &bytes[..keep], &limits());
        }
    }

    #[test]
    fn the_same_files_give_the_same_tree_digest_in_a_folder_a_zip_and_a_tar_gz(files in skill_files()) {
        let from_zip = digest_archive_bytes("s.zip", &zip_of(&files), &limits()).unwrap().tree_digest();
        let from_tar = digest_archive_bytes("s.tgz", &tar_gz_of(&files), &limits()).unwrap().tree_digest();
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in &files {
            let target = dir.path().join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, content).unwrap();
        }
        let from_dir = digest_dir(dir.path(), &limits()).unwrap().tree_digest();
        prop_assert_eq!(&from_zip, &from_tar);
        prop_assert_eq!(&from_zip, &from_dir);
    }

    #[test]
    fn install_metadata_of_any_shape_never_breaks_the_digest(
        origin in "\\PC{0,300}",
        meta in prop_oneof![Just("{}".to_owned()), "\\PC{0,300}", Just("{\"slug\": [1, {\"a\": null}]}".to_owned())],
    ) {
        let files = vec![
            ("SKILL.md".to_owned(), b"# x\n".to_vec()),
            (".clawhub/origin.json".to_owned(), origin.into_bytes()),
            ("_meta.json".to_owned(), meta.into_bytes()),
        ];
        let digest = digest_archive_bytes("meta.zip", &zip_of(&files), &limits());
        // Install metadata is excluded from the tree digest, whatever it holds.
        prop_assert!(digest.is_ok());
    }

    #[test]
    fn any_lock_text_parses_or_is_an_error(text in "\\PC{0,400}") {
        let _ = LockJson::parse("lock.json", &text);
    }

    #[test]
    fn recorded_installs_survive_a_write_and_a_read(
        installs in prop::collection::btree_map("[a-z][a-z0-9-]{0,20}", ("[0-9]\\.[0-9]\\.[0-9]", any::<u32>(), proptest::option::of("[a-z]{1,10}")), 0..6),
    ) {
        let mut lock = LockJson::default();
        for (slug, (version, at, owner)) in &installs {
            lock.record(slug, version, u64::from(*at), owner.as_deref());
        }
        let reread = LockJson::parse("lock.json", &lock.to_file_string()).unwrap();
        let entries = reread.entries().unwrap();
        prop_assert_eq!(entries.len(), installs.len());
        for entry in entries {
            let (version, at, owner) = &installs[&entry.key];
            prop_assert_eq!(entry.version.as_deref(), Some(version.as_str()));
            prop_assert_eq!(entry.installed_at, Some(u64::from(*at)));
            prop_assert_eq!(entry.owner_handle.as_deref(), owner.as_deref());
        }
    }
}
