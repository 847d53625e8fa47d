//! Cases about plain delivery: round trip, acknowledgement, prefetch, consumer death and
//! competing consumers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use super::super::support::{
    QUIET, assert_same_message, envelope, eventually, next, nothing_within,
};
use super::super::{Profile, TransportFactory};

/// What was published comes out unchanged, on its first attempt, without a failure.
pub async fn a_published_message_is_delivered_with_its_envelope_intact(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let sent = envelope("round-trip");
    backend
        .publisher()
        .publish(sent.clone())
        .await
        .expect("publish");

    let mut consumer = backend.consumer().await;
    let delivery = next(&mut consumer).await;
    assert_same_message(delivery.envelope(), &sent);
    assert_eq!(delivery.envelope().attempt, 1);
    assert_eq!(delivery.envelope().failure, None);
    delivery.ack().await.expect("ack");

    consumer.close().await;
    backend.cleanup().await;
}

/// After `ack`, a new consumer gets the next message, never the acknowledged one.
pub async fn an_acknowledged_message_is_not_delivered_again(factory: &impl TransportFactory) {
    let backend = factory.create(Profile::default()).await;
    let publisher = backend.publisher();
    let first = envelope("acked");
    publisher.publish(first.clone()).await.expect("publish");

    let mut consumer = backend.consumer().await;
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.envelope().message_id, first.message_id);
    delivery.ack().await.expect("ack");
    consumer.close().await;

    let second = envelope("after-ack");
    publisher.publish(second.clone()).await.expect("publish");
    let mut consumer = backend.consumer().await;
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.envelope().message_id, second.message_id);
    delivery.ack().await.expect("ack");
    nothing_within(&mut consumer, QUIET).await;

    consumer.close().await;
    backend.cleanup().await;
}

/// With prefetch 2, a third message waits until one of the first two is acknowledged.
pub async fn nothing_beyond_the_prefetch_is_delivered_before_an_ack(
    factory: &impl TransportFactory,
) {
    let profile = Profile::default();
    assert_eq!(profile.prefetch, 2);
    let backend = factory.create(profile).await;
    let publisher = backend.publisher();
    for _ in 0..4 {
        publisher
            .publish(envelope("prefetch"))
            .await
            .expect("publish");
    }

    let mut consumer = backend.consumer().await;
    let first = next(&mut consumer).await;
    let second = next(&mut consumer).await;
    nothing_within(&mut consumer, QUIET).await;

    first.ack().await.expect("ack");
    let third = next(&mut consumer).await;
    nothing_within(&mut consumer, QUIET).await;
    second.ack().await.expect("ack");
    third.ack().await.expect("ack");

    consumer.close().await;
    backend.cleanup().await;
}

/// A delivery held when its consumer closes goes to the next consumer.
pub async fn an_unsettled_delivery_returns_when_its_consumer_is_closed(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let sent = envelope("closed-consumer");
    backend
        .publisher()
        .publish(sent.clone())
        .await
        .expect("publish");

    let mut dying = backend.consumer().await;
    let unsettled = next(&mut dying).await;
    assert_eq!(unsettled.envelope().message_id, sent.message_id);
    dying.close().await;
    drop(unsettled);

    let mut consumer = backend.consumer().await;
    let again = next(&mut consumer).await;
    assert_same_message(again.envelope(), &sent);
    again.ack().await.expect("ack");

    consumer.close().await;
    backend.cleanup().await;
}

/// A delivery held when its consumer is dropped (a crashed worker) goes to the next consumer.
pub async fn an_unsettled_delivery_returns_when_its_consumer_is_dropped(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let sent = envelope("dropped-consumer");
    backend
        .publisher()
        .publish(sent.clone())
        .await
        .expect("publish");

    let mut dying = backend.consumer().await;
    let unsettled = next(&mut dying).await;
    drop(dying);
    drop(unsettled);

    let mut consumer = backend.consumer().await;
    let again = next(&mut consumer).await;
    assert_same_message(again.envelope(), &sent);
    again.ack().await.expect("ack");

    consumer.close().await;
    backend.cleanup().await;
}

/// Three consumers share 30 messages: each is processed exactly once.
pub async fn concurrent_consumers_never_process_a_message_twice(factory: &impl TransportFactory) {
    const MESSAGES: usize = 30;
    let backend = factory.create(Profile::default()).await;
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for _ in 0..3 {
        let mut consumer = backend.consumer().await;
        let (seen, stop) = (seen.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let Ok(delivery) =
                    tokio::time::timeout(Duration::from_millis(100), consumer.next()).await
                else {
                    continue;
                };
                let delivery = delivery.expect("consumer failed");
                *seen
                    .lock()
                    .await
                    .entry(delivery.envelope().message_id.clone())
                    .or_default() += 1;
                delivery.ack().await.expect("ack");
            }
            consumer.close().await;
        }));
    }

    let publisher = backend.publisher();
    let mut sent = Vec::new();
    for _ in 0..MESSAGES {
        let message = envelope("concurrent");
        sent.push(message.message_id.clone());
        publisher.publish(message).await.expect("publish");
    }

    eventually(Duration::from_secs(10), "every message processed", || {
        let seen = seen.clone();
        async move { (seen.lock().await.len() == MESSAGES).then_some(()) }
    })
    .await;
    // Give a duplicate the chance to show up before stopping.
    tokio::time::sleep(QUIET).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker task");
    }

    let seen = seen.lock().await;
    for id in &sent {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "message {id} processed {:?} times",
            seen.get(id)
        );
    }
    drop(seen);
    backend.cleanup().await;
}
