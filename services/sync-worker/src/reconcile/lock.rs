//! Which lock a reconcile takes, so that all work on one pair of issues is serialized.
//!
//! - A linked entity locks `connection/left/<left id>`: requests for either side of the pair
//!   take the same key.
//! - An unlinked entity locks `connection/<side>/<entity id>`. For an unlinked LEFT entity that
//!   is the key its link will have, so its creator and any later request agree.
//! - An unlinked twin (it carries our origin marker, its link is not stored yet) locks the key
//!   of its ORIGIN, which is the key its creator holds: it waits for the creator to finish
//!   instead of racing it, and can never be mistaken for a new issue that needs a twin.
//!
//! The key can change while waiting (a link appears), so the caller re-checks after locking
//! and relocks when the key it needs is no longer the one it holds.
//!
//! Fencing: a lock can be lost while its holder works. On PostgreSQL it belongs to a database
//! session, and a database restart ends every session: another reconcile of the pair may then
//! take it and write newer values, which the first would overwrite with what it read before.
//! So a pass checks, before each write (to Jira or PeopleForce) and before it records the base
//! ([`fence`]), that its lock is still held, and stops (to be retried) when it is not.

use std::future::Future;
use std::sync::Arc;

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_store::{EntityLock, Link};
use tokio::sync::Mutex;
use tracing::{debug, warn};

use super::Reconciler;
use crate::error::{ReconcileError, chain};

impl Reconciler {
    /// Runs `work` holding the store lock `key` (waiting up to the lock wait; busy after that
    /// is [`ReconcileError::LockBusy`], a transient failure), and releases it whatever `work`
    /// returned. Callers pass reconcile passes boxed: their futures are large, and a chain of
    /// them moved by value overflows a thread's stack in debug builds.
    pub(super) async fn under_lock<T>(
        &self,
        key: &str,
        work: impl Future<Output = Result<T, ReconcileError>>,
    ) -> Result<T, ReconcileError> {
        let Some(guard) = self.store.lock(key, self.lock_wait).await? else {
            return Err(ReconcileError::LockBusy(key.to_owned()));
        };
        debug!(lock = %key, "lock taken");
        let held = Arc::new(Held {
            key: key.to_owned(),
            guard: Mutex::new(guard),
        });
        let result = HELD.scope(held.clone(), work).await;
        match Arc::try_unwrap(held) {
            Ok(held) => {
                if let Err(e) = held.guard.into_inner().release().await {
                    warn!(lock = %key, error = %chain(&e), "lock release failed");
                }
            }
            // Not reachable (the scope has ended); dropping the guard frees the lock too.
            Err(_) => warn!(lock = %key, "lock still shared after its pass; dropped"),
        }
        result
    }
}

/// The lock a pass holds, for [`fence`].
struct Held {
    key: String,
    guard: Mutex<Box<dyn EntityLock>>,
}

tokio::task_local! {
    static HELD: Arc<Held>;
}

/// Fails with [`ReconcileError::LockLost`] when the lock of the running pass may be someone
/// else's by now; called before each write. Outside a locked pass there is nothing to check.
pub(super) async fn fence() -> Result<(), ReconcileError> {
    let Ok(held) = HELD.try_with(Arc::clone) else {
        return Ok(());
    };
    match held.guard.lock().await.is_held().await {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => {
            warn!(lock = %held.key, "lock lost before a write; the reconcile stops and is retried");
            Err(ReconcileError::LockLost(held.key.clone()))
        }
    }
}

/// The lock key of an entity on `side` with id `entity_id`, given its link (if any).
pub fn lock_key(
    connection: &ConnectionId,
    side: Side,
    entity_id: &str,
    link: Option<&Link>,
) -> String {
    match link {
        Some(link) => format!("{connection}/left/{}", link.left_id),
        None => format!("{connection}/{side}/{entity_id}"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::test_support::connection_id;

    fn link(left: &str, right: &str) -> Link {
        Link {
            id: Uuid::now_v7(),
            connection: connection_id(),
            left_id: left.into(),
            right_id: right.into(),
            left_key: None,
            right_key: None,
            base: Default::default(),
            created_at: Utc::now(),
            last_synced_at: None,
            last_error: None,
        }
    }

    #[test]
    fn both_sides_of_a_linked_pair_take_the_same_key() {
        let c = connection_id();
        let pair = link("100", "200");
        let from_left = lock_key(&c, Side::Left, "100", Some(&pair));
        let from_right = lock_key(&c, Side::Right, "200", Some(&pair));
        assert_eq!(from_left, "a-to-b/left/100");
        assert_eq!(from_right, from_left);
    }

    #[test]
    fn an_unlinked_entity_locks_its_own_side_and_id() {
        let c = connection_id();
        assert_eq!(lock_key(&c, Side::Right, "200", None), "a-to-b/right/200");
        assert_eq!(lock_key(&c, Side::Left, "100", None), "a-to-b/left/100");
    }

    #[test]
    fn a_left_entity_keeps_its_key_when_it_becomes_linked() {
        let c = connection_id();
        assert_eq!(
            lock_key(&c, Side::Left, "100", None),
            lock_key(&c, Side::Left, "100", Some(&link("100", "200")))
        );
    }

    #[test]
    fn keys_of_different_connections_never_collide() -> Result<(), jira_sync_domain::IdError> {
        let other = ConnectionId::parse("a-to-c")?;
        assert_ne!(
            lock_key(&connection_id(), Side::Left, "100", None),
            lock_key(&other, Side::Left, "100", None)
        );
        Ok(())
    }
}
