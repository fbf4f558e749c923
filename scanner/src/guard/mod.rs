//! The protection suite: where skills enter a machine, prove they are what was vetted.
//!
//! - [`skill_dirs`]: finding installed skill folders the way OpenClaw does;
//! - [`atomic_file`]: replacing a file atomically and durably (`skills.lock`, keys, signatures);
//! - [`caps`]: how large each kind of small file (keys, signatures, locks) may be;
//! - [`integrity`]: digests of skill folders and archives, identity hints, and the checks behind
//!   `skillscan verify` (signature, `skills.lock` pin, `.clawhub/origin.json` fingerprint);
//! - [`install`]: `skillscan install` — verify, scan, then install from a registry;
//! - [`ci`]: `skillscan ci`, the merge gate for repositories of skills;
//! - [`inventory`]: `skillscan inventory`, what is installed on a host and whether it still is
//!   what was installed.
//!
//! It builds on the detection [`crate::engine`] and the [`crate::clawhub`] protocol, never the
//! other way round.

pub mod atomic_file;
pub mod caps;
pub mod ci;
pub mod install;
pub mod integrity;
pub mod inventory;
pub mod skill_dirs;
