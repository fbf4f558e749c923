//! Workspace-level integration and end-to-end tests, linked into one test binary.

mod cli_scan;
mod cli_ux;
mod deploy;
mod gates;
mod hostile_inputs;
mod identity;
mod metamorphic;
mod minisign_interop;
mod mirror_e2e;
mod packaging;
mod private_ca;
mod replicas;
mod reports;
mod review_ui;
mod sarif;
mod schemas;
mod signatures_cli;
mod threat_fixtures;
mod trust;
mod util;
