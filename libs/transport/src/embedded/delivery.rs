//! One leased message and the three ways to settle it. Each is a single durable write that
//! also ends the lease (`retry` is one update of the row; `dead_letter` one transaction), so
//! there is no moment where the message is in two places or none. A settle that fails leaves
//! the lease to be released when the delivery drops: the message is delivered again.

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OwnedSemaphorePermit;

use super::error::lease_lost;
use super::lease::Lease;
use super::queue::due_ms;
use super::sql;
use crate::{Delivery, Envelope, Failure, TransportError};

pub(crate) struct EmbeddedDelivery {
    envelope: Envelope,
    lease: Lease,
    /// One of the consumer's `prefetch` slots, freed when the delivery is settled or dropped.
    _slot: OwnedSemaphorePermit,
}

impl EmbeddedDelivery {
    pub(crate) fn new(envelope: Envelope, lease: Lease, slot: OwnedSemaphorePermit) -> Self {
        Self {
            envelope,
            lease,
            _slot: slot,
        }
    }

    /// Ends the lease after a settle: settled when it was done, and also when the lease turned
    /// out to be gone (nothing left to release); kept for release-on-drop on an error.
    fn finish(
        self,
        outcome: Result<bool, TransportError>,
        wake: bool,
    ) -> Result<(), TransportError> {
        match outcome {
            Ok(true) => {
                let queue = self.lease.queue().clone();
                self.lease.settled();
                if wake {
                    queue.wake.notify_waiters();
                }
                Ok(())
            }
            Ok(false) => {
                self.lease.settled();
                Err(lease_lost())
            }
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl Delivery for EmbeddedDelivery {
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    #[tracing::instrument(
        name = "embedded.ack",
        skip_all,
        fields(message_id = %self.envelope.message_id)
    )]
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        let queue = self.lease.queue().clone();
        let outcome = sql::ack(&queue.writer, self.lease.seq, &self.lease.token).await;
        self.finish(outcome, false)
    }

    #[tracing::instrument(
        name = "embedded.retry",
        skip_all,
        fields(message_id = %self.envelope.message_id, attempt = self.envelope.attempt, ?delay)
    )]
    async fn retry(
        self: Box<Self>,
        delay: Duration,
        failure: Failure,
    ) -> Result<(), TransportError> {
        let queue = self.lease.queue().clone();
        let attempt = self.envelope.attempt.saturating_add(1);
        let outcome = sql::retry(
            &queue.writer,
            self.lease.seq,
            &self.lease.token,
            attempt,
            &failure,
            due_ms(delay),
        )
        .await;
        // Woken so that waiting consumers re-read the next due time.
        self.finish(outcome, true)
    }

    #[tracing::instrument(
        name = "embedded.dead_letter",
        skip_all,
        fields(message_id = %self.envelope.message_id, class = %failure.class)
    )]
    async fn dead_letter(self: Box<Self>, failure: Failure) -> Result<(), TransportError> {
        let queue = self.lease.queue().clone();
        let outcome =
            sql::dead_letter(&queue.writer, self.lease.seq, &self.lease.token, &failure).await;
        self.finish(outcome, false)
    }
}
