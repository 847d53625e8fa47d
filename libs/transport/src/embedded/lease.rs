//! Leases: a delivery holds its message by a lease (a token and an end time on the row), and
//! every way a delivery can go away without settling gives the message back.
//!
//! - [`Lease`] is created in the very task that leased the row, so a `next()` cancelled mid-way
//!   drops it with the task's output; dropped unsettled (a crashed handler, a cancelled call),
//!   it releases the row in the background at once.
//! - Each consumer's heartbeat renews the leases of its live deliveries ([`LiveLeases`]) every
//!   third of the visibility timeout, so slow work keeps its message, while the messages of a
//!   process that died (no drop ever ran) come back when their lease runs out.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::queue::{Held, Queue, due_ms};
use super::sql;

/// The delivery tokens of one consumer whose leases its heartbeat keeps renewing.
#[derive(Debug, Default)]
pub(crate) struct LiveLeases(Mutex<HashSet<String>>);

impl LiveLeases {
    fn tokens(&self) -> MutexGuard<'_, HashSet<String>> {
        // Only touched by short, non-panicking sections: a poisoned set is intact.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn snapshot(&self) -> Vec<String> {
        self.tokens().iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.tokens().clear();
    }
}

/// One leased message: released when dropped before [`Lease::settled`].
#[derive(Debug)]
pub(crate) struct Lease {
    queue: Arc<Queue>,
    live: Arc<LiveLeases>,
    pub(crate) seq: i64,
    pub(crate) token: String,
    settled: bool,
}

impl Lease {
    pub(crate) fn new(queue: Arc<Queue>, live: Arc<LiveLeases>, seq: i64, token: String) -> Self {
        live.tokens().insert(token.clone());
        Self {
            queue,
            live,
            seq,
            token,
            settled: false,
        }
    }

    pub(crate) fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// The row was settled (or is no longer ours): nothing to release.
    pub(crate) fn settled(mut self) {
        self.settled = true;
        self.live.tokens().remove(&self.token);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        self.live.tokens().remove(&self.token);
        self.queue
            .release_later(Held::Token(std::mem::take(&mut self.token)));
    }
}

/// Renews `live` leases every third of the visibility timeout, until aborted or the queue
/// closes.
pub(crate) async fn heartbeat(queue: Arc<Queue>, live: Arc<LiveLeases>) {
    let every = queue.settings.visibility_timeout / 3;
    loop {
        tokio::time::sleep(every).await;
        if queue.is_closed() {
            return;
        }
        let tokens = live.snapshot();
        if tokens.is_empty() {
            continue;
        }
        let until = due_ms(queue.settings.visibility_timeout);
        if let Err(error) = sql::renew(&queue.writer, &tokens, until).await {
            tracing::warn!(%error, leases = tokens.len(), "cannot renew delivery leases");
        }
    }
}
