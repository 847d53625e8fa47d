//! `SiteHandle`: in-process access to one running site, mirroring the `/_sim/` control API
//! (same operations, same validation) for tests that prefer not to go through HTTP.

use std::sync::Arc;

use serde_json::Value;

use crate::clock::ClockCommand;
use crate::config::SimUser;
use crate::error::ApiError;
use crate::faults::{FaultRule, FaultSpec};
use crate::limits::Limits;
use crate::site::Site;
use crate::state::seed::{BulkSeed, BulkSeeded};
use crate::stats::{DeliveryRecord, RequestRecord, StatsSnapshot};
use crate::webhooks::faults::WebhookFaultSpec;
use crate::webhooks::{WebhookInfo, WebhookSpec};

/// A running site.
#[derive(Clone)]
pub struct SiteHandle {
    site: Arc<Site>,
    base_url: String,
}

impl std::fmt::Debug for SiteHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteHandle")
            .field("name", &self.site.name)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl SiteHandle {
    pub(crate) fn new(site: Arc<Site>, base_url: String) -> Self {
        Self { site, base_url }
    }

    /// The site's name.
    pub fn name(&self) -> &str {
        &self.site.name
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The port the site listens on.
    pub fn port(&self) -> u16 {
        self.base_url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default()
    }

    /// Whether the site simulates Jira Data Center (REST v2 under `/rest/api/2`).
    pub fn is_data_center(&self) -> bool {
        self.site.cat.data_center
    }

    /// The configured users (with their API tokens).
    pub fn users(&self) -> &[SimUser] {
        &self.site.cat.users
    }

    /// The user with this account id.
    pub fn user(&self, account_id: &str) -> Option<&SimUser> {
        self.site.cat.user(account_id)
    }

    /// The bot user, when one is configured.
    pub fn bot(&self) -> Option<&SimUser> {
        self.site
            .cat
            .bot
            .as_deref()
            .and_then(|b| self.site.cat.user(b))
    }

    /// The configured project keys.
    pub fn projects(&self) -> &[String] {
        &self.site.cat.projects
    }

    /// Registers a webhook (`POST /_sim/webhooks`).
    pub fn register_webhook(&self, spec: WebhookSpec) -> Result<WebhookInfo, ApiError> {
        self.site.register_webhook(spec)
    }

    /// Registered webhooks.
    pub fn webhooks(&self) -> Vec<WebhookInfo> {
        self.site.webhooks()
    }

    /// Removes a webhook; `false` when unknown.
    pub fn remove_webhook(&self, id: u64) -> bool {
        self.site.remove_webhook(id)
    }

    /// Adds a REST fault rule (`POST /_sim/faults`).
    pub fn add_fault(&self, spec: FaultSpec) -> Result<FaultRule, ApiError> {
        self.site.add_fault(spec)
    }

    /// Rules in force.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.site.faults()
    }

    /// Removes every REST fault rule.
    pub fn clear_faults(&self) {
        self.site.clear_faults();
    }

    /// Replaces the webhook fault settings (`POST /_sim/webhook-faults`).
    pub fn set_webhook_faults(&self, spec: WebhookFaultSpec) -> Result<(), ApiError> {
        self.site.set_webhook_faults(spec)
    }

    /// Current webhook fault settings, with remaining counts.
    pub fn webhook_faults(&self) -> WebhookFaultSpec {
        self.site.webhook_faults()
    }

    /// Limits in force.
    pub fn limits(&self) -> Limits {
        self.site.limits()
    }

    /// Replaces the limits (`PUT /_sim/limits`).
    pub fn set_limits(&self, limits: Limits) -> Result<(), ApiError> {
        self.site.set_limits(limits)
    }

    /// Counters since start or the last reset.
    pub fn stats(&self) -> StatsSnapshot {
        self.site.stats()
    }

    /// Zeroes the counters and empties the logs.
    pub fn reset_stats(&self) {
        self.site.reset_stats();
    }

    /// The newest `limit` REST requests, oldest first.
    pub fn recent_requests(&self, limit: usize) -> Vec<RequestRecord> {
        self.site.recent_requests(limit)
    }

    /// The newest `limit` webhook attempts, oldest first.
    pub fn webhook_deliveries(&self, limit: usize) -> Vec<DeliveryRecord> {
        self.site.recent_deliveries(limit)
    }

    /// Every issue (of `project`, when given) as a full bean with properties and changelog.
    pub fn issues(&self, project: Option<&str>) -> Vec<Value> {
        self.site.dump(project)
    }

    /// One issue by id or key, as `issues` renders it.
    pub fn issue(&self, id_or_key: &str) -> Option<Value> {
        self.site.issue(id_or_key)
    }

    /// Seeds issues quietly (no webhooks, no stats).
    pub fn seed_issues(&self, seed: &BulkSeed) -> Result<BulkSeeded, ApiError> {
        self.site.seed(seed)
    }

    /// Freezes, advances or releases the clock; returns the new time (Jira format).
    pub fn clock(&self, cmd: &ClockCommand) -> String {
        self.site.clock(cmd)
    }

    /// Back to the configured start: no issues, webhooks, faults or stats.
    pub fn reset(&self) {
        self.site.reset();
    }
}
