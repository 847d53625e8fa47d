//! Every error of the ingress and its mapping to HTTP, in one place.
//!
//! [`ApiError`] is what a request can fail with; its [`ResponseError`] impl is the only place a
//! status code or an error body is chosen: `{"code": "...", "detail": "..."}`. 4xx details explain
//! what was wrong with the request; 5xx details are fixed texts that never echo internals (the
//! cause is logged instead). [`IngressError`] is what start-up and serving can fail with.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use jira_sync_domain::WebhookError;
use jira_sync_store::StoreError;
use jira_sync_transport::TransportError;
use serde::Serialize;

use crate::verify::AuthError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No endpoint with this name, or it has no webhook authentication configured.
    #[error("no webhook endpoint is configured under this name")]
    UnknownEndpoint,
    #[error("body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The body is declared as something other than JSON.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// The request's header section exceeds what any sender of webhooks needs.
    #[error("request headers exceed the limit of {limit} bytes")]
    HeadersTooLarge { limit: usize },
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    #[error(transparent)]
    Malformed(#[from] WebhookError),
    /// Anything else wrong with the request (a bad header, an unreadable body).
    #[error("{0}")]
    BadRequest(String),
    #[error("no such resource")]
    NotFound,
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed { allow: &'static str },
    /// The broker did not confirm: the sender should retry after `retry_after`.
    #[error("the message broker is unavailable; retry later")]
    Unavailable {
        retry_after: Duration,
        #[source]
        source: TransportError,
    },
    /// `ingress.max_in_flight` publishes are already waiting for the broker: the sender should
    /// retry after `retry_after` rather than queue here.
    #[error("too many webhooks in flight; retry later")]
    Overloaded { retry_after: Duration },
    /// A readiness probe failed; `failed` names the dependencies, never the reason.
    #[error("not ready: {failed}")]
    NotReady { failed: String },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The stable, machine-readable code in the body, also the `reason` label of
    /// `events_rejected_total`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownEndpoint => "unknown_endpoint",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::HeadersTooLarge { .. } => "headers_too_large",
            Self::Unauthorized(_) => "unauthorized",
            Self::Malformed(_) => "malformed_webhook",
            Self::BadRequest(_) => "bad_request",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unavailable { .. } => "unavailable",
            Self::Overloaded { .. } => "overloaded",
            Self::NotReady { .. } => "not_ready",
            Self::Internal(_) => "internal",
        }
    }
}

/// The error body every failed request gets.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub detail: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnknownEndpoint | Self::NotFound => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Malformed(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable { .. } | Self::Overloaded { .. } | Self::NotReady { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // Shedding load is the service working as intended: counted, not logged as an error.
        if status.is_server_error() && !matches!(self, Self::Overloaded { .. }) {
            // The cause goes to the log, never to the caller.
            let cause = std::error::Error::source(self).map(ToString::to_string);
            tracing::error!(code = self.code(), cause, "{self}");
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::Unavailable { retry_after, .. } | Self::Overloaded { retry_after } => {
                // Retry-After takes whole seconds; never advertise 0 (an immediate retry storm).
                let secs = retry_after.as_secs().max(1);
                response.insert_header((RETRY_AFTER, secs.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((ALLOW, *allow));
            }
            _ => {}
        }
        // Display of each variant is the public detail; for 5xx it is a fixed text.
        response.json(ErrorBody {
            code: self.code(),
            detail: self.to_string(),
        })
    }
}

/// Why the ingress could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("message broker")]
    Transport(#[from] TransportError),
    #[error("database")]
    Store(#[from] StoreError),
    #[error("HTTP server failed")]
    Server(#[source] std::io::Error),
}

/// Maps actix's own extractor errors (JSON, payload, path, query) into the common body.
pub fn extractor_error(err: impl std::fmt::Display) -> actix_web::Error {
    ApiError::BadRequest(err.to_string()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = err
            .error_response()
            .into_body()
            .try_into_bytes()
            .expect("a complete body");
        serde_json::from_slice(&bytes).expect("a JSON body")
    }

    #[test]
    fn each_error_maps_to_its_status_and_code() {
        let cases = [
            (ApiError::UnknownEndpoint, 404, "unknown_endpoint"),
            (
                ApiError::PayloadTooLarge { limit: 10 },
                413,
                "payload_too_large",
            ),
            (
                ApiError::Unauthorized(AuthError::SignatureMismatch),
                401,
                "unauthorized",
            ),
            (
                ApiError::Malformed(WebhookError::MissingEvent),
                400,
                "malformed_webhook",
            ),
            (
                ApiError::BadRequest("bad header".into()),
                400,
                "bad_request",
            ),
            (ApiError::NotFound, 404, "not_found"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::HeadersTooLarge { limit: 16 },
                431,
                "headers_too_large",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err}");
            let body = body_of(&err);
            assert_eq!(body["code"], code);
            assert_eq!(body["detail"], err.to_string());
        }
    }

    #[test]
    fn a_broker_failure_is_503_with_retry_after_and_no_internals() {
        let err = ApiError::Unavailable {
            retry_after: Duration::from_secs(10),
            source: TransportError::Unavailable("amqp://guest:secret@10.0.0.7 refused".into()),
        };
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("10")
        );
        let text = body_of(&err).to_string();
        assert!(
            !text.contains("10.0.0.7") && !text.contains("secret"),
            "{text}"
        );
    }

    #[test]
    fn overload_is_503_with_retry_after_and_its_own_code() {
        let err = ApiError::Overloaded {
            retry_after: Duration::from_secs(3),
        };
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("3")
        );
        assert_eq!(body_of(&err)["code"], "overloaded");
    }

    #[test]
    fn a_sub_second_retry_after_is_rounded_up_to_one_second() {
        let err = ApiError::Unavailable {
            retry_after: Duration::from_millis(200),
            source: TransportError::Closed,
        };
        let response = err.error_response();
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }

    #[test]
    fn an_internal_error_hides_its_cause() {
        let err = ApiError::Internal("connection string postgres://x:pw@db".into());
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_of(&err)["detail"], "internal error");
    }

    #[test]
    fn a_bad_signature_detail_explains_the_problem() {
        let err = ApiError::from(AuthError::UnsupportedMethod("md5".into()));
        assert_eq!(
            body_of(&err)["detail"],
            "signature method `md5` is not supported (only sha256)"
        );
    }
}
