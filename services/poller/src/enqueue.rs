//! Turning "this entity may have changed" into a published reconcile request: the same
//! `ReconcileRequest` (trigger `poll`) and envelope labels as the ingress, through the same
//! `Publisher`, which returns only once the broker confirmed.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jira_sync_domain::{ConnectionId, DeliveryId, EndpointId, IssueKey, ReconcileRequest, Trigger};
use jira_sync_transport::{Envelope, Publisher};

use crate::error::RunError;

/// Publishes in flight at once: confirms are awaited in parallel, so a first scan of ten
/// thousand tasks is not ten thousand round trips in a row.
const IN_FLIGHT: usize = 32;

/// A request to reconcile one entity, found by the poller.
pub fn request(
    connection: &ConnectionId,
    endpoint: &EndpointId,
    entity_id: &str,
    key: Option<&str>,
) -> ReconcileRequest {
    ReconcileRequest {
        connection: connection.clone(),
        endpoint: endpoint.clone(),
        entity_id: entity_id.to_owned(),
        issue_key: key.and_then(|k| IssueKey::parse(k).ok()),
        trigger: Trigger::Poll,
        delivery_id: DeliveryId::generate(),
        event_at: None,
        change: None,
    }
}

fn envelope(request: &ReconcileRequest) -> Result<Envelope, serde_json::Error> {
    let payload = serde_json::to_vec(request)?;
    let mut envelope = Envelope::new(request.delivery_id.as_str(), payload)
        .with_label("endpoint", request.endpoint.as_str())
        .with_label("entity", request.entity_id.as_str())
        .with_label("connection", request.connection.as_str())
        .with_label("event", request.trigger.name());
    if let Some(key) = &request.issue_key {
        envelope = envelope.with_label("issue", key.as_str());
    }
    envelope.trace_context = jira_sync_telemetry::current_trace_context();
    Ok(envelope)
}

/// Publishes every request, up to [`IN_FLIGHT`] at once; `Ok` only when all were confirmed.
/// On `Err` some may have been published: harmless, a reconcile is idempotent.
pub async fn publish_all(
    publisher: &dyn Publisher,
    requests: &[ReconcileRequest],
) -> Result<usize, RunError> {
    let envelopes = requests
        .iter()
        .map(envelope)
        .collect::<Result<Vec<_>, _>>()?;
    // A hand-rolled window rather than `buffer_unordered` over a closure: the publisher's
    // boxed futures keep this future `Send` for any lifetime, as `tokio::spawn` needs.
    let mut pending = FuturesUnordered::new();
    let mut queue = envelopes.into_iter();
    let mut published = 0;
    loop {
        while pending.len() < IN_FLIGHT {
            match queue.next() {
                Some(envelope) => pending.push(publisher.publish(envelope)),
                None => break,
            }
        }
        match pending.next().await {
            Some(result) => {
                result?;
                published += 1;
            }
            None => break,
        }
    }
    Ok(published)
}
