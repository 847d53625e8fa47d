//! The Jira client of jira-sync, on reqwest: Jira Cloud REST v3 (e-mail + API token over HTTP
//! Basic auth) and Jira Data Center REST v2 (a personal access token as Bearer, or user name
//! and password), chosen by [`ApiFlavor`]. Data Center answers are converted at the boundary
//! (wiki markup <-> ADF, user names as account ids, offset search as token pages; see `dc`),
//! so callers see one set of shapes.
//!
//! It owns everything between "call Jira" and "here is the answer or a classified error":
//! timeouts, retries with jittered exponential back-off bounded by a count and a wall-clock
//! budget, `Retry-After`, client-side rate limiting and Jira's per-issue write limit, a circuit
//! breaker, metrics (`jira_requests_total`, `jira_rate_limited_total`,
//! `jira_request_duration_seconds`), a tracing span per call and a hook to inject trace context.
//! Every error maps to a [`jira_sync_domain::Disposition`] through [`JiraError::disposition`].
//!
//! It leaves to others: mapping fields to the canonical document (domain), deciding what to write
//! (worker), and telemetry set-up (telemetry, through [`HeaderInjector`]).

mod api;
mod client;
mod config;
mod dc;
mod error;
mod model;
mod request;
mod resilience;

pub use client::JiraClient;
pub use config::{
    ApiFlavor, ClientPolicy, Credentials, HeaderInjector, JiraClientConfig, default_user_agent,
};
pub use error::JiraError;
pub use model::{
    Comment, CreateIssue, CreatedIssue, EntityProperty, FieldMeta, FieldSchema, Issue, IssueType,
    Priority, Project, SearchPage, SearchRequest, Status, Transition, User, parse_jira_timestamp,
};
