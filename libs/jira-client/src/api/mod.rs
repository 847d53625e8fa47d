//! The Jira REST operations, one file per resource family. Each method builds a [`Call`]
//! (path, query, body, whether it may be replayed, which issue it writes) and decodes the answer;
//! retries, rate limiting, the breaker and metrics are the business of [`crate::request`].
//! Paths are documented as Cloud's (`/rest/api/3/...`); on Data Center the same paths live
//! under `/rest/api/2/`, and the methods convert bodies with `crate::dc` where the two differ.
//!
//! [`Call`]: crate::client::Call

mod catalog;
mod comments;
mod issues;
mod people;
mod search;
