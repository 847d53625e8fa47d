//! The poller: webhooks arrive late, twice or not at all, and this service repairs that. On
//! a schedule per connection it finds entities that may be out of sync and publishes one
//! `ReconcileRequest` (trigger `poll`) for each, through the same `Publisher` as the ingress;
//! the sync worker does the rest. It never writes to Jira or PeopleForce.
//!
//! - [`schedule`]: which jobs run how often (incremental JQL per Jira side, a daily full pass,
//!   a retry sweep of failed links, a full scan per PeopleForce side);
//! - `leader`: one replica runs each schedule, by a store lock (`poller/leader/<schedule>`:
//!   a session advisory lock on PostgreSQL, a leased row on SQLite), checked before every page;
//! - `runner`: leadership, timing and outcomes of one schedule; `jobs`: the jobs themselves;
//! - `hashes`: content hashes of PeopleForce tasks (stored in the store); `enqueue`: requests and confirmed publishes;
//! - [`observe`]: hooks and a status handle for tests; [`metrics`]: the Prometheus names;
//! - [`startup`]: [`Application`] with `/healthz`, `/readyz`, `/metrics`.

mod enqueue;
pub mod error;
mod hashes;
mod jobs;
pub mod leader;
pub mod metrics;
pub mod observe;
mod routes;
mod runner;
pub mod schedule;
pub mod startup;
mod timefmt;

pub use error::{RunError, StartupError};
pub use hashes::content_hash;
pub use observe::{PageEvent, PollerHandle, RunObserver, RunOutcome, RunReport, ScheduleStatus};
pub use schedule::{Job, Schedule};
pub use startup::{Application, leader_store};

/// The JQL of an incremental search from a given time.
pub use jobs::incremental_jql;
/// The store cursor of a Jira side's incremental search (newest `updated` processed, RFC 3339).
pub use jobs::jira_cursor_name;
