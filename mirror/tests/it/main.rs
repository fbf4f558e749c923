//! Integration tests of the mirror library: handlers (via `oneshot`), storage crash
//! safety, and sync against hostile fake upstreams. One test binary (fast to link).

mod api;
mod backup;
mod blob_conformance;
mod common;
mod conformance;
mod crash;
mod fake_upstream;
mod fuzz;
mod migrate;
mod regressions;
mod server;
mod snapshots;
mod sync;
mod ui;
mod upstream_faults;
mod wire_bytes;
