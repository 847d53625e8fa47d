//! jira-sync-jira-sim: a Jira Cloud simulator for tests, benchmarks and the demo.
//!
//! Each configured site is a real HTTP server (actix-web) on its own port that speaks the parts
//! of Jira Cloud REST v3 jira-sync uses (issues, transitions, comments, entity properties,
//! enhanced JQL search) with Jira's paths, status codes, JSON shapes and error bodies, checks
//! Basic auth, and sends signed webhooks shaped like Jira's with Jira's retry policy. A control
//! API under `/_sim/` (and [`SiteHandle`] in-process) registers webhooks, injects faults and
//! rate limits, seeds issues in bulk, and exposes counters and recent requests. A site with
//! [`SiteConfig::data_center`] set speaks Jira Data Center's REST v2 instead (wiki markup,
//! users by name and key, offset search, Data Center webhooks) over the same store.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use jira_sync_jira_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::single_site("alpha", &["ALPHA"])).await?;
//! let site = sim.site("alpha").expect("configured");
//! println!("{} as {}", site.base_url(), site.users()[0].email);
//! sim.stop().await;
//! # Ok(()) }
//! ```
//!
//! What is left out: it owns no persistence (state lives in memory until `stop` or reset), and
//! only the JQL subset documented in [`jql`](crate::jql) is understood.

#![warn(missing_docs)]

pub mod cli;
mod clock;
pub mod config;
mod control;
mod dialect;
mod error;
mod faults;
mod guard;
mod handle;
mod jql;
mod limits;
mod routes;
mod server;
mod site;
mod state;
mod stats;
mod webhooks;
mod workflow;

pub use clock::ClockCommand;
pub use config::{
    ConfigError, CustomFieldDef, CustomFieldKind, LatencyRange, Limits, PerIssueWrites, SimConfig,
    SimUser, SiteConfig, StatusCategory, StatusDef, TokenBucket, TransitionDef, Workflow,
    WriteWindow,
};
pub use error::{ApiError, ISSUE_NOT_FOUND};
pub use faults::{FaultKind, FaultRule, FaultSpec};
pub use handle::SiteHandle;
pub use server::Simulator;
pub use state::seed::{BulkSeed, BulkSeeded};
pub use stats::{DeliveryRecord, RequestRecord, StatsSnapshot, WebhookStats};
pub use webhooks::delivery::signature;
pub use webhooks::faults::WebhookFaultSpec;
pub use webhooks::{DEFAULT_EVENTS, WebhookInfo, WebhookSpec};
