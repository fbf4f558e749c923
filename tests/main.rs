//! Workspace-level integration and end-to-end tests, linked into one test binary.

mod cli_scan;
mod gates;
mod hostile_inputs;
mod identity;
mod metamorphic;
mod minisign_interop;
mod mirror_e2e;
mod packaging;
mod sarif;
mod schemas;
mod signatures_cli;
mod threat_fixtures;
mod util;
