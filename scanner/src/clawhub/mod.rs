//! The ClawHub protocol: its wire model ([`api`]), the registry's HTTP client and the retry
//! policy every client shares, what a valid name is, and the state files the `clawhub` CLI
//! keeps on disk, read and written the way the real CLI does.

pub mod api;
pub mod client;
pub mod names;
pub mod retry;
pub mod state;
