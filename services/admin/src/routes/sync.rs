//! `POST /api/v1/sync`: ask for a manual reconcile of one issue of a connection.
//!
//! The issue is given by id or by key; a key is resolved to the id through the Jira site of
//! that side (and must be in that side's project). The request is published like a webhook's,
//! with `Trigger::Manual`, and answered 202 only once the broker confirmed it (503 otherwise:
//! nothing was enqueued, the caller may repeat it).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use jira_sync_domain::{
    ConnectionId, DeliveryId, EndpointId, IssueKey, ReconcileRequest, Side, Trigger,
};
use jira_sync_settings::ConnectionSettings;
use jira_sync_transport::{Envelope, TransportError};
use serde::Deserialize;
use tracing::Instrument;

use crate::error::ApiError;
use crate::startup::AppState;
use crate::views::SyncAccepted;

/// The body of `POST /sync`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// The connection's configured name.
    pub connection: String,
    /// The issue id (digits) or key (`PROJ-123`) on `side`.
    pub issue: String,
    pub side: Side,
}

/// Resolves the issue and publishes a manual reconcile request for it.
pub async fn request_sync(
    state: web::Data<AppState>,
    body: web::Json<SyncBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (connection_id, connection) = configured_connection(&state, &body.connection)?;
    let endpoint = connection.side(body.side).endpoint.clone();
    let (entity_id, issue_key) =
        identify(&state, connection, body.side, &endpoint, body.issue.trim()).await?;
    let request = ReconcileRequest {
        connection: connection_id.clone(),
        endpoint: endpoint.clone(),
        entity_id: entity_id.clone(),
        issue_key: issue_key.clone(),
        trigger: Trigger::Manual,
        delivery_id: DeliveryId::generate(),
        event_at: Some(Utc::now()),
        change: None,
    };
    enqueue(&state, &request).await?;
    tracing::info!(
        connection = %connection_id,
        side = %body.side,
        entity = %entity_id,
        delivery_id = %request.delivery_id,
        "manual sync enqueued"
    );
    Ok(HttpResponse::Accepted().json(SyncAccepted {
        delivery_id: request.delivery_id.to_string(),
        connection: connection_id.to_string(),
        side: body.side,
        endpoint: endpoint.to_string(),
        entity_id,
        issue_key: issue_key.map(String::from),
    }))
}

/// The configured connection named `name`.
pub(crate) fn configured_connection<'s>(
    state: &'s AppState,
    name: &str,
) -> Result<(&'s ConnectionId, &'s ConnectionSettings), ApiError> {
    ConnectionId::parse(name)
        .ok()
        .and_then(|id| state.settings.connections.get_key_value(&id))
        .ok_or_else(|| ApiError::UnknownConnection(name.chars().take(64).collect()))
}

/// The issue id (and key, when given one) of `issue` on `side`.
async fn identify(
    state: &AppState,
    connection: &ConnectionSettings,
    side: Side,
    endpoint: &EndpointId,
    issue: &str,
) -> Result<(String, Option<IssueKey>), ApiError> {
    if issue.is_empty() {
        return Err(ApiError::BadRequest("issue must not be empty".into()));
    }
    if is_issue_id(issue) {
        return Ok((issue.to_owned(), None));
    }
    let key = IssueKey::parse(issue).map_err(|_| {
        ApiError::BadRequest(format!(
            "issue must be an issue id (digits) or key (PROJ-123), not {:?}",
            issue.chars().take(64).collect::<String>()
        ))
    })?;
    if !state.jira.knows(endpoint) {
        return Err(ApiError::BadRequest(format!(
            "the {side} side of this connection (`{endpoint}`) has no issue keys: give the id"
        )));
    }
    let found = state
        .jira
        .find(endpoint, &key)
        .await
        .map_err(|source| ApiError::JiraUnavailable {
            endpoint: endpoint.to_string(),
            source: Box::new(source),
        })?
        .ok_or_else(|| {
            ApiError::UnknownIssue(format!("issue {key} does not exist on `{endpoint}`"))
        })?;
    let project = &connection.side(side).project;
    if !found.project.eq_ignore_ascii_case(project) {
        return Err(ApiError::UnknownIssue(format!(
            "issue {key} is in project {}, but the {side} side of this connection syncs {project}",
            found.project
        )));
    }
    let key = IssueKey::parse(found.key).unwrap_or(key);
    Ok((found.id, Some(key)))
}

/// Whether `text` is an issue id: digits only, of a sane length.
pub(crate) fn is_issue_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Publishes `request` as the ingress would (same labels, the caller's trace context) and waits
/// for the broker's confirm. The transport bounds that wait by `amqp.confirm_timeout`; the
/// outer bound, one second later, guarantees a timely 503 even if a connection attempt hangs.
pub(crate) async fn enqueue(state: &AppState, request: &ReconcileRequest) -> Result<(), ApiError> {
    let payload = serde_json::to_vec(request).map_err(|e| ApiError::Internal(e.into()))?;
    let mut envelope = Envelope::new(request.delivery_id.as_str(), payload)
        .with_label("endpoint", request.endpoint.as_str())
        .with_label("entity", request.entity_id.as_str())
        .with_label("connection", request.connection.as_str())
        .with_label("event", request.trigger.name());
    if let Some(key) = &request.issue_key {
        envelope = envelope.with_label("issue", key.as_str());
    }
    // The worker continues from this span: admin request -> publish -> reconcile.
    let span = tracing::info_span!("publish", message_id = %envelope.message_id);
    envelope.trace_context = span.in_scope(jira_sync_telemetry::current_trace_context);
    let timeout = state.settings.amqp.confirm_timeout + std::time::Duration::from_secs(1);
    match tokio::time::timeout(timeout, state.publisher.publish(envelope))
        .instrument(span)
        .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(ApiError::BrokerUnavailable(error)),
        Err(_) => Err(ApiError::BrokerUnavailable(TransportError::Unavailable(
            format!("no confirm within {timeout:?}"),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_digit_strings_are_issue_ids() {
        assert!(is_issue_id("10001"));
        for text in ["", "ACME-1", "10 01", "-1", "1".repeat(21).as_str()] {
            assert!(!is_issue_id(text), "{text:?}");
        }
    }
}
