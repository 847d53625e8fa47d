//! The worker's errors, one enum per layer. Every error that can end a delivery knows its
//! [`Disposition`]: whether retrying can help, and under which class name an operator finds it.

use std::net::SocketAddr;

use jira_sync_domain::document::FieldValueError;
use jira_sync_domain::{ConnectionId, Disposition, EndpointId};
use jira_sync_store::StoreError;
use jira_sync_transport::TransportError;

use crate::jira::JiraError;
use crate::peopleforce::PeopleForceError;

/// Why one reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("connection `{0}` is not configured")]
    UnknownConnection(ConnectionId),
    #[error("endpoint `{endpoint}` is not a side of connection `{connection}`")]
    EndpointNotInConnection {
        connection: ConnectionId,
        endpoint: EndpointId,
    },
    #[error("no Jira client is configured for endpoint `{0}`")]
    NoClient(EndpointId),
    #[error("Jira `{endpoint}` failed to {action} {issue}")]
    Jira {
        endpoint: EndpointId,
        /// What was being done: `read`, `create`, `edit`, `search`.
        action: &'static str,
        /// The issue id or key (or the project, for a search).
        issue: String,
        /// Boxed: Jira errors are large, and most results are `Ok`.
        #[source]
        source: Box<JiraError>,
    },
    /// A PeopleForce call failed; its disposition is the client's classification.
    #[error("PeopleForce `{endpoint}` failed to {action} {task}")]
    Peopleforce {
        endpoint: EndpointId,
        action: &'static str,
        task: String,
        #[source]
        source: Box<PeopleForceError>,
    },
    #[error("store operation failed")]
    Store(#[from] StoreError),
    #[error("lock `{0}` is held by another reconcile")]
    LockBusy(String),
    #[error("the lock key of this entity kept changing")]
    LockUnstable,
    #[error("lock `{0}` was lost (its database session ended) before a write; not writing")]
    LockLost(String),
    #[error("issue {issue} on `{endpoint}` holds a value jira-sync cannot map")]
    Mapping {
        endpoint: EndpointId,
        issue: String,
        #[source]
        source: FieldValueError,
    },
    #[error("twin {twin_id} recorded for this entity no longer exists")]
    TwinMissing { twin_id: String },
    #[error(
        "no path through the workflow of {issue} on `{endpoint}` to status `{target}`; transitions available: {}",
        if available.is_empty() { "none".to_owned() } else { available.join(", ") }
    )]
    NoTransitionPath {
        endpoint: EndpointId,
        issue: String,
        target: String,
        /// The transitions the issue offered where it started (`name -> status`).
        available: Vec<String>,
    },
    #[error(
        "transition `{transition}` of {issue} on `{endpoint}` requires field `{field}`; set it in the connection's transition_fields"
    )]
    TransitionFieldMissing {
        endpoint: EndpointId,
        issue: String,
        transition: String,
        field: String,
    },
}

impl ReconcileError {
    /// A failed PeopleForce call on `endpoint` while doing `action` to `task`.
    pub fn peopleforce(
        endpoint: &EndpointId,
        action: &'static str,
        task: impl Into<String>,
        source: PeopleForceError,
    ) -> Self {
        Self::Peopleforce {
            endpoint: endpoint.clone(),
            action,
            task: task.into(),
            source: Box::new(source),
        }
    }

    /// A failed Jira call on `endpoint`.
    pub fn jira(
        endpoint: &EndpointId,
        action: &'static str,
        issue: impl Into<String>,
        source: JiraError,
    ) -> Self {
        Self::Jira {
            endpoint: endpoint.clone(),
            action,
            issue: issue.into(),
            source: Box::new(source),
        }
    }

