use super::*;

// Files produced by the real `minisign` 0.11 binary (`minisign -G -W`, then
// `minisign -S -t "tc here"` and `minisign -S -l -t "legacy tc"` over "hello\n").
const MINISIGN_PUB: &str = "untrusted comment: minisign public key 8F46F8CD08D782CD\n\
RWTNgtcIzfhGj4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOv\n";
const MINISIGN_SECRET_UNENCRYPTED: &str = "untrusted comment: minisign encrypted secret key\n\
RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAzYLXCM34Ro/6AAfX/nQWV0pUiT/9rtN4ILqKAkX/ojiUyyz4VGbiD4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOvAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
const MINISIGN_SIG: &str = "untrusted comment: signature from minisign secret key\n\
RUTNgtcIzfhGj0pCLKP67IZVCumwJQGQ6SxzDVz33ve1sihRrMWHuN8NRMHgSdaJHkiAv1Q506lDeB2UGIlsZ7RPHNJO0aVeww0=\n\
trusted comment: tc here\n\
hU+w90L//cj4Ok3CO+7OtWiOniSixiu4jEKq2rHzbLqFlvkQvkvNrZ9z07OMtavsyuuF3QzWzHtRQ/AxhMOqBg==\n";
const MINISIGN_LEGACY_SIG: &str = "untrusted comment: legacy sig\n\
RWTNgtcIzfhGj8LRAmttkviRiY+zO+nXhGsYFYSSdmUMsW0wxrCJXJLianlkpAaF+Sm5W/lUPiBICkboROcSn8uL7kvDME/aXgs=\n\
trusted comment: legacy tc\n\
8HFtuZNKFW5RwX79gQl0TRm9UEjHAaeHrdsqNu57tHaLsu04bVcL23E0DnxUMlMUvAg+2UC+kfeXDXIuVqDvAA==\n";
const MESSAGE: &[u8] = b"hello\n";

fn public() -> PublicKey {
    PublicKey::parse(MINISIGN_PUB).unwrap_or_else(|e| panic!("{e}"))
}

