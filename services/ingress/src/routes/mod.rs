//! HTTP handlers, one file per endpoint. Each returns `Result<_, ApiError>` and leaves status
//! codes of failures to [`crate::error`].

pub mod health;
pub mod metrics;
pub mod peopleforce;
pub mod webhook;
