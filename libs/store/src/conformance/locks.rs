//! Entity lock cases: exclusive per key, within a process and across processes, and never
//! leaked by a guard that is dropped without release.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{TestBackend, eventually};
use crate::{EntityLock, Store};

const HELD_WAIT: Duration = Duration::from_millis(300);
const LONG_WAIT: Duration = Duration::from_secs(5);

async fn take(store: &Arc<dyn Store>, key: &str, wait: Duration) -> Option<Box<dyn EntityLock>> {
    match store.lock(key, wait).await {
        Ok(guard) => guard,
        Err(e) => panic!("lock({key:?}) failed: {e}"),
    }
}

async fn release(guard: Box<dyn EntityLock>) {
    if let Err(e) = guard.release().await {
        panic!("release failed: {e}");
    }
}

/// Asserts that `key` cannot be taken through `store` within [`HELD_WAIT`], and that the
/// attempt really waited.
async fn assert_held_elsewhere(store: &Arc<dyn Store>, key: &str) {
    let started = Instant::now();
    let second = take(store, key, HELD_WAIT).await;
    let waited = started.elapsed();
    assert!(second.is_none(), "{key:?} was taken twice");
    assert!(
        waited >= HELD_WAIT - Duration::from_millis(50),
        "gave up after {waited:?}, before its wait of {HELD_WAIT:?}"
    );
    assert!(
        waited < LONG_WAIT,
        "waited {waited:?}, far beyond {HELD_WAIT:?}"
    );
}

pub async fn second_locker_of_a_key_waits_then_gets_none_while_it_is_held(
    backend: Arc<dyn TestBackend>,
) {
    let store = backend.store();
    let first = take(&store, "conn/left/1", LONG_WAIT).await;
    assert!(first.is_some(), "a free key was not locked");
    assert_held_elsewhere(&store, "conn/left/1").await;
    // A zero wait is a try-lock: it answers at once.
    assert!(take(&store, "conn/left/1", Duration::ZERO).await.is_none());
    if let Some(first) = first {
        release(first).await;
    }
}

pub async fn lock_is_taken_again_after_release(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    for round in 0..3 {
        let Some(guard) = take(&store, "conn/right/7", HELD_WAIT).await else {
            panic!("round {round}: a released key could not be locked again");
        };
        release(guard).await;
    }
    // A zero wait takes a free key.
    let Some(guard) = take(&store, "conn/right/7", Duration::ZERO).await else {
        panic!("try-lock of a free key failed");
    };
    release(guard).await;
}

pub async fn waiting_locker_gets_the_lock_when_it_is_released(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let Some(first) = take(&store, "conn/left/2", LONG_WAIT).await else {
        panic!("a free key was not locked");
    };
    let waiter_store = store.clone();
    let waiter = tokio::spawn(async move {
        let started = Instant::now();
        let guard = take(&waiter_store, "conn/left/2", LONG_WAIT).await;
        (guard, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "the waiter got a held lock");
    release(first).await;
    let (guard, waited) = match waiter.await {
        Ok(outcome) => outcome,
        Err(e) => panic!("waiter failed: {e}"),
    };
    let Some(guard) = guard else {
        panic!("the waiter did not get the lock after its release");
    };
    assert!(waited < LONG_WAIT, "the waiter waited {waited:?}");
    release(guard).await;
}

pub async fn lock_is_exclusive_across_store_instances(backend: Arc<dyn TestBackend>) {
    let one = backend.store();
    let two = backend.open_another().await;

    let Some(held_by_one) = take(&one, "conn/left/3", LONG_WAIT).await else {
        panic!("a free key was not locked");
    };
    assert_held_elsewhere(&two, "conn/left/3").await;
    release(held_by_one).await;

    let Some(held_by_two) = take(&two, "conn/left/3", LONG_WAIT).await else {
        panic!("the second instance could not lock a released key");
    };
    assert_held_elsewhere(&one, "conn/left/3").await;
    release(held_by_two).await;
}

pub async fn dropped_guard_frees_the_lock(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let other = backend.open_another().await;
    let Some(guard) = take(&store, "conn/left/4", LONG_WAIT).await else {
        panic!("a free key was not locked");
    };
    drop(guard);
    // Freed as the holder's session ends: soon, if not at once.
    let again = eventually(LONG_WAIT, || async {
        take(&other, "conn/left/4", Duration::from_millis(100)).await
    })
    .await;
    let Some(again) = again else {
        panic!("a dropped guard kept its lock");
    };
    release(again).await;
    // And the first instance can still lock (its pool was not damaged by the drop).
    let Some(last) = take(&store, "conn/left/4", LONG_WAIT).await else {
        panic!("the first instance could not lock after the drop");
    };
    release(last).await;
}

pub async fn locks_on_different_keys_do_not_block_each_other(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let mut guards = Vec::new();
    for key in ["conn/left/5", "conn/right/5", "other/left/5"] {
        match take(&store, key, Duration::ZERO).await {
            Some(guard) => guards.push(guard),
            None => panic!("{key:?} was blocked by another key's lock"),
        }
    }
    for guard in guards {
        release(guard).await;
    }
}

pub async fn cancelled_waiter_does_not_keep_the_lock(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let Some(first) = take(&store, "conn/left/6", LONG_WAIT).await else {
        panic!("a free key was not locked");
    };
    // A waiter whose caller gives up (its future is dropped mid-wait).
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        take(&store, "conn/left/6", LONG_WAIT),
    )
    .await;
    assert!(gave_up.is_err(), "the waiter got a held lock");
    release(first).await;
    // The abandoned wait must not turn into a lock nobody holds.
    let Some(next) = take(&store, "conn/left/6", LONG_WAIT).await else {
        panic!("an abandoned waiter kept the lock");
    };
    release(next).await;
}
