//! The sync worker: consumes reconcile requests from the work queue and brings each entity of a
//! Jira <-> Jira connection into sync (summary, description, labels, priority, due date).
//!
//! - [`startup`]: [`Application`] wiring (store, transport, Jira clients, HTTP server) and run.
//! - `consume`: the consume loop with bounded concurrency and graceful drain.
//! - `gauges`: queue depths and open conflicts, refreshed on a timer.
//! - [`handler`]: one delivery: decode -> reconcile -> ack / retry / dead-letter.
//! - [`reconcile`]: the level-triggered, idempotent reconcile engine.
//! - [`error`]: the error types and their dispositions.
//!
//! Queues, storage and Jira HTTP live in their own crates; this one decides what to do.

mod consume;
pub mod error;
mod gauges;
pub mod handler;
pub mod jira;
pub mod metrics;
pub mod reconcile;
mod routes;
pub mod startup;
#[cfg(test)]
mod test_support;

pub use error::{DeliveryError, ReconcileError, StartupError};
pub use jira::JiraClients;
pub use reconcile::{Outcome, Reconciler};
pub use startup::Application;
