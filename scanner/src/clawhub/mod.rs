//! The ClawHub protocol: the registry's HTTP client and the state files the `clawhub` CLI keeps
//! on disk, read and written the way the real CLI does.

pub mod client;
pub mod state;
