//! The envelope every transport carries: an opaque payload plus the metadata that retries,
//! dead letters and tracing need.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why an attempt failed, recorded on retried and dead-lettered messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// A short stable name (`transient`, `jira_rejected`, `undecodable`, `exhausted`...).
    pub class: String,
    /// A human-readable message; never contains secrets.
    pub message: String,
}

impl Failure {
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            class: class.into(),
            message: message.into(),
        }
    }
}

/// A message with its delivery metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Unique per logical message; kept across retries and replays.
    pub message_id: String,
    /// The body: for the work queue, a JSON `ReconcileRequest`. Opaque to the transport, so an
    /// undecodable body still travels to the dead-letter queue intact.
    pub payload: Vec<u8>,
    /// 1 on the first delivery, incremented by every retry.
    pub attempt: u32,
    /// When the message was first published.
    pub first_seen: DateTime<Utc>,
    /// The last failure, on retried and dead-lettered messages.
    pub failure: Option<Failure>,
    /// W3C trace context (`traceparent`, `tracestate`) of the producer.
    pub trace_context: BTreeMap<String, String>,
    /// Labels for people reading the queue: `endpoint`, `entity`, `connection`, `event`.
    pub labels: BTreeMap<String, String>,
}

impl Envelope {
    /// A new message on its first attempt.
    pub fn new(message_id: impl Into<String>, payload: Vec<u8>) -> Self {
        Self {
            message_id: message_id.into(),
            payload,
            attempt: 1,
            first_seen: Utc::now(),
            failure: None,
            trace_context: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }

    pub fn with_label(mut self, key: &str, value: impl Into<String>) -> Self {
        self.labels.insert(key.to_owned(), value.into());
        self
    }
}
