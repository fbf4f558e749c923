//! The analyzers a rule file may name in `match: { analyzer: NAME }`.
//!
//! Rules are compiled before anything runs, and the analyzers themselves sit above the rules
//! (they read the compiled rule set to emit hits), so the names live here, below both; a test in
//! [`crate::engine::analyzers`] keeps this list and the analyzers' own table equal.

/// Every analyzer name, in the order the analyzers run.
pub const ANALYZER_NAMES: &[&str] =
    &["loader", "file-type", "coverage", "frontmatter", "identity", "manifests", "dataflow", "campaign", "intent"];

/// Capabilities analyzers record directly (not through a rule's `capability`).
pub const ANALYZER_CAPABILITIES: &[&str] = &[];

pub fn is_known_analyzer(name: &str) -> bool {
    ANALYZER_NAMES.contains(&name)
}
