//! The one message every input becomes: "reconcile this entity".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConnectionId, DeliveryId, EndpointId, IssueKey};

/// What caused a reconcile. It is recorded in the audit log; the reconcile itself does not
/// depend on it (level-triggered: the current state of both sides decides).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A webhook; `event` is Jira's `webhookEvent`, `actor` the account (Cloud) or user name
    /// (Data Center) whose action raised it, when the webhook names one.
    Webhook {
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
    },
    /// A scheduled reconciliation pass.
    Poll,
    /// An operator asked for it.
    Manual,
}

impl Trigger {
    pub fn name(&self) -> &str {
        match self {
            Trigger::Webhook { event, .. } => event,
            Trigger::Poll => "poll",
            Trigger::Manual => "manual",
        }
    }
}

/// A request to bring one entity of one connection into sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileRequest {
    pub connection: ConnectionId,
    /// The endpoint the entity lives on (the source of the trigger).
    pub endpoint: EndpointId,
    /// The entity's stable id on that endpoint (the Jira issue id, not its key).
    pub entity_id: String,
    /// The key as last seen, for humans and logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_key: Option<IssueKey>,
    pub trigger: Trigger,
    pub delivery_id: DeliveryId,
    /// When the event happened at the source (Jira's webhook `timestamp`), for lag metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_at: Option<DateTime<Utc>>,
    /// The change a webhook reports, named alike in every webhook the source sends about it
    /// (`changelog:<id>`, `comment:<id>:<updated>`): once one of them is reconciled, the others
    /// find nothing new and are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The entity id of a PeopleForce employee in a request: `employee:<id>` (task ids are numbers,
/// so the two never meet). Such a request asks to reconcile the linked tasks assigned to the
/// employee, whose Jira user may have changed with them.
pub const EMPLOYEE_ENTITY_PREFIX: &str = "employee:";

impl ReconcileRequest {
    /// The employee id when this request is about an employee rather than a task or issue.
    pub fn employee_id(&self) -> Option<&str> {
        self.entity_id.strip_prefix(EMPLOYEE_ENTITY_PREFIX)
    }

    /// The key that identifies the entity across deliveries, used for per-entity ordering and
    /// locking: `connection/endpoint/entity`.
    pub fn entity_ref(&self) -> String {
        format!("{}/{}/{}", self.connection, self.endpoint, self.entity_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_through_json() -> Result<(), Box<dyn std::error::Error>> {
        let request = ReconcileRequest {
            connection: ConnectionId::parse("a-to-b")?,
            endpoint: EndpointId::parse("jira-a")?,
            entity_id: "10001".into(),
            issue_key: Some(IssueKey::parse("ACME-1")?),
            trigger: Trigger::Webhook {
                event: "jira:issue_updated".into(),
                actor: Some("acc-1".into()),
            },
            delivery_id: DeliveryId::parse("d-1")?,
            event_at: None,
            change: None,
        };
        let json = serde_json::to_vec(&request)?;
        let back: ReconcileRequest = serde_json::from_slice(&json)?;
        assert_eq!(back, request);
        assert_eq!(back.entity_ref(), "a-to-b/jira-a/10001");
        Ok(())
    }

    #[test]
    fn request_with_a_bad_connection_id_does_not_decode() {
        let json = r#"{"connection":"a b","endpoint":"x","entity_id":"1","trigger":{"kind":"poll"},"delivery_id":"d"}"#;
        assert!(serde_json::from_str::<ReconcileRequest>(json).is_err());
    }
}
