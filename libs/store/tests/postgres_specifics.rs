//! PostgreSQL behaviour beyond the shared conformance suite: the lock pool never starves the
//! query pool, a lock wait that times out never leaves the lock behind, and an unreachable
//! server is reported as `Unavailable`.

use std::time::{Duration, Instant};

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_settings::DatabaseSettings;
use jira_sync_store::testing::fresh_postgres;
use jira_sync_store::{PgStore, Store, StoreError};
use secrecy::SecretString;

fn unreachable_settings() -> DatabaseSettings {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    DatabaseSettings {
        url: SecretString::from("postgres://postgres:hunter2@127.0.0.1:1/none".to_owned()),
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
    }
}

#[tokio::test]
async fn locks_beyond_the_pool_size_get_none_and_queries_still_run() {
    let db = fresh_postgres().await;
    let mut settings = db.settings();
    settings.max_connections = 2;
    let store = match PgStore::connect(&settings).await {
        Ok(store) => store,
        Err(e) => panic!("connect failed: {e}"),
    };

    let mut held = Vec::new();
    for key in ["a", "b"] {
        match store.lock(key, Duration::from_secs(2)).await {
            Ok(Some(guard)) => held.push(guard),
            other => panic!("lock {key:?}: {:?}", other.map(|g| g.is_some())),
        }
    }
    // Every lock slot is taken: a third key waits its wait, then gets None...
    let started = Instant::now();
    let third = store.lock("c", Duration::from_millis(300)).await;
    assert!(
        matches!(third, Ok(None)),
        "{:?}",
        third.map(|g| g.is_some())
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
    // ...while the holders' own queries still get connections.
    let conn = ConnectionId::parse("conn-a").map_err(|e| e.to_string());
    let Ok(conn) = conn else {
        panic!("bad connection id");
    };
    let found = store.find_link(&conn, Side::Left, "1").await;
    assert!(matches!(found, Ok(None)), "{found:?}");
    assert!(store.ping().await.is_ok());

    for guard in held {
        assert!(guard.release().await.is_ok());
    }
    // A freed slot serves the next locker.
    match store.lock("c", Duration::from_secs(2)).await {
        Ok(Some(guard)) => assert!(guard.release().await.is_ok()),
        other => panic!("lock after release: {:?}", other.map(|g| g.is_some())),
    }
    store.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn connect_to_an_unreachable_server_is_unavailable_without_the_password() {
    let error = match PgStore::connect(&unreachable_settings()).await {
        Ok(_) => panic!("connected to nothing"),
        Err(e) => e,
    };
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
}

#[tokio::test]
async fn lazy_store_starts_without_a_server_and_reports_unavailable() {
    let store = match PgStore::connect_lazy(&unreachable_settings()) {
        Ok(store) => store,
        Err(e) => panic!("connect_lazy failed: {e}"),
    };
    assert!(!format!("{store:?}").contains("hunter2"));
    let pinged = store.ping().await;
    assert!(
        matches!(pinged, Err(StoreError::Unavailable(_))),
        "{pinged:?}"
    );
    let locked = store.lock("k", Duration::from_millis(100)).await;
    assert!(
        matches!(locked, Err(StoreError::Unavailable(_))),
        "{:?}",
        locked.map(|g| g.is_some())
    );
    let migrated = store.migrate().await;
    assert!(
        matches!(migrated, Err(StoreError::Unavailable(_))),
        "{migrated:?}"
    );
}

#[tokio::test]
async fn bad_database_url_is_refused_without_echoing_it() {
    let settings = DatabaseSettings {
        url: SecretString::from("postgres://user:hunter2@host:notaport/db".to_owned()),
        ..unreachable_settings()
    };
    let error = match PgStore::connect_lazy(&settings) {
        Ok(_) => panic!("accepted a URL with a bad port"),
        Err(e) => e,
    };
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn a_lock_whose_session_is_terminated_knows_it_is_lost_and_frees_the_key() {
    let db = fresh_postgres().await;
    let mut guard = match db.store.lock("poller/leader/x", Duration::ZERO).await {
        Ok(Some(guard)) => guard,
        other => panic!("lock: {:?}", other.map(|g| g.is_some())),
    };
    assert!(matches!(guard.is_held().await, Ok(true)));
    // An operator (or a network cut) ends the holder's session.
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND database = \
         (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap_or_else(|e| panic!("terminate: {e}"));
    assert_eq!(terminated, vec![true], "one session held the lock");
    let held = guard.is_held().await;
    assert!(matches!(held, Ok(false)), "{held:?}");
    match db
        .store
        .lock("poller/leader/x", Duration::from_secs(5))
        .await
    {
        Ok(Some(other)) => assert!(other.release().await.is_ok()),
        other => panic!("the key stayed taken: {:?}", other.map(|g| g.is_some())),
    }
    drop(guard);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waits_that_time_out_as_the_holder_lets_go_never_leave_the_key_locked() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let db = fresh_postgres().await;
    let open = || async {
        db.open_another()
            .await
            .unwrap_or_else(|e| panic!("open a store: {e}"))
    };
    let (holder, waiters, probe) = (open().await, open().await, open().await);
    // One holder takes and lets go of the key over and over; waiters give up after 3 ms, so
    // many of their `lock_timeout`s fire in the instant the lock is handed over to them.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = tokio::spawn({
        let stop = stop.clone();
        async move {
            while !stop.load(Ordering::SeqCst) {
                if let Ok(Some(guard)) = holder.lock("pair", Duration::from_secs(1)).await {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let _ = guard.release().await;
                }
            }
            holder.close().await;
        }
    });
    let mut timed_out = 0;
    for _ in 0..400 {
        match waiters.lock("pair", Duration::from_millis(3)).await {
            Ok(Some(guard)) => assert!(guard.release().await.is_ok()),
            Ok(None) => timed_out += 1,
            Err(e) => panic!("lock: {e}"),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = churn.await;
    assert!(timed_out > 0, "no wait timed out");
    // Every guard was released: the key is free for anyone, at once. A timed-out wait whose
    // session was granted the lock anyway must not have kept it on a pooled connection.
    match probe.lock("pair", Duration::from_secs(2)).await {
        Ok(Some(guard)) => assert!(guard.release().await.is_ok()),
        other => panic!(
            "the key stayed locked after {timed_out} timed-out waits: {:?}",
            other.map(|g| g.is_some())
        ),
    }
    waiters.close().await;
    probe.close().await;
    db.cleanup().await;
}
