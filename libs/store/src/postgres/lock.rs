//! Entity locks as PostgreSQL session advisory locks.
//!
//! A lock is held by one database session: the guard owns the pooled connection the lock was
//! taken on, for as long as the lock is held. Because the session holds the lock, a process
//! that dies, or a guard dropped without `release`, frees it as soon as the connection closes.
//!
//! How we wait: one `pg_advisory_lock` bounded by `SET LOCAL lock_timeout`, rather than polling
//! `pg_try_advisory_lock`. The server queues waiters in order and hands the lock over the moment
//! it is released, so there is no poll interval adding latency, no polling load, and no
//! starvation of an unlucky poller. `lock_timeout` is set with `SET LOCAL` inside a
//! transaction, so it never leaks into later uses of the connection; the session-level lock
//! outlives that transaction. A zero wait uses `pg_try_advisory_lock` (a zero `lock_timeout`
//! would mean "wait forever").
//!
//! Connections: locks live on a second pool, as large as the query pool, behind a semaphore of
//! the same size. A worker holding a lock therefore never takes a connection its own queries
//! need, and lockers beyond that size wait (within their `wait`) for a slot and then get
//! `None`, instead of draining the query pool. A process opens at most twice
//! `max_connections` connections.
//!
//! Cancellation: a caller that gives up mid-wait drops the connection, which ends the
//! session. The server may still grant the lock to that dead session for an instant before it
//! notices the closed socket and exits, so a later locker can wait slightly longer, never
//! forever. A wait that ends in `lock_timeout` ends its session too: the server can grant the
//! lock in the very instant the timeout fires and still report the timeout, and a session-level
//! lock survives that error (the fault-injection suite met it: a pair locked for good by an
//! idle pooled connection).
//!
//! Keys: the 64-bit advisory key is a hash of the key string ([`lock_id`]). Two keys that
//! collide only serialize with each other; they never let two holders of one key in.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::error::from_sqlx;
use crate::{EntityLock, StoreError};

/// SQLSTATE `lock_not_available`: `lock_timeout` expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// The advisory lock key of an entity key: the first 8 bytes of a SHA-256 of the key (with a
/// prefix of our own, so that other users of advisory locks on the same database are unlikely
/// to meet ours). Stable across processes, versions and platforms.
pub fn lock_id(key: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"jira-sync/entity-lock/")
        .chain_update(key.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The connections entity locks are held on.
#[derive(Debug, Clone)]
pub(crate) struct LockPool {
    pool: PgPool,
    slots: Arc<Semaphore>,
}

impl LockPool {
    /// A lazy pool with the same connect options, size and acquire timeout as `queries`.
    pub(crate) fn for_pool(queries: &PgPool) -> Self {
        let size = queries.options().get_max_connections();
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(queries.options().get_acquire_timeout())
            .connect_lazy_with((*queries.connect_options()).clone());
        Self {
            pool,
            slots: Arc::new(Semaphore::new(size as usize)),
        }
    }

    pub(crate) async fn close(&self) {
        self.slots.close();
        self.pool.close().await;
    }

    /// Takes the lock on `key`, waiting up to `wait` in all (for a free slot and for the lock).
    pub(crate) async fn lock(
        &self,
        key: &str,
        wait: Duration,
    ) -> Result<Option<PgEntityLock>, StoreError> {
        let id = lock_id(key);
        let deadline = Instant::now() + wait;
        let Some(slot) = self.slot(deadline).await? else {
            tracing::debug!("every lock connection is in use");
            return Ok(None);
        };
        let mut conn = SessionConnection(Some(self.pool.acquire().await.map_err(from_sqlx)?));
        let remaining = deadline.saturating_duration_since(Instant::now());
        let waited = remaining >= Duration::from_millis(1);
        let acquired = if waited {
            lock_within(conn.get(), id, remaining).await
        } else {
            try_lock(conn.get(), id).await
        }
        .map_err(from_sqlx)?;
        if acquired {
            Ok(Some(PgEntityLock {
                conn,
                id,
                _slot: slot,
            }))
        } else if waited {
            // A wait that timed out may still have been granted the lock: the server hands it
            // over in the same instant the `lock_timeout` fires, reports the timeout anyway, and
            // a session-level lock survives the failed statement. Returned to the pool, the
            // connection would hold the pair's lock for its next user, and the pair would stay
            // locked for the connection's lifetime. Ending the session frees it.
            drop(conn);
            Ok(None)
        } else {
            // `pg_try_advisory_lock` said no: the session holds no lock, the connection may
            // serve the next locker.
            conn.return_to_pool();
            Ok(None)
        }
    }

    async fn slot(&self, deadline: Instant) -> Result<Option<OwnedSemaphorePermit>, StoreError> {
        let closed = || StoreError::Unavailable("the store is closed".into());
        match self.slots.clone().try_acquire_owned() {
            Ok(slot) => return Ok(Some(slot)),
            Err(TryAcquireError::Closed) => return Err(closed()),
            Err(TryAcquireError::NoPermits) => {}
        }
        match tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(Some(slot)),
            Ok(Err(_)) => Err(closed()),
            Err(_elapsed) => Ok(None),
        }
    }
}

