//! `POST /webhooks/jira/{endpoint}`: authenticate, route and publish a Jira webhook.
//!
//! Order matters: find the endpoint, check the declared media type, bound the body, verify the
//! signature over the raw bytes, and only then parse. Nothing is published for a refused request; a 202 is sent only once the
//! broker confirmed every message, so a 503 makes Jira retry rather than lose the event.

use std::collections::BTreeMap;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use jira_sync_domain::{DeliveryId, EndpointId};
use jira_sync_settings::WebhookAuth;
use jira_sync_telemetry::{TRACEPARENT, TRACESTATE, names};
use serde_json::json;
use tracing::Instrument;

use crate::dispatch::{Plan, plan};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::verify::verify;

/// Jira's delivery id: the same on every retry of one delivery, hence the dedupe key.
pub const DELIVERY_HEADER: &str = "x-atlassian-webhook-identifier";

/// Receives one webhook; failures are counted in `events_rejected_total{reason}`.
pub async fn receive(
    req: HttpRequest,
    endpoint: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let span = tracing::info_span!(
        "webhook",
        endpoint = tracing::field::Empty,
        delivery_id = tracing::field::Empty,
        event = tracing::field::Empty,
        messages = tracing::field::Empty,
    );
    // Jira sends no trace context, but a proxy or test harness in front of us may.
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
    let span = tracing::Span::current();
    span.record("endpoint", endpoint.as_str());
    // At `ingress.max_in_flight` already: refuse before reading, verifying and parsing the body,
    // so that shedding load costs little. (`publish` enforces the limit itself; this only
    // spares the work.)
    if state.in_flight.available_permits() == 0 {
        let retry_after = state.settings.ingress.unavailable_retry_after;
        return Err(ApiError::Overloaded { retry_after });
    }

    require_json(req)?;
    let body = read_body(req, payload, state.settings.ingress.max_body_bytes).await?;
    let verified = verify(endpoint, auth, req.headers(), body)?;
    let delivery = delivery_id(req)?;
    span.record("delivery_id", delivery.as_str());

    match plan(&verified, &state.settings, &delivery)? {
        Plan::Ignore { event, reason } => {
            span.record("event", event.as_str());
            metrics::counter!(
                names::EVENTS_IGNORED,
                "endpoint" => endpoint.to_string(),
                "reason" => reason.as_str(),
            )
            .increment(1);
            tracing::info!(reason = reason.as_str(), "webhook ignored");
            Ok(HttpResponse::Accepted().json(json!({ "status": "ignored" })))
        }
        Plan::Publish { event, envelopes } => {
            span.record("event", event.as_str());
            let count = envelopes.len();
            span.record("messages", count);
            for envelope in envelopes {
                publish(state, envelope).await?;
            }
            metrics::counter!(names::EVENTS_RECEIVED, "endpoint" => endpoint.to_string())
                .increment(1);
            tracing::info!("webhook accepted");
            Ok(HttpResponse::Accepted().json(json!({ "status": "accepted", "messages": count })))
        }
    }
}

/// The W3C trace headers of the request, if any.
pub(crate) fn incoming_trace_context(req: &HttpRequest) -> BTreeMap<String, String> {
    [TRACEPARENT, TRACESTATE]
        .into_iter()
        .filter_map(|name| {
            let value = req.headers().get(name)?.to_str().ok()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The endpoint named in the path, if it exists and accepts webhooks.
pub(crate) fn find_endpoint<'s>(
    state: &'s AppState,
    name: &str,
) -> Result<(&'s EndpointId, &'s WebhookAuth), ApiError> {
    let id = EndpointId::parse(name).map_err(|_| ApiError::UnknownEndpoint)?;
    state
        .settings
        .endpoints
        .get_key_value(&id)
        .and_then(|(id, endpoint)| endpoint.webhook.as_ref().map(|auth| (id, auth)))
        .ok_or(ApiError::UnknownEndpoint)
}

/// Refuses a body declared as anything but JSON (`application/json`, or a `+json` type) with
/// 415. Jira and PeopleForce send `application/json`; a request without `Content-Type` is read
/// as JSON too (the signature, not the header, vouches for the body), so a relay that drops
/// the header does not lose events.
pub(crate) fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let json = essence.as_deref().is_some_and(|t| {
        t == "application/json"
            || t.strip_prefix("application/")
                .is_some_and(|sub| sub.ends_with("+json"))
    });
    if json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Reads the body, refusing it as soon as it is known to exceed `limit`: up front from
/// `Content-Length`, and while reading for chunked bodies or lying headers.
pub(crate) async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
        Err(_) => Err(ApiError::PayloadTooLarge { limit }),
    }
}

/// The sender's delivery id, or a fresh one when it sent none (Jira Data Center).
fn delivery_id(req: &HttpRequest) -> Result<DeliveryId, ApiError> {
    match req.headers().get(DELIVERY_HEADER) {
        None => Ok(DeliveryId::generate()),
        Some(value) => value
            .to_str()
            .map_err(|_| "not visible ASCII".to_owned())
            .and_then(|v| DeliveryId::parse(v.trim()).map_err(|e| e.to_string()))
            .map_err(|e| ApiError::BadRequest(format!("X-Atlassian-Webhook-Identifier: {e}"))),
    }
}

/// Publishes one message and waits for the broker's confirm. The transport bounds that wait by
/// `amqp.confirm_timeout` itself; the outer bound (one second later, so the transport's own
/// error normally wins) guarantees a timely 503 even if a connection attempt hangs. When
/// `ingress.max_in_flight` publishes are already waiting, it refuses at once (503, overloaded).
pub(crate) async fn publish(
    state: &AppState,
    mut envelope: jira_sync_transport::Envelope,
) -> Result<(), ApiError> {
    let retry_after = state.settings.ingress.unavailable_retry_after;
    let _permit = state
        .in_flight
        .try_acquire()
        .map_err(|_| ApiError::Overloaded { retry_after })?;
    // The worker continues from this span: webhook -> publish -> consume, one per message.
    let span = tracing::info_span!("publish", message_id = %envelope.message_id);
    let context = span.in_scope(jira_sync_telemetry::current_trace_context);
    if !context.is_empty() {
        envelope.trace_context = context;
    }
    let timeout = state.settings.amqp.confirm_timeout + std::time::Duration::from_secs(1);
    let outcome = tokio::time::timeout(timeout, state.publisher.publish(envelope))
        .instrument(span)
        .await;
    let source = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e,
        Err(_) => jira_sync_transport::TransportError::Unavailable(format!(
            "no confirm within {timeout:?}"
        )),
    };
    Err(ApiError::Unavailable {
        retry_after,
        source,
    })
}
