//! Exit codes, in one place.

use std::process::ExitCode;

/// 0 nothing at or above the threshold; 1 findings at or above it (or a policy refusal);
/// 2 usage, I/O or configuration error; 3 integrity failure (pins, signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
    Integrity = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
