//! The process-wide Prometheus recorder, the names of the metrics shared across services, and
//! the bucket layout of every histogram.
//!
//! One recorder per process, installed on first use: several services in one process (tests, the
//! all-in-one binary) share it, and `/metrics` of any of them shows every metric. Each metric is
//! described once here so that every exposition carries its `# HELP` line (`promtool check
//! metrics` insists). Histograms are rendered as Prometheus histograms (`_bucket{le=...}`), not
//! summaries, so that they aggregate across replicas with `histogram_quantile`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The `Content-Type` of the Prometheus text exposition that [`render_metrics`] produces.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metric names used across jira-sync, with the labels each one carries. deploy/metrics.txt
/// lists every one of them (the deploy checks keep the two in step).
pub mod names {
    /// Webhooks accepted and published; label `endpoint`.
    pub const EVENTS_RECEIVED: &str = "events_received_total";
    /// Webhooks accepted but not synced (unsynced event kind, or no connection); labels
    /// `endpoint`, `reason`.
    pub const EVENTS_IGNORED: &str = "events_ignored_total";
    /// Webhooks refused; label `reason` (`unauthorized`, `malformed`, `too_large`, ...).
    pub const EVENTS_REJECTED: &str = "events_rejected_total";
    /// Reconcile requests processed successfully; label `connection`.
    pub const EVENTS_SUCCEEDED: &str = "events_succeeded_total";
    /// Reconcile attempts that failed (before retry or dead-lettering); labels `class`,
    /// `connection`.
    pub const EVENTS_FAILED: &str = "events_failed_total";
    /// Reconcile requests parked in the dead-letter queue; labels `class`, `connection`.
    pub const EVENTS_DLQ: &str = "events_dlq_total";
    /// Reconcile requests sent to a retry queue; labels `tier` (the delay, e.g. `10s`),
    /// `connection`.
    pub const EVENTS_RETRIED: &str = "events_retried_total";
    /// Histogram: seconds from receiving a delivery to settling it.
    pub const RECONCILE_DURATION: &str = "reconcile_duration_seconds";
    /// Histogram: seconds from the source event (the webhook's timestamp) to the end of the
    /// reconcile that wrote it to the other side.
    pub const SYNC_LAG: &str = "sync_lag_seconds";
    /// Gauge: messages waiting in the work queue, the retry tiers together, and the dead-letter
    /// queue; label `queue` (`work`, `retry`, `dead`).
    pub const QUEUE_MESSAGES: &str = "queue_messages";
    /// Gauge: conflicts held for a person; label `connection`.
    pub const CONFLICTS_OPEN: &str = "conflicts_open";
    /// Custom fields found unmappable (reported once per process and field); labels
    /// `connection`, `field`.
    pub const UNMAPPABLE_FIELD: &str = "unmappable_field_total";
    /// Jira requests on the wire; labels `endpoint`, `method`, `status`.
    pub const JIRA_REQUESTS: &str = "jira_requests_total";
    /// Jira answers 429; label `endpoint`.
    pub const JIRA_RATE_LIMITED: &str = "jira_rate_limited_total";
    /// Histogram: seconds of one Jira request; labels `endpoint`, `method`.
    pub const JIRA_REQUEST_DURATION: &str = "jira_request_duration_seconds";
    /// Histogram: seconds a Jira request waited for the client-side rate limit or a pause Jira
    /// asked for; label `endpoint`.
    pub const JIRA_RATE_LIMIT_WAIT: &str = "jira_rate_limit_wait_seconds";
    /// PeopleForce requests on the wire; labels `endpoint`, `method`, `status`.
    pub const PEOPLEFORCE_REQUESTS: &str = "peopleforce_requests_total";
}

/// Buckets of every duration histogram, in seconds: 5 ms to a minute (a Jira call, one
/// reconcile, a rate-limit wait).
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Buckets of the sync lag, in seconds: half a second to two hours, with edges at the alert
/// thresholds (300 s, 1800 s) so that `histogram_quantile` is exact there.
const SYNC_LAG_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];

/// `None` when another recorder was installed by someone else first.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder as the global `metrics` recorder (once per process) and
/// describes the shared metrics. Returns `false` when a different recorder was already
/// installed, in which case [`render_metrics`] renders nothing.
pub fn install_metrics() -> bool {
    handle().is_some()
}

fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match builder().and_then(PrometheusBuilder::install_recorder) {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot install the metrics recorder; /metrics stays empty");
                None
            }
        })
        .as_ref()
}

fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets(DURATION_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(names::SYNC_LAG.to_owned()), SYNC_LAG_BUCKETS)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        names::EVENTS_RECEIVED,
        "Webhooks accepted and published to the work queue, by endpoint."
    );
    describe_counter!(
        names::EVENTS_IGNORED,
        "Webhooks accepted but not synced (event kind not synced, or no connection), by endpoint and reason."
    );
    describe_counter!(
        names::EVENTS_REJECTED,
        "Webhooks refused (bad signature, malformed, too large, unknown endpoint, broker unavailable), by reason."
    );
    describe_counter!(
        names::EVENTS_SUCCEEDED,
        "Reconcile requests processed successfully, by connection."
    );
    describe_counter!(
        names::EVENTS_FAILED,
        "Reconcile attempts that failed, before retry or dead-lettering, by class and connection."
    );
    describe_counter!(
        names::EVENTS_DLQ,
        "Reconcile requests parked in the dead-letter queue, by class and connection."
    );
    describe_counter!(
        names::EVENTS_RETRIED,
        "Reconcile requests sent to a retry queue, by delay tier and connection."
    );
    describe_histogram!(
        names::RECONCILE_DURATION,
        "Seconds from receiving a reconcile request to settling it."
    );
    describe_histogram!(
        names::SYNC_LAG,
        "Seconds from the source event to the end of the reconcile that wrote it to the other side."
    );
    describe_gauge!(
        names::QUEUE_MESSAGES,
        "Messages waiting in the work queue, the retry queues together, and the dead-letter queue."
    );
    describe_gauge!(
        names::CONFLICTS_OPEN,
        "Conflicts held for a person, by connection."
    );
    describe_counter!(
        names::UNMAPPABLE_FIELD,
        "Custom fields found unmappable (reported once per process and field), by connection and field."
    );
    describe_counter!(
        names::JIRA_REQUESTS,
        "Jira requests sent, by endpoint, method and status (or connect_error, timeout, transport_error)."
    );
    describe_counter!(
        names::JIRA_RATE_LIMITED,
        "Jira answers 429 Too Many Requests, by endpoint."
    );
    describe_histogram!(
        names::JIRA_REQUEST_DURATION,
        "Seconds of one Jira request, by endpoint and method."
    );
    describe_histogram!(
        names::JIRA_RATE_LIMIT_WAIT,
        "Seconds Jira requests waited for the client-side rate limit or a pause Jira asked for, by endpoint."
    );
    describe_counter!(
        names::PEOPLEFORCE_REQUESTS,
        "PeopleForce requests sent, by endpoint, method and status."
    );
}

/// The Prometheus text exposition of every metric recorded in this process, installing the
/// recorder first if needed.
pub fn render_metrics() -> String {
    match handle() {
        Some(handle) => {
            // Upkeep drains histogram buckets; cheap, and keeps memory bounded between scrapes.
            handle.run_upkeep();
            handle.render()
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_recorded_anywhere_in_the_process_are_rendered_with_help() {
        assert!(install_metrics());
        assert!(install_metrics(), "a second install must be harmless");
        metrics::counter!(names::EVENTS_REJECTED, "reason" => "unit_test").increment(2);
        let text = render_metrics();
        assert!(
            text.contains(r#"events_rejected_total{reason="unit_test"} 2"#),
            "{text}"
        );
        assert!(text.contains("# HELP events_rejected_total"), "{text}");
        assert!(
            text.contains("# TYPE events_rejected_total counter"),
            "{text}"
        );
    }

    #[test]
    fn histograms_are_rendered_as_prometheus_histograms_with_their_buckets() {
        assert!(install_metrics());
        metrics::histogram!(names::SYNC_LAG).record(42.0);
        metrics::histogram!(names::RECONCILE_DURATION).record(0.2);
        let text = render_metrics();
        assert!(text.contains("# TYPE sync_lag_seconds histogram"), "{text}");
        assert!(
            text.contains(r#"sync_lag_seconds_bucket{le="30"} 0"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sync_lag_seconds_bucket{le="60"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sync_lag_seconds_bucket{le="1800"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"sync_lag_seconds_bucket{le="+Inf"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"reconcile_duration_seconds_bucket{le="0.25"} 1"#),
            "{text}"
        );
        assert!(!text.contains("quantile="), "no summaries: {text}");
        assert!(text.contains("# HELP sync_lag_seconds"), "{text}");
    }
}
