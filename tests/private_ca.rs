//! Private certificate authorities: `skillscan install`, the mirror's `sync` and its webhooks
//! reach HTTPS servers whose certificate comes from a CA of the organisation's own, given as
//! `--ca-cert FILE` (or the config keys), or installed in the system's roots; without it the
//! connection fails with a TLS error that says what to do.
//!
//! The servers here are the fake ClawHub upstream of `mirror_e2e` and a webhook receiver,
//! behind TLS (rustls) with a certificate for `localhost` signed by a CA made for the test
//! (rcgen).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::mirror_e2e::{Fixture, fixture, mirror_bin, out_text, upstream_reply};
use crate::util::bin;

/// A CA (its certificate written to `ca.pem` in `dir`) and a server configuration for
/// `localhost` and 127.0.0.1 signed by it.
fn private_ca(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "skillscan test private CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (ca_path, Arc::new(config))
}

type Handler = Arc<dyn Fn(&str, &[u8]) -> Vec<u8> + Send + Sync>;

/// Serves HTTPS on 127.0.0.1: each request (head and `content-length` body) is answered by
/// `handler` on one connection, then closed. A client that refuses the certificate ends its
/// connection in the handshake. Returns `https://localhost:PORT`.
fn serve_tls(config: Arc<rustls::ServerConfig>, handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { return };
            let (config, handler) = (config.clone(), handler.clone());
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
                let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head, body) = loop {
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(str::trim).map(str::to_owned)
                            })
                            .and_then(|l| l.parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break (head, buf[end + 4..end + 4 + length].to_vec());
                        }
                    }
                    match tls.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let response = handler(&head, &body);
                let _ = tls.write_all(&response);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    format!("https://localhost:{port}")
}

/// The fake ClawHub upstream of `mirror_e2e`, over HTTPS.
fn tls_upstream(config: Arc<rustls::ServerConfig>, fixtures: Vec<Fixture>) -> String {
    serve_tls(
        config,
        Arc::new(move |head: &str, _body: &[u8]| {
            let target = head.split_whitespace().nth(1).unwrap_or("/");
            let (status, ctype, body) = upstream_reply(&fixtures, target);
            let mut out = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            out
        }),
    )
}

fn skillscan(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(bin("skillscan"));
    command
        .current_dir(cwd)
        .args(args)
        .env_remove("CLAWHUB_REGISTRY")
        .env_remove("CLAWHUB_WORKDIR")
        .env_remove("CLAWHUB_TOKEN")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run skillscan")
}

#[test]
fn install_trusts_a_private_ca_given_by_flag_config_or_system_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, config) = private_ca(tmp.path());
    let registry = tls_upstream(config, vec![fixture("benign", "weather-brief", "acme", "1.0.0")]);
    let install = |workdir: &str, extra: &[&str], env: &[(&str, &Path)]| {
        let dir = tmp.path().join(workdir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec!["install", "weather-brief", "--registry", &registry, "--workdir", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = skillscan(tmp.path(), &args, env);
        (o, dir.join("skills/weather-brief/SKILL.md"))
    };

    // Without the CA: a TLS error naming the way out, exit 2, nothing installed.
    let (o, installed) = install("none", &[], &[]);
    let text = out_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("TLS error") && text.contains("--ca-cert"), "no clear TLS error:\n{text}");
    assert!(!text.contains("UnknownIssuer"), "Debug text in the error:\n{text}");
    assert!(!installed.exists());

    // --ca-cert FILE.
    let (o, installed) = install("flag", &["--ca-cert", ca.to_str().unwrap()], &[]);
    assert!(o.status.success(), "install with --ca-cert:\n{}", out_text(&o));
    assert!(installed.is_file());

    // [install] ca_cert in skillscan.toml, relative to the config file.
    let conf_dir = tmp.path().join("conf");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::copy(&ca, conf_dir.join("corp-ca.pem")).unwrap();
    std::fs::write(conf_dir.join("skillscan.toml"), "[install]\nca_cert = \"corp-ca.pem\"\n").unwrap();
    let config_file = conf_dir.join("skillscan.toml");
    let (o, installed) = install("config", &["--config", config_file.to_str().unwrap()], &[]);
    assert!(o.status.success(), "install with [install] ca_cert:\n{}", out_text(&o));
    assert!(installed.is_file());

    // The system's roots (SSL_CERT_FILE stands in for a CA installed on the host).
    let (o, installed) = install("system", &[], &[("SSL_CERT_FILE", &ca)]);
    assert!(o.status.success(), "install with the CA in the system roots:\n{}", out_text(&o));
    assert!(installed.is_file());

    // A CA file that is not one is refused before any request.
    let bogus = tmp.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate\n").unwrap();
    let (o, _) = install("bogus", &["--ca-cert", bogus.to_str().unwrap()], &[]);
    let text = out_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("CA certificate file") && text.contains("bogus.pem"), "{text}");
}

