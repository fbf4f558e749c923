//! Property tests for every parser: arbitrary and mutated inputs never panic, and generated
//! valid values survive a write/parse round trip unchanged (and, for the canonical formats,
//! byte for byte).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use skillscan_signatures::digest::{
    FileDigest, Sha256Digest, TreeManifest, is_install_metadata, locale_compare, normalize_path,
};
use skillscan_signatures::identity::{Owner, SkillPath, Slug, Version, is_manifest_name};
use skillscan_signatures::lock::{LockedSkill, SkillsLock};
use skillscan_signatures::minisign::{KdfParams, KeyId, PublicKey, SecretKey, SignatureAlgorithm, SignatureFile};
use skillscan_signatures::statement::SkillStatement;
use skillscan_signatures::trust::{TrustStore, TrustedKey, format_rfc3339, parse_rfc3339};

fn digest() -> impl Strategy<Value = Sha256Digest> {
    any::<[u8; 32]>().prop_map(Sha256Digest)
}

fn key_id() -> impl Strategy<Value = KeyId> {
    any::<[u8; 8]>().prop_map(KeyId)
}

fn public_key() -> impl Strategy<Value = PublicKey> {
    (key_id(), any::<[u8; 32]>())
        .prop_map(|(key_id, seed)| PublicKey { key_id, ed25519: SigningKey::from_bytes(&seed).verifying_key() })
}

fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,30}"
}

fn version() -> impl Strategy<Value = String> {
    "[0-9A-Za-z][0-9A-Za-z.+_-]{0,20}"
}

fn owner() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,20}"
}

/// One line of printable text (no control characters at all).
fn text_line() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{1,40}"
}

/// A comment as minisign files carry it: may be empty, may contain tabs.
fn comment() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{0,30}(\t[^\\p{Cc}]{0,10})?"
}

/// Valid, normalised, non-metadata relative paths.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9 ._\"=ü🌦-]{1,10}", 1..4)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("must be a normalised non-metadata path", |p| {
            normalize_path(p).is_ok_and(|n| n == *p) && !is_install_metadata(p)
        })
}

/// Takes a valid text and damages it: deletes, duplicates or replaces a range, or inserts
/// an arbitrary string. Mutants of valid files reach deeper into a parser than random text.
fn mutated(valid: String) -> impl Strategy<Value = String> {
    let len = valid.chars().count().max(1);
    (0..len, 0..len, 0u8..4, "(.|\n|\r|\t){0,8}").prop_map(move |(a, b, op, insert)| {
        let chars: Vec<char> = valid.chars().collect();
        let (start, end) = (a.min(b), a.max(b).min(chars.len()));
        let head: String = chars.iter().take(start).collect();
        let middle: String = chars.iter().skip(start).take(end - start).collect();
        let tail: String = chars.iter().skip(end).collect();
        match op {
            0 => format!("{head}{tail}"),
            1 => format!("{head}{middle}{middle}{tail}"),
            2 => format!("{head}{insert}{tail}"),
            _ => format!("{head}{insert}{middle}{tail}"),
        }
    })
}

fn statement() -> impl Strategy<Value = SkillStatement> {
    (slug(), version(), prop::option::of(digest()), digest(), any::<u64>(), prop::option::of(text_line())).prop_map(
        |(slug, version, archive_sha256, tree_digest, timestamp, file)| SkillStatement {
            slug,
            version,
            archive_sha256,
            tree_digest,
            timestamp,
            file,
        },
    )
}

fn signature_file() -> impl Strategy<Value = SignatureFile> {
    (
        comment(),
        prop_oneof![Just(SignatureAlgorithm::Prehashed), Just(SignatureAlgorithm::Legacy)],
        key_id(),
        prop::collection::vec(any::<u8>(), 64),
        comment(),
        prop::collection::vec(any::<u8>(), 64),
    )
        .prop_map(|(untrusted_comment, algorithm, key_id, signature, trusted_comment, global)| SignatureFile {
            untrusted_comment,
            algorithm,
            key_id,
            signature: signature.try_into().unwrap_or([0; 64]),
            trusted_comment,
            global_signature: global.try_into().unwrap_or([0; 64]),
        })
}

