//! Cases about broker outages: publishing reports them, and everything resumes afterwards
//! without restarting the process.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::super::support::{DEADLINE, envelope, eventually, next};
use super::super::{Profile, TransportFactory};
use crate::TransportError;

/// While the broker is down a publish fails (quickly, as `Unavailable`) and readiness is false;
/// once it is back the same publisher works again, and nothing confirmed is lost.
pub async fn publishing_fails_while_the_broker_is_down_and_works_again_after(
    factory: &impl TransportFactory,
) {
    let profile = Profile::default();
    let confirm_timeout = profile.confirm_timeout;
    let backend = factory.create(profile).await;
    let publisher = backend.publisher();
    let before = envelope("before-outage");
    publisher.publish(before.clone()).await.expect("publish");
    assert!(publisher.is_ready().await);

    backend.break_broker().await;
    let started = Instant::now();
    let result = publisher.publish(envelope("during-outage")).await;
    assert!(
        matches!(result, Err(TransportError::Unavailable(_))),
        "publish during an outage must fail as Unavailable, got {result:?}"
    );
    assert!(
        started.elapsed() <= confirm_timeout + Duration::from_secs(1),
        "a failing publish took {:?}",
        started.elapsed()
    );
    assert!(!publisher.is_ready().await);

    backend.restore_broker().await;
    let after = envelope("after-outage");
    eventually(DEADLINE, "publishing to work again", || {
        let (publisher, after) = (publisher.clone(), after.clone());
        async move { publisher.publish(after).await.ok() }
    })
    .await;
    assert!(publisher.is_ready().await);

    let mut consumer = backend.consumer().await;
    let mut received = HashSet::new();
    while !received.contains(&after.message_id) {
        let delivery = next(&mut consumer).await;
        received.insert(delivery.envelope().message_id.clone());
        delivery.ack().await.expect("ack");
    }
    assert!(
        received.contains(&before.message_id),
        "confirmed message lost"
    );

    consumer.close().await;
    backend.cleanup().await;
}

/// A consumer and a publisher created before an outage both resume after it; the delivery
/// held across the outage (never acknowledged) is delivered again.
pub async fn publisher_and_consumer_recover_after_a_broker_restart(
    factory: &impl TransportFactory,
) {
    let backend = factory.create(Profile::default()).await;
    let publisher = backend.publisher();
    let mut consumer = backend.consumer().await;
    let held = envelope("held-across-outage");
    publisher.publish(held.clone()).await.expect("publish");
    let unsettled = next(&mut consumer).await;
    assert_eq!(unsettled.envelope().message_id, held.message_id);

    backend.break_broker().await;
    // Its connection is gone: the broker gives it to the next subscription.
    drop(unsettled);
    backend.restore_broker().await;

    let after = envelope("after-restart");
    eventually(DEADLINE, "publishing to work again", || {
        let (publisher, after) = (publisher.clone(), after.clone());
        async move { publisher.publish(after).await.ok() }
    })
    .await;

    let mut expected: HashSet<String> = [held.message_id, after.message_id].into();
    while !expected.is_empty() {
        let delivery = next(&mut consumer).await;
        let id = delivery.envelope().message_id.clone();
        assert!(
            expected.remove(&id),
            "unexpected or duplicate delivery {id}"
        );
        delivery.ack().await.expect("ack after recovery");
    }

    consumer.close().await;
    backend.cleanup().await;
}