#[test]
fn mirror_sync_trusts_a_private_ca_given_by_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, config) = private_ca(tmp.path());
    let upstream = tls_upstream(config, vec![fixture("benign", "weather-brief", "acme", "1.0.0")]);
    let data = tmp.path().join("data");
    let sync = |extra: &[&str]| {
        Command::new(mirror_bin())
            .arg("--data")
            .arg(&data)
            .args(extra)
            .args(["sync", "--upstream", &upstream, "--slug", "weather-brief"])
            .env_remove("SKILLSCAN_MIRROR_CONFIG")
            .env_remove("SKILLSCAN_MIRROR_CA_CERT")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = sync(&[]);
    let text = out_text(&o);
    assert_eq!(o.status.code(), Some(1), "a sync failure without the CA:\n{text}");
    assert!(text.contains("TLS error") && text.contains("--ca-cert"), "no clear TLS error:\n{text}");

    let o = sync(&["--ca-cert", ca.to_str().unwrap()]);
    let text = out_text(&o);
    assert!(o.status.success(), "sync with --ca-cert:\n{text}");
    assert!(text.contains("weather-brief@1.0.0: approved"), "{text}");
}

#[test]
fn mirror_webhooks_reach_a_receiver_behind_a_private_ca() {
    use skillscan_mirror::config::{Config, WebhookConfig};
    use skillscan_mirror::store::blobs::FsBlobStore;
    use skillscan_mirror::store::sqlite::SqliteStore;
    use skillscan_mirror::{Mirror, adapters, webhooks};

    let tmp = tempfile::tempdir().unwrap();
    let (ca, config) = private_ca(tmp.path());
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = received.clone();
    let receiver = serve_tls(
        config,
        Arc::new(move |head: &str, body: &[u8]| {
            log.lock().unwrap().push(format!(
                "{}\n{}",
                head.lines().next().unwrap_or(""),
                String::from_utf8_lossy(body)
            ));
            b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n".to_vec()
        }),
    );
    let mirror = |dir: &str, ca_cert: Option<PathBuf>| {
        let data = tmp.path().join(dir);
        std::fs::create_dir_all(&data).unwrap();
        let hook = WebhookConfig { url: format!("{receiver}/hook"), events: vec!["reject".into()], secret: None };
        Mirror {
            data_dir: data.clone(),
            config: Config { webhooks: vec![hook], ca_cert, ..Config::default() },
            policy: Default::default(),
            meta: Arc::new(SqliteStore::open(&data.join("mirror.db")).unwrap()),
            blobs: Arc::new(FsBlobStore::open(&data).unwrap()),
            vetter: adapters::default_vetter(),
            signer: adapters::no_signer(),
        }
    };
    let malicious = fixture("malicious", "crypto-tracker", "mallory", "1.0.0");
    let ingest = |m: &Mirror| {
        let input = skillscan_mirror::service::IngestInput {
            slug: "crypto-tracker".into(),
            version: "1.0.0".into(),
            owner: Some("mallory".into()),
            display_name: None,
            summary: None,
            changelog: String::new(),
            published_at: 1_767_225_600_000,
            source: "test".into(),
            metadata_json: None,
            license: Some("MIT-0".into()),
            zip: malicious.zip.clone(),
        };
        m.ingest(input, "test").unwrap();
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Without the CA the receiver's certificate is refused and the event stays queued.
    let untrusting = mirror("untrusting", None);
    ingest(&untrusting);
    let client = webhooks::client_for(&untrusting);
    assert_eq!(rt.block_on(webhooks::deliver_due(&untrusting, &client)), (0, 1));
    assert!(received.lock().unwrap().is_empty());

    // With `ca_cert` (as `--ca-cert` or the config set it) it is delivered.
    let trusting = mirror("trusting", Some(ca));
    ingest(&trusting);
    let client = webhooks::client_for(&trusting);
    assert_eq!(rt.block_on(webhooks::deliver_due(&trusting, &client)), (1, 0));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("POST /hook") && got[0].contains("crypto-tracker"), "{}", got[0]);
}
