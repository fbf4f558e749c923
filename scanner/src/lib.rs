//! skillscan: static analysis of AI-agent skills.
