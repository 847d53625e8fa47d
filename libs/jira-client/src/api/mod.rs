//! The Jira REST v3 operations, one file per resource family. Each method builds a [`Call`]
//! (path, query, body, whether it may be replayed, which issue it writes) and decodes the answer;
//! retries, rate limiting, the breaker and metrics are the business of [`crate::request`].
//!
//! [`Call`]: crate::client::Call

mod catalog;
mod comments;
mod issues;
mod people;
mod search;
