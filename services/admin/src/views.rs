//! The JSON bodies of the admin API, built from the store's and the transport's records.
//!
//! They are the API's contract (documented in `openapi.json`), deliberately separate from the
//! records they are made from, so that a store change does not silently change the API. The
//! [`cli`](crate::cli) decodes the same types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ReconcileRequest, Side};
use jira_sync_settings::ConnectionSettings;
use jira_sync_store::{AuditEntry, Conflict, ConflictStatus, Link};
use jira_sync_transport::Envelope;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Longest excerpt of an undecodable dead letter's payload, in characters.
const PAYLOAD_EXCERPT_CHARS: usize = 2000;

/// `202` of `POST /sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncAccepted {
    /// The id of the published request (also its message id).
    pub delivery_id: String,
    pub connection: String,
    pub side: Side,
    pub endpoint: String,
    /// The issue id the request names.
    pub entity_id: String,
    /// The issue key, when the request was made by key.
    pub issue_key: Option<String>,
}

/// One issue of a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkSide {
    /// The endpoint of this side; `None` when the connection is no longer configured.
    pub endpoint: Option<String>,
    pub id: String,
    pub key: Option<String>,
}

/// The state of a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkView {
    pub id: Uuid,
    pub connection: String,
    pub left: LinkSide,
    pub right: LinkSide,
    pub created_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The last failed attempt's error, cleared by the next successful sync.
    pub last_error: Option<String>,
    /// Seconds since the last successful sync (`None` before the first).
    pub lag_seconds: Option<f64>,
}

impl LinkView {
    /// The view of `link` at `now`; `connection` gives the endpoints of its sides.
    pub fn new(link: &Link, connection: Option<&ConnectionSettings>, now: DateTime<Utc>) -> Self {
        let side = |side: Side, id: &str, key: &Option<String>| LinkSide {
            endpoint: connection.map(|c| c.side(side).endpoint.to_string()),
            id: id.to_owned(),
            key: key.clone(),
        };
        Self {
            id: link.id,
            connection: link.connection.to_string(),
            left: side(Side::Left, &link.left_id, &link.left_key),
            right: side(Side::Right, &link.right_id, &link.right_key),
            created_at: link.created_at,
            last_synced_at: link.last_synced_at,
            last_error: link.last_error.clone(),
            lag_seconds: link
                .last_synced_at
                .map(|at| ((now - at).num_milliseconds().max(0) as f64) / 1000.0),
        }
    }
}

/// `200` of `GET /links`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkList {
    pub links: Vec<LinkView>,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `create`, `update`, `conflict`...
    pub action: String,
    /// The side written to.
    pub target: Side,
    pub fields: Vec<String>,
    pub changes: Value,
    /// What caused it: `manual`, `poll`, a webhook event.
    pub trigger: String,
    pub delivery_id: Option<String>,
    pub trace_id: Option<String>,
}

impl From<&AuditEntry> for AuditView {
    fn from(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            action: entry.entry.action.clone(),
            target: entry.entry.target,
            fields: entry.entry.fields.clone(),
            changes: entry.entry.changes.clone(),
            trigger: entry.entry.trigger.clone(),
            delivery_id: entry.entry.delivery_id.clone(),
            trace_id: entry.entry.trace_id.clone(),
        }
    }
}

/// `200` of `GET /links/{connection}/{issue}`: the link, its base and recent history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkDetail {
    #[serde(flatten)]
    pub link: LinkView,
    /// The canonical values both sides held after the last successful sync.
    pub base: Snapshot,
    /// The most recent audit entries, newest first.
    pub audit: Vec<AuditView>,
    /// The link's conflicts, open and resolved, newest first.
    pub conflicts: Vec<ConflictView>,
}

/// A held conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictView {
    pub id: Uuid,
    pub link_id: Uuid,
    pub connection: String,
    pub field: String,
    pub left: Value,
    pub right: Value,
    pub base: Option<Value>,
    pub status: ConflictStatus,
    /// `left`, `right`, `value:<json>` (an operator's choice) or `converged`.
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<&Conflict> for ConflictView {
    fn from(c: &Conflict) -> Self {
        Self {
            id: c.id,
            link_id: c.link_id,
            connection: c.connection.to_string(),
            field: c.field.clone(),
            left: c.left.clone(),
            right: c.right.clone(),
            base: c.base.clone(),
            status: c.status,
            resolution: c.resolution.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            resolved_at: c.resolved_at,
        }
    }
}

/// `200` of `GET /conflicts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictList {
    pub conflicts: Vec<ConflictView>,
}

/// `200` of `POST /conflicts/{id}/resolve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveAccepted {
    pub conflict: ConflictView,
    /// The manual reconcile enqueued for the link; `None` when the link no longer exists or its
    /// connection is no longer configured (nothing is left to write to).
    pub delivery_id: Option<String>,
}

/// The failure recorded on a dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureView {
    pub class: String,
    pub message: String,
}

/// A dead letter, read without consuming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterView {
    pub message_id: String,
    /// Attempts made before it was parked.
    pub attempts: u32,
    pub first_seen: DateTime<Utc>,
    pub error: Option<FailureView>,
    pub labels: BTreeMap<String, String>,
    /// The reconcile request, when the payload decodes as one.
    pub request: Option<ReconcileRequest>,
    /// The start of the payload as text, only when it does not decode.
    pub payload_excerpt: Option<String>,
}

impl From<&Envelope> for DeadLetterView {
    fn from(envelope: &Envelope) -> Self {
        let request = serde_json::from_slice::<ReconcileRequest>(&envelope.payload).ok();
        let payload_excerpt = request.is_none().then(|| {
            String::from_utf8_lossy(&envelope.payload)
                .chars()
                .take(PAYLOAD_EXCERPT_CHARS)
                .collect()
        });
        Self {
            message_id: envelope.message_id.clone(),
            attempts: envelope.attempt,
            first_seen: envelope.first_seen,
            error: envelope.failure.as_ref().map(|f| FailureView {
                class: f.class.clone(),
                message: f.message.clone(),
            }),
            labels: envelope.labels.clone(),
            request,
            payload_excerpt,
        }
    }
}

/// `200` of `GET /dead-letters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetterView>,
}

/// `200` of `POST /dead-letters/replay`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayResult {
    /// How many dead letters were moved back to the work queue.
    pub replayed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_shows_its_request_when_it_decodes_and_an_excerpt_when_not() {
        let request = r#"{"connection":"a-to-b","endpoint":"jira-a","entity_id":"10001","trigger":{"kind":"manual"},"delivery_id":"d-1"}"#;
        let good = DeadLetterView::from(&Envelope::new("m-1", request.as_bytes().to_vec()));
        assert_eq!(good.request.map(|r| r.entity_id), Some("10001".to_owned()));
        assert_eq!(good.payload_excerpt, None);
        let bad = DeadLetterView::from(&Envelope::new("m-2", b"\xffnot json".to_vec()));
        assert_eq!(bad.request, None);
        assert_eq!(bad.payload_excerpt.as_deref(), Some("\u{fffd}not json"));
    }
}
