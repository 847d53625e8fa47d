//! The PeopleForce REST client of jira-sync: public API v3 (`/api/public/v3`), `X-API-KEY`
//! authentication, on reqwest.
//!
//! It owns everything between "call PeopleForce" and "here is the answer or a classified
//! error": the pinned API version, page-number pagination over `metadata.pagination`, timeouts,
//! retries of 429 (honouring `Retry-After`) and transient 5xx with jittered exponential
//! back-off inside a wall-clock budget, tolerant parsing (unknown fields ignored, missing
//! optional fields accepted, an unreadable list item skipped rather than failing its page), a
//! `peopleforce_requests_total` counter, and the mapping of every error to a
//! [`jira_sync_domain::Disposition`] through [`PeopleForceError::disposition`]. The API key never
//! appears in `Debug` output, logs or errors.
//!
//! It leaves to others: deciding what changed (the poller), mapping tasks to the canonical
//! document and writing them (the worker).
//!
//! The shape of a task is not documented publicly; [`Task`] reads the fields a task most likely
//! has under their likely names (see `model`), to be checked against a real tenant.

mod api;
mod client;
mod config;
mod error;
mod model;
mod request;

pub use client::PeopleForceClient;
pub use config::{API_PATH, PeopleForceConfig};
pub use error::PeopleForceError;
pub use model::{Employee, NewTask, Page, Task};
