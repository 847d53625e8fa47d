//! Behaviour only the embedded queue has: it is a file that several processes may open, that
//! survives restarts and crashes, and whose retries wait exactly the delay asked. Each test
//! owns its files (an `EmbeddedBackend`, or a path removed at the end).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_transport::conformance::embedded::{
    EmbeddedBackend, EmbeddedFactory, remove_database_files, temp_database_path,
};
use jira_sync_transport::conformance::{Profile, eventually};
use jira_sync_transport::{
    Consumer, Delivery, EmbeddedQueueDepths, EmbeddedQueueSettings, EmbeddedTransport, Envelope,
    Failure, TransportError,
};
use tokio::sync::Mutex;

const DEADLINE: Duration = Duration::from_secs(10);

fn settings() -> EmbeddedQueueSettings {
    EmbeddedFactory::settings(&Profile::default())
}

async fn open(path: &Path, settings: &EmbeddedQueueSettings) -> EmbeddedTransport {
    EmbeddedTransport::open(path, settings)
        .await
        .expect("open the queue")
}

async fn next(consumer: &mut Box<dyn Consumer>) -> Box<dyn Delivery> {
    tokio::time::timeout(DEADLINE, consumer.next())
        .await
        .expect("a delivery in time")
        .expect("a delivery")
}

async fn nothing_within(consumer: &mut Box<dyn Consumer>, window: Duration) {
    if let Ok(delivery) = tokio::time::timeout(window, consumer.next()).await {
        panic!(
            "expected nothing, got {:?}",
            delivery.map(|d| d.envelope().clone())
        );
    }
}

