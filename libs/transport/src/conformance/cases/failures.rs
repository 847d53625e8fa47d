//! Cases about failed attempts: retry with delay, dead-lettering, peek and replay.

use std::time::Duration;

use tokio::time::Instant;

use super::super::support::{QUIET, assert_same_message, envelope, next, nothing_within};
use super::super::{Profile, TransportFactory};
use crate::Failure;

/// A retry comes back no earlier than asked, as attempt n+1 with the failure recorded; a delay
/// between two tiers waits at least that delay.
pub async fn a_retried_message_comes_back_after_its_delay_with_the_attempt_and_failure_recorded(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let sent = envelope("retry");
    backend
        .publisher()
        .publish(sent.clone())
        .await
        .expect("publish");
    let mut consumer = backend.consumer().await;

    let mut delivery = next(&mut consumer).await;
    for (attempt, delay) in [(2, 200), (3, 500)] {
        let delay = Duration::from_millis(delay);
        let failure = Failure::new("transient", format!("Jira answered 503 ({attempt})"));
        let retried_at = Instant::now();
        delivery.retry(delay, failure.clone()).await.expect("retry");

        delivery = next(&mut consumer).await;
        let waited = retried_at.elapsed();
        assert!(
            waited >= delay,
            "redelivered after {waited:?}, asked for {delay:?}"
        );
        assert_same_message(delivery.envelope(), &sent);
        assert_eq!(delivery.envelope().attempt, attempt);
        assert_eq!(delivery.envelope().failure, Some(failure));
    }
    delivery.ack().await.expect("ack");
    nothing_within(&mut consumer, QUIET).await;

    consumer.close().await;
    backend.cleanup().await;
}

/// A dead letter keeps its reason, can be peeked repeatedly without being consumed, and is
/// replayed (selected by id, then all) to the work queue as a first attempt.
pub async fn a_dead_lettered_message_carries_its_reason_and_can_be_peeked_and_replayed(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let (publisher, dead_letters) = (backend.publisher(), backend.dead_letters());
    let (first, second) = (envelope("dead-1"), envelope("dead-2"));
    publisher.publish(first.clone()).await.expect("publish");
    publisher.publish(second.clone()).await.expect("publish");

    let mut consumer = backend.consumer().await;
    let reason = Failure::new(
        "jira_rejected",
        "400: field `priority` is not on the screen",
    );
    for _ in 0..2 {
        let delivery = next(&mut consumer).await;
        delivery
            .dead_letter(reason.clone())
            .await
            .expect("dead_letter");
    }
    nothing_within(&mut consumer, QUIET).await;

    for _ in 0..2 {
        let mut parked = dead_letters.peek(10).await.expect("peek");
        parked.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        let mut expected = [&first, &second];
        expected.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        assert_eq!(parked.len(), 2, "peek must not consume: {parked:?}");
        for (parked, expected) in parked.iter().zip(expected) {
            assert_same_message(parked, expected);
            assert_eq!(parked.failure.as_ref(), Some(&reason));
            assert_eq!(parked.attempt, 1);
        }
    }
    assert_eq!(dead_letters.peek(1).await.expect("peek").len(), 1);

    let moved = dead_letters
        .replay(Some(std::slice::from_ref(&first.message_id)))
        .await
        .expect("replay");
    assert_eq!(moved, 1);
    let replayed = next(&mut consumer).await;
    assert_same_message(replayed.envelope(), &first);
    assert_eq!(replayed.envelope().attempt, 1);
    assert_eq!(replayed.envelope().failure, None);
    replayed.ack().await.expect("ack");

    let left = dead_letters.peek(10).await.expect("peek");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].message_id, second.message_id);
    assert_eq!(dead_letters.replay(None).await.expect("replay"), 1);
    let replayed = next(&mut consumer).await;
    assert_eq!(replayed.envelope().message_id, second.message_id);
    replayed.ack().await.expect("ack");
    assert!(dead_letters.peek(10).await.expect("peek").is_empty());

    consumer.close().await;
    backend.cleanup().await;
}

/// The trace context and the labels travel with the message through retry, dead letter,
/// peek and replay.
pub async fn trace_context_and_labels_survive_retry_dead_letter_and_replay(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let mut sent = envelope("trace");
    sent.labels
        .insert("connection".into(), "acme-to-beta".into());
    sent.labels
        .insert("event".into(), "jira:issue_updated".into());
    assert!(sent.trace_context.contains_key("traceparent"));
    backend
        .publisher()
        .publish(sent.clone())
        .await
        .expect("publish");
    let mut consumer = backend.consumer().await;

    let delivery = next(&mut consumer).await;
    assert_same_message(delivery.envelope(), &sent);
    delivery
        .retry(Duration::ZERO, Failure::new("transient", "timeout"))
        .await
        .expect("retry");

    let retried = next(&mut consumer).await;
    assert_same_message(retried.envelope(), &sent);
    retried
        .dead_letter(Failure::new("exhausted", "too many attempts"))
        .await
        .expect("dead_letter");

    let parked = backend.dead_letters().peek(10).await.expect("peek");
    assert_eq!(parked.len(), 1);
    assert_same_message(&parked[0], &sent);
    assert_eq!(parked[0].attempt, 2);

    backend.dead_letters().replay(None).await.expect("replay");
    let replayed = next(&mut consumer).await;
    assert_same_message(replayed.envelope(), &sent);
    replayed.ack().await.expect("ack");

    consumer.close().await;
    backend.cleanup().await;
}
