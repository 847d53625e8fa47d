//! The poller's error types: what stops it from starting ([`StartupError`]) and what stops one
//! run ([`RunError`], retried at the schedule's next interval).

use std::net::SocketAddr;

use jira_sync_domain::{ConnectionId, EndpointId};
use jira_sync_jira_client::JiraError;
use jira_sync_peopleforce_client::PeopleForceError;
use jira_sync_store::StoreError;
use jira_sync_transport::TransportError;

use crate::leader::LeadershipError;

/// Why the poller could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The store is unreachable or could not be prepared.
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    /// RabbitMQ is unreachable or refused the topology.
    #[error("cannot reach the broker")]
    Transport(#[source] TransportError),
    /// A Jira endpoint's client cannot be built from its settings.
    #[error("cannot build the Jira client of endpoint `{endpoint}`")]
    Jira {
        endpoint: EndpointId,
        #[source]
        source: Box<JiraError>,
    },
    /// A PeopleForce endpoint's client cannot be built from its settings.
    #[error("cannot build the PeopleForce client of endpoint `{endpoint}`")]
    PeopleForce {
        endpoint: EndpointId,
        #[source]
        source: Box<PeopleForceError>,
    },
    /// The HTTP port cannot be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed")]
    Server(#[source] std::io::Error),
}

/// Why one run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The leader lock is gone: another replica may be running this schedule now.
    #[error("leadership lost")]
    LostLeadership,
    /// Shutdown was asked for.
    #[error("cancelled")]
    Cancelled,
    /// A Jira search failed (after the client's own retries).
    #[error("Jira search failed")]
    Jira(#[from] JiraError),
    /// Listing PeopleForce tasks failed (after the client's own retries).
    #[error("PeopleForce listing failed")]
    PeopleForce(#[from] PeopleForceError),
    /// The store failed.
    #[error("store failure")]
    Store(#[from] StoreError),
    /// The broker did not confirm a publish: nothing after it was recorded as done.
    #[error("publish not confirmed")]
    Publish(#[from] TransportError),
    /// A request could not be encoded.
    #[error("cannot encode a reconcile request")]
    Encode(#[from] serde_json::Error),
    /// The schedule names a connection or endpoint that is not configured (a bug: schedules
    /// are planned from the same settings).
    #[error("connection `{0}` is not configured")]
    UnknownConnection(ConnectionId),
    /// No client for an endpoint the schedule needs.
    #[error("no client for endpoint `{0}`")]
    NoClient(EndpointId),
}

impl From<LeadershipError> for RunError {
    fn from(_: LeadershipError) -> Self {
        RunError::LostLeadership
    }
}

/// An error with its sources, one line, for logs and run outcomes (no secrets: none of the
/// error types carries one).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
