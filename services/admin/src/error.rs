//! Every error of the admin API and its mapping to HTTP, in one place.
//!
//! [`ApiError`] is what a request can fail with; its [`ResponseError`] impl is the only place a
//! status code or an error body is chosen: `{"code": "...", "detail": "..."}`. 4xx details say
//! what was wrong with the request; 5xx details are fixed texts that never echo internals (the
//! cause is logged instead). [`AdminError`] is what start-up and serving can fail with.

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use jira_sync_jira_client::JiraError;
use jira_sync_store::StoreError;
use jira_sync_transport::TransportError;
use serde::Serialize;

use crate::auth::AuthFailure;

/// `Retry-After` of a 503, in seconds: a broker or database outage rarely ends sooner.
const RETRY_AFTER_SECS: u64 = 5;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthorized(#[from] AuthFailure),
    /// The body, query or path cannot be used; the text says why.
    #[error("{0}")]
    BadRequest(String),
    /// No connection of this name is configured.
    #[error("no connection `{0}` is configured")]
    UnknownConnection(String),
    /// The issue to sync does not exist, or is not in the connection's project on that side.
    #[error("{0}")]
    UnknownIssue(String),
    #[error("no link found for {0}")]
    UnknownLink(String),
    #[error("no conflict with id {0}")]
    UnknownConflict(String),
    /// The conflict was settled before, differently: the first resolution stands.
    #[error("the conflict was already resolved as `{0}`")]
    AlreadyResolved(String),
    #[error("no such resource")]
    NotFound,
    #[error("method not allowed; use {allow}")]
    MethodNotAllowed { allow: String },
    /// The broker did not confirm (or cannot be read): nothing was enqueued or moved.
    #[error("the message broker is unavailable; retry later")]
    BrokerUnavailable(#[source] TransportError),
    #[error("the database is unavailable; retry later")]
    StoreUnavailable(#[source] StoreError),
    /// The Jira site of `endpoint` failed the look-up of an issue key.
    #[error(
        "the Jira site `{endpoint}` did not answer the issue look-up; retry later or give the issue id"
    )]
    JiraUnavailable {
        endpoint: String,
        #[source]
        source: Box<JiraError>,
    },
    /// A readiness probe failed; `failed` names the dependencies, never the reason.
    #[error("not ready: {failed}")]
    NotReady { failed: String },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The stable, machine-readable code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::BadRequest(_) => "bad_request",
            Self::UnknownConnection(_) => "unknown_connection",
            Self::UnknownIssue(_) => "unknown_issue",
            Self::UnknownLink(_) => "unknown_link",
            Self::UnknownConflict(_) => "unknown_conflict",
            Self::AlreadyResolved(_) => "already_resolved",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::BrokerUnavailable(_) => "broker_unavailable",
            Self::StoreUnavailable(_) => "database_unavailable",
            Self::JiraUnavailable { .. } => "jira_unavailable",
            Self::NotReady { .. } => "not_ready",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => Self::StoreUnavailable(error),
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<TransportError> for ApiError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Unexpected(_) => Self::Internal(Box::new(error)),
            other => Self::BrokerUnavailable(other),
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
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) | Self::UnknownConnection(_) | Self::UnknownIssue(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::UnknownLink(_) | Self::UnknownConflict(_) | Self::NotFound => {
                StatusCode::NOT_FOUND
            }
            Self::AlreadyResolved(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::JiraUnavailable { .. } => StatusCode::BAD_GATEWAY,
            Self::BrokerUnavailable(_) | Self::StoreUnavailable(_) | Self::NotReady { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The cause goes to the log, never to the caller.
            let cause = std::error::Error::source(self).map(ToString::to_string);
            tracing::error!(code = self.code(), cause, "{self}");
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::Unauthorized(failure) => {
                response.insert_header((WWW_AUTHENTICATE, failure.challenge()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((ALLOW, allow.as_str()));
            }
            Self::BrokerUnavailable(_) | Self::StoreUnavailable(_) => {
                response.insert_header((RETRY_AFTER, RETRY_AFTER_SECS.to_string()));
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

/// Why the admin API could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// Without a key every request would be refused: configure `admin.api_keys` or do not run
    /// (or mount) the admin API.
    #[error("admin.api_keys is empty: the admin API would refuse every request")]
    NoApiKeys,
    #[error("message broker")]
    Transport(#[from] TransportError),
    #[error("database")]
    Store(#[from] StoreError),
    #[error("Jira client")]
    Jira(#[from] JiraError),
    #[error("HTTP server failed")]
    Server(#[source] std::io::Error),
}

/// Maps actix's JSON extractor errors into the common body, with a reason a person can act on.
pub fn json_error(error: JsonPayloadError) -> actix_web::Error {
    let detail = match &error {
        JsonPayloadError::ContentType => {
            "the body must be JSON, sent with `Content-Type: application/json`".to_owned()
        }
        JsonPayloadError::Deserialize(e) if e.is_eof() && e.line() == 1 && e.column() == 0 => {
            "the body is empty; send a JSON object".to_owned()
        }
        JsonPayloadError::Deserialize(e) => format!("invalid JSON body: {e}"),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            format!("the body exceeds {limit} bytes")
        }
        other => format!("cannot read the body: {other}"),
    };
    ApiError::BadRequest(detail).into()
}

/// Maps actix's query extractor errors into the common body.
pub fn query_error(error: QueryPayloadError) -> actix_web::Error {
    let detail = match &error {
        QueryPayloadError::Deserialize(e) => format!("invalid query string: {e}"),
        other => format!("invalid query string: {other}"),
    };
    ApiError::BadRequest(detail).into()
}

/// Maps actix's path extractor errors into the common body.
pub fn path_error(error: impl std::fmt::Display) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {error}")).into()
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

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
            (ApiError::BadRequest("x".into()), 400, "bad_request"),
            (
                ApiError::UnknownConnection("c".into()),
                400,
                "unknown_connection",
            ),
            (
                ApiError::UnknownIssue("ACME-1".into()),
                400,
                "unknown_issue",
            ),
            (ApiError::UnknownLink("x".into()), 404, "unknown_link"),
            (
                ApiError::UnknownConflict("x".into()),
                404,
                "unknown_conflict",
            ),
            (
                ApiError::AlreadyResolved("left".into()),
                409,
                "already_resolved",
            ),
            (ApiError::NotFound, 404, "not_found"),
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
        let err = ApiError::from(TransportError::Unavailable(
            "amqp://guest:secret@10.0.0.7 refused".into(),
        ));
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        let text = body_of(&err).to_string();
        assert!(
            !text.contains("10.0.0.7") && !text.contains("secret"),
            "{text}"
        );
    }

    #[test]
    fn database_and_internal_errors_hide_their_cause() {
        let err = ApiError::from(StoreError::Unavailable("postgres://x:pw@db".into()));
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!body_of(&err).to_string().contains("pw@db"));
        let err = ApiError::from(StoreError::Conflict("row 42 of links".into()));
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_of(&err)["detail"], "internal error");
    }

    #[test]
    fn a_refused_key_gets_a_bearer_challenge() {
        let response = ApiError::from(AuthFailure::WrongKey).error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
    }
}
