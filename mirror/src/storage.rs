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
use crate::redact::{self, Secret};
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
            DatabaseLocation::Postgres(url) => {
                let shown = redact::without_credentials(url.expose());
                // Query parameters may carry a password too (`?password=`): drop them.
                shown.split('?').next().unwrap_or_default().to_string()
            }
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
    pub fn parse(text: &str, data_dir: &Path, cfg: &StorageConfig) -> Result<BlobLocation, StoreError> {
        if let Some(rest) = text.strip_prefix("s3://") {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(bad("blobs", "s3:// needs a bucket (s3://bucket or s3://bucket/prefix)".into()));
            }
            return Ok(BlobLocation::S3 {
                url: text.to_string(),
                endpoint: cfg.s3_endpoint.clone(),
                allow_http: cfg.s3_allow_http,
            });
        }
        if text.contains("://") {
            let scheme = text.split_once(':').map(|(s, _)| s).unwrap_or_default();
            return Err(bad("blobs", format!("unsupported location ({scheme}://); use a directory or s3://bucket")));
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

    pub fn open(&self) -> Result<Arc<dyn BlobStore>, StoreError> {
        match self {
            BlobLocation::Dir(dir) => Ok(Arc::new(FsBlobStore::open(dir)?)),
            BlobLocation::S3 { url, endpoint, allow_http } => {
                let opts = crate::store::s3::S3Options {
                    endpoint: endpoint.clone(),
                    allow_http: *allow_http,
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
        let err = DatabaseLocation::parse("mysql://root:hunter2@h/db", data).unwrap_err().to_string();
        assert!(err.contains("mysql") && !err.contains("hunter2"), "{err}");
        assert!(DatabaseLocation::parse("sqlite:", data).is_err());

        assert!(matches!(
            BlobLocation::parse("s3://bucket/prefix", data, &cfg).unwrap(),
            BlobLocation::S3 { url, .. } if url == "s3://bucket/prefix"
        ));
        assert!(BlobLocation::parse("s3://", data, &cfg).is_err());
        assert!(BlobLocation::parse("gs://bucket", data, &cfg).is_err());
        assert!(matches!(
            BlobLocation::parse("blobs-elsewhere", data, &cfg).unwrap(),
            BlobLocation::Dir(p) if p == Path::new("/srv/mirror/blobs-elsewhere")
        ));
        let default = StorageLocations::resolve(&cfg, data).unwrap();
        assert!(default.is_embedded());
        assert_eq!(default.describe(), "database sqlite:/srv/mirror/mirror.db, blobs /srv/mirror");
    }
}
