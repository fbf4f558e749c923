//! A rule's raw match: where it is and what it captured, before it becomes a finding or a
//! capability fact. Analyzers and the rule matcher both produce hits.

use std::ops::Range;

use crate::engine::finding::{RelatedLocation, Severity};

/// Where a hit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HitLocation {
    /// A byte range of a segment's text.
    Segment { file: usize, segment: usize, range: Range<usize> },
    /// A byte range of a file's text, or the whole file.
    File { file: usize, range: Option<Range<usize>> },
    /// An archive entry or path that is not an analysed file (a link entry…).
    Path(String),
}

/// A rule matched: the raw material of a finding and of a capability fact.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: usize,
    pub location: HitLocation,
    pub captures: Vec<(String, String)>,
    /// Appended to the rule message.
    pub detail: Option<String>,
    pub related: Vec<RelatedLocation>,
    /// A severity other than the rule's, decided from what this hit is about (an installer from
    /// the skill's own vendor, a generic key to an unknown host).
    pub severity: Option<Severity>,
}

impl Hit {
    pub fn capture(&self, name: &str) -> Option<&str> {
        self.captures.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn file(&self) -> Option<usize> {
        match &self.location {
            HitLocation::Segment { file, .. } | HitLocation::File { file, .. } => Some(*file),
            HitLocation::Path(_) => None,
        }
    }
}
