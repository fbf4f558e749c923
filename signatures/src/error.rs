//! Every error type of the crate, gathered in one place for callers.
//!
//! Each error is defined beside the code that returns it (name and path errors in
//! [`crate::identity`], key and signature errors in [`crate::minisign`], and so on),
//! so no module has to import from a module above it. This module only re-exports them:
//! `skillscan_signatures::error::KeyError` keeps working, and nothing inside the crate imports
//! from here.
//!
//! Every message is meant for end users. Values that come from untrusted input (paths,
//! comments, TOML fragments) are escaped and shortened before they reach a message, so a
//! hostile file cannot inject terminal control sequences through our errors.

pub use crate::digest::{DigestError, ParseDigestError};
pub use crate::identity::{OwnerError, PathError, PathProblem, SlugError, VersionError};
pub use crate::lock::{IntegrityError, LockError};
pub use crate::minisign::{CommentError, KeyError, ParseKeyIdError, SignatureParseError, VerifyError};
pub use crate::statement::{StatementError, StatementMismatch};
pub use crate::trust::TrustError;
