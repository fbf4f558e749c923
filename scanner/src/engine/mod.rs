//! The detection engine: everything between a skill's bytes and a verdict with evidence.
//!
//! Modules are listed from the ground up; each uses only modules listed above it:
//!
//! - text helpers ([`text`], [`urls`], [`normalize`], [`decode`]), the evidence model
//!   ([`finding`], [`hit`]) and the cost counters of `--timings` ([`timings`]);
//! - front ends ([`lang`]: Markdown and tree-sitter syntax) and loading ([`package`]: directories,
//!   archives and stdin into memory under limits, hostile input turned into findings);
//! - [`analysis`]: each file parsed once into views; [`rules`]: rule files compiled into one
//!   literal automaton and one query per language;
//! - [`behaviour`]: facts about what a skill does and tells the agent to do ([`behaviour::prose`]:
//!   instructions in prose);
//! - [`corroborate`] (what the skill vouches for), [`analyzers`] (checks written in Rust),
//!   [`matching`] (compiled rules over the views), [`capabilities`], [`correlate`];
//! - policy and judgement: [`config`], [`suppress`], [`verdict`];
//! - [`scan`]: the pipeline tying them together, [`selftest`] (every rule example through the
//!   real scanner), [`report`] (human, SARIF and GitHub renderings of a scan report) and
//!   [`schemas`] (JSON Schemas of the report, rule files and `skillscan.toml`).

pub mod analysis;
pub mod analyzers;
pub mod behaviour;
pub mod capabilities;
pub mod config;
pub mod context;
pub mod correlate;
pub mod corroborate;
pub mod decode;
pub mod finding;
pub mod hit;
pub mod lang;
pub mod matching;
pub mod normalize;
pub mod package;
pub mod provenance;
pub mod report;
pub mod rules;
pub mod scan;
pub mod schemas;
pub mod selftest;
pub mod suppress;
pub mod text;
pub mod timings;
pub mod urls;
pub mod verdict;
pub mod view;
