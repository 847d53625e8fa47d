//! Entity locks on SQLite: rows of the `locks` table with a lease, plus an in-process table of
//! the locks this instance holds.
//!
//! SQLite has neither advisory locks nor sessions whose end would free one, so a lock is a row
//! `(key, holder, expires_at)`. Taking it is one upsert that succeeds only when the key is free
//! or its lease has run out; releasing it deletes the row if the holder still matches. A task
//! renews the leases of every lock this instance holds every third of the lease, so a held lock
//! never expires, while the lock of a crashed process frees itself once its lease runs out
//! (`SqliteOptions::lock_lease`, 30 s by default). Holders are random tokens, one per guard.
//!
//! Waiting: a waiter in the same instance is woken by a `Notify` the moment a lock is released;
//! a lock released by another process is noticed by polling every [`POLL_INTERVAL`]. A key
//! this instance holds already is refused without a query.
//!
//! Cancellation and drop: the upsert runs in a task of its own, which wraps a success into the
//! guard at once. A caller that gives up mid-wait drops the task's handle; the guard the task
//! then produces is dropped with its output, and a dropped guard deletes its row from another
//! task. So an abandoned wait or a guard dropped without `release` frees the lock within a
//! moment, or at the latest when its lease runs out (when no runtime is left to delete it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::SqlitePool;
use tokio::sync::Notify;
use tokio::time::Instant;
use uuid::Uuid;

use super::codec;
use super::error::from_sqlx;
use crate::{EntityLock, StoreError};

/// How often a waiter looks again for a lock held by another process.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Pause between attempts to delete the row of a dropped guard (the database was busy).
const RELEASE_RETRY: Duration = Duration::from_millis(100);

/// State shared by the store's clones, the guards and the renewal task.
#[derive(Debug)]
struct Shared {
    pool: SqlitePool,
    lease: Duration,
    /// Key -> holder token of every lock this instance holds.
    held: Mutex<HashMap<String, Uuid>>,
    released: Notify,
}

impl Shared {
    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, Uuid>> {
        // The map is only touched by short, non-panicking sections: a poisoned one is intact.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn holds(&self, key: &str) -> bool {
        self.held().contains_key(key)
    }

    fn forget(&self, key: &str, holder: Uuid) {
        let mut held = self.held();
        if held.get(key) == Some(&holder) {
            held.remove(key);
        }
    }

    fn expires_at(&self) -> i64 {
        let lease = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        Utc::now().timestamp_millis().saturating_add(lease)
    }
}

/// The entity locks of one store instance.
#[derive(Debug, Clone)]
pub(crate) struct Locks {
    shared: Arc<Shared>,
}

impl Locks {
    /// Starts the renewal task (needs a tokio runtime); it ends with the last clone.
    pub(crate) fn start(pool: SqlitePool, lease: Duration) -> Self {
        let shared = Arc::new(Shared {
            pool,
            lease,
            held: Mutex::new(HashMap::new()),
            released: Notify::new(),
        });
        tokio::spawn(renew_while_alive(Arc::downgrade(&shared), lease / 3));
        Self { shared }
    }

