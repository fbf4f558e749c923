//! `skillscan-mirror`: a vetted, ClawHub-compatible registry mirror.
//!
//! Pipeline: `sync`/`import` → pin (sha256 + tree digest) → crash-safe blob → row
//! (`fetched`) → scan (`scanned`) → policy → `approved` (signed) | `quarantined` |
//! `rejected`; later `revoked` by a human or by retro-hunt. The server answers the
//! ClawHub read API from an in-memory snapshot of approved versions only.
//!
//! # Architecture
//!
//! Every module imports only modules listed below it (no import circles), from the edge
//! down:
//!
//! - the binary (`src/bin/skillscan-mirror/`): one `*_cmd.rs` per command, exit codes in
//!   `exit.rs`;
//! - [`app`]: the router, its middleware and the server's background task;
//! - [`routes`]: the HTTP handlers, one file per area, and the query [`routes::params`];
//!   each maps a domain value (a [`snapshot::Resolution`], a record) to its wire shape,
//!   and [`error::ApiError`] is the only way out to HTTP;
//! - [`state`]: the shared server state (curator, snapshot, metrics, token check);
//! - [`snapshot`]: the in-memory read model and [`snapshot::Snapshot::resolve`];
//!   [`sync`] (upstream client), [`webhooks`] (outbox delivery), [`error`];
//! - [`service`]: the curator ([`Mirror`]): ingest, scan, policy, sign, decide, retro-hunt;
//!   [`server`] (connections), [`auth`] (tokens), [`migrate`] (copying a mirror between
//!   backends);
//! - [`storage`]: which backends the configuration names, and opening them;
//! - [`config`], [`policy`], [`store`] (traits + SQLite/filesystem, PostgreSQL, S3), [`evidence`] (hostile
//!   archives, kept outside the blob store and never served), [`adapters`] (the real scanner
//!   and signer);
//! - [`model`] (version states and stored rows) over [`vetting`] (the scanner and signer
//!   traits; the scanner's verdict and capability types, with the mirror's JSON for them) over
//!   [`archive`] (reading skill zips);
//! - leaves: [`validate`], [`digests`], [`metrics`], [`redact`] (what secrets become
//!   before anything is stored or logged).
//!
//! Across crates: `skillscan-signatures` ← `skillscan` ← `skillscan-mirror`. The mirror uses
//! the scanner's vocabulary as it is (`Verdict`, `Privilege`, `Capabilities`, re-exported by
//! [`vetting`]); only [`adapters`] runs the scanner and the signer, and [`digests`] computes
//! with the signatures crate.

pub mod adapters;
pub mod app;
pub mod archive;
pub mod auth;
pub mod backup;
pub mod config;
pub mod digests;
pub mod error;
pub mod evidence;
pub mod metrics;
pub mod migrate;
pub mod model;
pub mod policy;
pub mod pull_through;
pub mod redact;
pub mod routes;
pub mod run_log;
pub mod schedule;
pub mod server;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod storage;
pub mod store;
pub mod sync;
pub mod validate;
pub mod vetting;
pub mod webhooks;

pub use app::build_router;
pub use service::Mirror;
pub use state::AppState;