fn signature_file(text: &str) -> SignatureFile {
    SignatureFile::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn fresh_pair() -> (SecretKey, PublicKey) {
    SecretKey::generate().unwrap_or_else(|e| panic!("{e}"))
}

fn signed(secret: &SecretKey, message: &[u8], trusted: &str) -> SignatureFile {
    sign(secret, message, trusted, "test signature").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn key_id_displays_like_minisign() {
    let key = public();
    assert_eq!(key.key_id.to_string(), "8F46F8CD08D782CD");
    assert_eq!(key.default_comment(), "minisign public key 8F46F8CD08D782CD");
    assert_eq!(format!("{:?}", key.key_id), "KeyId(8F46F8CD08D782CD)");
    // PRIX64 prints no leading zeros.
    assert_eq!(KeyId([0x01, 0, 0, 0, 0, 0, 0, 0]).to_string(), "1");
    assert_eq!(KeyId([0, 0, 0, 0, 0, 0, 0, 0xAB]).to_string(), "AB00000000000000");
    for text in ["8F46F8CD08D782CD", "8f46f8cd08d782cd", "1", "0"] {
        let parsed: Result<KeyId, _> = text.parse();
        assert_eq!(parsed.map(|k| k.to_string()).ok(), Some(text.to_uppercase()));
    }
    for bad in ["", "+1", "G", "8F46F8CD08D782CD0", " 1", "0x1"] {
        assert!(bad.parse::<KeyId>().is_err(), "{bad}");
    }
}

#[test]
fn public_key_shapes() {
    let key = public();
    assert_eq!(key.to_base64(), "RWTNgtcIzfhGj4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOv");
    assert_eq!(key.to_file_string("minisign public key 8F46F8CD08D782CD"), MINISIGN_PUB);
    let crlf = MINISIGN_PUB.replace('\n', "\r\n");
    assert_eq!(PublicKey::parse(&crlf).ok(), Some(key));
    assert_eq!(PublicKey::parse(MINISIGN_PUB.trim_end()).ok(), Some(key));
    assert_eq!(PublicKey::parse("RWTNgtcIzfhGj4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOv").ok(), Some(key));
    assert_eq!(PublicKey::parse(" RWTNgtcIzfhGj4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOv \n").ok(), Some(key));
    // Control characters in the comment cannot break the file.
    let text = key.to_file_string("two\nlines");
    assert_eq!(PublicKey::parse(&text).ok(), Some(key));
}

#[test]
fn public_key_errors() {
    let key_line = "RWTNgtcIzfhGj4i8RUGf4xpyS6uPO+8pigxjKBVil0Msk06tvjQZXKOv";
    type Check = fn(&KeyError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        (String::new(), |e| matches!(e, KeyError::Truncated { found: 0, .. })),
        ("untrusted comment: x\n".into(), |e| matches!(e, KeyError::LineCount { found: 1, .. })),
        (format!("comment\n{key_line}\n"), |e| matches!(e, KeyError::MissingComment { .. })),
        (format!("untrusted comment: x\n{key_line}\n\n"), |e| matches!(e, KeyError::LineCount { found: 3, .. })),
        (format!("untrusted comment: x\n{key_line}\nextra\n"), |e| matches!(e, KeyError::LineCount { found: 3, .. })),
        ("untrusted comment: x\nnot base64!\n".into(), |e| matches!(e, KeyError::Base64 { .. })),
        (format!("untrusted comment: x\n{}\n", &key_line[..52]), |e| {
            matches!(e, KeyError::Truncated { found: 39, .. })
        }),
        (format!("untrusted comment: x\n{key_line}AAAA\n"), |e| matches!(e, KeyError::TrailingData { found: 45, .. })),
        // "Ex" instead of "Ed": RWT… → RXj… would change bytes; build it explicitly below.
    ];
    for (text, check) in cases {
        let err = PublicKey::parse(&text).err();
        assert!(err.as_ref().is_some_and(check), "{text:?} gave {err:?}");
    }
    let mut bytes = BASE64.decode(key_line).unwrap_or_default();
    if let Some(b) = bytes.get_mut(1) {
        *b = b'x';
    }
    let err = PublicKey::parse(&BASE64.encode(&bytes)).err();
    assert!(matches!(err, Some(KeyError::UnsupportedAlgorithm { ref found, .. }) if found == "Ex"), "{err:?}");
    // The identity point has small order: a weak key.
    let mut weak = b"Ed12345678".to_vec();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    weak.extend_from_slice(&identity);
    assert_eq!(PublicKey::parse(&BASE64.encode(&weak)).err(), Some(KeyError::WeakPublicKey));
}

#[test]
fn verifies_signatures_made_by_minisign() {
    let key = public();
    let prehashed = signature_file(MINISIGN_SIG);
    assert_eq!(prehashed.algorithm, SignatureAlgorithm::Prehashed);
    assert_eq!(prehashed.trusted_comment, "tc here");
    assert!(verify(&key, MESSAGE, &prehashed).is_ok());
    let legacy = signature_file(MINISIGN_LEGACY_SIG);
    assert_eq!(legacy.algorithm, SignatureAlgorithm::Legacy);
    assert_eq!(legacy.untrusted_comment, "legacy sig");
    assert!(verify(&key, MESSAGE, &legacy).is_ok());
    assert!(matches!(verify(&key, &b"hello"[..], &legacy), Err(VerifyError::InvalidSignature)));
}

#[test]
fn signature_file_round_trips_byte_for_byte() {
    for text in [MINISIGN_SIG, MINISIGN_LEGACY_SIG] {
        assert_eq!(signature_file(text).to_file_string(), text);
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(signature_file(&crlf).to_file_string(), text);
        assert_eq!(signature_file(text.trim_end_matches('\n')).to_file_string(), text);
    }
}

#[test]
fn signature_file_errors() {
    let lines: Vec<&str> = MINISIGN_SIG.lines().collect();
    let join = |l: &[&str]| l.join("\n") + "\n";
    let mut missing_untrusted = lines.clone();
    missing_untrusted[0] = "signature from minisign secret key";
    let mut missing_trusted = lines.clone();
    missing_trusted[2] = "tc here";
    let mut bad_base64 = lines.clone();
    bad_base64[1] = "RUT*";
    let mut short = lines.clone();
    short[1] = "RUTNgtcIzfhGj0pC";
    let mut short_global = lines.clone();
    short_global[3] = "hU+w90L//cj4";
    let mut bad_global = lines.clone();
    bad_global[3] = "hU+w90L//cj4Ok3CO+7OtWiOniSixiu4jEKq2rHzbLqFlvkQvkvNrZ9z07OMtavsyuuF3QzWzHtRQ/AxhMOqBg=";
    let cr_in_comment = MINISIGN_SIG.replace("tc here", "tc\rhere");
    let nul_in_comment = MINISIGN_SIG.replace("tc here", "tc\0here");
    let cases: Vec<(String, SignatureParseError)> = vec![
        (String::new(), SignatureParseError::LineCount { found: 1 }),
        (join(&lines[..3]), SignatureParseError::LineCount { found: 3 }),
        (format!("{MINISIGN_SIG}\n"), SignatureParseError::LineCount { found: 5 }),
        (format!("{MINISIGN_SIG}garbage"), SignatureParseError::LineCount { found: 5 }),
        (join(&missing_untrusted), SignatureParseError::MissingUntrustedComment),
        (join(&missing_trusted), SignatureParseError::MissingTrustedComment),
        (join(&bad_base64), SignatureParseError::Base64 { line: 2 }),
        (join(&short), SignatureParseError::Length { line: 2, expected: 74, found: 12 }),
        (join(&short_global), SignatureParseError::Length { line: 4, expected: 64, found: 9 }),
        (join(&bad_global), SignatureParseError::Base64 { line: 4 }),
        (cr_in_comment, SignatureParseError::ControlCharacter { line: 3 }),
        (nul_in_comment, SignatureParseError::ControlCharacter { line: 3 }),
    ];
    for (text, expected) in cases {
        assert_eq!(SignatureFile::parse(&text).err(), Some(expected), "{text:?}");
    }
    // Algorithm "EX": re-encode line 2 with other algorithm bytes.
    let mut decoded = BASE64.decode(lines[1]).unwrap_or_default();
    if let Some(b) = decoded.get_mut(1) {
        *b = b'X';
    }
    let mut wrong_alg = lines.clone();
    let encoded = BASE64.encode(&decoded);
    wrong_alg[1] = &encoded;
    assert_eq!(
        SignatureFile::parse(&join(&wrong_alg)).err(),
        Some(SignatureParseError::UnsupportedAlgorithm { found: "EX".to_owned() })
    );
}

#[test]
fn sign_then_verify_and_tamper() {
    let (secret, public) = fresh_pair();
    let message = b"the skill archive bytes";
    let sig = signed(&secret, message, "timestamp:1\tslug:x");
    assert_eq!(sig.algorithm, SignatureAlgorithm::Prehashed);
    assert_eq!(sig.key_id, public.key_id);
    assert!(verify(&public, &message[..], &sig).is_ok());

    // One byte of the message.
    let mut tampered = message.to_vec();
    tampered[0] ^= 1;
    assert!(matches!(verify(&public, &tampered[..], &sig), Err(VerifyError::InvalidSignature)));

    // One byte of the signature.
    let mut bad_sig = sig.clone();
    bad_sig.signature[10] ^= 1;
    assert!(matches!(verify(&public, &message[..], &bad_sig), Err(VerifyError::InvalidSignature)));

    // The trusted comment.
    let mut bad_comment = sig.clone();
    bad_comment.trusted_comment = "timestamp:1\tslug:y".to_owned();
    assert!(matches!(verify(&public, &message[..], &bad_comment), Err(VerifyError::InvalidGlobalSignature)));

    // The global signature.
    let mut bad_global = sig.clone();
    bad_global.global_signature[0] ^= 1;
    assert!(matches!(verify(&public, &message[..], &bad_global), Err(VerifyError::InvalidGlobalSignature)));

    // The key id, both in the signature and by verifying with another key.
    let mut other_id = sig.clone();
    other_id.key_id.0[0] ^= 1;
    match verify(&public, &message[..], &other_id) {
        Err(VerifyError::KeyIdMismatch { signature_key_id, public_key_id }) => {
            assert_eq!(signature_key_id, other_id.key_id);
            assert_eq!(public_key_id, public.key_id);
        }
        other => panic!("expected a key id mismatch, got {other:?}"),
    }
    let (_, stranger) = fresh_pair();
    assert!(matches!(verify(&stranger, &message[..], &sig), Err(VerifyError::KeyIdMismatch { .. })));
    // Same key id, different key: the signature itself fails.
    let impostor = PublicKey { key_id: public.key_id, ed25519: stranger.ed25519 };
    assert!(matches!(verify(&impostor, &message[..], &sig), Err(VerifyError::InvalidSignature)));

    // Downgrade to legacy with the same bytes: fails.
    let mut legacy = sig.clone();
    legacy.algorithm = SignatureAlgorithm::Legacy;
    assert!(matches!(verify(&public, &message[..], &legacy), Err(VerifyError::InvalidSignature)));

    // Through the text format.
    let reparsed = signature_file(&sig.to_file_string());
    assert_eq!(reparsed, sig);
}

#[test]
fn trusted_comment_alone_verifies_without_the_message() {
    // The stock tool's signature (its comment is authentic whatever the message).
    assert!(verify_trusted_comment(&public(), &signature_file(MINISIGN_SIG)).is_ok());
    let (secret, public) = fresh_pair();
    let sig = signed(&secret, b"an archive that is gone", "timestamp:1\tslug:x");
    assert!(verify_trusted_comment(&public, &sig).is_ok());

    let mut bad_comment = sig.clone();
    bad_comment.trusted_comment = "timestamp:1\tslug:y".to_owned();
    assert!(matches!(verify_trusted_comment(&public, &bad_comment), Err(VerifyError::InvalidGlobalSignature)));
    // The message signature is part of the global message: swapping it breaks the comment.
    let mut other_message = sig.clone();
    other_message.signature = signed(&secret, b"another archive", "timestamp:1\tslug:x").signature;
    assert!(matches!(verify_trusted_comment(&public, &other_message), Err(VerifyError::InvalidGlobalSignature)));
    let (_, stranger) = fresh_pair();
    assert!(matches!(verify_trusted_comment(&stranger, &sig), Err(VerifyError::KeyIdMismatch { .. })));
    let impostor = PublicKey { key_id: public.key_id, ed25519: stranger.ed25519 };
    assert!(matches!(verify_trusted_comment(&impostor, &sig), Err(VerifyError::InvalidGlobalSignature)));
}

#[test]
fn sign_rejects_multi_line_comments() {
    let (secret, _) = fresh_pair();
    for (trusted, untrusted) in [("a\nb", "x"), ("a\rb", "x"), ("a\0b", "x"), ("ok", "x\ny")] {
        let err = sign(&secret, &b""[..], trusted, untrusted).err();
        assert_eq!(err.as_ref().map(io::Error::kind), Some(io::ErrorKind::InvalidInput));
        assert!(err.and_then(|e| e.into_inner()).is_some_and(|inner| inner.is::<CommentError>()));
    }
    assert!(sign(&secret, &b""[..], "tab\tis fine", "").is_ok());
}

#[test]
fn legacy_signatures_are_bounded() {
    let (secret, public) = fresh_pair();
    let message = vec![7u8; 100];
    let mut sig = signed(&secret, &message, "legacy");
    sig.algorithm = SignatureAlgorithm::Legacy;
    sig.signature = secret.signing_key.sign(&message).to_bytes();
    sig.global_signature = secret.signing_key.sign(&sig.global_message()).to_bytes();
    assert!(verify_with_legacy_limit(&public, &message[..], &sig, 100).is_ok());
    assert!(matches!(
        verify_with_legacy_limit(&public, &message[..], &sig, 99),
        Err(VerifyError::MessageTooLarge { limit: 99 })
    ));
    assert!(verify(&public, &message[..], &sig).is_ok());
}

#[test]
fn read_errors_are_reported() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("gone"))
        }
    }
    let (secret, public) = fresh_pair();
    let sig = signed(&secret, b"", "x");
    assert!(matches!(verify(&public, Broken, &sig), Err(VerifyError::Io(_))));
    assert!(sign(&secret, Broken, "x", "y").is_err());
}

