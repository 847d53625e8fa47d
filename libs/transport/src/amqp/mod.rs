//! The RabbitMQ backend (lapin 4 + deadpool-lapin).
//!
//! [`AmqpTransport`] owns the connections and hands out the [`Publisher`], [`Consumer`] and
//! [`DeadLetters`] of one installation (one name prefix). Layout of this module:
//! - `names`: exchange and queue names; `topology`: their declaration, in one function;
//! - `headers`: envelope <-> AMQP properties; `broker`: connections and confirmed publishing;
//! - `publisher`, `consumer`, `delivery`, `dead_letters`: the trait implementations.
//!
//! Delays are TTL queues (one per configured delay, the "tiers") dead-lettering back to the work
//! exchange: RabbitMQ has no delayed delivery without a plugin. A retry goes to the first tier
//! at least as long as the requested delay; a delay longer than the longest tier is capped to it.

mod broker;
mod consumer;
mod dead_letters;
mod delivery;
pub mod headers;
mod names;
mod publisher;
mod topology;

use std::fmt;
use std::sync::Arc;

use jira_sync_settings::AmqpSettings;

use self::broker::{Broker, Role, Setup};
use self::consumer::AmqpConsumer;
use self::dead_letters::AmqpDeadLetters;
pub use self::names::{Names, RetryTier, format_delay};
use self::publisher::AmqpPublisher;
pub use self::topology::{QueueDepths, TierDepth};
use crate::{Consumer, DeadLetters, Publisher, TransportError};

/// The RabbitMQ transport of one installation. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct AmqpTransport {
    broker: Arc<Broker>,
}

impl fmt::Debug for AmqpTransport {
    /// Names only: the URL holds credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTransport")
            .field("names", &self.broker.names)
            .finish_non_exhaustive()
    }
}

impl AmqpTransport {
    /// Prepares the transport without connecting: it does not fail when the broker is down.
    /// Connections are opened on first use and replaced when they die; every channel that
    /// publishes or consumes re-declares the topology first, so a new connection (or a broker
    /// that lost its state) always finds it. Must be called inside a tokio runtime.
    pub fn new(settings: &AmqpSettings) -> Result<Self, TransportError> {
        Ok(Self {
            broker: Arc::new(Broker::new(settings)?),
        })
    }

    /// Declares every exchange, queue and binding now (start-up check).
    #[tracing::instrument(name = "amqp.declare_topology", skip_all)]
    pub async fn declare_topology(&self) -> Result<(), TransportError> {
        let channel = self
            .broker
            .open_channel(Role::Publish, Setup::Declare)
            .await?;
        close(&self.broker, channel).await;
        Ok(())
    }

    /// The publisher of the work queue; all publishers share one confirm-mode channel.
    pub fn publisher(&self) -> Arc<dyn Publisher> {
        Arc::new(AmqpPublisher {
            broker: self.broker.clone(),
        })
    }

    /// A consumer of the work queue with the configured prefetch. Subscribes before returning
    /// (so a wrong URL shows at start-up); afterwards it reconnects by itself.
    pub async fn consumer(&self) -> Result<Box<dyn Consumer>, TransportError> {
        Ok(Box::new(AmqpConsumer::start(self.broker.clone()).await?))
    }

    /// Operator access to the dead-letter queue.
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        Arc::new(AmqpDeadLetters {
            broker: self.broker.clone(),
        })
    }

    /// Message counts of the work queue, each retry tier and the DLQ (passive declares), for
    /// metrics. Fails when a queue does not exist.
    #[tracing::instrument(name = "amqp.queue_depths", skip_all)]
    pub async fn queue_depths(&self) -> Result<QueueDepths, TransportError> {
        let channel = self.broker.open_channel(Role::Publish, Setup::Bare).await?;
        let depths = self
            .broker
            .bounded(
                "cannot read queue depths",
                topology::depths(&channel, &self.broker.names),
            )
            .await;
        close(&self.broker, channel).await;
        depths
    }

    /// Deletes every exchange and queue of this prefix, messages included (tests, teardown).
    /// Close this transport's consumers first: a live consumer re-declares what it lost.
    #[tracing::instrument(name = "amqp.delete_topology", skip_all)]
    pub async fn delete_topology(&self) -> Result<(), TransportError> {
        let channel = self.broker.open_channel(Role::Publish, Setup::Bare).await?;
        let deleted = self
            .broker
            .bounded(
                "cannot delete the topology",
                topology::delete(&channel, &self.broker.names),
            )
            .await;
        close(&self.broker, channel).await;
        deleted
    }

    /// The exchange and queue names, for people and tests.
    pub fn names(&self) -> &Names {
        &self.broker.names
    }
}

async fn close(broker: &Broker, channel: lapin::Channel) {
    if let Err(error) = broker
        .bounded(
            "cannot close the channel",
            channel.close(200, "done".into()),
        )
        .await
    {
        tracing::debug!(%error, "channel did not close cleanly");
    }
}
