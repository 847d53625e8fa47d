//! Operator access to `{prefix}.dlq`: peek without consuming, replay to the work queue.
//!
//! Both read with `basic.get` without acknowledging, on a channel of their own that they close
//! at the end: closing a channel returns its unacknowledged messages to their original places in
//! the (classic) queue, so a peek leaves the DLQ exactly as it found it, and a replay leaves the
//! unselected messages in order. While a peek or replay runs, the messages it holds are invisible
//! to another peek. Messages move with a publisher confirm before their acknowledgement, so a
//! failure can duplicate a replayed message but never lose it.

use std::sync::Arc;

use async_trait::async_trait;
use lapin::Channel;
use lapin::message::BasicGetMessage;
use lapin::options::{BasicAckOptions, BasicGetOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

use super::broker::{Broker, Role, Setup, confirm_publish};
use super::headers;
use super::names::{WORK_ROUTING_KEY, short};
use crate::{DeadLetters, Envelope, TransportError};

pub(crate) struct AmqpDeadLetters {
    pub(crate) broker: Arc<Broker>,
}

impl AmqpDeadLetters {
    /// One `basic.get` without auto-ack, bounded by `confirm_timeout`.
    async fn get(&self, channel: &Channel) -> Result<Option<BasicGetMessage>, TransportError> {
        let get = channel.basic_get(
            short(&self.broker.names.dead_queue),
            // Keep the message until we acknowledge it (replay) or close the channel (peek).
            BasicGetOptions { no_ack: false },
        );
        self.broker
            .bounded("cannot read the dead-letter queue", get)
            .await
    }

    /// Moves one dead letter: publish with confirm to the work exchange, then acknowledge.
    async fn move_to_work(
        &self,
        channel: &Channel,
        message: BasicGetMessage,
        parked: &Envelope,
    ) -> Result<(), TransportError> {
        let mut copy = parked.clone();
        copy.attempt = 1;
        copy.failure = None;
        let properties = headers::encode(&copy, headers::replay_info(parked))?;
        let publish = confirm_publish(
            channel,
            &self.broker.names.work_exchange,
            WORK_ROUTING_KEY,
            &message.delivery.data,
            properties,
        );
        tokio::time::timeout(self.broker.confirm_timeout, publish)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::Unavailable(
                    "the broker did not confirm a replayed message in time".into(),
                ))
            })?;
        let ack = message
            .delivery
            .acker
            .ack(BasicAckOptions { multiple: false });
        match self.broker.bounded("cannot acknowledge", ack).await? {
            true => Ok(()),
            false => Err(TransportError::Unavailable(
                "the replay channel closed before the acknowledgement".into(),
            )),
        }
    }
}

#[async_trait]
impl DeadLetters for AmqpDeadLetters {
    #[tracing::instrument(name = "amqp.dlq.peek", skip_all, fields(limit))]
    async fn peek(&self, limit: usize) -> Result<Vec<Envelope>, TransportError> {
        let channel = self
            .broker
            .open_channel(Role::Publish, Setup::Declare)
            .await?;
        let mut peeked = Vec::new();
        let result = async {
            while peeked.len() < limit {
                let Some(message) = self.get(&channel).await? else {
                    break;
                };
                peeked.push(headers::decode(
                    &message.delivery.properties,
                    message.delivery.data,
                ));
            }
            Ok::<_, TransportError>(())
        }
        .await;
        close(&self.broker, channel).await;
        result.map(|()| peeked)
    }

    #[tracing::instrument(name = "amqp.dlq.replay", skip_all, fields(selected = ids.map(<[String]>::len)))]
    async fn replay(&self, ids: Option<&[String]>) -> Result<usize, TransportError> {
        let channel = self
            .broker
            .open_channel(Role::Publish, Setup::Declare)
            .await?;
        let result = async {
            let confirm = channel.confirm_select(ConfirmSelectOptions { nowait: false });
            self.broker
                .bounded("cannot enable publisher confirms", confirm)
                .await?;
            // Scan at most the messages present now, so a replay always ends even while new
            // dead letters arrive.
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            let declare = channel.queue_declare(
                short(&self.broker.names.dead_queue),
                passive,
                FieldTable::default(),
            );
            let present = self
                .broker
                .bounded("cannot count the dead letters", declare)
                .await?
                .message_count();
            let mut moved = 0;
            for _ in 0..present {
                let Some(message) = self.get(&channel).await? else {
                    break;
                };
                let parked =
                    headers::decode(&message.delivery.properties, message.delivery.data.clone());
                if ids.is_none_or(|ids| ids.contains(&parked.message_id)) {
                    self.move_to_work(&channel, message, &parked).await?;
                    moved += 1;
                }
                // An unselected message stays unacknowledged: the close below puts it back.
            }
            Ok(moved)
        }
        .await;
        close(&self.broker, channel).await;
        if let Ok(moved) = result {
            tracing::info!(moved, "dead letters replayed");
        }
        result
    }
}

/// Closes a channel, which returns its unacknowledged messages to the queue in order.
async fn close(broker: &Broker, channel: Channel) {
    let closing = channel.close(200, "done".into());
    if let Err(error) = broker.bounded("cannot close the channel", closing).await {
        // The broker requeues them anyway once the connection is gone.
        tracing::warn!(%error, "dead-letter channel did not close cleanly");
    }
}
