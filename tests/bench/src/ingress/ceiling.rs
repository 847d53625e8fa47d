//! The broker's own ceiling: a plain lapin publisher with publisher confirms, keeping
//! `window` publishes in flight on one confirm-mode channel (as the ingress does with
//! `window` concurrent webhooks), publishing the very messages the ingress published
//! (payload and properties, persistent) through a work exchange into a durable classic queue
//! of the same topology. Nothing in it verifies, parses or answers HTTP: it is what the broker
//! allows on this machine, the number the ingress is compared with.

use std::sync::Arc;

use anyhow::{Context, bail};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueuePurgeOptions,
};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use super::http::Reply;
use super::load::Target;

/// One message as the ingress published it.
#[derive(Clone)]
pub struct Message {
    pub payload: Vec<u8>,
    pub properties: BasicProperties,
}

/// A connection and a confirm-mode channel to the broker.
pub struct Publisher {
    _connection: Connection,
    channel: Channel,
}

impl Publisher {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .context("connect to RabbitMQ")?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions { nowait: false })
            .await?;
        Ok(Self {
            _connection: connection,
            channel,
        })
    }

    /// Takes up to `n` messages off `queue` (basic.get, auto-ack): what the ingress published.
    pub async fn take(&self, queue: &str, n: usize) -> anyhow::Result<Vec<Message>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let got = self
                .channel
                .basic_get(queue.into(), BasicGetOptions { no_ack: true })
                .await?;
            let Some(got) = got else { break };
            out.push(Message {
                payload: got.delivery.data,
                properties: got.delivery.properties,
            });
        }
        Ok(out)
    }

    /// Empties `queue`, so that every phase starts from the same broker state.
    pub async fn purge(&self, queue: &str) -> anyhow::Result<u32> {
        Ok(self
            .channel
            .queue_purge(queue.into(), QueuePurgeOptions { nowait: false })
            .await?)
    }

    /// A publisher of `messages` (round robin) to `exchange` on this connection's channel;
    /// one per in-flight publish.
    pub fn target(
        &self,
        exchange: &Arc<str>,
        routing_key: &Arc<str>,
        messages: &Arc<Vec<Message>>,
    ) -> CeilingTarget {
        CeilingTarget {
            channel: self.channel.clone(),
            exchange: exchange.clone(),
            routing_key: routing_key.clone(),
            messages: messages.clone(),
        }
    }
}

/// One in-flight publish slot of the ceiling publisher: its requests are publishes, its
/// answers confirms (reported as a 202, accepted).
pub struct CeilingTarget {
    channel: Channel,
    exchange: Arc<str>,
    routing_key: Arc<str>,
    messages: Arc<Vec<Message>>,
}

impl Target for CeilingTarget {
    async fn prepare(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    async fn send(&mut self, i: usize) -> std::io::Result<Reply> {
        let message = &self.messages[i % self.messages.len()];
        publish(&self.channel, &self.exchange, &self.routing_key, message)
            .await
            .map_err(std::io::Error::other)?;
        Ok(Reply {
            status: 202,
            retry_after: false,
            accepted: true,
        })
    }
}

/// One persistent, mandatory publish, awaiting its confirm: what the ingress's transport does.
async fn publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    message: &Message,
) -> anyhow::Result<()> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions {
                mandatory: true,
                immediate: false,
            },
            &message.payload,
            message.properties.clone(),
        )
        .await?
        .await?;
    match confirm {
        Confirmation::Ack(None) => Ok(()),
        other => bail!("the broker did not take the message: {other:?}"),
    }
}
