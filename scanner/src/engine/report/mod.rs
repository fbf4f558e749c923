//! Output formats. JSON is [`crate::ScanReport`] serialised; the others render it.

pub mod github;
pub mod human;
pub mod paint;
pub mod sarif;
