//! The jobs a schedule runs, and [`Run`], what every job works through: the shared context,
//! the checkpoint before each page (shutdown asked? still the leader?), publishing, counting
//! and the observer.
//!
//! Every job only enqueues: it finds entities that may be out of sync and publishes one
//! `ReconcileRequest` (trigger `poll`) for each; the worker decides and writes.

mod enqueued;
mod full_pass;
mod jira_incremental;
mod peopleforce_scan;
mod retry_sweep;

pub use jira_incremental::{cursor_name as jira_cursor_name, incremental_jql};

use std::collections::BTreeMap;
use std::sync::Arc;

use jira_sync_domain::{ConnectionId, EndpointId, ReconcileRequest, Side};
use jira_sync_jira_client::JiraClient;
use jira_sync_peopleforce_client::PeopleForceClient;
use jira_sync_settings::{ConnectionSettings, Settings};
use jira_sync_store::Store;
use jira_sync_transport::Publisher;
use tokio_util::sync::CancellationToken;

use crate::enqueue::publish_all;
use crate::error::RunError;
use crate::leader::Leadership;
use crate::metrics;
use crate::observe::{PageEvent, RunObserver, RunReport};
use crate::schedule::{Job, Schedule};

/// What every run needs; one per process, shared by the schedules.
pub(crate) struct Ctx {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub publisher: Arc<dyn Publisher>,
    pub jira: BTreeMap<EndpointId, JiraClient>,
    pub peopleforce: BTreeMap<EndpointId, PeopleForceClient>,
    pub observer: Arc<dyn RunObserver>,
    /// What the incremental searches enqueued, so that a queued issue is not enqueued again.
    pub enqueued: Arc<enqueued::Enqueued>,
}

impl Ctx {
    pub fn connection(&self, id: &ConnectionId) -> Result<&ConnectionSettings, RunError> {
        (self.settings.connections)
            .get(id)
            .ok_or_else(|| RunError::UnknownConnection(id.clone()))
    }

    pub fn jira(&self, endpoint: &EndpointId) -> Result<&JiraClient, RunError> {
        (self.jira)
            .get(endpoint)
            .ok_or_else(|| RunError::NoClient(endpoint.clone()))
    }

    pub fn peopleforce(&self, endpoint: &EndpointId) -> Result<&PeopleForceClient, RunError> {
        (self.peopleforce)
            .get(endpoint)
            .ok_or_else(|| RunError::NoClient(endpoint.clone()))
    }

    /// The sides of a connection whose endpoint is a Jira site.
    pub fn jira_sides(&self, connection: &ConnectionSettings) -> Vec<Side> {
        [Side::Left, Side::Right]
            .into_iter()
            .filter(|s| self.jira.contains_key(&connection.side(*s).endpoint))
            .collect()
    }
}

/// One run of one schedule, while this process leads it.
pub(crate) struct Run<'a> {
    pub ctx: &'a Ctx,
    pub schedule: &'a Schedule,
    leadership: &'a mut Leadership,
    shutdown: &'a CancellationToken,
    pub report: RunReport,
}

impl<'a> Run<'a> {
    pub fn new(
        ctx: &'a Ctx,
        schedule: &'a Schedule,
        leadership: &'a mut Leadership,
        shutdown: &'a CancellationToken,
    ) -> Self {
        Self {
            ctx,
            schedule,
            leadership,
            shutdown,
            report: RunReport::default(),
        }
    }

    /// Runs the schedule's job to its end.
    pub async fn execute(&mut self) -> Result<(), RunError> {
        match self.schedule.job.clone() {
            Job::JiraIncremental { connection, side } => {
                jira_incremental::run(self, &connection, side).await
            }
            Job::JiraFullPass { connection } => full_pass::run(self, &connection).await,
            Job::RetrySweep { connection } => retry_sweep::run(self, &connection).await,
            Job::PeopleForceScan { connection, side } => {
                peopleforce_scan::run(self, &connection, side).await
            }
        }
    }

    /// Called before every page: stops the run when shutdown was asked for or when the leader
    /// lock is gone (another replica may have taken the schedule over).
    pub async fn checkpoint(&mut self) -> Result<(), RunError> {
        if self.shutdown.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        self.leadership.check().await?;
        Ok(())
    }

    /// Counts items read and found changed.
    pub fn counted(&mut self, scanned: u64, changed: u64) {
        self.report.scanned += scanned;
        self.report.changed += changed;
        metrics::scanned(&self.schedule.id, scanned);
        metrics::changes(&self.schedule.id, changed);
    }

    /// Publishes the requests (all confirmed, or an error).
    pub async fn publish(&mut self, requests: &[ReconcileRequest]) -> Result<usize, RunError> {
        let published = publish_all(self.ctx.publisher.as_ref(), requests).await?;
        self.report.enqueued += published as u64;
        metrics::enqueued(&self.schedule.id, published as u64);
        Ok(published)
    }

    /// Tells the observer a page is done (its requests confirmed, its cursor stored).
    pub fn page_done(&mut self, query: String, items: usize, enqueued: usize) {
        self.report.pages += 1;
        let event = PageEvent {
            number: self.report.pages,
            query,
            items,
            enqueued,
        };
        self.ctx.observer.page_done(&self.schedule.id, &event);
    }
}
