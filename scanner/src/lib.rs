//! skillscan: static analysis of AI-agent skills.
//!
//! The pipeline: [`package`] loads a skill from a directory or archive into memory (hostile input
//! becomes findings, never crashes), [`analysis`] parses each file once into views, the compiled
//! [`rules`] run over those views ([`engine`]), [`analyzers`] and [`correlate`] add what needs more
//! than one match, and [`verdict`] judges the findings. [`scan::Scanner`] ties it together.

pub mod analysis;
pub mod analyzers;
pub mod capabilities;
pub mod ci;
pub mod clawhub;
pub mod config;
pub mod correlate;
pub mod corroborate;
pub mod decode;
pub mod engine;
pub mod finding;
pub mod install;
pub mod integrity;
pub mod inventory;
pub mod lang;
pub mod normalize;
pub mod package;
pub mod registry;
pub mod report;
pub mod rules;
pub mod scan;
pub mod skill_dirs;
pub mod suppress;
pub mod text;
pub mod urls;
pub mod verdict;

pub use capabilities::{Capabilities, Privilege};
pub use config::{Config, FailOn};
pub use finding::{Category, Confidence, Finding, Severity};
pub use rules::{RuleError, RuleSet};
pub use scan::{ScanOptions, ScanReport, Scanner, SkillReport};
pub use verdict::Verdict;
