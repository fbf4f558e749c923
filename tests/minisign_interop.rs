//! Interoperability of `skillscan-signatures` with the real `minisign` binary (0.11 on Debian).
//!
//! Covers both directions for keys, signatures and encrypted secret keys. minisign reads
//! passwords from standard input when it is not a terminal (one line for `-S`, the same
//! line twice for `-G`), so the encrypted-key tests drive it non-interactively.
//!
//! These tests live in the workspace's test package, not in the signatures crate, so that the
//! published library needs no build script probing for a tool: `tests/build.rs` marks them
//! ignored when minisign was not found as they were built, unless `SKILLSCAN_REQUIRE_MINISIGN=1`
//! (then a missing binary fails them). `SKILLSCAN_MINISIGN` overrides the binary path.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use skillscan_signatures::digest::{FileDigest, TreeManifest, sha256};
use skillscan_signatures::error::{KeyError, VerifyError};
use skillscan_signatures::minisign::{
    KdfParams, PublicKey, SecretKey, SignatureAlgorithm, SignatureFile, sign, verify,
};
use skillscan_signatures::statement::SkillStatement;

/// The binary to run; fails the test when it cannot be run (it is ignored when minisign was
/// missing at build time).
fn minisign() -> PathBuf {
    let binary = std::env::var_os("SKILLSCAN_MINISIGN").map_or_else(|| PathBuf::from("minisign"), PathBuf::from);
    match Command::new(&binary).arg("-v").output() {
        Ok(output) if output.status.success() => binary,
        Ok(output) => panic!("`{} -v` exited with {}", binary.display(), output.status),
        Err(e) => panic!("cannot run `{}`: {e}", binary.display()),
    }
}

fn run(binary: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn minisign");
    // Dropping the pipe closes minisign's stdin, so a missing password line fails fast.
    if let Some(mut pipe) = child.stdin.take()
        && let Some(input) = stdin
    {
        pipe.write_all(input.as_bytes()).expect("write minisign stdin");
    }
    child.wait_with_output().expect("wait for minisign")
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

fn statement_comment(archive: &[u8]) -> String {
    let tree = TreeManifest::new([FileDigest::from_bytes("SKILL.md", b"# Weather\n")]).expect("manifest");
    SkillStatement {
        slug: "weather-brief".to_owned(),
        version: "1.0.0".to_owned(),
        archive_sha256: Some(sha256(archive)),
        tree_digest: tree.tree_digest(),
        timestamp: 1_767_225_600,
        file: Some("weather-brief-1.0.0.zip".to_owned()),
    }
    .to_trusted_comment()
    .expect("valid statement")
}

/// (a) Our key and prehashed signature verify with `minisign -V`, and tampering fails.
#[test]
#[cfg_attr(no_minisign, ignore = "needs minisign (apt-get install minisign; SKILLSCAN_REQUIRE_MINISIGN=1 requires it)")]
fn minisign_verifies_our_signatures() {
    let bin = minisign();
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, public) = SecretKey::generate().expect("generate");
    let message = b"PK\x03\x04 pretend this is weather-brief-1.0.0.zip".to_vec();
    let message_path = dir.path().join("weather-brief-1.0.0.zip");
    std::fs::write(&message_path, &message).expect("write message");
    let public_path = dir.path().join("key.pub");
    std::fs::write(&public_path, public.to_file_string(&public.default_comment())).expect("write pub");

    let trusted = statement_comment(&message);
    let signature = sign(&secret, &message[..], &trusted, "signature from skillscan").expect("sign");
    let signature_path = dir.path().join("weather-brief-1.0.0.zip.minisig");
    std::fs::write(&signature_path, signature.to_file_string()).expect("write sig");

    // With a public key file, requiring a prehashed signature (-H).
    let output = run(&bin, &["-V", "-H", "-m", path_str(&message_path), "-p", path_str(&public_path)], None);
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("Trusted comment: {trusted}")), "{}", describe(&output));

    // With the bare key (-P) and an explicit signature path (-x).
    let output = run(
        &bin,
        &["-V", "-m", path_str(&message_path), "-x", path_str(&signature_path), "-P", &public.to_base64()],
        None,
    );
    assert!(output.status.success(), "{}", describe(&output));

    // The key id minisign prints in its own files matches ours.
    let pub_text = std::fs::read_to_string(&public_path).expect("read pub");
    assert!(pub_text.starts_with(&format!("untrusted comment: minisign public key {}\n", public.key_id)));

    // One flipped byte in the message.
    let mut tampered = message.clone();
    tampered[0] ^= 1;
    std::fs::write(&message_path, &tampered).expect("write tampered");
    let output = run(&bin, &["-V", "-m", path_str(&message_path), "-p", path_str(&public_path)], None);
    assert!(!output.status.success(), "tampered message verified:\n{}", describe(&output));
    std::fs::write(&message_path, &message).expect("restore message");

    // An edited trusted comment (statement replayed for another version).
    let mut replayed = signature.clone();
    replayed.trusted_comment = trusted.replace("version:1.0.0", "version:0.9.0");
    std::fs::write(&signature_path, replayed.to_file_string()).expect("write replayed");
    let output = run(&bin, &["-V", "-m", path_str(&message_path), "-p", path_str(&public_path)], None);
    assert!(!output.status.success(), "edited trusted comment verified:\n{}", describe(&output));

    // Another key.
    let (_, stranger) = SecretKey::generate().expect("generate");
    std::fs::write(&signature_path, signature.to_file_string()).expect("restore sig");
    let output = run(&bin, &["-V", "-m", path_str(&message_path), "-P", &stranger.to_base64()], None);
    assert!(!output.status.success(), "verified with a stranger's key:\n{}", describe(&output));
}