/// Unix seconds that RFC 3339 can write (years up to 9999).
fn instant() -> impl Strategy<Value = u64> {
    0u64..=253_402_300_799
}

fn trusted_key() -> impl Strategy<Value = TrustedKey> {
    (text_line(), public_key(), prop::option::of(instant()), prop::option::of(instant())).prop_map(
        |(name, public_key, a, b)| {
            // Keep the window non-empty.
            let (not_before, not_after) = match (a, b) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            TrustedKey { name, public_key, not_before, not_after }
        },
    )
}

fn trust_store() -> impl Strategy<Value = TrustStore> {
    (any::<bool>(), prop::collection::vec(trusted_key(), 0..4), prop::collection::btree_set(key_id(), 0..4)).prop_map(
        |(require, keys, revoked)| {
            let mut store = TrustStore::new(require);
            for key in keys {
                // Colliding random key ids are astronomically unlikely; skip them if they happen.
                let _ = store.add_key(key);
            }
            for id in revoked {
                store.revoke(id);
            }
            store
        },
    )
}

fn locked_skill() -> impl Strategy<Value = LockedSkill> {
    (
        (
            slug(),
            prop::option::of(owner()),
            version(),
            prop_oneof!["https?://[a-z0-9.:-]{1,20}(/[a-z0-9/]{0,10})?", "local:[^\\p{Cc}]{1,20}"],
        ),
        (prop::option::of(digest()), prop::option::of(digest()), prop::option::of(key_id())),
        ("[a-z_-]{1,12}", text_line(), 0u64..=i64::MAX as u64),
        prop::collection::btree_map(path(), digest(), 0..5),
        digest(),
    )
        .prop_map(
            |(
                (slug, owner, version, source),
                (archive_sha256, clawhub_fingerprint, signing_key_id),
                (verdict, rules_version, pinned_at),
                files,
                digest_without_files,
            )| {
                let tree_digest = if files.is_empty() {
                    digest_without_files
                } else {
                    let manifest = TreeManifest::new(files.iter().map(|(path, sha256)| FileDigest {
                        path: path.clone(),
                        sha256: *sha256,
                        size: 0,
                    }));
                    manifest.map(|m| m.tree_digest()).unwrap_or(digest_without_files)
                };
                LockedSkill {
                    slug,
                    owner,
                    version,
                    source,
                    archive_sha256,
                    tree_digest,
                    clawhub_fingerprint,
                    signing_key_id,
                    verdict,
                    rules_version,
                    pinned_at,
                    files,
                }
            },
        )
}

