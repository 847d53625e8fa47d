//! The [`Consumer`] of the embedded work queue: leases one due message at a time, at most
//! `prefetch` unsettled, and waits for the next one without spinning.
//!
//! Waiting: a publish, retry, release or replay in this process wakes every waiting consumer at
//! once (a `Notify`); otherwise a consumer looks again when the next delayed message is due or
//! after `poll_interval` (for messages published by another process), whichever comes first.
//! The lease itself runs in a task of its own: see `lease` on why that makes `next()` safe to
//! cancel. A database error (another process holds the write lock too long, the disk is full)
//! is logged and retried with a backoff: `next()` only fails once the consumer is closed.
//!
//! Closing or dropping the consumer releases every lease it holds, as closing an AMQP channel
//! requeues its unacknowledged messages; a delivery settled afterwards gets `Unavailable`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::codec::MessageRow;
use super::delivery::EmbeddedDelivery;
use super::lease::{Lease, LiveLeases, heartbeat};
use super::queue::{Held, Queue, due_ms, now_ms};
use super::sql;
use crate::{Consumer, Delivery, Envelope, TransportError};

/// First wait after a database error; doubled up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub(crate) struct EmbeddedConsumer {
    queue: Arc<Queue>,
    /// Written on the rows this consumer leases, so that closing it releases them all.
    owner: String,
    /// `prefetch` permits; each delivery holds one until settled or dropped.
    slots: Arc<Semaphore>,
    live: Arc<LiveLeases>,
    /// Started on the first `next()`, so that creating a consumer needs no runtime.
    heartbeat: Option<JoinHandle<()>>,
    backoff: Duration,
    closed: bool,
}

impl EmbeddedConsumer {
    pub(crate) fn new(queue: Arc<Queue>) -> Self {
        let prefetch = usize::from(queue.settings.prefetch.max(1));
        Self {
            queue,
            owner: Uuid::new_v4().to_string(),
            slots: Arc::new(Semaphore::new(prefetch)),
            live: Arc::default(),
            heartbeat: None,
            backoff: INITIAL_BACKOFF,
            closed: false,
        }
    }

    /// Leases the next due message, in a task of its own (see the `lease` module).
    async fn lease(&self) -> Result<Option<(Envelope, Lease)>, TransportError> {
        let (queue, live, owner) = (self.queue.clone(), self.live.clone(), self.owner.clone());
        let task = tokio::spawn(async move {
            let token = Uuid::new_v4().to_string();
            let until = due_ms(queue.settings.visibility_timeout);
            let row = sql::lease(&queue.writer, &owner, &token, until, now_ms()).await?;
            Ok(row.map(|row: MessageRow| {
                let lease = Lease::new(queue.clone(), live, row.seq, token);
                (row.into_envelope(), lease)
            }))
        });
        task.await
            .map_err(|e| TransportError::Unexpected(Box::new(e)))?
    }

    fn stop(&mut self) {
        self.closed = true;
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.abort();
        }
        self.live.clear();
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn next(&mut self) -> Result<Box<dyn Delivery>, TransportError> {
        if self.closed || self.queue.is_closed() {
            return Err(TransportError::Closed);
        }
        if self.heartbeat.is_none() {
            let beat = heartbeat(self.queue.clone(), self.live.clone());
            self.heartbeat = Some(tokio::spawn(beat));
        }
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| TransportError::Closed)?;
        loop {
            if self.queue.is_closed() {
                return Err(TransportError::Closed);
            }
            // Registered before looking, so a publish right after the look is not missed.
            let woken = self.queue.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match self.lease().await {
                Ok(Some((envelope, lease))) => {
                    self.backoff = INITIAL_BACKOFF;
                    return Ok(Box::new(EmbeddedDelivery::new(envelope, lease, slot)));
                }
                Ok(None) => {
                    let look_again = self.queue.next_look().await;
                    tokio::select! {
                        () = &mut woken => {}
                        () = tokio::time::sleep_until(look_again) => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?self.backoff, "consumer cannot lease");
                    tokio::time::sleep(self.backoff).await;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn close(&mut self) {
        if self.closed {
            return;
        }
        self.stop();
        match sql::release(&self.queue.writer, &Held::Owner(self.owner.clone())).await {
            Ok(released) => {
                if released > 0 {
                    self.queue.wake.notify_waiters();
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot release the consumer's leases; retrying");
                self.queue.release_later(Held::Owner(self.owner.clone()));
            }
        }
    }
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.stop();
        self.queue
            .release_later(Held::Owner(std::mem::take(&mut self.owner)));
    }
}
