//! Exit codes, in one place.

use std::process::ExitCode;

/// 0 success; 1 `sync` finished with item failures (recorded, see `alerts`); 2 error (bad
/// arguments, configuration, policy, storage), the code clap uses for usage errors too; 3
/// `scrub` found a missing or corrupt blob (alerted, see `alerts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    SyncFailures = 1,
    Error = 2,
    Corrupt = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
