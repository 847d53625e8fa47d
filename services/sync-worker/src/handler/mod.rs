//! Dispatch of one delivery: decode the reconcile request, reconcile, settle the delivery (ack,
//! retry or dead-letter) and record metrics. A bad message is settled like any other failure
//! and never stops the consume loop.

mod settle;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use jira_sync_domain::ReconcileRequest;
use jira_sync_transport::Delivery;
use tracing::{Instrument, error, info, info_span, warn};

pub use settle::{RetryPolicy, Settlement, decide};

use crate::error::{DeliveryError, chain};
use crate::metrics;
use crate::reconcile::Reconciler;

/// Handles deliveries of the work queue. Cheap to clone.
#[derive(Clone)]
pub struct Handler {
    reconciler: Reconciler,
    policy: RetryPolicy,
}

impl Handler {
    /// A handler reconciling with `reconciler` and retrying by `policy`.
    pub fn new(reconciler: Reconciler, policy: RetryPolicy) -> Self {
        Self { reconciler, policy }
    }

    /// Processes and settles one delivery. Never fails: problems end up in the delivery's
    /// settlement, the logs and the metrics.
    pub async fn handle(&self, delivery: Box<dyn Delivery>) {
        let envelope = delivery.envelope();
        let trace_id = trace_id(&envelope.trace_context);
        let span = info_span!(
            "delivery",
            message_id = %envelope.message_id,
            attempt = envelope.attempt,
            trace_id = trace_id.as_deref().unwrap_or_default(),
        );
        // Continue the producer's trace: one trace from the webhook to the write.
        jira_sync_telemetry::set_parent_from(&envelope.trace_context, &span);
        self.process(delivery, trace_id).instrument(span).await;
    }

    async fn process(&self, delivery: Box<dyn Delivery>, trace_id: Option<String>) {
        let started = Instant::now();
        let attempt = delivery.envelope().attempt;
        let (request, result) =
            match serde_json::from_slice::<ReconcileRequest>(&delivery.envelope().payload) {
                Ok(request) => {
                    let result = self
                        .reconciler
                        .reconcile(&request, trace_id.as_deref())
                        .await
                        .map_err(DeliveryError::from);
                    (Some(request), result)
                }
                Err(e) => (None, Err(DeliveryError::Undecodable(e))),
            };
        let settlement = match &result {
            Ok(outcome) => {
                info!(?outcome, "reconciled");
                if let (true, Some(at)) =
                    (outcome.wrote(), request.as_ref().and_then(|r| r.event_at))
                {
                    metrics::sync_lag((Utc::now() - at).to_std().unwrap_or_default());
                }
                Settlement::Ack
            }
            Err(e) => self.failed(e, attempt, request.as_ref()).await,
        };
        let kind = settlement_kind(&settlement);
        let connection = connection_label(request.as_ref());
        let settled = match settlement {
            Settlement::Ack => (delivery.ack().await).map(|()| metrics::succeeded(connection)),
            Settlement::Retry { delay, failure } => {
                let tier = self.policy.tier_for(delay);
                (delivery.retry(delay, failure).await).map(|()| metrics::retried(tier, connection))
            }
            Settlement::DeadLetter { failure } => {
                let class = failure.class.clone();
                (delivery.dead_letter(failure).await)
                    .map(|()| metrics::dead_lettered(class, connection))
            }
        };
        if let Err(e) = settled {
            // Unsettled, the broker delivers the message again: at-least-once holds.
            error!(error = %chain(&e), settlement = kind, "could not settle the delivery");
        }
        metrics::reconcile_duration(started.elapsed());
    }

    /// Logs and counts a failure and decides its settlement.
    async fn failed(
        &self,
        error: &DeliveryError,
        attempt: u32,
        request: Option<&ReconcileRequest>,
    ) -> Settlement {
        let disposition = error.disposition();
        metrics::failed(disposition.class(), connection_label(request));
        let messages = error.messages();
        // Waiting for a busy pair is not an attempt: it never exhausts a delivery.
        let counted = if error.is_lock_busy() {
            attempt.min(self.policy.max_attempts.saturating_sub(1))
        } else {
            attempt
        };
        let settlement = decide(disposition, &messages, counted, &self.policy);
        match &settlement {
            Settlement::Retry { delay, .. } => {
                warn!(error = %messages.join(" | "), ?delay, "reconcile failed; will retry");
            }
            Settlement::DeadLetter { failure } => {
                error!(error = %failure.message, class = %failure.class, "reconcile failed; dead-lettering");
                if let Some(request) = request
                    && let Err(e) = self
                        .reconciler
                        .record_error(request, &failure.message)
                        .await
                {
                    warn!(error = %chain(&e), "could not record the error on the link");
                }
            }
            Settlement::Ack => {}
        }
        settlement
    }
}

/// The `connection` label of the event counters.
fn connection_label(request: Option<&ReconcileRequest>) -> &str {
    request.map_or("unknown", |r| r.connection.as_str())
}

fn settlement_kind(settlement: &Settlement) -> &'static str {
    match settlement {
        Settlement::Ack => "ack",
        Settlement::Retry { .. } => "retry",
        Settlement::DeadLetter { .. } => "dead_letter",
    }
}

/// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), if well-formed.
pub fn trace_id(trace_context: &BTreeMap<String, String>) -> Option<String> {
    let mut parts = trace_context.get("traceparent")?.split('-');
    let (_version, trace) = (parts.next()?, parts.next()?);
    let valid = trace.len() == 32
        && trace.bytes().all(|b| b.is_ascii_hexdigit())
        && trace.bytes().any(|b| b != b'0');
    valid.then(|| trace.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
