//! The sync worker: consumes reconcile requests from the work queue and brings each entity of a
//! Jira <-> Jira connection (summary, description, labels, priority, due date, ...) or of a
//! PeopleForce <-> Jira connection (task <-> issue) into sync.
//!
//! - [`startup`]: [`Application`] wiring (store, transport, Jira clients, HTTP server) and run.
//! - `consume`: the consume loop with bounded concurrency and graceful drain.
//! - `gauges`: queue depths and open conflicts, refreshed on a timer.
//! - [`handler`]: one delivery: decode -> reconcile -> ack / retry / dead-letter.
//! - [`reconcile`]: the level-triggered, idempotent reconcile engine (Jira <-> Jira, and
//!   PeopleForce <-> Jira in `reconcile::peopleforce`).
//! - [`peopleforce`]: the PeopleForce clients and the `create_from` choice.
//! - [`error`]: the error types and their dispositions.
//!
//! Queues, storage and Jira HTTP live in their own crates; this one decides what to do.

mod consume;
pub mod error;
mod gauges;
pub mod handler;
pub mod jira;
pub mod metrics;
pub mod peopleforce;
pub mod reconcile;
mod routes;
pub mod startup;
#[cfg(test)]
mod test_support;

pub use error::{DeliveryError, ReconcileError, StartupError};
pub use jira::JiraClients;
pub use peopleforce::{CreateFrom, PeopleforceClients};
pub use reconcile::{Outcome, Reconciler};
pub use startup::Application;
