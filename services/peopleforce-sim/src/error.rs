//! PeopleForce's error answers: `{"message": "..."}` (and `errors` by field for 422), with the
//! statuses its authentication guide lists (401 "Bad Credentials", 403, 404, 422, 429, 500).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An error answer of the simulated API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct SimError {
    /// HTTP status.
    pub status: StatusCode,
    /// `message`.
    pub message: String,
    /// `errors`, by field (422 only).
    pub errors: BTreeMap<String, Vec<String>>,
    /// `Retry-After` seconds (429 only).
    pub retry_after_secs: Option<u64>,
}

impl SimError {
    /// An error with a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
            retry_after_secs: None,
        }
    }

    /// 401 as PeopleForce words it.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Bad Credentials")
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 422 naming one field.
    pub fn invalid(field: &str, message: &str) -> Self {
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed");
        error
            .errors
            .insert(field.to_owned(), vec![message.to_owned()]);
        error
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
        }
    }
}

impl ResponseError for SimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        let mut body = json!({ "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        response.json(body)
    }
}
