//! Envelope <-> AMQP message mapping: properties and headers chosen so that an SRE reading a
//! message in the RabbitMQ management console sees why it is there (error class and message,
//! attempt, first seen, endpoint, entity...). Pure: no I/O.
//!
//! Decoding is lenient: a message published by hand (no headers, no message id) still decodes,
//! with defaults, so the worker can dead-letter it instead of the transport choking on it.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use crate::{Envelope, Failure, TransportError};

/// Attempt number, 1 on the first delivery.
pub const ATTEMPT: &str = "x-attempt";
/// When the message was first published, RFC 3339 UTC.
pub const FIRST_SEEN: &str = "x-first-seen";
/// The last failure's class (`transient`, `jira_rejected`...).
pub const ERROR_CLASS: &str = "x-error-class";
/// The last failure's message, cut to [`MAX_ERROR_MESSAGE_BYTES`].
pub const ERROR_MESSAGE: &str = "x-error-message";
/// Labels travel as `x-label-<key>` (`x-label-endpoint`, `x-label-entity`...).
pub const LABEL_PREFIX: &str = "x-label-";
/// On a replayed message: what it was parked with.
pub const REPLAYED_FROM_ERROR_CLASS: &str = "x-replayed-from-error-class";
/// On a replayed message: the failure message it was parked with.
pub const REPLAYED_FROM_ERROR_MESSAGE: &str = "x-replayed-from-error-message";
/// On a replayed message: the attempt it had reached when parked.
pub const REPLAYED_FROM_ATTEMPT: &str = "x-replayed-from-attempt";
/// On a replayed message: when it was replayed.
pub const REPLAYED_AT: &str = "x-replayed-at";
/// W3C trace context keys carried as headers under their own names.
pub const TRACE_KEYS: [&str; 3] = ["traceparent", "tracestate", "baggage"];

/// Error messages longer than this (in bytes) are cut, so a huge upstream error body cannot
/// bloat every retry or overflow the AMQP frame.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// AMQP `delivery_mode` for messages written to disk.
const PERSISTENT: u8 = 2;

/// Builds the properties of a message carrying `envelope`; `extra` headers are added as is.
pub fn encode(
    envelope: &Envelope,
    extra: Vec<(&'static str, AMQPValue)>,
) -> Result<BasicProperties, TransportError> {
    let mut headers = FieldTable::default();
    headers.insert(
        ATTEMPT.into(),
        AMQPValue::LongLongInt(i64::from(envelope.attempt)),
    );
    headers.insert(FIRST_SEEN.into(), text(&rfc3339(envelope.first_seen)));
    if let Some(failure) = &envelope.failure {
        headers.insert(ERROR_CLASS.into(), text(&failure.class));
        headers.insert(
            ERROR_MESSAGE.into(),
            text(truncate(&failure.message, MAX_ERROR_MESSAGE_BYTES)),
        );
    }
    for key in TRACE_KEYS {
        if let Some(value) = envelope.trace_context.get(key) {
            headers.insert(key.into(), text(value));
        }
    }
    for (key, value) in &envelope.labels {
        let name = ShortString::try_new(format!("{LABEL_PREFIX}{key}")).map_err(|_| {
            TransportError::Unexpected(format!("label key `{key}` is too long").into())
        })?;
        headers.insert(name, text(value));
    }
    for (key, value) in extra {
        headers.insert(key.into(), value);
    }
    let mut properties = BasicProperties::default()
        // Persistent: a durable queue only keeps messages across a broker restart if they are.
        .with_delivery_mode(PERSISTENT)
        .with_headers(headers)
        // When this copy was published: shown by the console next to the payload.
        .with_timestamp(u64::try_from(Utc::now().timestamp()).unwrap_or_default());
    if !envelope.message_id.is_empty() {
        let id = ShortString::try_new(envelope.message_id.as_str()).map_err(|_| {
            TransportError::Unexpected("message id is longer than 255 bytes".into())
        })?;
        properties = properties.with_message_id(id);
    }
    Ok(properties)
}

/// Rebuilds the envelope of a received message; missing or malformed headers get defaults
/// (attempt 1, first seen now, no failure).
pub fn decode(properties: &BasicProperties, payload: Vec<u8>) -> Envelope {
    let empty = FieldTable::default();
    let headers = properties.headers().as_ref().unwrap_or(&empty).inner();
    let string = |key: &str| headers.get(key).and_then(as_string);
    let failure = string(ERROR_CLASS).map(|class| Failure {
        class,
        message: string(ERROR_MESSAGE).unwrap_or_default(),
    });
    let trace_context = TRACE_KEYS
        .iter()
        .filter_map(|key| string(key).map(|value| ((*key).to_owned(), value)))
        .collect();
    let labels: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(key, value)| {
            let label = key.as_str().strip_prefix(LABEL_PREFIX)?;
            Some((label.to_owned(), as_string(value)?))
        })
        .collect();
    Envelope {
        message_id: properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default(),
        payload,
        attempt: headers
            .get(ATTEMPT)
            .and_then(as_u32)
            .filter(|n| *n >= 1)
            .unwrap_or(1),
        first_seen: string(FIRST_SEEN)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now),
        failure,
        trace_context,
        labels,
    }
}