fn skills_lock() -> impl Strategy<Value = SkillsLock> {
    prop::collection::vec(locked_skill(), 0..4).prop_map(|skills| {
        let mut lock = SkillsLock::new();
        for skill in skills {
            let _ = lock.upsert(skill);
        }
        lock
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // ---------------------------------------------------------------- arbitrary input

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "(.|\n|\r|\t){0,300}") {
        let _ = PublicKey::parse(&text);
        let _ = SecretKey::parse(&text, Some(b"pw"));
        let _ = SignatureFile::parse(&text);
        let _ = SkillStatement::parse(&text);
        let _ = TrustStore::parse(&text);
        let _ = SkillsLock::parse(&text);
        let _ = normalize_path(&text);
        let _ = text.parse::<Sha256Digest>();
        let _ = text.parse::<KeyId>();
    }

    #[test]
    fn key_and_signature_parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let line = BASE64.encode(&bytes);
        let _ = PublicKey::parse(&line);
        let _ = PublicKey::parse(&format!("untrusted comment: x\n{line}\n"));
        let _ = SignatureFile::parse(&format!("untrusted comment: x\n{line}\ntrusted comment: y\n{line}\n"));
    }

    /// Secret keys of the right length with random fields: exercises every check after
    /// decoding. The KDF stays off or cheap so a random `opslimit` cannot cost minutes.
    #[test]
    fn secret_key_parser_never_panics_on_structured_garbage(
        mut bytes in prop::collection::vec(any::<u8>(), 158),
        kdf in prop_oneof![Just(*b"\0\0"), Just(*b"Sc"), any::<[u8; 2]>()],
        ops in 0u64..40_000,
        mem in 0u64..2_000_000,
        keep_header in any::<bool>(),
    ) {
        if keep_header {
            bytes.splice(0..6, [b'E', b'd', kdf[0], kdf[1], b'B', b'2']);
            bytes.splice(38..54, ops.to_le_bytes().into_iter().chain(mem.to_le_bytes()));
        }
        let _ = SecretKey::parse(&format!("untrusted comment: x\n{}\n", BASE64.encode(&bytes)), Some(b"pw"));
    }

    // ---------------------------------------------------------------- mutated valid input

    #[test]
    fn mutated_public_keys_never_panic(text in public_key().prop_flat_map(|k| mutated(k.to_file_string("c")))) {
        let _ = PublicKey::parse(&text);
    }

    #[test]
    fn mutated_signatures_never_panic(text in signature_file().prop_flat_map(|s| mutated(s.to_file_string()))) {
        let _ = SignatureFile::parse(&text);
    }

    #[test]
    fn mutated_statements_never_panic(
        text in statement().prop_flat_map(|s| mutated(s.to_trusted_comment().unwrap_or_default()))
    ) {
        let _ = SkillStatement::parse(&text);
    }

    #[test]
    fn mutated_trust_stores_never_panic(text in trust_store().prop_flat_map(|s| mutated(s.to_toml_string()))) {
        let _ = TrustStore::parse(&text);
    }

    #[test]
    fn mutated_locks_never_panic(text in skills_lock().prop_flat_map(|l| mutated(l.to_toml_string()))) {
        let _ = SkillsLock::parse(&text);
    }

    // ---------------------------------------------------------------- round trips

    #[test]
    fn digests_round_trip(d in digest()) {
        prop_assert_eq!(d.to_string().parse::<Sha256Digest>(), Ok(d));
        prop_assert_eq!(format!("sha256:{d}").parse::<Sha256Digest>(), Ok(d));
    }

    #[test]
    fn key_ids_round_trip(id in key_id()) {
        prop_assert_eq!(id.to_string().parse::<KeyId>(), Ok(id));
    }

    #[test]
    fn public_keys_round_trip(key in public_key(), comment in comment()) {
        prop_assert_eq!(PublicKey::parse(&key.to_file_string(&comment)), Ok(key));
        prop_assert_eq!(PublicKey::parse(&key.to_base64()), Ok(key));
        let crlf = key.to_file_string(&comment).replace('\n', "\r\n");
        prop_assert_eq!(PublicKey::parse(&crlf), Ok(key));
    }

    #[test]
    fn signature_files_round_trip(sig in signature_file()) {
        let text = sig.to_file_string();
        let parsed = SignatureFile::parse(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&sig));
        prop_assert_eq!(parsed.map(|s| s.to_file_string()), Ok(text));
    }

    #[test]
    fn statements_round_trip(s in statement()) {
        let text = s.to_trusted_comment();
        prop_assert!(text.is_ok());
        let text = text.unwrap_or_default();
        prop_assert!(!text.contains(['\n', '\r']));
        prop_assert_eq!(SkillStatement::parse(&text), Ok(s));
    }

    #[test]
    fn trust_stores_round_trip(store in trust_store()) {
        let text = store.to_toml_string();
        let parsed = TrustStore::parse(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), text);
        let parsed = parsed.unwrap_or_else(|_| TrustStore::new(false));
        prop_assert_eq!(parsed.to_toml_string(), text);
        prop_assert_eq!(parsed, store);
    }

    #[test]
    fn locks_round_trip_byte_for_byte(lock in skills_lock()) {
        let text = lock.to_toml_string();
        let parsed = SkillsLock::parse(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&lock), "{}", text);
        prop_assert_eq!(parsed.map(|l| l.to_toml_string()), Ok(text));
    }

    // ---------------------------------------------------------------- invariants

    #[test]
    fn locale_compare_is_a_total_order(mut items in prop::collection::vec("[ -~é🌦]{0,6}", 0..12)) {
        items.sort_by(|a, b| locale_compare(a, b));
        for pair in items.windows(2) {
            prop_assert_ne!(locale_compare(&pair[0], &pair[1]), std::cmp::Ordering::Greater);
            prop_assert_eq!(locale_compare(&pair[0], &pair[1]), locale_compare(&pair[1], &pair[0]).reverse());
        }
        for item in &items {
            prop_assert_eq!(locale_compare(item, item), std::cmp::Ordering::Equal);
        }
    }

    #[test]
    fn tree_digest_ignores_input_order(files in prop::collection::btree_map(path(), digest(), 0..8), seed in any::<u64>()) {
        let list: Vec<FileDigest> =
            files.iter().map(|(path, sha256)| FileDigest { path: path.clone(), sha256: *sha256, size: 1 }).collect();
        let mut shuffled = list.clone();
        // A deterministic rotation is enough to change the order.
        let len = shuffled.len().max(1);
        shuffled.rotate_left(usize::try_from(seed % len as u64).unwrap_or(0));
        shuffled.reverse();
        let a = TreeManifest::new(list).map(|m| m.tree_digest());
        let b = TreeManifest::new(shuffled).map(|m| m.tree_digest());
        prop_assert_eq!(a, b);
    }

    /// Every instant the trust store can write (1970 to the end of 9999) reads back unchanged.
    #[test]
    fn rfc3339_instants_round_trip(unix in 0u64..=253_402_300_799) {
        let text = format_rfc3339(unix);
        prop_assert_eq!(text.len(), 20);
        prop_assert_eq!(parse_rfc3339(&text), Ok(unix));
    }

    // ---------------------------------------------------------------- identity

    #[test]
    fn identity_parsers_never_panic(text in "(.|\n|\r|\t){0,300}") {
        let _ = text.parse::<Slug>();
        let _ = Slug::parse_registry(&text);
        let _ = text.parse::<Version>();
        let _ = text.parse::<Owner>();
        let _ = Owner::from_handle(&text);
        let _ = text.parse::<SkillPath>();
        let _ = SkillPath::normalize(&text);
        let _ = is_manifest_name(&text);
    }

    /// Every string the documented patterns allow parses, prints back unchanged, and survives
    /// a serde (TOML) round trip.
    #[test]
    fn names_round_trip(
        slug in "[a-z0-9][a-z0-9._-]{0,127}",
        version in "[0-9A-Za-z][0-9A-Za-z.+_-]{0,127}",
        owner in "[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
        path in path(),
    ) {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Names {
            slug: Slug,
            version: Version,
            owner: Owner,
            path: SkillPath,
        }
        let names = Names {
            slug: slug.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?,
            version: version.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?,
            owner: owner.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?,
            path: path.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?,
        };
        prop_assert_eq!(names.slug.to_string(), slug);
        prop_assert_eq!(names.version.to_string(), version);
        prop_assert_eq!(names.owner.to_string(), owner);
        prop_assert_eq!(names.path.to_string(), path);
        let text = toml::to_string(&names).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(toml::from_str::<Names>(&text).ok(), Some(names));
    }

    /// The slug parsers accept exactly their documented patterns, and a registry slug is
    /// always a slug.
    #[test]
    fn slug_rules_are_their_patterns(text in "[a-z0-9._A-Z/ -]{0,130}") {
        let first_ok = text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        let base = first_ok
            && text.len() <= 128
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
        let registry = base && text.len() <= 96 && !text.contains(['.', '_']);
        prop_assert_eq!(text.parse::<Slug>().is_ok(), base);
        prop_assert_eq!(Slug::parse_registry(&text).is_ok(), registry);
        prop_assert_eq!(text.parse::<Slug>().is_ok_and(|s| s.is_registry_slug()), registry);
    }

    /// Handles read the ClawHub way are lowercase owners, and `@` changes nothing else.
    #[test]
    fn handles_are_lowercase_owners(owner in "[A-Za-z0-9][A-Za-z0-9._-]{0,40}") {
        let plain = Owner::from_handle(&owner).map(Owner::into_string);
        prop_assert_eq!(&plain, &Ok(owner.to_ascii_lowercase()));
        prop_assert_eq!(Owner::from_handle(&format!("@{owner}")).map(Owner::into_string), plain);
    }

    /// Strict parsing and normalising agree: a canonical path is its own normal form, a
    /// normal form is canonical, and `normalize_path` is `SkillPath::normalize`.
    #[test]
    fn path_parsers_agree(p in "(\\./)?[a-zA-Z0-9._/\\\\: -]{0,20}") {
        let normalized = SkillPath::normalize(&p);
        prop_assert_eq!(normalize_path(&p), normalized.clone().map(SkillPath::into_string));
        if let Ok(strict) = p.parse::<SkillPath>() {
            prop_assert_eq!(Ok(strict.clone()), normalized.clone());
            prop_assert_eq!(strict.as_str(), p.as_str());
        }
        if let Ok(normal) = normalized {
            prop_assert_eq!(normal.as_str().parse::<SkillPath>(), Ok(normal.clone()));
            prop_assert!(!normal.as_str().starts_with("./"));
        }
    }

    #[test]
    fn normalized_paths_are_fixed_points(p in "(\\./)?[a-zA-Z0-9._/ -]{0,20}") {
        if let Ok(normalized) = normalize_path(&p) {
            prop_assert_eq!(normalize_path(&normalized), Ok(normalized.clone()));
            prop_assert!(!normalized.starts_with('/'));
            prop_assert!(!normalized.split('/').any(|s| s.is_empty() || s == "." || s == ".."));
        }
    }
}

