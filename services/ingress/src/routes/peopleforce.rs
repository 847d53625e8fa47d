//! `POST /webhooks/peopleforce/{endpoint}`: authenticate and acknowledge a PeopleForce webhook.
//!
//! The order is the Jira route's: find the endpoint (it must be of kind `peopleforce`), check
//! the media type, bound the body, verify `X-PeopleForce-Signature` over the raw bytes, and only
//! then parse. The body is `{"action": "<topic>", "data": {...}}`. PeopleForce publishes no task topics, so tasks are
//! found by the poller's scans. An employee topic (`employee_*`) is a trigger: a changed e-mail
//! changes which Jira user the employee's work maps to, so one request per connection of the
//! endpoint asks the worker to reconcile the linked tasks assigned to `data.id` (published with
//! the broker's confirm before the 202, as for Jira). Every other topic is ignored with a 202,
//! so PeopleForce does not redeliver.

use actix_web::{HttpRequest, HttpResponse, web};
use jira_sync_domain::{DeliveryId, EMPLOYEE_ENTITY_PREFIX, EndpointId, ReconcileRequest, Trigger};
use jira_sync_settings::EndpointKind;
use jira_sync_telemetry::names;
use jira_sync_transport::Envelope;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument;

use crate::error::ApiError;
use crate::routes::webhook::{
    find_endpoint, incoming_trace_context, publish, read_body, require_json,
};
use crate::startup::AppState;
use crate::verify::{Sender, verify_from};

/// The prefix of the topics about employees.
const EMPLOYEE_TOPIC_PREFIX: &str = "employee_";

/// The part of a PeopleForce webhook the ingress reads.
#[derive(Debug, Deserialize)]
pub struct PeopleforceWebhook {
    /// The topic, e.g. `employee_update`.
    pub action: String,
    #[serde(default)]
    data: Option<Value>,
}

impl PeopleforceWebhook {
    /// `data.id` of an employee topic, a number or a numeric string.
    pub fn employee_id(&self) -> Result<String, ApiError> {
        let id = self.data.as_ref().and_then(|d| d.get("id"));
        let id = match id {
            Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Some(s.clone())
            }
            _ => None,
        };
        id.ok_or_else(|| {
            ApiError::BadRequest(format!(
                "`{}` webhook without an employee id in `data.id`",
                self.action
            ))
        })
    }
}

/// Parses the part of a (verified) PeopleForce webhook body the ingress reads.
pub fn parse(body: &[u8]) -> Result<PeopleforceWebhook, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("not a PeopleForce webhook: {e}")))
}

/// Whether a topic is about employees (a trigger); any other topic is ignored.
pub fn is_employee_topic(action: &str) -> bool {
    action.starts_with(EMPLOYEE_TOPIC_PREFIX)
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

    require_json(req)?;
    let body = read_body(req, payload, state.settings.ingress.max_body_bytes).await?;
    let verified = verify_from(Sender::Peopleforce, endpoint, auth, req.headers(), body)?;
    let hook = parse(verified.body())?;
    span.record("event", hook.action.as_str());

    if is_employee_topic(&hook.action) {
        let employee = hook.employee_id()?;
        let envelopes = employee_requests(state, endpoint, &hook.action, &employee)?;
        let count = envelopes.len();
        for envelope in envelopes {
            publish(state, envelope).await?;
        }
        metrics::counter!(names::EVENTS_RECEIVED, "endpoint" => endpoint.to_string()).increment(1);
        tracing::info!(messages = count, "employee change accepted");
        return Ok(HttpResponse::Accepted()
            .json(json!({ "status": "accepted", "event": hook.action, "messages": count })));
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

/// One request per connection with `endpoint` as a side: reconcile the linked tasks of
/// `employee`.
fn employee_requests(
    state: &AppState,
    endpoint: &EndpointId,
    action: &str,
    employee: &str,
) -> Result<Vec<Envelope>, ApiError> {
    let delivery = DeliveryId::generate();
    let entity_id = format!("{EMPLOYEE_ENTITY_PREFIX}{employee}");
    let trace_context = jira_sync_telemetry::current_trace_context();
    let mut envelopes = Vec::new();
    for (connection, _, _) in state.settings.connections_of(endpoint, None) {
        let delivery_id = DeliveryId::parse(format!("{delivery}:{connection}"))
            .map_err(|e| ApiError::Internal(e.into()))?;
        let request = ReconcileRequest {
            connection: connection.clone(),
            endpoint: endpoint.clone(),
            entity_id: entity_id.clone(),
            issue_key: None,
            trigger: Trigger::Webhook {
                event: action.to_owned(),
                actor: None,
            },
            delivery_id: delivery_id.clone(),
            event_at: None,
            change: None,
        };
        let payload = serde_json::to_vec(&request).map_err(|e| ApiError::Internal(e.into()))?;
        let mut envelope = Envelope::new(delivery_id.as_str(), payload)
            .with_label("endpoint", endpoint.as_str())
            .with_label("entity", entity_id.as_str())
            .with_label("connection", connection.as_str())
            .with_label("event", action);
        envelope.trace_context = trace_context.clone();
        envelopes.push(envelope);
    }
    Ok(envelopes)
}
