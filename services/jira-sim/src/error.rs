//! Jira's error answer, `{"errorMessages":[...],"errors":{...}}`, in one type that every REST
//! handler returns, with constructors for the messages Jira Cloud uses.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// The message Jira gives for an issue that is missing or not visible.
pub const ISSUE_NOT_FOUND: &str = "Issue does not exist or you do not have permission to see it.";

/// An error answer of the simulated Jira REST API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status}: {messages:?} {errors:?}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `errorMessages`.
    pub messages: Vec<String>,
    /// `errors`, keyed by field.
    pub errors: BTreeMap<String, String>,
    headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with one message and no field errors.
    pub fn message(status: StatusCode, msg: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![msg.into()],
            errors: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    /// 400 naming one field.
    pub fn field(name: &str, msg: impl Into<String>) -> Self {
        Self::fields(BTreeMap::from([(name.to_owned(), msg.into())]))
    }

    /// 400 naming several fields.
    pub fn fields(errors: BTreeMap<String, String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors,
            headers: Vec::new(),
        }
    }

    /// 400 with a message.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::message(StatusCode::BAD_REQUEST, msg)
    }

    /// 404 for an unknown issue, with Jira's wording.
    pub fn issue_not_found() -> Self {
        Self::message(StatusCode::NOT_FOUND, ISSUE_NOT_FOUND)
    }

    /// 404 with a message.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::message(StatusCode::NOT_FOUND, msg)
    }

    /// 401 as Jira answers a request without valid credentials.
    pub fn unauthorized() -> Self {
        Self::message(
            StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.",
        )
        .with_header("WWW-Authenticate", "Basic realm=\"protected-area\"")
        .with_header("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
    }

    /// 429 with `Retry-After` and `RateLimit-Reason`.
    pub fn rate_limited(retry_after_secs: u64, reason: &str) -> Self {
        Self::message(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.")
            .with_header("Retry-After", retry_after_secs.to_string())
            .with_header("RateLimit-Reason", reason)
            .with_header("X-RateLimit-NearLimit", "true")
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            resp.insert_header((*name, value.as_str()));
        }
        resp.json(json!({ "errorMessages": self.messages, "errors": self.errors }))
    }
}