#[test]
fn parses_minisign_unencrypted_secret_key_with_zero_checksum() {
    let secret = SecretKey::parse(MINISIGN_SECRET_UNENCRYPTED, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(secret.public_key(), public());
    // A password given for an unencrypted key is ignored.
    assert!(SecretKey::parse(MINISIGN_SECRET_UNENCRYPTED, Some(b"pw")).is_ok());
    let sig = signed(&secret, MESSAGE, "tc here");
    assert!(verify(&public(), MESSAGE, &sig).is_ok());
    // Ed25519 is deterministic: same key, message hash and comment give minisign's bytes.
    let theirs = signature_file(MINISIGN_SIG);
    assert_eq!(sig.signature, theirs.signature);
    assert_eq!(sig.global_signature, theirs.global_signature);
}

#[test]
fn secret_key_round_trips() {
    let (secret, public) = fresh_pair();
    let plain = secret.to_file_string(None, KdfParams::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(plain.starts_with("untrusted comment: minisign unencrypted secret key\nRWQAAEIy"));
    let back = SecretKey::parse(&plain, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.public_key(), public);

    let password = b"correct horse";
    let encrypted =
        secret.to_file_string(Some(password), KdfParams::insecure_for_tests()).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted.starts_with("untrusted comment: minisign encrypted secret key\nRWRTY0Iy"));
    let back = SecretKey::parse(&encrypted, Some(password)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.public_key(), public);
    assert_eq!(SecretKey::parse(&encrypted, Some(b"wrong")).err(), Some(KeyError::WrongPassword));
    assert_eq!(SecretKey::parse(&encrypted, None).err(), Some(KeyError::PasswordRequired));
    let crlf = encrypted.replace('\n', "\r\n");
    assert!(SecretKey::parse(&crlf, Some(password)).is_ok());
    // A fresh salt every time.
    let again = secret.to_file_string(Some(password), KdfParams::insecure_for_tests()).unwrap_or_default();
    assert_ne!(*again, *encrypted);
}

#[test]
fn secret_key_debug_hides_the_key() {
    let secret = SecretKey::parse(MINISIGN_SECRET_UNENCRYPTED, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(format!("{secret:?}"), "SecretKey { key_id: KeyId(8F46F8CD08D782CD), .. }");
}

/// Decodes the minisign key, lets `edit` change the raw bytes, re-encodes it.
fn edited_secret(edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let line = MINISIGN_SECRET_UNENCRYPTED.lines().nth(1).unwrap_or_default();
    let mut bytes = BASE64.decode(line).unwrap_or_default();
    edit(&mut bytes);
    format!("untrusted comment: edited\n{}\n", BASE64.encode(&bytes))
}

fn with_checksum(bytes: &mut [u8]) {
    let mut hasher = Blake2b256::new();
    hasher.update(&bytes[0..2]);
    hasher.update(&bytes[54..126]);
    let chk: [u8; 32] = hasher.finalize().into();
    bytes[126..158].copy_from_slice(&chk);
}

#[test]
fn secret_key_errors() {
    let cases: Vec<(String, KeyError)> = vec![
        (edited_secret(|b| b.truncate(100)), KeyError::Truncated { what: "secret key", expected: 158, found: 100 }),
        (
            edited_secret(|b| b.extend_from_slice(b"xyz")),
            KeyError::TrailingData { what: "secret key", expected: 158, found: 161 },
        ),
        (edited_secret(|b| b[1] = b'X'), KeyError::UnsupportedAlgorithm { what: "secret key", found: "EX".to_owned() }),
        (edited_secret(|b| b[2] = b'A'), KeyError::UnsupportedKdf { found: "A\\x00".to_owned() }),
        (edited_secret(|b| b[5] = b'3'), KeyError::UnsupportedChecksum { found: "B3".to_owned() }),
        (edited_secret(|b| b[126] = 1), KeyError::ChecksumMismatch),
        (
            edited_secret(|b| {
                with_checksum(b);
                b[60] ^= 1;
            }),
            KeyError::ChecksumMismatch,
        ),
        (
            edited_secret(|b| {
                b[100] ^= 1;
                with_checksum(b);
            }),
            KeyError::InconsistentKeyPair,
        ),
        (
            edited_secret(|b| {
                b[2..4].copy_from_slice(b"Sc");
                b[38..46].copy_from_slice(&u64::MAX.to_le_bytes());
                b[46..54].copy_from_slice(&u64::MAX.to_le_bytes());
            }),
            KeyError::KdfTooExpensive { opslimit: u64::MAX, memlimit: u64::MAX },
        ),
        ("untrusted comment: x\n".to_owned(), KeyError::Truncated { what: "secret key", expected: 158, found: 0 }),
        ("not a key".to_owned(), KeyError::MissingComment { what: "secret key" }),
        ("untrusted comment: x\n!!!\n".to_owned(), KeyError::Base64 { what: "secret key" }),
        (
            format!("{MINISIGN_SECRET_UNENCRYPTED}more\n"),
            KeyError::LineCount { what: "secret key", expected: "a comment line and a key line", found: 3 },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(SecretKey::parse(&text, Some(b"pw")).err(), Some(expected.clone()), "{expected}");
    }
    // A very expensive opslimit with little memory is refused too (p would explode).
    let huge_work = edited_secret(|b| {
        b[2..4].copy_from_slice(b"Sc");
        b[38..46].copy_from_slice(&(1u64 << 40).to_le_bytes());
        b[46..54].copy_from_slice(&(1u64 << 20).to_le_bytes());
    });
    assert!(matches!(SecretKey::parse(&huge_work, Some(b"pw")), Err(KeyError::KdfTooExpensive { .. })));
}

#[test]
fn pickparams_matches_libsodium() {
    let cost = |opslimit, memlimit| KdfParams { opslimit, memlimit }.scrypt_cost();
    assert_eq!(KdfParams::default().scrypt_cost(), ScryptCost { log_n: 20, r: 8, p: 1 });
    assert_eq!(KdfParams::interactive().scrypt_cost(), ScryptCost { log_n: 14, r: 8, p: 1 });
    assert_eq!(KdfParams::insecure_for_tests().scrypt_cost(), ScryptCost { log_n: 10, r: 8, p: 1 });
    // Work-bound branch: opslimit < memlimit / 32.
    assert_eq!(cost(1 << 20, 1 << 30), ScryptCost { log_n: 15, r: 8, p: 1 });
    // Memory-bound branch with spare work goes to p.
    assert_eq!(cost(1 << 24, 1 << 20), ScryptCost { log_n: 10, r: 8, p: 512 });
    // opslimit below the floor is raised to 32768.
    assert_eq!(cost(0, 1 << 20), cost(32_768, 1 << 20));
    // Huge limits do not overflow: N = 2^53 follows from memlimit / 1024.
    assert_eq!(cost(u64::MAX, u64::MAX).log_n, 53);
}

#[test]
fn blake2b_256_known_answer() {
    // Python: hashlib.blake2b(b"abc", digest_size=32).hexdigest()
    let digest: [u8; 32] = Blake2b256::digest(b"abc").into();
    assert_eq!(hex::encode(digest), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PublicKey>();
    check::<SecretKey>();
    check::<SignatureFile>();
}
