//! The vetted ClawHub mirror.
