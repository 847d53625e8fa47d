//! The poller's Prometheus metrics. Recording goes through the `metrics` facade; the recorder
//! and the exposition belong to `jira_sync_telemetry`. Every metric carries the `schedule`
//! label (`jira-incremental/a-to-b/left`, ...).

use std::time::Duration;

/// Counter: runs finished; labels `schedule`, `outcome` (`ok`, `error`, `lost_leadership`,
/// `cancelled`).
pub const RUNS: &str = "poller_runs_total";
/// Counter: issues or tasks read.
pub const ITEMS_SCANNED: &str = "poller_items_scanned_total";
/// Counter: items found changed since their last sync (or unknown).
pub const CHANGES_FOUND: &str = "poller_changes_found_total";
/// Counter: reconcile requests published (broker-confirmed).
pub const ENQUEUED: &str = "poller_enqueued_total";
/// Gauge: seconds since the start of the schedule's last complete run, i.e. how stale the
/// poller's view of the source may be. Set by the leader at every wake; alert when it exceeds
/// a few intervals.
pub const CURSOR_LAG: &str = "poller_cursor_lag_seconds";
/// Gauge: 1 while this process leads the schedule, 0 otherwise.
pub const LEADER: &str = "poller_leader";
/// Gauge: Unix time of the end of the schedule's last complete run.
pub const LAST_RUN: &str = "poller_last_run_timestamp_seconds";

/// Describes the metrics once, so that the exposition carries their `# HELP`.
pub(crate) fn describe() {
    metrics::describe_counter!(RUNS, "Poller runs finished, by schedule and outcome.");
    metrics::describe_counter!(
        ITEMS_SCANNED,
        "Issues or tasks read by the poller, by schedule."
    );
    metrics::describe_counter!(
        CHANGES_FOUND,
        "Items the poller found changed since their last sync, by schedule."
    );
    metrics::describe_counter!(
        ENQUEUED,
        "Reconcile requests the poller published (confirmed), by schedule."
    );
    metrics::describe_gauge!(
        CURSOR_LAG,
        "Seconds since the start of the schedule's last complete run."
    );
    metrics::describe_gauge!(LEADER, "1 while this process leads the schedule.");
    metrics::describe_gauge!(
        LAST_RUN,
        "Unix time of the end of the schedule's last complete run."
    );
}

pub(crate) fn run_finished(schedule: &str, outcome: &'static str) {
    metrics::counter!(RUNS, "schedule" => schedule.to_owned(), "outcome" => outcome).increment(1);
}

pub(crate) fn scanned(schedule: &str, n: u64) {
    metrics::counter!(ITEMS_SCANNED, "schedule" => schedule.to_owned()).increment(n);
}

pub(crate) fn changes(schedule: &str, n: u64) {
    metrics::counter!(CHANGES_FOUND, "schedule" => schedule.to_owned()).increment(n);
}

pub(crate) fn enqueued(schedule: &str, n: u64) {
    metrics::counter!(ENQUEUED, "schedule" => schedule.to_owned()).increment(n);
}

pub(crate) fn leader(schedule: &str, leading: bool) {
    metrics::gauge!(LEADER, "schedule" => schedule.to_owned()).set(if leading { 1.0 } else { 0.0 });
}

pub(crate) fn lag(schedule: &str, lag: Duration) {
    metrics::gauge!(CURSOR_LAG, "schedule" => schedule.to_owned()).set(lag.as_secs_f64());
}

pub(crate) fn last_run(schedule: &str, unix_seconds: f64) {
    metrics::gauge!(LAST_RUN, "schedule" => schedule.to_owned()).set(unix_seconds);
}
