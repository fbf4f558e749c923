//! Behaviour facts extracted from a skill: what it reads, sends, fetches, writes and tells the
//! agent to do, each with where it came from.
//!
//! - [`prose`]: instructions in prose aimed at the agent (or the user), read as
//!   (action, object, destination) with their framing and polarity.

pub mod prose;
