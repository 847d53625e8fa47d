//! [`SimHandle`]: in-process access to a running simulator, mirroring the `/_sim/` control API
//! (same operations, same validation) for tests that prefer not to go through HTTP.

use std::sync::Arc;

use crate::config::RateLimit;
use crate::error::SimError;
use crate::faults::{FaultRule, FaultSpec};
use crate::model::{Employee, EmployeeEdit, EmployeeSeed, Task, TaskEdit, TaskSeed, TaskSeeded};
use crate::server::API_PREFIX;
use crate::state::{Bucket, Sim};
use crate::stats::{RequestRecord, StatsSnapshot};

/// A running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    sim: Arc<Sim>,
    base_url: String,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The API key is a credential: left out.
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    pub(crate) fn new(sim: Arc<Sim>, base_url: String) -> Self {
        Self { sim, base_url }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): what a client's `base_url` is.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `base_url` plus [`API_PREFIX`].
    pub fn api_url(&self) -> String {
        format!("{}{API_PREFIX}", self.base_url)
    }

    /// The API key the simulator accepts.
    pub fn api_key(&self) -> &str {
        &self.sim.config.api_key
    }

    /// Seeds tasks quietly (not counted in stats).
    pub fn seed_tasks(&self, seed: &TaskSeed) -> Result<TaskSeeded, SimError> {
        self.sim.lock().seed_tasks(seed)
    }

    /// Adds `count` employees.
    pub fn seed_employees(&self, count: u32) {
        self.sim.lock().seed_employees(&EmployeeSeed { count });
    }

    /// Changes an employee as HR would in the web UI (`PATCH /_sim/employees/{id}`).
    pub fn edit_employee(&self, id: u64, edit: &EmployeeEdit) -> Result<Employee, SimError> {
        self.sim.lock().edit_employee(id, edit)
    }

    /// Changes a task as a person would in the web UI (`PATCH /_sim/tasks/{id}`).
    pub fn edit_task(&self, id: u64, edit: &TaskEdit) -> Result<Task, SimError> {
        self.sim.lock().edit_task(id, edit)
    }

    /// Deletes a task as a person would in the web UI (`DELETE /_sim/tasks/{id}`; the public
    /// API has no delete).
    pub fn delete_task(&self, id: u64) -> Result<Task, SimError> {
        self.sim.lock().delete_task(id)
    }

    /// One task.
    pub fn task(&self, id: u64) -> Option<Task> {
        self.sim.lock().tasks.get(&id).cloned()
    }

    /// Every task, by id.
    pub fn tasks(&self) -> Vec<Task> {
        self.sim.lock().tasks.values().cloned().collect()
    }

    /// Adds a fault rule (`POST /_sim/faults`).
    pub fn add_fault(&self, spec: FaultSpec) -> FaultRule {
        self.sim.lock().faults.add(spec)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.sim.lock().faults.clear();
    }

    /// Replaces the rate limit (`None` turns it off).
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        let mut st = self.sim.lock();
        st.rate_limit = limit;
        st.limiter = Bucket::from_limit(limit);
    }

    /// Counters since start or the last reset.
    pub fn stats(&self) -> StatsSnapshot {
        self.sim.lock().stats.counters.clone()
    }

    /// Zeroes the counters and empties the request log.
    pub fn reset_stats(&self) {
        self.sim.lock().stats.reset();
    }

    /// The newest `limit` API requests, oldest first.
    pub fn recent_requests(&self, limit: usize) -> Vec<RequestRecord> {
        self.sim.lock().stats.recent(limit)
    }

    /// Back to the configured start.
    pub fn reset(&self) {
        self.sim.reset();
    }
}
