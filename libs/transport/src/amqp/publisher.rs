//! The [`Publisher`] of the work queue: confirmed, persistent, mandatory publishes.

use std::sync::Arc;

use async_trait::async_trait;

use super::broker::Broker;
use super::names::WORK_ROUTING_KEY;
use crate::{Envelope, Publisher, TransportError};

/// Publishes to `{prefix}.work`. Cheap to clone behind its `Arc`; all publishers of one
/// transport share one connection and one confirm-mode channel.
pub(crate) struct AmqpPublisher {
    pub(crate) broker: Arc<Broker>,
}

#[async_trait]
impl Publisher for AmqpPublisher {
    #[tracing::instrument(
        name = "amqp.publish",
        skip_all,
        fields(message_id = %envelope.message_id, attempt = envelope.attempt)
    )]
    async fn publish(&self, envelope: Envelope) -> Result<(), TransportError> {
        let result = self
            .broker
            .publish(
                &self.broker.names.work_exchange,
                WORK_ROUTING_KEY,
                &envelope,
                Vec::new(),
            )
            .await;
        if let Err(error) = &result {
            tracing::warn!(%error, "publish not confirmed");
        }
        result
    }

    async fn is_ready(&self) -> bool {
        self.broker.is_reachable().await
    }
}
