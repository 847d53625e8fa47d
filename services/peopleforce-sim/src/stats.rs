//! Request counters by route template and the log of recent requests that tests assert on.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Records kept in the request log.
const RECENT_CAP: usize = 10_000;

/// Counters since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Requests by `"METHOD /route/template"`, e.g. `"GET /api/public/v3/tasks"`.
    pub requests: BTreeMap<String, u64>,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Requests refused with 429 by the built-in rate limit.
    pub rate_limited: u64,
    /// Requests hit by a fault rule.
    pub faults_injected: u64,
}

impl StatsSnapshot {
    /// Requests counted for `"METHOD /route"` (0 when none).
    pub fn count(&self, route_key: &str) -> u64 {
        self.requests.get(route_key).copied().unwrap_or(0)
    }
}

/// One API request, as `GET /_sim/requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string (without `?`).
    pub query: String,
    /// Route template.
    pub route: String,
    /// Status answered.
    pub status: u16,
}

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub counters: StatsSnapshot,
    recent: VecDeque<RequestRecord>,
}

impl Stats {
    pub fn count(&mut self, route_key: String) {
        *self.counters.requests.entry(route_key).or_default() += 1;
    }

    pub fn record(&mut self, record: RequestRecord) {
        if self.recent.len() == RECENT_CAP {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    /// The newest `limit` requests, oldest first.
    pub fn recent(&self, limit: usize) -> Vec<RequestRecord> {
        self.recent
            .iter()
            .skip(self.recent.len().saturating_sub(limit))
            .cloned()
            .collect()
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
