//! Watching the poller from outside: [`RunObserver`] hooks called synchronously at the start
//! of a run, after each page (once its cursor is stored and its requests are confirmed) and at
//! the end; and [`PollerHandle`], which tells which schedules this process leads and how many
//! runs each has finished. Tests use both; the metrics say the same to Prometheus.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One page a run has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEvent {
    /// 1 for the first page of the run.
    pub number: u32,
    /// What was asked: the JQL of a Jira search, `page=N` for PeopleForce.
    pub query: String,
    /// Items on the page.
    pub items: usize,
    /// Requests published for it.
    pub enqueued: usize,
}

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Pages read.
    pub pages: u32,
    /// Issues, tasks or links read.
    pub scanned: u64,
    /// Items found changed since their last sync (or unknown).
    pub changed: u64,
    /// Requests published.
    pub enqueued: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every page was read.
    Completed(RunReport),
    /// The leader session was lost: the run stopped before its next page.
    LostLeadership(RunReport),
    /// Shutdown was asked for.
    Cancelled(RunReport),
    /// An error stopped it (it is retried at the next interval).
    Failed {
        /// What was done before the error.
        report: RunReport,
        /// The error, without secrets.
        error: String,
    },
}

impl RunOutcome {
    /// The `outcome` label of `poller_runs_total`.
    pub fn label(&self) -> &'static str {
        match self {
            RunOutcome::Completed(_) => "ok",
            RunOutcome::LostLeadership(_) => "lost_leadership",
            RunOutcome::Cancelled(_) => "cancelled",
            RunOutcome::Failed { .. } => "error",
        }
    }
}

/// Hooks into the runs of every schedule. Called on the run's own task: keep them quick.
pub trait RunObserver: Send + Sync + 'static {
    /// A run of `schedule` starts (this process leads it).
    fn run_started(&self, _schedule: &str) {}
    /// A page is done: its requests are confirmed and its cursor (if any) is stored.
    fn page_done(&self, _schedule: &str, _page: &PageEvent) {}
    /// A run ended.
    fn run_finished(&self, _schedule: &str, _outcome: &RunOutcome) {}
}

/// The observer that watches nothing.
pub(crate) struct NoObserver;

impl RunObserver for NoObserver {}

/// What one process knows about one of its schedules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleStatus {
    /// Whether this process holds the schedule's leader lock.
    pub leading: bool,
    /// Runs finished here, whatever their outcome.
    pub runs: u64,
    /// The outcome of the last run here.
    pub last_outcome: Option<RunOutcome>,
}

/// A cheap, cloneable view of a running poller's schedules.
#[derive(Debug, Clone, Default)]
pub struct PollerHandle {
    inner: Arc<Mutex<BTreeMap<String, ScheduleStatus>>>,
}

impl PollerHandle {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ScheduleStatus>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn register(&self, schedule: &str) {
        self.lock().entry(schedule.to_owned()).or_default();
    }

    pub(crate) fn set_leading(&self, schedule: &str, leading: bool) {
        self.lock().entry(schedule.to_owned()).or_default().leading = leading;
    }

    pub(crate) fn finished(&self, schedule: &str, outcome: RunOutcome) {
        let mut all = self.lock();
        let status = all.entry(schedule.to_owned()).or_default();
        status.runs += 1;
        status.last_outcome = Some(outcome);
    }

    /// The status of every schedule of this process.
    pub fn statuses(&self) -> BTreeMap<String, ScheduleStatus> {
        self.lock().clone()
    }

    /// The status of one schedule.
    pub fn status(&self, schedule: &str) -> Option<ScheduleStatus> {
        self.lock().get(schedule).cloned()
    }

    /// The schedules this process leads now.
    pub fn leading(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, s)| s.leading)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Whether this process leads `schedule` now.
    pub fn is_leading(&self, schedule: &str) -> bool {
        self.lock().get(schedule).is_some_and(|s| s.leading)
    }
}
