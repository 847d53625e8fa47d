//! Counters (requests by route template, reads, writes, writes per issue, webhook outcomes) and
//! the ring buffers of recent requests and webhook deliveries that tests assert on.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Records kept per log (about 2 MB of requests at most).
const RECENT_CAP: usize = 10_000;

/// Counters of one site since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// Requests by `"METHOD /route/template"`, e.g. `"PUT /rest/api/3/issue/{id}"`.
    pub requests: BTreeMap<String, u64>,
    /// REST requests that read (GET, and POST `/search/jql`).
    pub reads: u64,
    /// REST requests that write (POST, PUT, DELETE).
    pub writes: u64,
    /// Successful writes by issue id.
    pub writes_per_issue: BTreeMap<String, u64>,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Requests refused with 429 by the built-in limits.
    pub rate_limited: u64,
    /// Requests hit by a fault rule.
    pub faults_injected: u64,
    /// Webhook outcomes.
    pub webhooks: WebhookStats,
}

/// Webhook outcomes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebhookStats {
    /// Events queued for delivery (one per matching registration).
    pub events: u64,
    /// HTTP requests made (first attempts, retries and duplicates).
    pub sent: u64,
    /// Events whose delivery got a 2xx.
    pub delivered: u64,
    /// Retry attempts made.
    pub retried: u64,
    /// Events dropped by a webhook fault (never sent).
    pub dropped: u64,
    /// Extra copies sent by a webhook fault.
    pub duplicated: u64,
    /// Events given up on (non-retryable answer, or retries exhausted).
    pub failed: u64,
}

/// One REST request, as `GET /_sim/requests` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Request path (no query).
    pub path: String,
    /// Route template, e.g. `/rest/api/3/issue/{id}` (the path when no route matched).
    pub route: String,
    /// Status answered.
    pub status: u16,
    /// The W3C `traceparent` header, when sent.
    pub traceparent: Option<String>,
    /// Account id of the authenticated caller.
    pub account: Option<String>,
    /// Epoch milliseconds (simulator clock).
    pub at: i64,
}

/// One webhook HTTP attempt (or a drop), as `GET /_sim/webhook-deliveries` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRecord {
    /// Registration id.
    pub webhook_id: u64,
    /// `X-Atlassian-Webhook-Identifier`.
    pub identifier: String,
    /// `webhookEvent`.
    pub event: String,
    /// Id of the issue involved.
    pub issue_id: Option<String>,
    /// 0 for the first attempt, n for the n-th retry.
    pub attempt: u32,
    /// HTTP status received, when a response came back.
    pub status: Option<u16>,
    /// `delivered`, `retrying`, `failed`, `dropped` or `duplicate`.
    pub outcome: String,
    /// Transport error of a failed attempt.
    pub error: Option<String>,
    /// Epoch milliseconds (simulator clock).
    pub at: i64,
}

/// Counters and recent records of a site.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub counters: StatsSnapshot,
    requests: VecDeque<RequestRecord>,
    deliveries: VecDeque<DeliveryRecord>,
}

impl Stats {
    pub fn count_request(&mut self, route_key: &str, is_write: bool) {
        *self
            .counters
            .requests
            .entry(route_key.to_owned())
            .or_default() += 1;
        if is_write {
            self.counters.writes += 1;
        } else {
            self.counters.reads += 1;
        }
    }

    pub fn count_issue_write(&mut self, issue_id: u64) {
        *self
            .counters
            .writes_per_issue
            .entry(issue_id.to_string())
            .or_default() += 1;
    }

    pub fn record_request(&mut self, record: RequestRecord) {
        push_capped(&mut self.requests, record);
    }

    pub fn record_delivery(&mut self, record: DeliveryRecord) {
        push_capped(&mut self.deliveries, record);
    }

    /// The newest `limit` requests, oldest first.
    pub fn recent_requests(&self, limit: usize) -> Vec<RequestRecord> {
        tail(&self.requests, limit)
    }

    /// The newest `limit` deliveries, oldest first.
    pub fn recent_deliveries(&self, limit: usize) -> Vec<DeliveryRecord> {
        tail(&self.deliveries, limit)
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

fn push_capped<T>(buf: &mut VecDeque<T>, item: T) {
    if buf.len() == RECENT_CAP {
        buf.pop_front();
    }
    buf.push_back(item);
}

fn tail<T: Clone>(buf: &VecDeque<T>, limit: usize) -> Vec<T> {
    buf.iter()
        .skip(buf.len().saturating_sub(limit))
        .cloned()
        .collect()
}
