//! The ClawHub protocol: the registry's HTTP client, what a valid name is, and the state files
//! the `clawhub` CLI keeps on disk, read and written the way the real CLI does.

pub mod client;
pub mod names;
pub mod state;