/// Secret keys round-trip through both file forms. Not a proptest: keys come from the OS
/// generator, and encryption costs a scrypt run per case.
#[test]
fn secret_keys_round_trip() {
    for _ in 0..8 {
        let (secret, public) = SecretKey::generate().expect("generate");
        let plain = secret.to_file_string(None, KdfParams::default()).expect("write");
        assert_eq!(SecretKey::parse(&plain, None).map(|s| s.public_key()), Ok(public));
        let encrypted = secret.to_file_string(Some(b"pw"), KdfParams::insecure_for_tests()).expect("encrypt");
        assert_eq!(SecretKey::parse(&encrypted, Some(b"pw")).map(|s| s.public_key()), Ok(public));
    }
}

/// A lock with two entries for one slug but different owners is fine; same owner is not.
#[test]
fn lock_duplicates_depend_on_owner() {
    let entry = |owner: Option<&str>| {
        format!(
            "\n[[skill]]\nslug = \"s\"\n{}version = \"1\"\nsource = \"local:x\"\ntree_digest = \"{}\"\nverdict = \"clean\"\nrules_version = \"r\"\npinned_at = 1\n",
            owner.map(|o| format!("owner = \"{o}\"\n")).unwrap_or_default(),
            "0".repeat(64)
        )
    };
    let two_owners = format!("version = 1\n{}{}", entry(None), entry(Some("acme")));
    assert!(SkillsLock::parse(&two_owners).is_ok());
    let same = format!("version = 1\n{}{}", entry(Some("acme")), entry(Some("acme")));
    assert!(SkillsLock::parse(&same).is_err());
}
