//! The worker's Prometheus metrics. Recording goes through the `metrics` facade; the recorder,
//! the shared counter names and the exposition belong to `jira_sync_telemetry`.

use std::time::Duration;

pub use jira_sync_telemetry::names::{EVENTS_DLQ, EVENTS_FAILED, EVENTS_RETRIED, EVENTS_SUCCEEDED};
use jira_sync_transport::amqp::format_delay;

/// Histogram: time from receiving a delivery to settling it.
pub const RECONCILE_DURATION: &str = "reconcile_duration_seconds";
/// Histogram: time from the source event (the webhook's timestamp) to the end of the reconcile
/// that wrote it to the other side.
pub const SYNC_LAG: &str = "sync_lag_seconds";

pub(crate) fn succeeded() {
    metrics::counter!(EVENTS_SUCCEEDED).increment(1);
}

/// A failed attempt; `class` is `transient` or the permanent class.
pub(crate) fn failed(class: &'static str) {
    metrics::counter!(EVENTS_FAILED, "class" => class).increment(1);
}

pub(crate) fn dead_lettered(class: String) {
    metrics::counter!(EVENTS_DLQ, "class" => class).increment(1);
}

/// A retry into the delay tier `tier`.
pub(crate) fn retried(tier: Duration) {
    metrics::counter!(EVENTS_RETRIED, "tier" => format_delay(tier)).increment(1);
}

pub(crate) fn reconcile_duration(elapsed: Duration) {
    metrics::histogram!(RECONCILE_DURATION).record(elapsed.as_secs_f64());
}

pub(crate) fn sync_lag(lag: Duration) {
    metrics::histogram!(SYNC_LAG).record(lag.as_secs_f64());
}
