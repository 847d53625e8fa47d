//! Envelope <-> row mapping. Lenient on the way back, like the AMQP headers: a row inserted by
//! hand (missing or malformed columns) still decodes, with defaults, so the worker can
//! dead-letter it instead of the transport choking on it. Pure: no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::{Envelope, Failure};

/// A message row as read back (from either table).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub(crate) seq: i64,
    pub(crate) message_id: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) attempt: i64,
    pub(crate) first_seen: String,
    pub(crate) failure_class: Option<String>,
    pub(crate) failure_message: Option<String>,
    pub(crate) trace_context: String,
    pub(crate) labels: String,
}

impl MessageRow {
    /// The envelope the row carries; missing or malformed values get defaults (attempt 1,
    /// first seen now, empty maps).
    pub(crate) fn into_envelope(self) -> Envelope {
        Envelope {
            message_id: self.message_id,
            payload: self.payload,
            attempt: u32::try_from(self.attempt)
                .ok()
                .filter(|n| *n >= 1)
                .unwrap_or(1),
            first_seen: DateTime::parse_from_rfc3339(&self.first_seen)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now()),
            failure: self.failure_class.map(|class| Failure {
                class,
                message: self.failure_message.unwrap_or_default(),
            }),
            trace_context: map(&self.trace_context),
            labels: map(&self.labels),
        }
    }
}

/// Nanosecond precision, so a first-seen time survives the round trip exactly.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn now() -> String {
    time(Utc::now())
}

/// A JSON object of strings.
pub(crate) fn json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

fn map(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(envelope: &Envelope) -> MessageRow {
        MessageRow {
            seq: 1,
            message_id: envelope.message_id.clone(),
            payload: envelope.payload.clone(),
            attempt: i64::from(envelope.attempt),
            first_seen: time(envelope.first_seen),
            failure_class: envelope.failure.as_ref().map(|f| f.class.clone()),
            failure_message: envelope.failure.as_ref().map(|f| f.message.clone()),
            trace_context: json(&envelope.trace_context),
            labels: json(&envelope.labels),
        }
    }

    #[test]
    fn an_envelope_survives_the_row_unchanged() {
        let mut envelope =
            Envelope::new("m-1", b"{\"k\":1}".to_vec()).with_label("entity", "PROJ-7");
        envelope.attempt = 3;
        envelope.failure = Some(Failure::new("transient", "Jira answered 503"));
        envelope
            .trace_context
            .insert("traceparent".into(), "00-abc-def-01".into());
        assert_eq!(row(&envelope).into_envelope(), envelope);
    }

    #[test]
    fn a_row_written_by_hand_decodes_to_defaults() {
        let before = Utc::now();
        let decoded = MessageRow {
            seq: 7,
            message_id: String::new(),
            payload: b"hello".to_vec(),
            attempt: 0,
            first_seen: "yesterday".into(),
            failure_class: None,
            failure_message: Some("ignored without a class".into()),
            trace_context: "not json".into(),
            labels: "{\"entity\": 1}".into(),
        }
        .into_envelope();
        assert_eq!(decoded.attempt, 1);
        assert!(decoded.first_seen >= before);
        assert_eq!(decoded.failure, None);
        assert!(decoded.trace_context.is_empty() && decoded.labels.is_empty());
    }
}
