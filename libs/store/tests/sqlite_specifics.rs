//! SQLite behaviour beyond the shared conformance suite: leases free the locks of a crashed
//! process and are renewed while held, the file is in WAL mode and keeps its data across
//! reopening, and a database locked by another process is reported as `Unavailable`.

use std::time::{Duration, Instant};

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_store::conformance::new_link;
use jira_sync_store::sqlite::testing::{
    SqliteTestDatabase, remove_database_files, temp_database_path,
};
use jira_sync_store::{SqliteOptions, SqliteStore, Store, StoreError};
use sqlx::{Connection, SqliteConnection};

fn short_leases() -> SqliteOptions {
    SqliteOptions {
        lock_lease: Duration::from_millis(600),
        ..SqliteOptions::default()
    }
}

async fn database(options: &SqliteOptions) -> SqliteTestDatabase {
    SqliteTestDatabase::create(options)
        .await
        .expect("create a test database")
}

fn conn(name: &str) -> ConnectionId {
    ConnectionId::parse(name).expect("valid connection id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_of_a_crashed_process_frees_itself_when_its_lease_runs_out() {
    let db = database(&short_leases()).await;
    let path = db.path.to_string_lossy().into_owned();
    // The "crashed process": its own runtime, which dies with the lock held and the guard
    // never dropped, so neither a release nor a renewal ever runs again.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let crashed = SqliteStore::open_with(&path, &short_leases())
                .await
                .expect("open");
            let guard = crashed
                .lock("conn/left/1", Duration::ZERO)
                .await
                .expect("lock")
                .expect("a free key");
            std::mem::forget(guard);
        });
        runtime.shutdown_background();
    })
    .join()
    .expect("the crashed process ran");

    let started = Instant::now();
    assert!(
        db.store
            .lock("conn/left/1", Duration::ZERO)
            .await
            .expect("lock")
            .is_none(),
        "the lease of the crashed holder is still running"
    );
    let guard = db
        .store
        .lock("conn/left/1", Duration::from_secs(5))
        .await
        .expect("lock")
        .expect("the lock freed itself when its lease ran out");
    assert!(started.elapsed() < Duration::from_secs(2));
    guard.release().await.expect("release");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_is_renewed_beyond_its_lease() {
    let db = database(&short_leases()).await;
    let other = db.open_another_with(&short_leases()).await.expect("open");
    let guard = db
        .store
        .lock("conn/left/2", Duration::ZERO)
        .await
        .expect("lock")
        .expect("a free key");
    // Three leases long, the other instance keeps trying and never gets it.
    let started = Instant::now();
    let stolen = other
        .lock("conn/left/2", Duration::from_millis(1800))
        .await
        .expect("lock");
    assert!(
        stolen.is_none(),
        "a held lock expired while its holder lived"
    );
    assert!(started.elapsed() >= Duration::from_millis(1750));
    guard.release().await.expect("release");
    let taken = other
        .lock("conn/left/2", Duration::from_secs(1))
        .await
        .expect("lock");
    assert!(taken.is_some(), "a released lock could not be taken");
    other.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_is_in_wal_mode_and_keeps_its_data_when_reopened_by_url() {
    let db = database(&SqliteOptions::default()).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(db.store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let link = db
        .store
        .insert_link(new_link(&conn("conn-a"), "10001", "20001"))
        .await
        .expect("insert");
    db.store
        .advance_cursor("poll/conn-a", "2026-11-24T10:00:00.000Z")
        .await
        .expect("cursor");
    db.store.close().await;

    let reopened = SqliteStore::open(&format!("sqlite://{}", db.path.display()))
        .await
        .expect("reopen by URL");
    let found = reopened
        .find_link(&conn("conn-a"), Side::Right, "20001")
        .await
        .expect("find");
    assert_eq!(found, Some(link));
    let cursor = reopened.cursor("poll/conn-a").await.expect("cursor");
    assert_eq!(cursor.as_deref(), Some("2026-11-24T10:00:00.000Z"));
    reopened.close().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_keeps_its_data_and_locks_while_open() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    let link = store
        .insert_link(new_link(&conn("conn-a"), "1", "2"))
        .await
        .expect("insert");
    let found = store
        .find_link(&conn("conn-a"), Side::Left, "1")
        .await
        .expect("find");
    assert_eq!(found.map(|l| l.id), Some(link.id));
    let guard = store
        .lock("k", Duration::ZERO)
        .await
        .expect("lock")
        .expect("a free key");
    assert!(
        store
            .lock("k", Duration::ZERO)
            .await
            .expect("lock")
            .is_none()
    );
    guard.release().await.expect("release");
    // A second in-memory store is another database.
    let other = SqliteStore::open("sqlite::memory:").await.expect("open");
    let missing = other
        .find_link(&conn("conn-a"), Side::Left, "1")
        .await
        .expect("find");
    assert_eq!(missing, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_by_another_process_is_unavailable_after_the_busy_timeout() {
    let options = SqliteOptions {
        busy_timeout: Duration::from_millis(300),
        ..SqliteOptions::default()
    };
    let db = database(&options).await;
    let mut blocker = SqliteConnection::connect(&format!("sqlite://{}", db.path.display()))
        .await
        .expect("connect");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .expect("take the write lock");

    let started = Instant::now();
    let written = db.store.advance_cursor("c", "1").await;
    assert!(
        matches!(written, Err(StoreError::Unavailable(_))),
        "{written:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Readers are not blocked by a writer in WAL mode.
    assert!(db.store.ping().await.is_ok());

    sqlx::query("ROLLBACK")
        .execute(&mut blocker)
        .await
        .expect("rollback");
    blocker.close().await.expect("close");
    db.store
        .advance_cursor("c", "1")
        .await
        .expect("write again");
    db.cleanup().await;
}

#[tokio::test]
async fn opening_a_file_in_a_missing_directory_is_unavailable() {
    let path = temp_database_path("missing-dir").join("jira-sync.db");
    let opened = SqliteStore::open(&path.to_string_lossy()).await;
    assert!(
        matches!(opened, Err(StoreError::Unavailable(_))),
        "{:?}",
        opened.map(|_| ())
    );
    remove_database_files(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_whose_lease_passed_to_another_holder_knows_it_is_lost() {
    let db = database(&short_leases()).await;
    let mut guard = db
        .store
        .lock("poller/leader/x", Duration::ZERO)
        .await
        .expect("lock")
        .expect("a free key");
    assert!(guard.is_held().await.expect("is_held"));
    // What a stall beyond the lease allows: the row expires and another process takes it.
    sqlx::query("UPDATE locks SET holder = 'someone-else' WHERE key = 'poller/leader/x'")
        .execute(db.store.pool())
        .await
        .expect("steal the lock");
    assert!(!guard.is_held().await.expect("is_held"));
    drop(guard);
    db.cleanup().await;
}
