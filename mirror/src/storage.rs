//! Which backends hold a mirror's state, from `--database` / `--blobs`, the `[storage]`
//! table or their environment variables, and opening them.
//!
//! - database: `sqlite:PATH` (the default, `<data>/mirror.db`) or `postgres://…` /
//!   `postgresql://…`;
//! - blobs: a directory (the default, the data directory) or `s3://bucket[/prefix]`.
//!
//! A database URL may carry a password, so it is kept as a [`Secret`] and only its
//! [`StorageLocations::describe`] form (scheme, host, port, database; no user, no password)
//! is ever shown.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::StorageConfig;
use crate::redact::Secret;
use crate::store::blobs::FsBlobStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{BlobStore, MetaStore, StoreError};

/// Where the metadata lives.
#[derive(Debug, Clone)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(Secret),
}

/// Where the blobs live.
#[derive(Debug, Clone)]
pub enum BlobLocation {
    Dir(PathBuf),
    S3 { url: String, endpoint: Option<String>, allow_http: bool },
}

/// Both, resolved against a data directory.
#[derive(Debug, Clone)]
pub struct StorageLocations {
    pub database: DatabaseLocation,
    pub blobs: BlobLocation,
}

fn bad(what: &str, detail: String) -> StoreError {
    StoreError::Malformed(format!("{what}: {detail}"))
}

impl DatabaseLocation {
    /// `sqlite:PATH` (relative to `data_dir` unless absolute) or a PostgreSQL URL.
    pub fn parse(text: &str, data_dir: &Path) -> Result<DatabaseLocation, StoreError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad("database", "sqlite: needs a file path (sqlite:/var/lib/mirror/mirror.db)".into()));
            }
            return Ok(DatabaseLocation::Sqlite(data_dir.join(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseLocation::Postgres(Secret::new(text)));
        }
        // The text may be a URL with a password: name its scheme only.
        let scheme = text.split_once(':').map(|(s, _)| s).unwrap_or("no scheme");
        Err(bad("database", format!("unsupported location ({scheme}); use sqlite:PATH or postgres://HOST/DB")))
    }

    /// What may be shown: the path, or the URL without user and password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseLocation::Sqlite(p) => format!("sqlite:{}", p.display()),
            // Built from the PostgreSQL client's own reading of the URL (hosts, ports, database),
            // never from the text: a password holding `/`, `?` or `#` reads differently to a
            // generic URL parser, which could then leave it in place.
            DatabaseLocation::Postgres(url) => match url.expose().parse::<tokio_postgres::Config>() {
                Ok(c) => {
                    let hosts: Vec<String> = c
                        .get_hosts()
                        .iter()
                        .enumerate()
                        .map(|(i, h)| {
                            let host = match h {
                                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                            };
                            match c.get_ports().get(i).or(c.get_ports().first()) {
                                Some(port) => format!("{host}:{port}"),
                                None => host,
                            }
                        })
                        .collect();
                    format!("postgres://{}/{}", hosts.join(","), c.get_dbname().unwrap_or(""))
                }
                Err(_) => "postgres://[unparsable URL]".to_string(),
            },
        }
    }

    pub fn open(&self) -> Result<Arc<dyn MetaStore>, StoreError> {
        match self {
            DatabaseLocation::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
            DatabaseLocation::Postgres(url) => Ok(Arc::new(crate::store::postgres::PgStore::connect(url.expose())?)),
        }
    }
}

impl BlobLocation {
    /// A directory (relative to `data_dir` unless absolute), `file:PATH`, or `s3://bucket[/prefix]`.
    /// Refused text is never quoted (it may hold credentials).
    pub fn parse(text: &str, data_dir: &Path, cfg: &StorageConfig) -> Result<BlobLocation, StoreError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(bad("blobs", "s3:// needs a bucket (s3://bucket or s3://bucket/prefix)".into()));
            }
            if rest.contains(['@', '?', '#']) {
                return Err(bad(
                    "blobs",
                    "an s3:// location has no user, password, query or fragment (credentials come from AWS_* \
                     variables)"
                        .into(),
                ));
            }
            return Ok(BlobLocation::S3 {
                url: text.to_string(),
                endpoint: cfg.s3_endpoint.clone(),
                allow_http: cfg.s3_allow_http,
            });
        }
        // Any other `scheme:` is a mistake (`s3:bucket`, `gs://…`), not a directory of that name:
        // on replicas a blob store silently local to one host would be a fault on the others.
        if let Some((scheme, _)) = text.split_once(':') {
            let looks_like_scheme = scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if looks_like_scheme && scheme != "file" {
                let shown: String = scheme.chars().take(20).collect();
                return Err(bad(
                    "blobs",
                    format!("unsupported location ({shown}:); use a directory, file:PATH or s3://bucket[/prefix]"),
                ));
            }
        }
        let path = text.strip_prefix("file:").unwrap_or(text);
        if path.is_empty() {
            return Err(bad("blobs", "empty directory".into()));
        }
        Ok(BlobLocation::Dir(data_dir.join(path)))
    }

    pub fn describe(&self) -> String {
        match self {
            BlobLocation::Dir(p) => p.display().to_string(),
            BlobLocation::S3 { url, .. } => url.clone(),
        }
    }

    /// `max_blob_bytes`: the largest blob a read may return (the mirror's archive size limit),
    /// so a bucket object replaced by junk cannot make a read buffer more.
    pub fn open(&self, max_blob_bytes: u64) -> Result<Arc<dyn BlobStore>, StoreError> {
        match self {
            BlobLocation::Dir(dir) => Ok(Arc::new(FsBlobStore::open(dir)?)),
            BlobLocation::S3 { url, endpoint, allow_http } => {
                let opts = crate::store::s3::S3Options {
                    endpoint: endpoint.clone(),
                    allow_http: *allow_http,
                    max_blob_bytes,
                    ..Default::default()
                };
                Ok(Arc::new(crate::store::s3::S3BlobStore::from_url(url, &opts)?))
            }
        }
    }
}

