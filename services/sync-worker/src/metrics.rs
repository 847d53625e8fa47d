//! The worker's Prometheus metrics. Recording goes through the `metrics` facade; the recorder,
//! the shared counter names and the exposition belong to `jira_sync_telemetry`.

use std::time::Duration;

/// Histograms: time from receiving a delivery to settling it ([`RECONCILE_DURATION`]), and from
/// the source event (the webhook's timestamp) to the end of the reconcile that wrote it to the
/// other side ([`SYNC_LAG`]). Their buckets are set by `jira_sync_telemetry`.
pub use jira_sync_telemetry::names::{
    EVENTS_DLQ, EVENTS_FAILED, EVENTS_RETRIED, EVENTS_SUCCEEDED, RECONCILE_DURATION, SYNC_LAG,
};
use jira_sync_transport::amqp::format_delay;

/// Every event counter carries the `connection` of the request (`unknown` when undecodable).
pub(crate) fn succeeded(connection: &str) {
    metrics::counter!(EVENTS_SUCCEEDED, "connection" => connection.to_owned()).increment(1);
}

/// A failed attempt; `class` is `transient` or the permanent class.
pub(crate) fn failed(class: &'static str, connection: &str) {
    metrics::counter!(EVENTS_FAILED, "class" => class, "connection" => connection.to_owned())
        .increment(1);
}

pub(crate) fn dead_lettered(class: String, connection: &str) {
    metrics::counter!(EVENTS_DLQ, "class" => class, "connection" => connection.to_owned())
        .increment(1);
}

/// A retry into the delay tier `tier`.
pub(crate) fn retried(tier: Duration, connection: &str) {
    metrics::counter!(
        EVENTS_RETRIED,
        "tier" => format_delay(tier),
        "connection" => connection.to_owned()
    )
    .increment(1);
}

pub(crate) fn reconcile_duration(elapsed: Duration) {
    metrics::histogram!(RECONCILE_DURATION).record(elapsed.as_secs_f64());
}

pub(crate) fn sync_lag(lag: Duration) {
    metrics::histogram!(SYNC_LAG).record(lag.as_secs_f64());
}

/// Counter: custom fields found unmappable (reported once per process and field).
pub const UNMAPPABLE_FIELD: &str = "unmappable_field_total";

pub(crate) fn unmappable_field(connection: &jira_sync_domain::ConnectionId, field: &str) {
    metrics::counter!(
        UNMAPPABLE_FIELD,
        "connection" => connection.to_string(),
        "field" => field.to_owned()
    )
    .increment(1);
}
