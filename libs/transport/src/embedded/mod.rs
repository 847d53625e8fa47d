//! The embedded durable queue (feature `embedded`): the transport of the single-process mode,
//! on one SQLite file, with no broker to run.
//!
//! [`EmbeddedTransport`] owns the database and hands out the [`Publisher`], [`Consumer`]s and
//! [`DeadLetters`] of the queue, with the semantics of the RabbitMQ backend (the same
//! conformance suite runs against both):
//! - `publish` returns once the message is committed to disk;
//! - a delivery is a lease on its row: invisible to other consumers while its consumer lives
//!   (a heartbeat renews it), back in the queue at once when the delivery or its consumer is
//!   dropped or closed unsettled, and when the lease runs out after a crash
//!   ([`EmbeddedQueueSettings::visibility_timeout`]);
//! - `retry(delay)` makes the message due exactly `delay` later (no tiers, no cap) with
//!   attempt + 1 and the failure; `dead_letter` moves it to the dead letters with the failure;
//!   peek and replay (by id, or all, attempt reset) work as with RabbitMQ;
//! - at most `prefetch` unsettled deliveries per consumer; concurrent consumers, in this
//!   process or another one on the same file, never get the same message at once.
//!
//! Layout: `queue` (shared state, pools, clock), `sql` (every statement), `codec` (rows <->
//! envelopes), `lease` (leases and heartbeats), and the trait implementations `publisher`,
//! `consumer`, `delivery`, `dead_letters`. Schema: `libs/transport/migrations-embedded`.

mod codec;
mod consumer;
mod dead_letters;
mod delivery;
mod error;
mod lease;
mod publisher;
mod queue;
mod sql;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use self::consumer::EmbeddedConsumer;
use self::dead_letters::EmbeddedDeadLetters;
use self::publisher::EmbeddedPublisher;
use self::queue::{Queue, now_ms};
use crate::{Consumer, DeadLetters, Publisher, TransportError};

/// Tuning of the embedded queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedQueueSettings {
    /// Unsettled deliveries one consumer holds at most (at least 1).
    pub prefetch: u16,
    /// How long a delivery stays invisible to other consumers without its consumer's heartbeat
    /// (renewed every third of it): how soon the messages of a crashed process come back.
    /// At least 300 ms.
    pub visibility_timeout: Duration,
    /// How often an idle consumer looks for messages published by another process (in this
    /// process, a publish wakes it at once).
    pub poll_interval: Duration,
    /// How long a write waits for the database lock held by another process (SQLite's
    /// `busy_timeout`); bounds `publish` as a confirm timeout bounds an AMQP publish.
    pub busy_timeout: Duration,
}

impl Default for EmbeddedQueueSettings {
    /// Prefetch 16, visibility 30 s, poll 200 ms, busy timeout 5 s.
    fn default() -> Self {
        Self {
            prefetch: 16,
            visibility_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(200),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl EmbeddedQueueSettings {
    fn validate(&self) -> Result<(), TransportError> {
        let refuse = |why: &str| Err(TransportError::Unexpected(why.to_owned().into()));
        if self.prefetch == 0 {
            return refuse("embedded queue: prefetch must be at least 1");
        }
        if self.visibility_timeout < Duration::from_millis(300) {
            return refuse("embedded queue: visibility_timeout must be at least 300ms");
        }
        if self.poll_interval.is_zero() || self.busy_timeout.is_zero() {
            return refuse("embedded queue: poll_interval and busy_timeout must not be zero");
        }
        Ok(())
    }
}

/// Message counts of the embedded queue, for metrics and people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmbeddedQueueDepths {
    /// Due and not leased: waiting for a consumer.
    pub ready: u64,
    /// Retries waiting for their delay.
    pub delayed: u64,
    /// Leased by a consumer (in flight).
    pub in_flight: u64,
    /// Parked in the dead letters.
    pub dead: u64,
}

/// The embedded queue on one SQLite file. Cheap to clone: clones share the connections.
/// Several transports (processes) may open the same file.
#[derive(Clone)]
pub struct EmbeddedTransport {
    queue: Arc<Queue>,
}

impl fmt::Debug for EmbeddedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedTransport")
            .field("path", &self.queue.path)
            .finish_non_exhaustive()
    }
}

impl EmbeddedTransport {
    /// Opens the queue in the SQLite file at `path` (created if missing, in WAL mode) and
    /// applies its migrations. Fails when the settings are invalid or the file cannot be opened
    /// or written. Two processes must not open a *new* file at the same instant (the first
    /// migration is not serialized across processes); afterwards any number may share it.
    #[tracing::instrument(name = "embedded.open", skip_all, fields(path = %path.as_ref().display()))]
    pub async fn open(
        path: impl AsRef<Path>,
        settings: &EmbeddedQueueSettings,
    ) -> Result<Self, TransportError> {
        settings.validate()?;
        let queue = Queue::open(path.as_ref(), settings).await?;
        Ok(Self {
            queue: Arc::new(queue),
        })
    }

    /// The publisher of the work queue.
    pub fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(EmbeddedPublisher {
            queue: self.queue.clone(),
        })
    }

    /// A new consumer of the work queue with the configured prefetch.
    pub fn consumer(&self) -> Box<dyn Consumer> {
        Box::new(EmbeddedConsumer::new(self.queue.clone()))
    }

    /// Operator access to the dead letters.
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(EmbeddedDeadLetters {
            queue: self.queue.clone(),
        })
    }

    /// Message counts right now.
    #[tracing::instrument(name = "embedded.queue_depths", skip_all)]
    pub async fn queue_depths(&self) -> Result<EmbeddedQueueDepths, TransportError> {
        let (ready, delayed, in_flight, dead) = sql::depths(&self.queue.reader, now_ms()).await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(EmbeddedQueueDepths {
            ready: count(ready),
            delayed: count(delayed),
            in_flight: count(in_flight),
            dead: count(dead),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.queue.path
    }

    /// Closes the connections of every handle of this transport, waiting for those in use.
    /// Consumers then return `Closed`; leases still held run out (or are taken back by the next
    /// process that opens the file, once they do). Close consumers first to hand their
    /// messages back at once.
    pub async fn close(&self) {
        self.queue.close().await;
    }
}