    /// Whether a write that failed with this error may still be applied by the service (a
    /// timeout, a broken connection, a 5xx).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Jira { source, .. } => source.outcome_unknown(),
            Self::Peopleforce { source, .. } => source.outcome_unknown(),
            _ => false,
        }
    }

    /// Whether the remote service itself answered the failed call (with a status other than a
    /// gateway's 502/503/504): whatever it did with the request is done, nothing is in flight.
    pub fn answered_by_service(&self) -> bool {
        let status = match self {
            Self::Jira { source, .. } => source.status(),
            Self::Peopleforce { source, .. } => source.status(),
            _ => None,
        };
        status.is_some_and(|s| !matches!(s, 502..=504))
    }

    /// What the worker should do with the delivery that hit this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::UnknownConnection(_)
            | Self::EndpointNotInConnection { .. }
            | Self::NoClient(_) => Disposition::Permanent { class: "config" },
            Self::Jira { source, .. } => source.disposition(),
            Self::Peopleforce { source, .. } => source.disposition(),
            Self::Store(StoreError::NotFound(_)) => Disposition::Permanent { class: "store" },
            // Unavailable: the database comes back. Conflict: someone linked the entity in the
            // meantime, and a retry sees that link. Unexpected: bounded by max_attempts.
            Self::Store(_) | Self::LockBusy(_) | Self::LockUnstable | Self::LockLost(_) => {
                Disposition::Transient { retry_after: None }
            }
            Self::Mapping { .. } => Disposition::Permanent { class: "mapping" },
            Self::TwinMissing { .. } => Disposition::Permanent {
                class: "twin_missing",
            },
            Self::NoTransitionPath { .. } => Disposition::Permanent {
                class: "no_transition_path",
            },
            Self::TransitionFieldMissing { .. } => Disposition::Permanent {
                class: "transition_field_missing",
            },
        }
    }

    /// Human-readable lines for dead-letter headers and the link's last error: the error chain,
    /// then the messages Jira itself returned (`errorMessages` and field errors).
    pub fn messages(&self) -> Vec<String> {
        let mut lines = vec![chain(self)];
        // Without an answer from Jira its "messages" are the error's own text, already above.
        if let Self::Jira { source, .. } = self
            && source.status().is_some()
        {
            lines.extend(source.messages());
        }
        lines
    }
}

/// Why a delivery could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("payload is not a reconcile request")]
    Undecodable(#[source] serde_json::Error),
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
}

impl DeliveryError {
    /// Whether the delivery only waited for its pair's lock, which another reconcile held: it
    /// tried nothing itself, so it is retried without using up an attempt (the holder is
    /// bounded by its own budgets, and a dead holder's lock is freed).
    pub fn is_lock_busy(&self) -> bool {
        matches!(self, Self::Reconcile(ReconcileError::LockBusy(_)))
    }

    /// What the worker should do with the delivery.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Undecodable(_) => Disposition::Permanent {
                class: "undecodable",
            },
            Self::Reconcile(e) => e.disposition(),
        }
    }

    /// Human-readable lines for dead-letter headers.
    pub fn messages(&self) -> Vec<String> {
        match self {
            Self::Undecodable(_) => vec![chain(self)],
            Self::Reconcile(e) => e.messages(),
        }
    }
}

/// Why the application could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot build the Jira clients")]
    Jira(#[source] JiraError),
    #[error("cannot build the PeopleForce clients")]
    Peopleforce(#[source] PeopleForceError),
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    #[error("cannot set up the transport")]
    Transport(#[source] TransportError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed")]
    Server(#[source] std::io::Error),
}

/// An error and its sources, joined with `: `.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        // Transparent wrappers repeat their source's message; say it once.
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_outage_is_transient_and_a_bad_config_is_permanent() {
        let outage = ReconcileError::Store(StoreError::Unavailable("pool timed out".into()));
        assert!(outage.disposition().is_transient());
        let config = ReconcileError::UnknownConnection(
            ConnectionId::parse("nope").unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(config.disposition().class(), "config");
    }

    #[test]
    fn messages_carry_the_whole_error_chain() {
        let error = ReconcileError::Store(StoreError::Unavailable("pool timed out".into()));
        assert_eq!(
            error.messages(),
            vec!["store operation failed: database unavailable: pool timed out"]
        );
        let undecodable = serde_json::from_slice::<serde_json::Value>(b"{")
            .map_err(DeliveryError::Undecodable)
            .err()
            .map(|e| e.messages().join(""))
            .unwrap_or_default();
        assert!(undecodable.starts_with("payload is not a reconcile request: EOF"));
    }
}
