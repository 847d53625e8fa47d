//! The process-wide Prometheus recorder and the names of the counters shared across services.
//!
//! One recorder per process, installed on first use: several services in one process (tests, the
//! all-in-one binary) share it, and `/metrics` of any of them shows every counter. Each counter is
//! described once here so that every exposition carries its `# HELP` line.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The `Content-Type` of the Prometheus text exposition that [`render_metrics`] produces.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Counter names used across jira-sync, with the labels each one carries.
pub mod names {
    /// Webhooks accepted and published; label `endpoint`.
    pub const EVENTS_RECEIVED: &str = "events_received_total";
    /// Webhooks accepted but not synced (unsynced event kind, or no connection); labels
    /// `endpoint`, `reason`.
    pub const EVENTS_IGNORED: &str = "events_ignored_total";
    /// Webhooks refused; label `reason` (`unauthorized`, `malformed`, `too_large`, ...).
    pub const EVENTS_REJECTED: &str = "events_rejected_total";
    /// Reconcile requests processed successfully.
    pub const EVENTS_SUCCEEDED: &str = "events_succeeded_total";
    /// Reconcile attempts that failed (before retry or dead-lettering).
    pub const EVENTS_FAILED: &str = "events_failed_total";
    /// Reconcile requests parked in the dead-letter queue.
    pub const EVENTS_DLQ: &str = "events_dlq_total";
    /// Reconcile requests sent to a retry queue; label `tier` (the delay, e.g. `10s`).
    pub const EVENTS_RETRIED: &str = "events_retried_total";
}

/// `None` when another recorder was installed by someone else first.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder as the global `metrics` recorder (once per process) and
/// describes the shared counters. Returns `false` when a different recorder was already
/// installed, in which case [`render_metrics`] renders nothing.
pub fn install_metrics() -> bool {
    handle().is_some()
}

fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => {
                describe_counters();
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
                None
            }
        })
        .as_ref()
}

fn describe_counters() {
    use metrics::describe_counter;
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
        "Reconcile requests processed successfully."
    );
    describe_counter!(
        names::EVENTS_FAILED,
        "Reconcile attempts that failed, before retry or dead-lettering."
    );
    describe_counter!(
        names::EVENTS_DLQ,
        "Reconcile requests parked in the dead-letter queue."
    );
    describe_counter!(
        names::EVENTS_RETRIED,
        "Reconcile requests sent to a retry queue, by delay tier."
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
}
