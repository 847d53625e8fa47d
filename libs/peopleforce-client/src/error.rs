//! The client's error type and its classification into a [`Disposition`].
//!
//! The one place that knows what a PeopleForce answer means for the worker: retry later (408,
//! 425, 429, 5xx, timeouts, connection failures) or dead-letter (400, 401, 403, 404, 422,
//! undecodable answers). Error text carries the method, the path and PeopleForce's own
//! `message`, never the API key.

use std::time::Duration;

use jira_sync_domain::Disposition;
use reqwest::Method;
use serde::Deserialize;

/// Longest message kept from an error body, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// What went wrong talking to PeopleForce.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeopleForceError {
    /// The configuration cannot work (bad base URL, unprintable key).
    #[error("invalid PeopleForce client configuration: {reason}")]
    Config { reason: String },
    /// An argument cannot be used in a request (an empty id).
    #[error("invalid {what} `{value}` for a PeopleForce request")]
    InvalidInput { what: &'static str, value: String },
    /// A request body could not be serialized.
    #[error("cannot encode the request body for PeopleForce")]
    Encode(#[source] serde_json::Error),
    /// The HTTP client could not be built.
    #[error("cannot build the PeopleForce HTTP client")]
    Build(#[source] reqwest::Error),
    /// No connection could be made: the request provably did not arrive.
    #[error("cannot connect to PeopleForce for {method} {path}")]
    Connect {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// The attempt ran out of time; PeopleForce may or may not have applied it.
    #[error("{method} {path} to PeopleForce timed out")]
    Timeout {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// Another transport failure after the connection was made.
    #[error("transport error on {method} {path} to PeopleForce")]
    Transport {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// PeopleForce answered with a status that is not a success.
    #[error("PeopleForce answered {status} to {method} {path}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        status: u16,
        method: Method,
        path: String,
        /// PeopleForce's `message` (and field errors), bounded.
        message: Option<String>,
        /// From `Retry-After` (seconds or an HTTP date).
        retry_after: Option<Duration>,
    },
    /// A 2xx answer this client cannot read.
    #[error("cannot decode PeopleForce's answer to {method} {path}")]
    Decode {
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl PeopleForceError {
    /// What the worker (or the poller) should do about this error.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Config { .. } | Self::Build(_) => Disposition::Permanent { class: "config" },
            Self::InvalidInput { .. } | Self::Encode(_) => Disposition::Permanent {
                class: "invalid_request",
            },
            Self::Connect { .. } | Self::Timeout { .. } | Self::Transport { .. } => {
                Disposition::Transient { retry_after: None }
            }
            Self::Status {
                status,
                retry_after,
                ..
            } => status_disposition(*status, *retry_after),
            Self::Decode { .. } => Disposition::Permanent {
                class: "peopleforce_bad_response",
            },
        }
    }

    /// The HTTP status PeopleForce answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether PeopleForce answered 404.
    /// Whether a write that failed with this error may have been applied by PeopleForce anyway
    /// (a timeout, a broken connection, a 5xx): look for its result before writing again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            PeopleForceError::Timeout { .. } | PeopleForceError::Transport { .. } => true,
            PeopleForceError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The delay PeopleForce asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.disposition() {
            Disposition::Transient { retry_after } => retry_after,
            Disposition::Permanent { .. } => None,
        }
    }
}

fn status_disposition(status: u16, retry_after: Option<Duration>) -> Disposition {
    match status {
        // The statuses the public clients retry (Empat: 408, 425, 429, 500, 502, 503, 504).
        408 | 425 | 429 | 500..=599 => Disposition::Transient { retry_after },
        401 => Disposition::Permanent {
            class: "peopleforce_unauthorized",
        },
        403 => Disposition::Permanent {
            class: "peopleforce_forbidden",
        },
        404 => Disposition::Permanent {
            class: "peopleforce_not_found",
        },
        400..=499 => Disposition::Permanent {
            class: "peopleforce_rejected",
        },
        _ => Disposition::Permanent {
            class: "peopleforce_bad_response",
        },
    }
}

/// PeopleForce's error body: `{"message": "...", "errors": {...}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    message: Option<String>,
    errors: Option<serde_json::Value>,
}

/// The message of an error body; a body that is not PeopleForce's error JSON contributes its
/// (truncated) text.
pub(crate) fn parse_message(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => match (parsed.message, parsed.errors) {
            (Some(m), Some(e)) => format!("{m} {e}"),
            (Some(m), None) => m,
            (None, Some(e)) => e.to_string(),
            (None, None) => return None,
        },
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if text.is_empty() {
        return None;
    }
    Some(match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    })
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
mod tests {
    use super::*;

    fn status(code: u16) -> PeopleForceError {
        PeopleForceError::Status {
            status: code,
            method: Method::GET,
            path: "/api/public/v3/tasks".into(),
            message: None,
            retry_after: Some(Duration::from_secs(3)),
        }
    }

    #[test]
    fn statuses_map_to_the_documented_dispositions() {
        for code in [408, 425, 429, 500, 502, 503, 504] {
            assert_eq!(
                status(code).disposition(),
                Disposition::Transient {
                    retry_after: Some(Duration::from_secs(3))
                },
                "{code}"
            );
        }
        for (code, class) in [
            (401, "peopleforce_unauthorized"),
            (403, "peopleforce_forbidden"),
            (404, "peopleforce_not_found"),
            (422, "peopleforce_rejected"),
            (400, "peopleforce_rejected"),
            (302, "peopleforce_bad_response"),
        ] {
            assert_eq!(
                status(code).disposition(),
                Disposition::Permanent { class },
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:30Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("later", now), None);
    }

    #[test]
    fn error_bodies_give_their_message_bounded() {
        assert_eq!(
            parse_message(br#"{"message":"Bad Credentials"}"#).as_deref(),
            Some("Bad Credentials")
        );
        assert_eq!(
            parse_message(
                br#"{"message":"Validation failed","errors":{"title":["can't be blank"]}}"#
            )
            .as_deref(),
            Some(r#"Validation failed {"title":["can't be blank"]}"#)
        );
        assert_eq!(
            parse_message(b"<html>oops</html>").as_deref(),
            Some("<html>oops</html>")
        );
        assert_eq!(parse_message(b""), None);
        let long = "x".repeat(2000);
        let cut = parse_message(long.as_bytes()).unwrap_or_default();
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
