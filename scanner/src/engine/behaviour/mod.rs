//! The behaviour model of a skill: what it reads, where data goes, what it runs, what it writes,
//! and what it tells the agent to do.
//!
//! Rules that match phrases fit the samples they were written against; these modules extract
//! *facts* instead — from syntax trees ([`code`]) and from instructions in prose ([`prose`]) —
//! and the analyzers compose them into findings that name each fact and where it came from.
//! Whose a secret is, and so whether a destination is its owner, is [`secrets`]' job.

pub mod code;
pub mod prose;
pub mod secrets;
