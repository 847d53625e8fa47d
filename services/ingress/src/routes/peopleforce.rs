//! `POST /webhooks/peopleforce/{endpoint}`: authenticate and acknowledge a PeopleForce webhook.
//!
//! The order is the Jira route's: find the endpoint (it must be of kind `peopleforce`), bound
//! the body, verify `X-PeopleForce-Signature` over the raw bytes, and only then parse. The body
//! is `{"action": "<topic>", "data": {...}}`. PeopleForce publishes no task topics, so tasks are
//! found by the poller's scans; employee topics (`employee_*`) are acknowledged and counted as
//! triggers (a changed e-mail changes how assignees map), every other topic is ignored. Either
//! way the answer is 202, so PeopleForce does not redeliver.

use actix_web::{HttpRequest, HttpResponse, web};
use jira_sync_settings::EndpointKind;
use jira_sync_telemetry::names;
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;

use crate::error::ApiError;
use crate::routes::webhook::{find_endpoint, incoming_trace_context, read_body};
use crate::startup::AppState;
use crate::verify::{Sender, verify_from};

/// The prefix of the topics about employees.
const EMPLOYEE_TOPIC_PREFIX: &str = "employee_";

/// The part of a PeopleForce webhook the ingress reads.
#[derive(Debug, Deserialize)]
struct PeopleforceWebhook {
    action: String,
}

/// Receives one PeopleForce webhook; failures are counted in `events_rejected_total{reason}`.
pub async fn receive(
    req: HttpRequest,
    endpoint: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let span = tracing::info_span!(
        "peopleforce_webhook",
        endpoint = tracing::field::Empty,
        event = tracing::field::Empty,
    );
    jira_sync_telemetry::set_parent_from(&incoming_trace_context(&req), &span);
    let result = handle(&req, &endpoint, payload, &state)
        .instrument(span.clone())
        .await;
    if let Err(err) = &result {
        metrics::counter!(names::EVENTS_REJECTED, "reason" => err.code()).increment(1);
        span.in_scope(|| tracing::warn!(code = err.code(), "webhook refused: {err}"));
    }
    result
}

async fn handle(
    req: &HttpRequest,
    endpoint: &str,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, auth) = find_endpoint(state, endpoint)?;
    if state.settings.endpoint_kind(endpoint) != Some(EndpointKind::Peopleforce) {
        return Err(ApiError::UnknownEndpoint);
    }
    let span = tracing::Span::current();
    span.record("endpoint", endpoint.as_str());

    let body = read_body(req, payload, state.settings.ingress.max_body_bytes).await?;
    let verified = verify_from(Sender::Peopleforce, endpoint, auth, req.headers(), body)?;
    let hook: PeopleforceWebhook = serde_json::from_slice(verified.body())
        .map_err(|e| ApiError::BadRequest(format!("not a PeopleForce webhook: {e}")))?;
    span.record("event", hook.action.as_str());

    if hook.action.starts_with(EMPLOYEE_TOPIC_PREFIX) {
        metrics::counter!(names::EVENTS_RECEIVED, "endpoint" => endpoint.to_string()).increment(1);
        tracing::info!("employee change acknowledged");
        return Ok(HttpResponse::Accepted()
            .json(json!({ "status": "accepted", "event": hook.action, "messages": 0 })));
    }
    metrics::counter!(
        names::EVENTS_IGNORED,
        "endpoint" => endpoint.to_string(),
        "reason" => "unsynced_event",
    )
    .increment(1);
    tracing::info!("webhook ignored");
    Ok(HttpResponse::Accepted().json(json!({ "status": "ignored", "event": hook.action })))
}
