//! The vetted ClawHub mirror (work in progress: see issue 6).