impl StorageLocations {
    /// From the `[storage]` table (already overridden by flags and environment), else the
    /// embedded default in `data_dir`.
    pub fn resolve(cfg: &StorageConfig, data_dir: &Path) -> Result<StorageLocations, StoreError> {
        let database = match &cfg.database {
            Some(url) => DatabaseLocation::parse(url.expose(), data_dir)?,
            None => DatabaseLocation::Sqlite(data_dir.join("mirror.db")),
        };
        let blobs = match &cfg.blobs {
            Some(text) => BlobLocation::parse(text, data_dir, cfg)?,
            None => BlobLocation::Dir(data_dir.to_path_buf()),
        };
        Ok(StorageLocations { database, blobs })
    }

    /// Whether this is the embedded default (one SQLite file and a directory): what
    /// `backup`/`restore` handle. Shared backends are backed up with their own tools.
    pub fn is_embedded(&self) -> bool {
        matches!((&self.database, &self.blobs), (DatabaseLocation::Sqlite(_), BlobLocation::Dir(_)))
    }

    pub fn describe(&self) -> String {
        format!("database {}, blobs {}", self.database.describe(), self.blobs.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_never_show_a_password() {
        let data = Path::new("/srv/mirror");
        let cfg = StorageConfig::default();
        let db = DatabaseLocation::parse("postgres://skill:hunter2@db.internal:5432/mirror?password=x", data).unwrap();
        let shown = db.describe();
        assert!(!shown.contains("hunter2") && !shown.contains("password") && !shown.contains("skill:"), "{shown}");
        assert_eq!(shown, "postgres://db.internal:5432/mirror");
        assert!(!format!("{db:?}").contains("hunter2"));
        assert!(matches!(
            DatabaseLocation::parse("sqlite:state/m.db", data).unwrap(),
            DatabaseLocation::Sqlite(p) if p == Path::new("/srv/mirror/state/m.db")
        ));
        assert!(matches!(
            DatabaseLocation::parse("sqlite:///abs/m.db", data).unwrap(),
            DatabaseLocation::Sqlite(p) if p == Path::new("/abs/m.db")
        ));
        // Passwords a generic URL parser reads as a port or a path: shown from the client's reading.
        for url in [
            "postgres://skill:2024/Secret@db.internal:5432/mirror",
            "postgres://skill:/Secret@db.internal/mirror",
            "postgres://skill:99?Secret@db.internal/mirror",
        ] {
            let shown = DatabaseLocation::parse(url, data).unwrap().describe();
            assert!(!shown.contains("Secret") && !shown.contains("skill"), "{url} shown as {shown}");
        }
        let err = DatabaseLocation::parse("mysql://root:hunter2@h/db", data).unwrap_err().to_string();
        assert!(err.contains("mysql") && !err.contains("hunter2"), "{err}");
        assert!(DatabaseLocation::parse("sqlite:", data).is_err());

        assert!(matches!(
            BlobLocation::parse("s3://bucket/prefix", data, &cfg).unwrap(),
            BlobLocation::S3 { url, .. } if url == "s3://bucket/prefix"
        ));
        assert!(BlobLocation::parse("s3://", data, &cfg).is_err());
        assert!(BlobLocation::parse("gs://bucket", data, &cfg).is_err());
        assert!(BlobLocation::parse("s3:bucket", data, &cfg).is_err(), "a mistyped s3 URL is not a directory");
        let err = BlobLocation::parse("s3://AKIDEXAMPLE:wJalrSECRET@bucket/p", data, &cfg).unwrap_err().to_string();
        assert!(!err.contains("SECRET") && !err.contains("AKID"), "{err}");
        assert!(matches!(
            BlobLocation::parse("file:blobs:v2", data, &cfg).unwrap(),
            BlobLocation::Dir(p) if p == Path::new("/srv/mirror/blobs:v2")
        ));
        assert!(matches!(
            BlobLocation::parse("blobs-elsewhere", data, &cfg).unwrap(),
            BlobLocation::Dir(p) if p == Path::new("/srv/mirror/blobs-elsewhere")
        ));
        let default = StorageLocations::resolve(&cfg, data).unwrap();
        assert!(default.is_embedded());
        assert_eq!(default.describe(), "database sqlite:/srv/mirror/mirror.db, blobs /srv/mirror");
    }
}
