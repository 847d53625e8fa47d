//! The operator's admin API of jira-sync, under `/api/v1`, and its command-line client.
//!
//! It owns the operator's controls: ask for a manual sync of one issue (a `ReconcileRequest`
//! with `Trigger::Manual`, published with a broker confirm), read the state of links (last
//! sync, last error, lag, base, recent audit), inspect and replay dead letters, and list and
//! resolve held conflicts. Every route but the OpenAPI document wants
//! `Authorization: Bearer <key>` with a key of `admin.api_keys`, compared in constant time.
//!
//! It leaves the syncing to the worker: a resolution is stored on the conflict and a manual
//! reconcile of the link is enqueued; the worker writes the chosen value on that reconcile.
//!
//! - [`startup`]: [`Application`] (the standalone server) and [`configure`] (the `/api/v1`
//!   scope, to mount into another actix `App`).
//! - `routes`: one module per resource; [`served_routes`] lists what is served.
//! - [`error`]: every error and its HTTP mapping, in one place.
//! - [`views`]: the JSON bodies, shared with the [`cli`].
//! - [`cli`]: `sync`, `links`, `conflicts`, `dlq` over HTTP ([`cli::run_cli`]).
//!
//! The API is described by `openapi.json` next to this crate's manifest, served at
//! `GET /api/v1/openapi.json` ([`OPENAPI_JSON`]).

mod auth;
pub mod cli;
pub mod error;
mod jira;
pub mod resolution;
mod routes;
pub mod startup;
pub mod views;

pub use auth::ApiKeys;
pub use error::{AdminError, ApiError};
pub use resolution::Resolution;
pub use routes::{RouteInfo, served_routes};
pub use startup::{AdminDeps, AdminState, Application, configure};

/// The OpenAPI 3 document of the admin API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// The path prefix of every admin route.
pub const API_PREFIX: &str = "/api/v1";
