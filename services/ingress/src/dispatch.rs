//! Turns a [`VerifiedWebhook`] into the messages to publish: one [`ReconcileRequest`] per
//! connection that includes the webhook's endpoint and project. Pure: no I/O, so the routing
//! rules are unit-tested here and the route only publishes what this decides.

use jira_sync_domain::{DeliveryId, JiraWebhook, ReconcileRequest, Trigger, WebhookError};
use jira_sync_settings::Settings;
use jira_sync_transport::Envelope;

use crate::error::ApiError;
use crate::verify::VerifiedWebhook;

/// Why a valid webhook leads to no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// An event kind jira-sync does not sync (sprints, versions, worklogs...).
    UnsyncedEvent,
    /// No connection includes this endpoint and project.
    NoConnection,
}

impl IgnoreReason {
    /// The `reason` label of `events_ignored_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsyncedEvent => "unsynced_event",
            Self::NoConnection => "no_connection",
        }
    }
}

/// What to do with a verified webhook.
#[derive(Debug)]
pub enum Plan {
    Ignore {
        event: String,
        reason: IgnoreReason,
    },
    Publish {
        event: String,
        envelopes: Vec<Envelope>,
    },
}

/// Parses the verified body and builds the envelopes for every matching connection.
///
/// `delivery` is the sender's delivery id (or a fresh one); with several connections each
/// message gets `<delivery>:<connection>` so that every message id stays unique.
pub fn plan(
    webhook: &VerifiedWebhook,
    settings: &Settings,
    delivery: &DeliveryId,
) -> Result<Plan, ApiError> {
    let hook = JiraWebhook::parse(webhook.body())?;
    let event = hook.event.clone();
    if !hook.kind.is_synced() {
        return Ok(Plan::Ignore {
            event,
            reason: IgnoreReason::UnsyncedEvent,
        });
    }
    // `JiraWebhook::parse` guarantees an issue id for synced events; checked again rather
    // than unwrapped.
    let entity_id = hook
        .issue_id
        .clone()
        .ok_or_else(|| WebhookError::MissingIssue(event.clone()))?;
    let endpoint = webhook.endpoint();
    let connections: Vec<_> = settings
        .connections_of(endpoint, hook.project_key.as_deref())
        .map(|(id, _, _)| id)
        .collect();
    if connections.is_empty() {
        return Ok(Plan::Ignore {
            event,
            reason: IgnoreReason::NoConnection,
        });
    }
    let several = connections.len() > 1;
    let trace_context = jira_sync_telemetry::current_trace_context();
    let mut envelopes = Vec::with_capacity(connections.len());
    for connection in connections {
        let delivery_id = if several {
            DeliveryId::parse(format!("{delivery}:{connection}")).map_err(|e| {
                ApiError::BadRequest(format!("X-Atlassian-Webhook-Identifier is unusable: {e}"))
            })?
        } else {
            delivery.clone()
        };
        let request = ReconcileRequest {
            connection: connection.clone(),
            endpoint: endpoint.clone(),
            entity_id: entity_id.clone(),
            issue_key: hook.issue_key.clone(),
            trigger: Trigger::Webhook {
                event: event.clone(),
                actor: hook.actor.clone(),
            },
            delivery_id: delivery_id.clone(),
            event_at: hook.timestamp,
            change: hook.change.clone(),
        };
        let payload = serde_json::to_vec(&request).map_err(|e| ApiError::Internal(e.into()))?;
        let mut envelope = Envelope::new(delivery_id.as_str(), payload)
            .with_label("endpoint", endpoint.as_str())
            .with_label("entity", entity_id.as_str())
            .with_label("connection", connection.as_str())
            .with_label("event", event.as_str());
        if let Some(key) = &hook.issue_key {
            envelope = envelope.with_label("issue", key.as_str());
        }
        envelope.trace_context = trace_context.clone();
        envelopes.push(envelope);
    }
    Ok(Plan::Publish { event, envelopes })
}

#[cfg(test)]
mod tests;
