//! The client's error type and its classification into a [`Disposition`].
//!
//! This is the one place that knows what a Jira status code means for the worker: retry later
//! (429, 5xx, 409, timeouts, connection failures, an open circuit) or dead-letter (400, 401, 403,
//! 404, 422, undecodable answers). Error text carries the method, the path and Jira's own
//! messages, never the token or the `Authorization` header.

use std::collections::BTreeMap;
use std::time::Duration;

use jira_sync_domain::Disposition;
use reqwest::Method;
use serde::Deserialize;

/// Most messages kept from one Jira error body.
const MAX_MESSAGES: usize = 20;
/// Longest single message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// What went wrong talking to Jira.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JiraError {
    /// The configuration cannot work (bad base URL, unprintable e-mail).
    #[error("invalid Jira client configuration: {reason}")]
    Config { reason: String },
    /// An argument cannot be used in a request (an empty issue key, `..`).
    #[error("invalid {what} `{value}` for a Jira request")]
    InvalidInput { what: &'static str, value: String },
    /// A request body could not be serialized.
    #[error("cannot encode the request body for Jira")]
    Encode {
        #[source]
        source: serde_json::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the Jira HTTP client")]
    Build(#[source] reqwest::Error),
    /// No connection could be made: the request provably did not reach Jira.
    #[error("cannot connect to Jira for {method} {path}")]
    Connect {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// The attempt ran out of time; Jira may or may not have applied it.
    #[error("{method} {path} to Jira timed out")]
    Timeout {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// Another transport failure after the connection was made (reset, broken body).
    #[error("transport error on {method} {path} to Jira")]
    Transport {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// Jira answered with a status that is not a success.
    #[error("Jira answered {status} to {method} {path}{}", summary(messages))]
    Status {
        status: u16,
        method: Method,
        path: String,
        /// Jira's `errorMessages` then `errors` (`field: message`), bounded.
        messages: Vec<String>,
        /// From `Retry-After` (seconds or an HTTP date).
        retry_after: Option<Duration>,
        /// From `RateLimit-Reason` on 429 (`jira-per-issue-on-write`, `jira-burst-based`, ...).
        rate_limit_reason: Option<String>,
    },
    /// Jira answered 2xx with a body this client cannot read.
    #[error("cannot decode Jira's answer to {method} {path}")]
    Decode {
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The circuit breaker is open after repeated outage-like failures: nothing was sent.
    #[error("Jira endpoint `{endpoint}` is failing; circuit open for another {retry_after:?}")]
    CircuitOpen {
        endpoint: String,
        retry_after: Duration,
    },
    /// A rate-limit pause Jira asked for is still running and outlasts the retry budget:
    /// nothing was sent.
    #[error("requests to {target} are paused by Jira rate limiting for another {retry_after:?}")]
    Throttled {
        target: String,
        retry_after: Duration,
    },
}

fn summary(messages: &[String]) -> String {
    match messages.first() {
        Some(first) if messages.len() > 1 => {
            format!(": {first} (+{} more)", messages.len() - 1)
        }
        Some(first) => format!(": {first}"),
        None => String::new(),
    }
}

impl JiraError {
    /// What the worker should do about this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            JiraError::Config { .. } | JiraError::Build(_) => {
                Disposition::Permanent { class: "config" }
            }
            JiraError::InvalidInput { .. } | JiraError::Encode { .. } => Disposition::Permanent {
                class: "invalid_request",
            },
            JiraError::Connect { .. } | JiraError::Timeout { .. } | JiraError::Transport { .. } => {
                Disposition::Transient { retry_after: None }
            }
            JiraError::Status {
                status,
                retry_after,
                ..
            } => status_disposition(*status, *retry_after),
            JiraError::Decode { .. } => Disposition::Permanent {
                class: "jira_bad_response",
            },
            JiraError::CircuitOpen { retry_after, .. }
            | JiraError::Throttled { retry_after, .. } => Disposition::Transient {
                retry_after: Some(*retry_after),
            },
        }
    }

    /// The HTTP status Jira answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            JiraError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether Jira answered 404 (issue, comment or property missing, or not visible).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The delay Jira (or the client's own breaker/throttle) asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.disposition() {
            Disposition::Transient { retry_after } => retry_after,
            Disposition::Permanent { .. } => None,
        }
    }

    /// Whether a write may have been applied by Jira although it failed here (a timeout, a broken
    /// connection, a 5xx). After such a failed create, look the issue up by its marker before
    /// creating again. `false` means the request was provably not applied.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            JiraError::Timeout { .. } | JiraError::Transport { .. } => true,
            JiraError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether this failure says Jira (or the way to it) is unhealthy: it counts towards the
    /// circuit breaker. A 4xx, 429 included, proves Jira is up.
    pub(crate) fn is_outage(&self) -> bool {
        match self {
            JiraError::Connect { .. } | JiraError::Timeout { .. } | JiraError::Transport { .. } => {
                true
            }
            JiraError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Jira's `errorMessages` and `errors` for a dead-letter reason (at most 20 messages of at
    /// most 500 characters); for failures without a Jira answer, this error's own text.
    pub fn messages(&self) -> Vec<String> {
        match self {
            JiraError::Status { messages, .. } if !messages.is_empty() => messages.clone(),
            other => vec![truncate(&other.to_string())],
        }
    }
}

fn status_disposition(status: u16, retry_after: Option<Duration>) -> Disposition {
    match status {
        // 409: an edit conflict; 408/423/425: the request may succeed later.
        408 | 409 | 423 | 425 | 429 | 500..=599 => Disposition::Transient { retry_after },
        401 => Disposition::Permanent {
            class: "jira_unauthorized",
        },
        403 => Disposition::Permanent {
            class: "jira_forbidden",
        },
        404 => Disposition::Permanent {
            class: "jira_not_found",
        },
        400..=499 => Disposition::Permanent {
            class: "jira_rejected",
        },
        // Redirects are not followed and 1xx never reach here: an answer we do not understand.
        _ => Disposition::Permanent {
            class: "jira_bad_response",
        },
    }
}

/// Jira's error body: `{"errorMessages": [...], "errors": {"field": "message"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ErrorCollection {
    error_messages: Vec<String>,
    errors: BTreeMap<String, serde_json::Value>,
}

/// Extracts the bounded list of messages from an error body; a body that is not Jira's error
/// JSON contributes its (truncated) text.
pub(crate) fn parse_error_messages(body: &[u8]) -> Vec<String> {
    let messages: Vec<String> = match serde_json::from_slice::<ErrorCollection>(body) {
        Ok(collection) => collection
            .error_messages
            .into_iter()
            .chain(collection.errors.into_iter().map(|(field, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                format!("{field}: {text}")
            }))
            .collect(),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                Vec::new()
            } else {
                vec![text.to_owned()]
            }
        }
    };
    messages
        .iter()
        .take(MAX_MESSAGES)
        .map(|m| truncate(m))
        .collect()
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Parses `Retry-After`: delay-seconds (fractions tolerated) or an HTTP date, relative to `now`.
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Panicking on a broken fixture is the point of a test.
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> JiraError {
        JiraError::Status {
            status,
            method: Method::GET,
            path: "/rest/api/3/issue/A-1".into(),
            messages: vec![],
            retry_after,
            rate_limit_reason: None,
        }
    }

    #[test]
    fn statuses_map_to_the_documented_dispositions() {
        let secs = Some(Duration::from_secs(7));
        assert_eq!(
            status(429, secs).disposition(),
            Disposition::Transient { retry_after: secs }
        );
        assert_eq!(
            status(503, secs).disposition(),
            Disposition::Transient { retry_after: secs }
        );
        assert!(status(500, None).disposition().is_transient());
        assert!(status(409, None).disposition().is_transient());
        for (code, class) in [
            (400, "jira_rejected"),
            (422, "jira_rejected"),
            (401, "jira_unauthorized"),
            (403, "jira_forbidden"),
            (404, "jira_not_found"),
            (302, "jira_bad_response"),
        ] {
            assert_eq!(
                status(code, None).disposition(),
                Disposition::Permanent { class },
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:30Z")
            .unwrap()
            .to_utc();
        assert_eq!(parse_retry_after("12", now), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn error_messages_and_field_errors_are_collected_and_bounded() {
        let body = br#"{"errorMessages":["Field 'priority' is required"],"errors":{"summary":"You must specify a summary"},"status":400}"#;
        assert_eq!(
            parse_error_messages(body),
            vec![
                "Field 'priority' is required".to_owned(),
                "summary: You must specify a summary".to_owned()
            ]
        );
        let long = format!(r#"{{"errorMessages":["{}"]}}"#, "x".repeat(2000));
        let parsed = parse_error_messages(long.as_bytes());
        assert_eq!(parsed[0].chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            parse_error_messages(b"<html>Bad gateway</html>"),
            vec!["<html>Bad gateway</html>".to_owned()]
        );
        assert!(parse_error_messages(b"").is_empty());
    }
}
