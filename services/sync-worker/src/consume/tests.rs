//! Unit tests of the consume loop: bounded concurrency, drain and abandonment on shutdown.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;
use crate::test_support::{Settled, delivery, eventually, fake_queue, settled};

const WAIT: Duration = Duration::from_secs(5);

/// A handler that counts how many run at once, works for `work`, then acks.
fn slow_acker(
    work: Duration,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
) -> impl Fn(Box<dyn Delivery>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move |delivery| {
        let (running, peak) = (running.clone(), peak.clone());
        Box::pin(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(work).await;
            running.fetch_sub(1, Ordering::SeqCst);
            let _ = delivery.ack().await;
        })
    }
}

#[tokio::test]
async fn no_more_deliveries_than_the_concurrency_are_handled_at_once() {
    let (consumer, tx, _closed, log) = fake_queue();
    for i in 0..10 {
        let _ = tx.send(delivery(&format!("m{i}"), b"{}", 1, &log));
    }
    let (running, peak) = (Arc::default(), Arc::new(AtomicUsize::new(0)));
    let shutdown = CancellationToken::new();
    let handle = slow_acker(Duration::from_millis(30), running, peak.clone());
    let loop_task = tokio::spawn(run(Box::new(consumer), handle, 3, WAIT, shutdown.clone()));
    eventually(WAIT, "all ten acked", || settled(&log).len() == 10).await;
    assert_eq!(peak.load(Ordering::SeqCst), 3);
    shutdown.cancel();
    assert!(tokio::time::timeout(WAIT, loop_task).await.is_ok());
}

#[tokio::test]
async fn on_shutdown_in_flight_work_finishes_and_nothing_new_is_taken() {
    let (consumer, tx, closed, log) = fake_queue();
    for i in 0..2 {
        let _ = tx.send(delivery(&format!("m{i}"), b"{}", 1, &log));
    }
    let running = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let handle = slow_acker(Duration::from_millis(300), running.clone(), Arc::default());
    let loop_task = tokio::spawn(run(Box::new(consumer), handle, 2, WAIT, shutdown.clone()));
    eventually(WAIT, "both deliveries in flight", || {
        running.load(Ordering::SeqCst) == 2
    })
    .await;
    let _ = tx.send(delivery("late", b"{}", 1, &log));
    shutdown.cancel();
    assert!(tokio::time::timeout(WAIT, loop_task).await.is_ok());
    let ids: Vec<String> = settled(&log).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&"late".to_owned()));
    assert!(settled(&log).iter().all(|(_, how)| *how == Settled::Ack));
    assert!(closed.load(Ordering::SeqCst), "the consumer was not closed");
}

#[tokio::test]
async fn work_still_running_at_the_drain_timeout_is_abandoned_unsettled() {
    let (consumer, tx, closed, log) = fake_queue();
    let _ = tx.send(delivery("stuck", b"{}", 1, &log));
    let running = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let handle = slow_acker(Duration::from_secs(60), running.clone(), Arc::default());
    let loop_task = tokio::spawn(run(
        Box::new(consumer),
        handle,
        1,
        Duration::from_millis(100),
        shutdown.clone(),
    ));
    eventually(WAIT, "the delivery in flight", || {
        running.load(Ordering::SeqCst) == 1
    })
    .await;
    shutdown.cancel();
    assert!(tokio::time::timeout(WAIT, loop_task).await.is_ok());
    assert!(settled(&log).is_empty());
    assert!(closed.load(Ordering::SeqCst), "the consumer was not closed");
}

#[tokio::test]
async fn the_loop_ends_when_the_consumer_is_closed_from_the_other_end() {
    let (consumer, tx, _closed, log) = fake_queue();
    let _ = tx.send(delivery("m", b"{}", 1, &log));
    drop(tx);
    let handled = Arc::new(AtomicBool::new(false));
    let flag = handled.clone();
    let handle = move |delivery: Box<dyn Delivery>| {
        let flag = flag.clone();
        async move {
            flag.store(true, Ordering::SeqCst);
            let _ = delivery.ack().await;
        }
    };
    let done = tokio::time::timeout(
        WAIT,
        run(
            Box::new(consumer),
            handle,
            4,
            WAIT,
            CancellationToken::new(),
        ),
    )
    .await;
    assert!(done.is_ok());
    assert!(handled.load(Ordering::SeqCst));
    assert_eq!(settled(&log), vec![("m".to_owned(), Settled::Ack)]);
}