/// Our unencrypted secret key file (with a real checksum) works for `minisign -S -W`.
#[test]
#[cfg_attr(no_minisign, ignore = "needs minisign (apt-get install minisign; SKILLSCAN_REQUIRE_MINISIGN=1 requires it)")]
fn minisign_signs_with_our_unencrypted_secret_key() {
    let bin = minisign();
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, public) = SecretKey::generate().expect("generate");
    let secret_path = dir.path().join("key.sec");
    std::fs::write(&secret_path, secret.to_file_string(None, KdfParams::default()).expect("write").as_bytes())
        .expect("write sec");
    let message_path = dir.path().join("file.txt");
    std::fs::write(&message_path, b"hello from our key\n").expect("write message");
    let output = run(
        &bin,
        &["-S", "-W", "-s", path_str(&secret_path), "-m", path_str(&message_path), "-t", "signed by minisign"],
        None,
    );
    assert!(output.status.success(), "{}", describe(&output));
    let sig_text = std::fs::read_to_string(dir.path().join("file.txt.minisig")).expect("read sig");
    let signature = SignatureFile::parse(&sig_text).expect("parse sig");
    assert_eq!(signature.key_id, public.key_id);
    assert_eq!(signature.trusted_comment, "signed by minisign");
    verify(&public, &b"hello from our key\n"[..], &signature).expect("verify");
}

/// (b) `minisign -G -W` keys and `minisign -S` signatures (prehashed and legacy) are
/// accepted by our parser and verifier.
#[test]
#[cfg_attr(no_minisign, ignore = "needs minisign (apt-get install minisign; SKILLSCAN_REQUIRE_MINISIGN=1 requires it)")]
fn we_verify_minisign_signatures_and_read_its_keys() {
    let bin = minisign();
    let dir = tempfile::tempdir().expect("tempdir");
    let public_path = dir.path().join("mini.pub");
    let secret_path = dir.path().join("mini.sec");
    let output = run(&bin, &["-G", "-W", "-p", path_str(&public_path), "-s", path_str(&secret_path)], None);
    assert!(output.status.success(), "{}", describe(&output));
    let public = PublicKey::parse(&std::fs::read_to_string(&public_path).expect("read pub")).expect("parse pub");
    let secret = SecretKey::parse(&std::fs::read_to_string(&secret_path).expect("read sec"), None).expect("parse sec");
    assert_eq!(secret.public_key(), public);
    // The id minisign prints in its suggested command line matches ours.
    assert!(String::from_utf8_lossy(&output.stdout).contains(&public.to_base64()), "{}", describe(&output));

    let message = b"a message signed by minisign\n".to_vec();
    let message_path = dir.path().join("msg.txt");
    std::fs::write(&message_path, &message).expect("write message");
    for (legacy, trusted) in [(false, "comment with\ttab"), (true, "legacy comment")] {
        let mut args = vec!["-S", "-W", "-s", path_str(&secret_path), "-m", path_str(&message_path), "-t", trusted];
        if legacy {
            args.push("-l");
        }
        let output = run(&bin, &args, None);
        assert!(output.status.success(), "{}", describe(&output));
        let text = std::fs::read_to_string(dir.path().join("msg.txt.minisig")).expect("read sig");
        let signature = SignatureFile::parse(&text).expect("parse sig");
        let expected = if legacy { SignatureAlgorithm::Legacy } else { SignatureAlgorithm::Prehashed };
        assert_eq!(signature.algorithm, expected);
        assert_eq!(signature.trusted_comment, trusted);
        assert_eq!(signature.to_file_string(), text, "our writer reproduces minisign's file");
        verify(&public, &message[..], &signature).expect("verify");
        let mut tampered = message.clone();
        tampered[0] ^= 1;
        assert!(matches!(verify(&public, &tampered[..], &signature), Err(VerifyError::InvalidSignature)));
        let mut edited = signature.clone();
        edited.trusted_comment.push('!');
        assert!(matches!(verify(&public, &message[..], &edited), Err(VerifyError::InvalidGlobalSignature)));
    }
}

