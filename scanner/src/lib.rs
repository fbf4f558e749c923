//! skillscan: stops malicious AI-agent skills before they reach a machine.
//!
//! The crate has two halves:
//!
//! - the **detection engine** ([`engine`]): [`engine::package`] loads a skill from a directory or
//!   archive into memory (hostile input becomes findings, never crashes), [`engine::analysis`]
//!   parses each file once into views, the compiled [`engine::rules`] run over those views
//!   ([`engine::matching`]), [`engine::analyzers`] and [`engine::correlate`] add what needs more
//!   than one match, and [`engine::verdict`] judges the findings. [`Scanner`] ties it together.
//! - the **protection suite** ([`guard`], on the [`clawhub`] protocol): integrity of installed
//!   skills against pins and signatures, `skillscan install`, the `skillscan ci` gate and the host
//!   inventory.
//!
//! Dependencies point one way: `clawhub` and `guard` use the engine, the engine uses neither; the
//! `skillscan-signatures` crate below all of it owns digests, signatures and skill identity.

pub mod clawhub;
pub mod engine;
pub mod guard;

pub use engine::capabilities::{Capabilities, Privilege};
pub use engine::config::{Config, FailOn};
pub use engine::finding::{Category, Confidence, Finding, Severity};
pub use engine::rules::{RuleError, RuleSet};
pub use engine::scan::{ScanOptions, ScanReport, Scanner, SkillReport};
pub use engine::verdict::Verdict;