    /// Takes the lock on `key`, trying until `wait` has passed (once for a zero wait).
    pub(crate) async fn lock(
        &self,
        key: &str,
        wait: Duration,
    ) -> Result<Option<SqliteEntityLock>, StoreError> {
        let deadline = Instant::now() + wait;
        loop {
            // Registered before the attempt, so a release right after it is not missed.
            let released = self.shared.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.shared.holds(key)
                && let Some(guard) = self.attempt(key).await?
            {
                return Ok(Some(guard));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::select! {
                () = &mut released => {}
                () = tokio::time::sleep_until(deadline.min(now + POLL_INTERVAL)) => {}
            }
        }
    }

    /// One upsert, in a task of its own: see the module doc on cancellation.
    async fn attempt(&self, key: &str) -> Result<Option<SqliteEntityLock>, StoreError> {
        let shared = self.shared.clone();
        let key = key.to_owned();
        let task = tokio::spawn(async move {
            let holder = Uuid::new_v4();
            let taken = try_take(&shared, &key, holder).await?;
            Ok(taken.then(|| SqliteEntityLock::new(shared, key, holder)))
        });
        task.await
            .map_err(|e| StoreError::Unexpected(Box::new(e)))?
    }
}

/// Takes `key` for `holder` if it is free or its lease has run out.
async fn try_take(shared: &Shared, key: &str, holder: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO locks (key, holder, expires_at, taken_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at, taken_at = excluded.taken_at \
         WHERE locks.expires_at <= ?5",
    )
    .bind(key)
    .bind(codec::uuid(holder))
    .bind(shared.expires_at())
    .bind(codec::now())
    .bind(Utc::now().timestamp_millis())
    .execute(&shared.pool)
    .await
    .map_err(from_sqlx)?;
    Ok(done.rows_affected() == 1)
}

async fn delete(shared: &Shared, key: &str, holder: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM locks WHERE key = ?1 AND holder = ?2")
        .bind(key)
        .bind(codec::uuid(holder))
        .execute(&shared.pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// Extends the lease of every lock this instance holds, until the store is dropped.
async fn renew_while_alive(shared: Weak<Shared>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.pool.is_closed() {
            return;
        }
        let holders: Vec<String> = shared.held().values().map(|h| codec::uuid(*h)).collect();
        if holders.is_empty() {
            continue;
        }
        let renewed = sqlx::query(
            "UPDATE locks SET expires_at = ?1 WHERE holder IN (SELECT value FROM json_each(?2))",
        )
        .bind(shared.expires_at())
        .bind(serde_json::Value::from(holders.clone()).to_string())
        .execute(&shared.pool)
        .await;
        match renewed {
            // A guard dropped since the snapshot is fine; otherwise a lease ran out (the process
            // stalled longer than the lease) and the key may have been taken elsewhere.
            Ok(done) if (done.rows_affected() as usize) < holders.len() => tracing::debug!(
                expected = holders.len(),
                renewed = done.rows_affected(),
                "some entity locks were not renewed (released meanwhile, or expired)"
            ),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %from_sqlx(error), "cannot renew entity lock leases")
            }
        }
    }
}

/// A held entity lock. Released by `release`, or in the background when dropped.
pub(crate) struct SqliteEntityLock {
    shared: Arc<Shared>,
    key: String,
    holder: Uuid,
    released: bool,
}

impl SqliteEntityLock {
    fn new(shared: Arc<Shared>, key: String, holder: Uuid) -> Self {
        shared.held().insert(key.clone(), holder);
        Self {
            shared,
            key,
            holder,
            released: false,
        }
    }
}

#[async_trait]
impl EntityLock for SqliteEntityLock {
    /// Deletes the row and wakes this instance's waiters. On error the guard is dropped, which
    /// keeps trying in the background until the lease would have run out anyway.
    async fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        delete(&self.shared, &self.key, self.holder).await?;
        self.released = true;
        self.shared.forget(&self.key, self.holder);
        self.shared.released.notify_waiters();
        Ok(())
    }

    /// Whether the row is still this guard's and its lease has not run out. (A lease that ran
    /// out is renewed no more: the renewal only extends rows this holder still has, and the
    /// key may have been taken elsewhere meanwhile.)
    async fn is_held(&mut self) -> Result<bool, StoreError> {
        let held: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM locks WHERE key = ?1 AND holder = ?2 \
             AND expires_at > ?3)",
        )
        .bind(&self.key)
        .bind(codec::uuid(self.holder))
        .bind(Utc::now().timestamp_millis())
        .fetch_one(&self.shared.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(held)
    }
}

impl Drop for SqliteEntityLock {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // No longer renewed from now on: the lease runs down unless the delete succeeds first.
        self.shared.forget(&self.key, self.holder);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (shared, key, holder) = (self.shared.clone(), self.key.clone(), self.holder);
        runtime.spawn(async move {
            let give_up = Instant::now() + shared.lease;
            loop {
                match delete(&shared, &key, holder).await {
                    Ok(()) => {
                        shared.released.notify_waiters();
                        return;
                    }
                    Err(error) if Instant::now() >= give_up => {
                        tracing::warn!(%error, %key, "a dropped entity lock was left to expire");
                        return;
                    }
                    Err(_) => tokio::time::sleep(RELEASE_RETRY).await,
                }
            }
        });
    }
}
