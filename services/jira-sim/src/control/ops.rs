//! What the control API can do to a site, shared by the `/_sim/` routes and the in-process
//! `SiteHandle`, so both behave the same.

use serde_json::Value;

use crate::clock::{ClockCommand, jira_time};
use crate::error::ApiError;
use crate::faults::{FaultKind, FaultRule, FaultSpec};
use crate::limits::{Limiter, Limits};
use crate::site::Site;
use crate::state::render::{self, BeanOptions};
use crate::state::seed::{self, BulkSeed, BulkSeeded};
use crate::state::selection::{FieldSelection, PropSelection};
use crate::stats::{DeliveryRecord, RequestRecord, StatsSnapshot};
use crate::webhooks::faults::{WebhookFaultSpec, WebhookFaults};
use crate::webhooks::{WebhookInfo, WebhookSpec};

fn probability(name: &str, p: Option<f64>) -> Result<(), ApiError> {
    match p {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(ApiError::field(
            name,
            "A probability must be between 0 and 1.",
        )),
        _ => Ok(()),
    }
}

impl Site {
    pub(crate) fn register_webhook(&self, spec: WebhookSpec) -> Result<WebhookInfo, ApiError> {
        let mut st = self.lock();
        let st = &mut *st;
        st.hooks.register(spec, &self.cat, &st.store)
    }

    pub(crate) fn webhooks(&self) -> Vec<WebhookInfo> {
        self.lock().hooks.list()
    }

    pub(crate) fn remove_webhook(&self, id: u64) -> bool {
        self.lock().hooks.remove(id)
    }

    pub(crate) fn add_fault(&self, spec: FaultSpec) -> Result<FaultRule, ApiError> {
        probability("probability", spec.probability)?;
        if let FaultKind::Status(code) | FaultKind::LostResponse(code) = spec.kind
            && !(100..=599).contains(&code)
        {
            return Err(ApiError::field(
                "kind",
                "A status must be between 100 and 599.",
            ));
        }
        Ok(self.lock().faults.add(spec))
    }

    pub(crate) fn faults(&self) -> Vec<FaultRule> {
        self.lock().faults.list()
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub(crate) fn set_webhook_faults(&self, spec: WebhookFaultSpec) -> Result<(), ApiError> {
        probability("drop_probability", Some(spec.drop_probability))?;
        probability("duplicate_probability", Some(spec.duplicate_probability))?;
        self.lock().webhook_faults = WebhookFaults::new(spec);
        Ok(())
    }

    pub(crate) fn webhook_faults(&self) -> WebhookFaultSpec {
        self.lock().webhook_faults.spec.clone()
    }

    pub(crate) fn limits(&self) -> Limits {
        self.lock().limiter.limits.clone()
    }

    pub(crate) fn set_limits(&self, limits: Limits) -> Result<(), ApiError> {
        if let Some(r) = &limits.latency_ms
            && r.min > r.max
        {
            return Err(ApiError::field("latency_ms", "min must not exceed max."));
        }
        if limits
            .global_rps
            .as_ref()
            .is_some_and(|b| !b.rate.is_finite() || b.rate <= 0.0 || b.burst == 0)
        {
            return Err(ApiError::field(
                "global_rps",
                "rate must be positive and burst at least 1.",
            ));
        }
        self.lock().limiter = Limiter::new(limits);
        Ok(())
    }

    pub(crate) fn stats(&self) -> StatsSnapshot {
        self.lock().stats.counters.clone()
    }

    pub(crate) fn reset_stats(&self) {
        self.lock().stats.reset();
    }

    pub(crate) fn recent_requests(&self, limit: usize) -> Vec<RequestRecord> {
        self.lock().stats.recent_requests(limit)
    }

    pub(crate) fn recent_deliveries(&self, limit: usize) -> Vec<DeliveryRecord> {
        self.lock().stats.recent_deliveries(limit)
    }

    /// Every issue (optionally of one project) as a full bean with properties and changelog.
    pub(crate) fn dump(&self, project: Option<&str>) -> Vec<Value> {
        let opts = BeanOptions {
            properties: PropSelection::parse(["*all"]),
            changelog: true,
            names: false,
        };
        self.read(|st, cat| {
            let project = project.map(|p| cat.project_by_key(p));
            st.store
                .issues
                .values()
                .filter(|i| project.is_none_or(|p| p == Some(i.project)))
                .map(|i| render::bean(cat, i, &FieldSelection::all(), &opts))
                .collect()
        })
    }

    /// One issue as `dump` renders it.
    pub(crate) fn issue(&self, id_or_key: &str) -> Option<Value> {
        let opts = BeanOptions {
            properties: PropSelection::parse(["*all"]),
            changelog: true,
            names: false,
        };
        self.read(|st, cat| {
            let issue = st.store.get(st.store.find(id_or_key)?)?;
            Some(render::bean(cat, issue, &FieldSelection::all(), &opts))
        })
    }

    pub(crate) fn seed(&self, request: &BulkSeed) -> Result<BulkSeeded, ApiError> {
        let actor = self.cat.users.first().map(|u| u.account_id.clone());
        let mut st = self.lock();
        let now = st.clock.now_ms();
        seed::seed(&mut st.store, &self.cat, actor.as_deref(), now, request)
    }

    /// Applies a clock command; returns the new time in Jira's format.
    pub(crate) fn clock(&self, cmd: &ClockCommand) -> String {
        let mut st = self.lock();
        st.clock.apply(cmd);
        jira_time(st.clock.now_ms())
    }
}
