//! The state every handle of one embedded transport shares: the two pools on the database
//! file, the settings, and the in-process wake-up; plus opening (with the migrations), the
//! clock, and the background release of leases whose holder went away.
//!
//! Pools: all writes go through a single connection, so writers of this process queue up
//! fairly in the pool instead of sleeping in SQLite's busy handler; another process's writes
//! are waited for with `busy_timeout`. Reads (peek, depths, the next due time) use a second
//! small pool, never blocked by the writer thanks to WAL. `synchronous = FULL`: a publish that
//! returned survives a power cut, as a confirmed message survives a broker crash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::EmbeddedQueueSettings;
use super::error::from_sqlx;
use super::sql;
use crate::TransportError;

/// The schema, embedded at compile time (`include_str!` makes Cargo rebuild when it changes).
const SCHEMA_V1: &str = include_str!("../../migrations-embedded/0001_queue.sql");
/// Where applied migrations are recorded: not sqlx's default, so that the store's own
/// migrations can live in the same file.
const MIGRATIONS_TABLE: &str = "_queue_migrations";
/// Pause between attempts to release a lease whose holder is gone (the database was busy).
const RELEASE_RETRY: Duration = Duration::from_millis(100);

/// Shared by the transport, its publishers, consumers, deliveries and dead-letter handles.
#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) path: PathBuf,
    pub(crate) settings: EmbeddedQueueSettings,
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    /// Woken whenever a message may have become deliverable in this process (publish, retry,
    /// release, replay). Other processes' changes are found by polling.
    pub(crate) wake: Notify,
}

/// What a background release gives back.
#[derive(Debug, Clone)]
pub(crate) enum Held {
    /// One delivery's lease.
    Token(String),
    /// Every lease of one consumer.
    Owner(String),
}

impl Queue {
    /// Opens the file (creating it), applies the migrations and prepares the read pool.
    pub(crate) async fn open(
        path: &Path,
        settings: &EmbeddedQueueSettings,
    ) -> Result<Self, TransportError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(settings.busy_timeout);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.busy_timeout)
            .connect_with(options.clone())
            .await
            .map_err(|e| from_sqlx("cannot open the queue database", e))?;
        migrator().run(&writer).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => {
                from_sqlx("cannot migrate the queue database", e)
            }
            other => TransportError::Unexpected(Box::new(other)),
        })?;
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(settings.busy_timeout)
            .connect_lazy_with(options);
        Ok(Self {
            path: path.to_owned(),
            settings: settings.clone(),
            writer,
            reader,
            wake: Notify::new(),
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.writer.is_closed()
    }

    pub(crate) async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// When a waiting consumer should look again: when the next delayed message is due, or
    /// after the poll interval (for messages published by another process), whichever is first.
    pub(crate) async fn next_look(&self) -> Instant {
        let poll = Instant::now() + self.settings.poll_interval;
        let now = now_ms();
        match sql::next_due(&self.reader, now).await {
            Ok(Some(due)) => {
                let wait = Duration::from_millis(u64::try_from(due - now).unwrap_or(0));
                poll.min(Instant::now() + wait)
            }
            Ok(None) => poll,
            Err(error) => {
                tracing::debug!(%error, "cannot read the next due time");
                poll
            }
        }
    }

    /// Releases `held` from a task of its own, retrying while the database is busy until the
    /// lease would have run out anyway. Without a runtime (a drop at shutdown) nothing is
    /// done: the lease runs out by itself.
    pub(crate) fn release_later(self: &std::sync::Arc<Self>, held: Held) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let queue = self.clone();
        runtime.spawn(async move {
            let give_up = Instant::now() + queue.settings.visibility_timeout;
            loop {
                match sql::release(&queue.writer, &held).await {
                    Ok(released) => {
                        if released > 0 {
                            queue.wake.notify_waiters();
                        }
                        return;
                    }
                    Err(error) if Instant::now() >= give_up || queue.is_closed() => {
                        tracing::warn!(%error, ?held, "a lease was left to run out");
                        return;
                    }
                    Err(_) => tokio::time::sleep(RELEASE_RETRY).await,
                }
            }
        });
    }
}

fn migrator() -> Migrator {
    let mut migrator = Migrator::with_migrations(vec![Migration::new(
        1,
        "queue".into(),
        MigrationType::Simple,
        SCHEMA_V1.into_sql_str(),
        false,
    )]);
    // "Dangerous" only when renaming the table of a database migrated before; this one has
    // always had this name.
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// Now, in Unix milliseconds, rounded down.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Now plus `delay`, in Unix milliseconds, rounded up: a message due then is never delivered
/// before `delay` has fully passed.
pub(crate) fn due_ms(delay: Duration) -> i64 {
    let delay = i64::try_from(delay.as_micros()).unwrap_or(i64::MAX / 2);
    let due_micros = Utc::now().timestamp_micros().saturating_add(delay);
    due_micros.saturating_add(999).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_time_is_rounded_up_and_never_before_the_delay() {
        let before = Utc::now().timestamp_micros();
        let due = due_ms(Duration::from_micros(200_001));
        assert!(due * 1000 >= before + 200_001);
        assert!(due_ms(Duration::ZERO) >= now_ms());
        assert!(due_ms(Duration::MAX) > now_ms(), "a huge delay saturates");
    }
}
