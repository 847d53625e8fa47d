//! Gauges the worker refreshes on a timer rather than per delivery: the depths of the work,
//! retry and dead-letter queues (`queue_messages{queue}`, read from the broker with passive
//! declares) and the conflicts held for a person (`conflicts_open{connection}`, from the store).
//!
//! Every worker replica reports the same numbers; dashboards take the `max`. A failed reading
//! keeps the previous value and is logged at debug level: the next tick tries again, and a
//! broker or database outage shows in readiness and the event counters, not here.

use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::ConnectionId;
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_telemetry::names::{CONFLICTS_OPEN, QUEUE_MESSAGES};
use jira_sync_transport::amqp::AmqpTransport;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, warn};

use crate::error::chain;

/// How often queue depths are read; about one Prometheus scrape interval.
const QUEUE_INTERVAL: Duration = Duration::from_secs(15);
/// Conflicts change at human pace: read them every fourth tick.
const CONFLICT_EVERY: u32 = 4;
/// Upper bound of one reading of the queues.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The store has no count query yet: conflicts are listed, at most this many.
const CONFLICT_CAP: i64 = 10_000;

/// What the gauges read from.
pub(crate) struct GaugeSources {
    /// The broker of the work queue, when the worker runs on AMQP.
    pub(crate) transport: Option<AmqpTransport>,
    pub(crate) store: Arc<dyn Store>,
    /// The configured connections: each gets a `conflicts_open` series, 0 included.
    pub(crate) connections: Vec<ConnectionId>,
}

/// Refreshes the gauges now and then every [`QUEUE_INTERVAL`] until `shutdown`.
pub(crate) async fn run(sources: GaugeSources, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(QUEUE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut round = 0u32;
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        if let Some(transport) = &sources.transport {
            queue_depths(transport).await;
        }
        if round.is_multiple_of(CONFLICT_EVERY) {
            open_conflicts(sources.store.as_ref(), &sources.connections).await;
        }
        round = round.wrapping_add(1);
    }
}

async fn queue_depths(transport: &AmqpTransport) {
    let span = tracing::debug_span!("gauges.queue_depths");
    let read = tokio::time::timeout(READ_TIMEOUT, transport.queue_depths().instrument(span));
    match read.await {
        Ok(Ok(depths)) => {
            let retry: u64 = depths.retry.iter().map(|t| u64::from(t.messages)).sum();
            for (queue, messages) in [
                ("work", u64::from(depths.work)),
                ("retry", retry),
                ("dead", u64::from(depths.dead)),
            ] {
                metrics::gauge!(QUEUE_MESSAGES, "queue" => queue).set(messages as f64);
            }
        }
        Ok(Err(e)) => debug!(error = %chain(&e), "cannot read queue depths"),
        Err(_) => debug!(timeout = ?READ_TIMEOUT, "cannot read queue depths in time"),
    }
}

async fn open_conflicts(store: &dyn Store, connections: &[ConnectionId]) {
    let open = match store
        .list_conflicts(None, Some(ConflictStatus::Open), CONFLICT_CAP)
        .await
    {
        Ok(open) => open,
        Err(e) => {
            debug!(error = %chain(&e), "cannot count open conflicts");
            return;
        }
    };
    if open.len() as i64 >= CONFLICT_CAP {
        warn!(
            cap = CONFLICT_CAP,
            "conflicts_open stops counting at its cap"
        );
    }
    for connection in connections {
        let count = open.iter().filter(|c| &c.connection == connection).count();
        metrics::gauge!(CONFLICTS_OPEN, "connection" => connection.as_str().to_owned())
            .set(count as f64);
    }
}