/// (c) Our ENCRYPTED secret key (cheap scrypt parameters) is usable by `minisign -S` with
/// the password on standard input; a wrong password is refused by minisign.
#[test]
#[cfg_attr(no_minisign, ignore = "needs minisign (apt-get install minisign; SKILLSCAN_REQUIRE_MINISIGN=1 requires it)")]
fn minisign_decrypts_our_encrypted_secret_key() {
    let bin = minisign();
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, public) = SecretKey::generate().expect("generate");
    let password = "correct horse battery staple";
    let secret_path = dir.path().join("enc.sec");
    for kdf in [KdfParams::insecure_for_tests(), KdfParams::interactive()] {
        let text = secret.to_file_string(Some(password.as_bytes()), kdf).expect("encrypt");
        std::fs::write(&secret_path, text.as_bytes()).expect("write sec");
        let message_path = dir.path().join("file.bin");
        std::fs::write(&message_path, b"encrypted key test").expect("write message");
        let output = run(
            &bin,
            &["-S", "-s", path_str(&secret_path), "-m", path_str(&message_path), "-t", "enc"],
            Some(&format!("{password}\n")),
        );
        assert!(output.status.success(), "kdf {kdf:?}: {}", describe(&output));
        let sig_text = std::fs::read_to_string(dir.path().join("file.bin.minisig")).expect("read sig");
        let signature = SignatureFile::parse(&sig_text).expect("parse sig");
        verify(&public, &b"encrypted key test"[..], &signature).expect("verify");
        std::fs::remove_file(dir.path().join("file.bin.minisig")).expect("remove sig");

        let output =
            run(&bin, &["-S", "-s", path_str(&secret_path), "-m", path_str(&message_path)], Some("wrong password\n"));
        assert!(!output.status.success(), "wrong password accepted:\n{}", describe(&output));
    }
}

/// (c, other direction) A key encrypted by `minisign -G` (its default, expensive scrypt
/// parameters: 1 GiB, N = 2^20) is decrypted by us; a wrong password gives `WrongPassword`.
///
/// scrypt at that cost takes about a minute per attempt in an unoptimised build, so debug
/// builds ignore this test unless `SKILLSCAN_SLOW_TESTS=1`; `cargo test --release` runs it.
/// The opposite direction (minisign decrypting our keys) always runs, above.
#[test]
#[cfg_attr(no_minisign, ignore = "needs minisign (apt-get install minisign; SKILLSCAN_REQUIRE_MINISIGN=1 requires it)")]
#[cfg_attr(
    all(not(no_minisign), debug_assertions, not(slow_tests)),
    ignore = "slow in a debug build (minisign's default scrypt cost): set SKILLSCAN_SLOW_TESTS=1 or test --release"
)]
fn we_decrypt_minisign_encrypted_secret_key() {
    let bin = minisign();
    let dir = tempfile::tempdir().expect("tempdir");
    let public_path = dir.path().join("mini.pub");
    let secret_path = dir.path().join("mini.sec");
    let password = "pw for minisign";
    let output = run(
        &bin,
        &["-G", "-p", path_str(&public_path), "-s", path_str(&secret_path)],
        Some(&format!("{password}\n{password}\n")),
    );
    assert!(output.status.success(), "{}", describe(&output));
    let public = PublicKey::parse(&std::fs::read_to_string(&public_path).expect("read pub")).expect("parse pub");
    let secret_text = std::fs::read_to_string(&secret_path).expect("read sec");
    let secret = SecretKey::parse(&secret_text, Some(password.as_bytes())).expect("decrypt");
    assert_eq!(secret.public_key(), public);
    assert_eq!(SecretKey::parse(&secret_text, Some(b"nope")).err(), Some(KeyError::WrongPassword));
    assert_eq!(SecretKey::parse(&secret_text, None).err(), Some(KeyError::PasswordRequired));
    // And the decrypted key signs something minisign accepts.
    let message_path = dir.path().join("m.txt");
    std::fs::write(&message_path, b"round trip").expect("write message");
    let signature = sign(&secret, &b"round trip"[..], "decrypted by skillscan", "x").expect("sign");
    std::fs::write(dir.path().join("m.txt.minisig"), signature.to_file_string()).expect("write sig");
    let output = run(&bin, &["-V", "-m", path_str(&message_path), "-p", path_str(&public_path)], None);
    assert!(output.status.success(), "{}", describe(&output));
}
