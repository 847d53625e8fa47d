//! Leadership of a schedule: the store lock `poller/leader/<schedule>`
//! ([`Store::lock`](jira_sync_store::Store::lock)), held for as long as this process leads.
//!
//! What ends leadership is what ends the lock, on either store. On PostgreSQL the lock is a
//! session advisory lock on a connection of the store's lock pool: a leader that dies (process
//! killed, network cut, connection terminated) loses it as soon as PostgreSQL notices the
//! session is gone, with no lease to expire and no clock to trust. On SQLite it is a leased row
//! the store renews while the guard lives: a leader that dies loses it when its lease runs out
//! (`runtime.lease_timeout`), and one that stalls longer than the lease may find it taken.
//!
//! A leader checks its guard ([`Leadership::check`], which asks the store with
//! [`EntityLock::is_held`]: "is the session still there and holding the lock", "is the row
//! still mine and unexpired") before every page it reads, so a run whose lock may have passed
//! to another replica stops instead of running twice. (The limit of a lock without fencing: if
//! the lock is lost while the leader is in the middle of a page, that one page may finish while
//! the new leader starts; it only enqueues requests, and duplicates are harmless.)
//!
//! Cost: on PostgreSQL each schedule led holds one connection of the store's lock pool (sized
//! `database.max_connections`), which the sync worker's entity locks share in the all-in-one
//! binary.

use std::sync::Arc;
use std::time::Duration;

use jira_sync_store::{EntityLock, Store, StoreError};

/// How long a leadership check (or a release) may take before the leader assumes the lock is
/// gone.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The store lock key of a schedule's leadership.
pub fn lock_key(schedule: &str) -> String {
    format!("poller/leader/{schedule}")
}

/// Why leadership was not (or no longer is) held.
#[derive(Debug, thiserror::Error)]
pub enum LeadershipError {
    /// The store could not be reached to ask for the lock.
    #[error("cannot reach the store for the leader lock")]
    Unavailable(#[source] StoreError),
    /// The lock is gone, or the store does not say it is still ours: it may be someone
    /// else's now.
    #[error("the leader lock is lost")]
    Lost,
}

/// Takes leader locks in the store.
#[derive(Clone)]
pub struct Elector {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector").finish_non_exhaustive()
    }
}

/// The lock of one schedule, held by its guard.
pub struct Leadership {
    guard: Box<dyn EntityLock>,
}

impl Elector {
    /// Leader locks in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Tries once to take the lock of `schedule`, without waiting: `Ok(None)` when another
    /// replica holds it.
    pub async fn try_lead(&self, schedule: &str) -> Result<Option<Leadership>, LeadershipError> {
        let guard = self
            .store
            .lock(&lock_key(schedule), Duration::ZERO)
            .await
            .map_err(LeadershipError::Unavailable)?;
        Ok(guard.map(|guard| Leadership { guard }))
    }
}

impl Leadership {
    /// Whether the lock is still ours, bounded: a store that does not answer in time, or
    /// cannot answer, counts as a lost lock.
    pub async fn check(&mut self) -> Result<(), LeadershipError> {
        match tokio::time::timeout(CHECK_TIMEOUT, self.guard.is_held()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) | Ok(Err(_)) | Err(_) => Err(LeadershipError::Lost),
        }
    }

    /// Gives the lock up. A release that fails or hangs drops the guard instead, which frees
    /// the lock too (the session ends, or the row is deleted in the background or expires).
    pub async fn release(self) {
        let _ = tokio::time::timeout(CHECK_TIMEOUT, self.guard.release()).await;
    }
}
