//! Skill digests, minisign-compatible signatures, trust store and `skills.lock`.
