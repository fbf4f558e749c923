//! Workspace-level integration tests.
mod mirror_e2e;
