//! The [`Consumer`] of the work queue: manual acknowledgements, a prefetch limit, and a
//! reconnect loop that survives broker outages.
//!
//! Each consumer owns one channel on the transport's consuming connection. When the connection
//! dies, `next()` resubscribes with an exponential backoff (re-declaring the topology on the way);
//! the deliveries of the dead channel were never acknowledged, so the broker delivers them again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Consumer as LapinConsumer};

use super::broker::{Broker, Role, Setup, unavailable};
use super::delivery::AmqpDelivery;
use super::names::short;
use crate::{Consumer, Delivery, TransportError};

/// First wait before resubscribing after a failure; doubled up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A live subscription: the channel and the stream of its deliveries.
struct Subscription {
    channel: Channel,
    deliveries: LapinConsumer,
}

/// Consumes `{prefix}.work`.
pub(crate) struct AmqpConsumer {
    broker: Arc<Broker>,
    subscription: Option<Subscription>,
    backoff: Duration,
    closed: bool,
}

impl AmqpConsumer {
    /// Subscribes right away, so a wrong URL or a topology conflict shows at start-up.
    pub(crate) async fn start(broker: Arc<Broker>) -> Result<Self, TransportError> {
        let subscription = subscribe(&broker).await?;
        Ok(Self {
            broker,
            subscription: Some(subscription),
            backoff: INITIAL_BACKOFF,
            closed: false,
        })
    }

    async fn resubscribe(&mut self) {
        match subscribe(&self.broker).await {
            Ok(subscription) => {
                tracing::info!("consumer subscribed again");
                self.subscription = Some(subscription);
                self.backoff = INITIAL_BACKOFF;
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?self.backoff, "consumer cannot subscribe");
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[async_trait]
impl Consumer for AmqpConsumer {
    async fn next(&mut self) -> Result<Box<dyn Delivery>, TransportError> {
        loop {
            if self.closed {
                return Err(TransportError::Closed);
            }
            let Some(subscription) = self.subscription.as_mut() else {
                self.resubscribe().await;
                continue;
            };
            match subscription.deliveries.next().await {
                Some(Ok(delivery)) => {
                    return Ok(Box::new(AmqpDelivery::new(delivery, self.broker.clone())));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "consumer lost its channel; resubscribing");
                    self.subscription = None;
                }
                None => {
                    tracing::warn!("the broker cancelled the consumer; resubscribing");
                    self.subscription = None;
                }
            }
        }
    }

    async fn close(&mut self) {
        self.closed = true;
        if let Some(subscription) = self.subscription.take() {
            // Closing the channel returns every unacknowledged delivery to the queue.
            let closing = subscription.channel.close(200, "consumer closed".into());
            if let Ok(Err(error)) = tokio::time::timeout(self.broker.confirm_timeout, closing).await
            {
                tracing::debug!(%error, "consumer channel was already closed");
            }
        }
    }
}

/// Opens a channel, sets the prefetch and starts consuming, within `confirm_timeout`.
async fn subscribe(broker: &Broker) -> Result<Subscription, TransportError> {
    let attempt = async {
        let channel = broker.open_channel(Role::Consume, Setup::Declare).await?;
        channel
            // Per consumer (not per channel, `global: false`): at most `prefetch` unacknowledged
            // deliveries, so one busy worker does not hoard the queue.
            .basic_qos(broker.prefetch, BasicQosOptions { global: false })
            .await
            .map_err(|e| unavailable("cannot set the prefetch", e))?;
        let options = BasicConsumeOptions {
            // Meaningless for RabbitMQ; kept at the default.
            no_local: false,
            // Manual acknowledgements: a message leaves the queue only once it was handled.
            no_ack: false,
            // Several workers share the queue.
            exclusive: false,
            // Wait for consume-ok, so a missing queue is reported here.
            nowait: false,
        };
        let deliveries = channel
            .basic_consume(
                short(&broker.names.work_queue),
                // Empty: the broker generates a unique consumer tag.
                short(""),
                options,
                FieldTable::default(),
            )
            .await
            .map_err(|e| unavailable("cannot start consuming", e))?;
        Ok(Subscription {
            channel,
            deliveries,
        })
    };
    tokio::time::timeout(broker.confirm_timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(TransportError::Unavailable(format!(
                "the broker did not answer within {:?}",
                broker.confirm_timeout
            )))
        })
}
