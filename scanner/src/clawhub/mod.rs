//! The ClawHub protocol: its wire model ([`api`]), the registry's HTTP client and the retry
//! policy every client shares, and the state files the `clawhub` CLI keeps on disk, read and
//! written the way the real CLI does.
//!
//! What a valid name is (slug, version, owner handle, path inside a skill) is not defined here:
//! it is the signatures crate's [`skillscan_signatures::identity`], the one rule for every crate,
//! so nothing the protocol layer accepts is refused later by `sign`, `pin` or `verify`.

pub mod api;
pub mod client;
pub mod containment;
pub mod retry;
pub mod state;
