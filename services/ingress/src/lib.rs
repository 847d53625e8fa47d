//! The ingress service: receives Jira webhooks, authenticates them over the raw body, routes
//! them to the connections they concern and publishes one reconcile request per connection,
//! answering 202 only once the broker confirmed (503 with `Retry-After` otherwise, so Jira
//! retries). It never calls Jira and keeps no state: the sync worker does the rest.
//!
//! Embedders (tests, the all-in-one binary) use [`Application::build_with`] to inject the
//! publisher and readiness check; `main` uses [`Application::build`], which connects to
//! RabbitMQ and PostgreSQL from [`Settings`](jira_sync_settings::Settings).

mod dispatch;
pub mod error;
pub mod limits;
pub mod routes;
mod startup;
pub mod verify;

pub use dispatch::{IgnoreReason, Plan, plan};
pub use error::{ApiError, IngressError};
pub use startup::{Application, IngressDeps, Readiness, StoreReadiness};
pub use verify::{AuthError, VerifiedWebhook, verify};