/// Removes the files when dropped, so a failed test leaves nothing behind either.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        remove_database_files(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_committed_survives_closing_and_reopening_the_file() {
    let file = TempFile(temp_database_path("embedded-restart"));
    let roomy = EmbeddedQueueSettings {
        prefetch: 4,
        ..settings()
    };
    let transport = open(&file.0, &roomy).await;
    let publisher = transport.publisher();
    for id in ["ready", "delayed", "dead", "held"] {
        let message = Envelope::new(id, id.as_bytes().to_vec()).with_label("entity", "PROJ-1");
        publisher.publish(message).await.expect("publish");
    }
    let mut consumer = transport.consumer();
    let mut deliveries = HashMap::new();
    for _ in 0..4 {
        let delivery = next(&mut consumer).await;
        deliveries.insert(delivery.envelope().message_id.clone(), delivery);
    }
    drop(deliveries.remove("ready"));
    let delayed = deliveries.remove("delayed").expect("delivered");
    delayed
        .retry(Duration::from_secs(3600), Failure::new("transient", "429"))
        .await
        .expect("retry");
    let dead = deliveries.remove("dead").expect("delivered");
    dead.dead_letter(Failure::new("jira_rejected", "400"))
        .await
        .expect("dead_letter");
    // "held" is still unsettled when the process stops cleanly.
    consumer.close().await;
    drop(deliveries);
    transport.close().await;

    let reopened = open(&file.0, &settings()).await;
    let depths = reopened.queue_depths().await.expect("depths");
    assert_eq!(
        depths,
        EmbeddedQueueDepths {
            ready: 2,
            delayed: 1,
            in_flight: 0,
            dead: 1
        }
    );
    let mut consumer = reopened.consumer();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let delivery = next(&mut consumer).await;
        assert_eq!(
            delivery.envelope().labels.get("entity").map(String::as_str),
            Some("PROJ-1")
        );
        seen.push(delivery.envelope().message_id.clone());
        delivery.ack().await.expect("ack");
    }
    seen.sort();
    assert_eq!(seen, ["held", "ready"]);
    let parked = reopened.dead_letters().peek(10).await.expect("peek");
    assert_eq!(parked.len(), 1);
    assert_eq!(
        parked[0].failure,
        Some(Failure::new("jira_rejected", "400"))
    );
    consumer.close().await;
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_held_by_a_crashed_process_comes_back_when_its_lease_runs_out() {
    let file = TempFile(temp_database_path("embedded-crash"));
    let short = EmbeddedQueueSettings {
        visibility_timeout: Duration::from_secs(1),
        ..settings()
    };
    let path = file.0.clone();
    let crash_settings = short.clone();
    // The crashed process: its runtime dies with the delivery held and nothing dropped, so no
    // release and no heartbeat ever runs again.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let transport = open(&path, &crash_settings).await;
            transport
                .publisher()
                .publish(Envelope::new("crashed", b"{}".to_vec()))
                .await
                .expect("publish");
            let mut consumer = transport.consumer();
            let delivery = next(&mut consumer).await;
            std::mem::forget(delivery);
            std::mem::forget(consumer);
        });
        runtime.shutdown_background();
    })
    .join()
    .expect("the crashed process ran");
    let crashed_at = Instant::now();

    let restarted = open(&file.0, &short).await;
    assert_eq!(restarted.queue_depths().await.expect("depths").in_flight, 1);
    let mut consumer = restarted.consumer();
    nothing_within(&mut consumer, Duration::from_millis(300)).await;
    let delivery = next(&mut consumer).await;
    assert_eq!(delivery.envelope().message_id, "crashed");
    assert_eq!(delivery.envelope().attempt, 1);
    assert!(crashed_at.elapsed() >= Duration::from_millis(500));
    delivery.ack().await.expect("ack");
    consumer.close().await;
    restarted.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_held_beyond_its_visibility_timeout_is_kept_by_the_heartbeat() {
    let backend = EmbeddedBackend::open(
        temp_database_path("embedded-heartbeat"),
        &Profile::default(),
    )
    .await;
    let short = EmbeddedQueueSettings {
        visibility_timeout: Duration::from_millis(600),
        ..settings()
    };
    let transport = open(backend.path(), &short).await;
    transport
        .publisher()
        .publish(Envelope::new("slow", vec![]))
        .await
        .expect("publish");
    let mut worker = transport.consumer();
    let delivery = next(&mut worker).await;
    let mut other = transport.consumer();
    nothing_within(&mut other, Duration::from_millis(1500)).await;
    delivery
        .ack()
        .await
        .expect("ack after three visibility timeouts");
    nothing_within(&mut other, Duration::from_millis(300)).await;
    worker.close().await;
    other.close().await;
    transport.close().await;
    backend.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_of_two_processes_on_one_file_share_the_queue_without_duplicates() {
    const EACH: usize = 15;
    let backend =
        EmbeddedBackend::open(temp_database_path("embedded-two"), &Profile::default()).await;
    let second = open(backend.path(), &settings()).await;
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let mut workers = Vec::new();
    for transport in [backend.transport.clone(), second.clone()] {
        let seen = seen.clone();
        let mut consumer = transport.consumer();
        workers.push(tokio::spawn(async move {
            while seen.lock().await.len() < 2 * EACH {
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
    for i in 0..EACH {
        for (name, transport) in [("a", &backend.transport), ("b", &second)] {
            let message = Envelope::new(format!("{name}-{i}"), vec![]);
            transport
                .publisher()
                .publish(message)
                .await
                .expect("publish");
        }
    }
    eventually(DEADLINE, "every message processed", || {
        let seen = seen.clone();
        async move { (seen.lock().await.len() == 2 * EACH).then_some(()) }
    })
    .await;
    for worker in workers {
        worker.await.expect("worker");
    }
    let seen = seen.lock().await;
    assert!(seen.values().all(|n| *n == 1), "duplicates: {seen:?}");
    drop(seen);
    second.close().await;
    backend.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_waits_exactly_its_delay_with_no_tier_rounding() {
    let backend =
        EmbeddedBackend::open(temp_database_path("embedded-delay"), &Profile::default()).await;
    let transport = &backend.transport;
    transport
        .publisher()
        .publish(Envelope::new("exact", vec![]))
        .await
        .expect("publish");
    let mut consumer = transport.consumer();
    let delivery = next(&mut consumer).await;
    // Between the profile's 1 s tier and any longer one: RabbitMQ would round it up to a tier.
    let delay = Duration::from_millis(1300);
    let retried_at = Instant::now();
    delivery
        .retry(delay, Failure::new("transient", "Retry-After: 1.3"))
        .await
        .expect("retry");
    assert_eq!(transport.queue_depths().await.expect("depths").delayed, 1);
    let again = next(&mut consumer).await;
    let waited = retried_at.elapsed();
    assert!(waited >= delay, "came back after {waited:?}");
    assert!(
        waited < delay + Duration::from_millis(700),
        "came back after {waited:?}"
    );
    assert_eq!(again.envelope().attempt, 2);
    again.ack().await.expect("ack");
    consumer.close().await;
    backend.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_consumer_closed_cannot_be_settled_and_comes_back() {
    let backend =
        EmbeddedBackend::open(temp_database_path("embedded-lost"), &Profile::default()).await;
    let transport = &backend.transport;
    transport
        .publisher()
        .publish(Envelope::new("orphan", vec![]))
        .await
        .expect("publish");
    let mut closing = transport.consumer();
    let delivery = next(&mut closing).await;
    assert_eq!(transport.queue_depths().await.expect("depths").in_flight, 1);
    closing.close().await;
    assert!(matches!(closing.next().await, Err(TransportError::Closed)));

    let acked = delivery.ack().await;
    assert!(
        matches!(acked, Err(TransportError::Unavailable(_))),
        "{acked:?}"
    );
    let mut consumer = transport.consumer();
    let again = next(&mut consumer).await;
    assert_eq!(again.envelope().message_id, "orphan");
    again.ack().await.expect("ack");
    assert_eq!(
        transport.queue_depths().await.expect("depths"),
        EmbeddedQueueDepths::default()
    );
    consumer.close().await;
    backend.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_transport_ends_its_consumers_and_refuses_publishes() {
    let backend =
        EmbeddedBackend::open(temp_database_path("embedded-closed"), &Profile::default()).await;
    let mut consumer = backend.transport.consumer();
    let publisher = backend.transport.publisher();
    backend.transport.close().await;
    assert!(matches!(consumer.next().await, Err(TransportError::Closed)));
    let published = publisher.publish(Envelope::new("late", vec![])).await;
    assert!(
        matches!(published, Err(TransportError::Unavailable(_))),
        "{published:?}"
    );
    assert!(!publisher.is_ready().await);
    backend.cleanup().await;
}

#[tokio::test]
async fn a_file_that_cannot_be_created_and_invalid_settings_are_refused() {
    let path = temp_database_path("missing-dir").join("queue.db");
    let opened = EmbeddedTransport::open(&path, &settings()).await;
    assert!(
        matches!(opened, Err(TransportError::Unavailable(_))),
        "{opened:?}"
    );
    let zero_prefetch = EmbeddedQueueSettings {
        prefetch: 0,
        ..settings()
    };
    let file = TempFile(temp_database_path("embedded-invalid"));
    let opened = EmbeddedTransport::open(&file.0, &zero_prefetch).await;
    assert!(
        matches!(opened, Err(TransportError::Unexpected(_))),
        "{opened:?}"
    );
}
