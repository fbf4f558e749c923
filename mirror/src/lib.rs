//! `skillscan-mirror`: a vetted, ClawHub-compatible registry mirror.
//!
//! Pipeline: `sync`/`import` → pin (sha256 + tree digest) → crash-safe blob → row
//! (`fetched`) → scan (`scanned`) → policy → `approved` (signed) | `quarantined` |
//! `rejected`; later `revoked` by a human or by retro-hunt. The server answers the
//! ClawHub read API from an in-memory snapshot of approved versions only.
//!
//! Module map: [`service`] (curator), [`store`] (traits + SQLite/filesystem), [`vetting`]
//! (scanner and signer traits), [`adapters`] (the real scanner/signer), [`policy`],
//! [`snapshot`] + [`state`] + [`routes`] + [`app`] (HTTP), [`sync`] (upstream client), [`webhooks`].

pub mod adapters;
pub mod app;
pub mod archive;
pub mod auth;
pub mod config;
pub mod digests;
pub mod error;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod routes;
pub mod server;
pub mod service;
pub mod snapshot;
pub mod state;
pub mod store;
pub mod sync;
pub mod validate;
pub mod vetting;
pub mod webhooks;

pub use app::build_router;
pub use service::Mirror;
pub use state::AppState;
