//! PostgreSQL store (to be implemented).
