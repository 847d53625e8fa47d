//! Helpers shared by the cases: unique envelopes, bounded waits, and the "nothing arrives"
//! assertion. Everything waits with a deadline; nothing sleeps blindly.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::{Consumer, Delivery, Envelope};

/// Generous bound for anything that should happen (only reached when a case fails).
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);
/// How long "nothing is delivered" is watched.
pub(crate) const QUIET: Duration = Duration::from_millis(400);

/// Polls `check` every 50 ms until it returns `Some`, panicking after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new envelope with a unique id, a JSON-ish payload, labels and a trace context.
pub(crate) fn envelope(name: &str) -> Envelope {
    let id = uuid::Uuid::new_v4();
    let mut envelope = Envelope::new(
        format!("{name}-{id}"),
        format!("{{\"case\":\"{name}\",\"id\":\"{id}\"}}").into_bytes(),
    )
    .with_label("endpoint", "acme-cloud")
    .with_label("entity", "PROJ-42");
    envelope.trace_context.insert(
        "traceparent".into(),
        format!("00-{}-00f067aa0ba902b7-01", id.simple()),
    );
    envelope
        .trace_context
        .insert("tracestate".into(), "jira-sync=test".into());
    envelope
}

/// The next delivery, or a panic after [`DEADLINE`].
pub(crate) async fn next(consumer: &mut Box<dyn Consumer>) -> Box<dyn Delivery> {
    match tokio::time::timeout(DEADLINE, consumer.next()).await {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(error)) => panic!("consumer failed: {error}"),
        Err(_) => panic!("no delivery within {DEADLINE:?}"),
    }
}

/// Asserts that the consumer receives nothing for `window`.
pub(crate) async fn nothing_within(consumer: &mut Box<dyn Consumer>, window: Duration) {
    if let Ok(result) = tokio::time::timeout(window, consumer.next()).await {
        match result {
            Ok(delivery) => panic!(
                "expected no delivery, got {:?}",
                delivery.envelope().message_id
            ),
            Err(error) => panic!("consumer failed: {error}"),
        }
    }
}

/// Asserts two envelopes carry the same message (first-seen compared to the millisecond, as
/// some backends store milliseconds).
pub(crate) fn assert_same_message(actual: &Envelope, expected: &Envelope) {
    assert_eq!(actual.message_id, expected.message_id);
    assert_eq!(actual.payload, expected.payload, "payload");
    assert_eq!(actual.labels, expected.labels, "labels");
    assert_eq!(
        actual.trace_context, expected.trace_context,
        "trace context"
    );
    let drift = (actual.first_seen - expected.first_seen).abs();
    assert!(
        drift <= chrono::Duration::milliseconds(1),
        "first_seen drifted by {drift}"
    );
}
