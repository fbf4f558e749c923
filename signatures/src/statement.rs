//! Skill statements (placeholder).
