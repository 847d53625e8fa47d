//! One received AMQP message and the three ways to settle it.
//!
//! `retry` and `dead_letter` publish the new copy with a publisher confirm *before* acknowledging
//! the original; if the copy is not confirmed the original is requeued instead (nack with
//! requeue), so a failure can duplicate a message but never lose one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lapin::Acker;
use lapin::message::Delivery as LapinDelivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};

use super::broker::{Broker, unavailable};
use super::headers;
use super::names::DEAD_ROUTING_KEY;
use crate::{Delivery, Envelope, Failure, TransportError};

pub(crate) struct AmqpDelivery {
    envelope: Envelope,
    acker: Acker,
    broker: Arc<Broker>,
}

impl AmqpDelivery {
    pub(crate) fn new(delivery: LapinDelivery, broker: Arc<Broker>) -> Self {
        Self {
            envelope: headers::decode(&delivery.properties, delivery.data),
            acker: delivery.acker,
            broker,
        }
    }

    /// Publishes `copy` with a confirm, then acknowledges the original; requeues the original
    /// when the copy is not confirmed.
    async fn replace_with(
        self,
        exchange: &str,
        routing_key: &str,
        copy: Envelope,
    ) -> Result<(), TransportError> {
        match self
            .broker
            .publish(exchange, routing_key, &copy, Vec::new())
            .await
        {
            Ok(()) => ack(&self.acker).await,
            Err(error) => {
                let requeue = BasicNackOptions {
                    multiple: false,
                    // Back to the work queue: nothing is lost, the message is simply tried again.
                    requeue: true,
                };
                if let Err(nack_error) = settled(self.acker.nack(requeue).await) {
                    // The channel is gone, which requeues the message just the same.
                    tracing::warn!(error = %nack_error, "cannot requeue after a failed republish");
                }
                Err(error)
            }
        }
    }
}

#[async_trait]
impl Delivery for AmqpDelivery {
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    #[tracing::instrument(name = "amqp.ack", skip_all, fields(message_id = %self.envelope.message_id))]
    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        ack(&self.acker).await
    }

    #[tracing::instrument(
        name = "amqp.retry",
        skip_all,
        fields(message_id = %self.envelope.message_id, attempt = self.envelope.attempt, ?delay)
    )]
    async fn retry(
        self: Box<Self>,
        delay: Duration,
        failure: Failure,
    ) -> Result<(), TransportError> {
        let tier = self.broker.names.tier_for(delay);
        let exchange = self.broker.names.retry_exchange.clone();
        let routing_key = tier.routing_key.clone();
        let mut copy = self.envelope.clone();
        copy.attempt = copy.attempt.saturating_add(1);
        copy.failure = Some(failure);
        self.replace_with(&exchange, &routing_key, copy).await
    }

    #[tracing::instrument(
        name = "amqp.dead_letter",
        skip_all,
        fields(message_id = %self.envelope.message_id, class = %failure.class)
    )]
    async fn dead_letter(self: Box<Self>, failure: Failure) -> Result<(), TransportError> {
        let exchange = self.broker.names.dead_exchange.clone();
        let mut copy = self.envelope.clone();
        copy.failure = Some(failure);
        self.replace_with(&exchange, DEAD_ROUTING_KEY, copy).await
    }
}

async fn ack(acker: &Acker) -> Result<(), TransportError> {
    settled(acker.ack(BasicAckOptions { multiple: false }).await)
}

/// lapin answers `Ok(false)` when the delivery's channel is already closed.
fn settled(result: lapin::Result<bool>) -> Result<(), TransportError> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(TransportError::Unavailable(
            "the channel of this delivery is closed; the broker will deliver it again".into(),
        )),
        Err(error) => Err(unavailable("cannot settle the delivery", error)),
    }
}