async fn try_lock(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

async fn lock_within(
    conn: &mut PgConnection,
    id: i64,
    wait: Duration,
) -> Result<bool, sqlx::Error> {
    // lock_timeout is an int of milliseconds; 0 would disable it.
    let millis = wait.as_millis().clamp(1, i32::MAX as u128);
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT set_config('lock_timeout', $1, true)")
        .bind(format!("{millis}ms"))
        .execute(&mut *tx)
        .await?;
    let locked = sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(id)
        .execute(&mut *tx)
        .await;
    match locked {
        Ok(_) => {
            // If the commit fails the caller drops the connection, which ends the session
            // and so frees the lock we may hold.
            tx.commit().await?;
            Ok(true)
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(LOCK_NOT_AVAILABLE) => {
            tx.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// A lock connection that ends its session when dropped, unless handed back with
/// [`SessionConnection::return_to_pool`] after the lock is known to be gone. Dropping it
/// mid-way (an error, a cancelled future, a guard dropped without `release`) can therefore
/// never leave a lock behind on a pooled connection.
struct SessionConnection(Option<PoolConnection<Postgres>>);

impl SessionConnection {
    fn get(&mut self) -> &mut PgConnection {
        // Only `return_to_pool` (which consumes self) and `drop` empty the option.
        match self.0.as_mut() {
            Some(conn) => conn,
            None => unreachable!("a SessionConnection is used after being emptied"),
        }
    }

    /// Back to the pool: only once the session holds no lock.
    fn return_to_pool(mut self) {
        drop(self.0.take());
    }
}

impl Drop for SessionConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            // Detach (the pool may open a replacement) and drop: the socket closes, the server
            // ends the session and frees its advisory locks. Synchronous: no runtime needed.
            drop(conn.detach());
        }
    }
}

/// A held entity lock.
pub(crate) struct PgEntityLock {
    conn: SessionConnection,
    id: i64,
    _slot: OwnedSemaphorePermit,
}

#[async_trait]
impl EntityLock for PgEntityLock {
    /// Unlocks and returns the connection to the pool. On error the connection is closed
    /// instead, which frees the lock just as well.
    async fn release(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            mut conn,
            id,
            _slot,
        } = *self;
        let unlocked: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
            .bind(id)
            .fetch_one(conn.get())
            .await
            .map_err(from_sqlx)?;
        if unlocked {
            conn.return_to_pool();
        } else {
            // Not ours any more (should not happen): let the session end rather than reuse it.
            tracing::warn!(lock_id = id, "advisory lock was not held at release");
        }
        Ok(())
    }

    /// Asks the session whether it still holds the advisory lock. A session that does not
    /// answer within [`HELD_CHECK_TIMEOUT`] (terminated, network cut) has lost it, or will
    /// have as soon as the server notices.
    async fn is_held(&mut self) -> Result<bool, StoreError> {
        let (classid, objid) = pg_locks_ids(self.id);
        let held = sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid() AND granted AND objsubid = 1 \
             AND classid = $1::bigint::oid AND objid = $2::bigint::oid)",
        )
        .bind(classid)
        .bind(objid)
        .fetch_one(self.conn.get());
        match tokio::time::timeout(HELD_CHECK_TIMEOUT, held).await {
            Ok(Ok(held)) => Ok(held),
            Ok(Err(_)) | Err(_) => Ok(false),
        }
    }
}

/// How long [`EntityLock::is_held`] waits for the session to answer.
const HELD_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// How `pg_locks` shows a bigint advisory key: its high and low 32 bits as `classid` and
/// `objid` (unsigned), with `objsubid = 1`.
fn pg_locks_ids(id: i64) -> (i64, i64) {
    let bits = id as u64;
    ((bits >> 32) as i64, (bits & 0xffff_ffff) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_id_is_stable_and_spreads_keys() {
        // Pinned: processes of different versions must agree on a key's lock during a rollout.
        assert_eq!(lock_id("conn-a/left/10001"), -686_230_745_051_515_829);
        assert_ne!(lock_id("conn-a/left/10001"), lock_id("conn-a/left/10002"));
        assert_ne!(lock_id(""), 0);
    }
}