/// The headers a replayed message carries about where it came from.
pub fn replay_info(parked: &Envelope) -> Vec<(&'static str, AMQPValue)> {
    let mut info = vec![
        (
            REPLAYED_FROM_ATTEMPT,
            AMQPValue::LongLongInt(i64::from(parked.attempt)),
        ),
        (REPLAYED_AT, text(&rfc3339(Utc::now()))),
    ];
    if let Some(failure) = &parked.failure {
        info.push((REPLAYED_FROM_ERROR_CLASS, text(&failure.class)));
        info.push((
            REPLAYED_FROM_ERROR_MESSAGE,
            text(truncate(&failure.message, MAX_ERROR_MESSAGE_BYTES)),
        ));
    }
    info
}

/// Nanosecond precision, so a first-seen time survives the round trip exactly.
fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A string header value.
pub(crate) fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes()))
}

fn as_string(value: &AMQPValue) -> Option<String> {
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        AMQPValue::ByteArray(b) => Some(String::from_utf8_lossy(b.as_slice()).into_owned()),
        _ => None,
    }
}

fn as_u32(value: &AMQPValue) -> Option<u32> {
    let n: i128 = match value {
        AMQPValue::ShortShortInt(n) => (*n).into(),
        AMQPValue::ShortShortUInt(n) => (*n).into(),
        AMQPValue::ShortInt(n) => (*n).into(),
        AMQPValue::ShortUInt(n) => (*n).into(),
        AMQPValue::LongInt(n) => (*n).into(),
        AMQPValue::LongUInt(n) => (*n).into(),
        AMQPValue::LongLongInt(n) => (*n).into(),
        // The management console sends numbers typed as strings unless told otherwise.
        other => as_string(other)?.trim().parse().ok()?,
    };
    u32::try_from(n).ok()
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        let mut envelope = Envelope::new("msg-1", b"{\"k\":1}".to_vec())
            .with_label("endpoint", "acme-cloud")
            .with_label("entity", "PROJ-7");
        envelope.attempt = 3;
        envelope.failure = Some(Failure::new("transient", "Jira answered 503"));
        envelope.trace_context.insert(
            "traceparent".into(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        );
        envelope
            .trace_context
            .insert("tracestate".into(), "vendor=1".into());
        envelope
    }

    #[test]
    fn an_envelope_survives_encoding_and_decoding_unchanged() {
        let envelope = sample();
        let properties = encode(&envelope, vec![]).expect("valid");
        assert_eq!(properties.delivery_mode(), &Some(PERSISTENT));
        assert_eq!(decode(&properties, envelope.payload.clone()), envelope);
    }

    #[test]
    fn headers_are_readable_names_a_person_understands() {
        let properties = encode(&sample(), vec![]).expect("valid");
        let headers = properties.headers().clone().expect("valid");
        let keys: Vec<_> = headers.inner().keys().map(|k| k.as_str()).collect();
        for expected in [
            "x-attempt",
            "x-first-seen",
            "x-error-class",
            "x-error-message",
            "x-label-endpoint",
            "x-label-entity",
            "traceparent",
            "tracestate",
        ] {
            assert!(keys.contains(&expected), "missing {expected} in {keys:?}");
        }
    }

    #[test]
    fn a_message_published_by_hand_without_headers_decodes_to_defaults() {
        let before = Utc::now();
        let envelope = decode(&BasicProperties::default(), b"hello".to_vec());
        assert_eq!(envelope.message_id, "");
        assert_eq!(envelope.payload, b"hello");
        assert_eq!(envelope.attempt, 1);
        assert!(envelope.first_seen >= before);
        assert_eq!(envelope.failure, None);
        assert!(envelope.labels.is_empty() && envelope.trace_context.is_empty());
    }

    #[test]
    fn malformed_headers_decode_to_defaults_and_string_numbers_are_accepted() {
        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT.into(), text("4"));
        headers.insert(FIRST_SEEN.into(), text("yesterday"));
        headers.insert("x-label-entity".into(), AMQPValue::Boolean(true));
        let properties = BasicProperties::default().with_headers(headers);
        let envelope = decode(&properties, vec![]);
        assert_eq!(envelope.attempt, 4);
        assert!(envelope.labels.is_empty());

        let mut headers = FieldTable::default();
        headers.insert(ATTEMPT.into(), AMQPValue::LongInt(-2));
        let envelope = decode(&BasicProperties::default().with_headers(headers), vec![]);
        assert_eq!(envelope.attempt, 1);
    }

    #[test]
    fn long_error_messages_are_cut_on_a_character_boundary() {
        let mut envelope = sample();
        envelope.failure = Some(Failure::new("transient", "é".repeat(1000)));
        let decoded = decode(&encode(&envelope, vec![]).expect("valid"), vec![]);
        let message = decoded.failure.expect("a failure").message;
        assert!(message.len() <= MAX_ERROR_MESSAGE_BYTES);
        assert!(message.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_message_id_longer_than_amqp_allows_is_refused_not_truncated() {
        let envelope = Envelope::new("x".repeat(300), vec![]);
        assert!(encode(&envelope, vec![]).is_err());
    }
}
