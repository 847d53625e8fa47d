//! Conformance suite (to be implemented).
