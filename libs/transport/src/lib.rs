//! The message transport between the inputs (ingress, poller, admin) and the sync worker.
//!
//! Small traits with an at-least-once contract, and one conformance suite ([`conformance`]) that
//! every backend must pass: RabbitMQ ([`amqp`]) for the distributed deployment, and an embedded
//! durable queue on SQLite (`embedded`, feature `embedded`) for the single-process mode.
//!
//! Contract:
//! - [`Publisher::publish`] returns `Ok` only once the message is durable (the broker confirmed
//!   it); on `Err` the caller must assume nothing was stored and must not acknowledge its input.
//! - A [`Delivery`] is settled exactly once, by `ack`, `retry` or `dead_letter`. A delivery that
//!   is never settled (its consumer died) is delivered again. `retry` and `dead_letter` store the
//!   new copy durably before the original is acknowledged, so a crash in between can only cause a
//!   duplicate, never a loss.

pub mod amqp;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(feature = "embedded")]
pub mod embedded;
mod envelope;

use std::time::Duration;

use async_trait::async_trait;

pub use amqp::AmqpTransport;
#[cfg(feature = "embedded")]
pub use embedded::{EmbeddedQueueDepths, EmbeddedQueueSettings, EmbeddedTransport};
pub use envelope::{Envelope, Failure};

/// Transport failures.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The broker is unreachable or did not confirm in time: the operation may be retried.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker refused the message (negative confirm).
    #[error("broker refused the message: {0}")]
    Rejected(String),
    /// The consumer was closed (shutdown).
    #[error("consumer closed")]
    Closed,
    #[error(transparent)]
    Unexpected(Box<dyn std::error::Error + Send + Sync>),
}

/// Publishes envelopes to the work queue.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// Publishes durably; returns only after the broker confirmed the message.
    async fn publish(&self, envelope: Envelope) -> Result<(), TransportError>;

    /// Whether the broker is reachable right now (for readiness probes).
    async fn is_ready(&self) -> bool;
}

/// Receives deliveries from the work queue.
#[async_trait]
pub trait Consumer: Send + 'static {
    /// Waits for the next delivery. Reconnects by itself after a broker outage; returns
    /// `Err(TransportError::Closed)` only once the consumer was closed.
    async fn next(&mut self) -> Result<Box<dyn Delivery>, TransportError>;

    /// Stops receiving; unsettled deliveries are returned to the queue by the broker.
    async fn close(&mut self);
}

/// One received message, to be settled exactly once.
#[async_trait]
pub trait Delivery: Send + 'static {
    fn envelope(&self) -> &Envelope;

    /// Done: remove the message.
    async fn ack(self: Box<Self>) -> Result<(), TransportError>;

    /// Deliver again no earlier than `delay` from now, with `attempt + 1` and `failure` recorded.
    ///
    /// A backend with fixed delay tiers (RabbitMQ) waits the shortest tier not shorter than
    /// `delay`, and the longest tier when `delay` exceeds it: configure the longest tier above
    /// any `Retry-After` a target may send.
    async fn retry(
        self: Box<Self>,
        delay: Duration,
        failure: Failure,
    ) -> Result<(), TransportError>;

    /// Park in the dead-letter queue with `failure` recorded, for an operator to inspect and replay.
    async fn dead_letter(self: Box<Self>, failure: Failure) -> Result<(), TransportError>;
}

/// Operator access to the dead-letter queue.
#[async_trait]
pub trait DeadLetters: Send + Sync + 'static {
    /// Reads up to `limit` dead letters without consuming them.
    async fn peek(&self, limit: usize) -> Result<Vec<Envelope>, TransportError>;

    /// Moves dead letters back to the work queue (all when `ids` is `None`), resetting their
    /// attempt count; returns how many were moved.
    async fn replay(&self, ids: Option<&[String]>) -> Result<usize, TransportError>;
}
