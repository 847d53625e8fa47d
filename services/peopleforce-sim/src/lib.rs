//! jira-sync-peopleforce-sim: a PeopleForce simulator for tests, benchmarks and the demo.
//!
//! A real HTTP server (actix-web) speaking the part of PeopleForce's public REST API v3 that
//! jira-sync uses: tasks (list, create, complete, incomplete) and employees (list, get), under
//! `/api/public/v3`, authenticated by `X-API-KEY`, with PeopleForce's page-number pagination
//! envelope (`{"data": [...], "metadata": {"pagination": {page, pages, count, items}}}`).
//! A control API under `/_sim/` (and [`SimHandle`] in-process) seeds tasks and employees in
//! bulk, edits tasks as a person would in the web UI, injects faults and rate limits, and
//! exposes request counts.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use jira_sync_peopleforce_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let handle = sim.handle();
//! handle.seed_tasks(&Default::default());
//! println!("{} with key {}", handle.base_url(), handle.api_key());
//! sim.stop().await;
//! # Ok(()) }
//! ```
//!
//! The JSON shape of a task is not documented publicly (see the project's PeopleForce notes):
//! the simulator's shape (`id`, `title`, `description`, `due_date`, `assignee_id`,
//! `completed`, `completed_at`, `created_at`, `updated_at`, plus fields clients must ignore)
//! is our best guess, to be checked against a real tenant. State lives in memory.

#![warn(missing_docs)]

mod config;
mod control;
mod error;
mod faults;
mod guard;
mod handle;
mod model;
mod routes;
mod server;
mod state;
mod stats;

pub use config::{RateLimit, SimConfig};
pub use error::SimError;
pub use faults::{FaultKind, FaultRule, FaultSpec};
pub use handle::SimHandle;
pub use model::{
    Employee, EmployeeEdit, EmployeeSeed, Named, Task, TaskEdit, TaskSeed, TaskSeeded,
};
pub use server::{API_PREFIX, Simulator};
pub use stats::{RequestRecord, StatsSnapshot};
