//! The records the store keeps.

use chrono::{DateTime, Utc};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One entity on the left paired with one on the right, with the base both held after the
/// last successful sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub id: Uuid,
    pub connection: ConnectionId,
    pub left_id: String,
    pub right_id: String,
    pub left_key: Option<String>,
    pub right_key: Option<String>,
    pub base: Snapshot,
    pub created_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Link {
    pub fn id_on(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left_id,
            Side::Right => &self.right_id,
        }
    }
}

/// A link to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    pub connection: ConnectionId,
    pub left_id: String,
    pub right_id: String,
    pub left_key: Option<String>,
    pub right_key: Option<String>,
    pub base: Snapshot,
}

/// The recorded intent to create a twin, written before the create call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateIntent {
    pub id: Uuid,
    pub connection: ConnectionId,
    pub source_side: Side,
    pub source_id: String,
    /// Set once the twin exists.
    pub target_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub link_id: Option<Uuid>,
    pub connection: ConnectionId,
    /// `create`, `update`, `conflict`...
    pub action: String,
    /// The side written to.
    pub target: Side,
    pub fields: Vec<String>,
    /// What was written, by field.
    pub changes: serde_json::Value,
    /// What caused it: the trigger's name (`jira:issue_updated`, `poll`, `manual`).
    pub trigger: String,
    pub delivery_id: Option<String>,
    pub trace_id: Option<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub entry: NewAuditEntry,
}
