//! Looking into the installation's queues directly (bypassing the broker proxy), as an SRE
//! would in the RabbitMQ console.

use std::collections::BTreeMap;

use jira_sync_settings::AmqpSettings;
use jira_sync_transport::Envelope;
use jira_sync_transport::amqp::AmqpTransport;
use lapin::options::{BasicGetOptions, BasicRejectOptions};
use lapin::types::AMQPValue;
use lapin::{Connection, ConnectionProperties};
use secrecy::ExposeSecret;

/// A direct connection to the installation's queues.
pub struct QueueProbe {
    transport: AmqpTransport,
    connection: Connection,
}

impl QueueProbe {
    pub async fn connect(settings: &AmqpSettings) -> Self {
        let transport =
            AmqpTransport::new(settings).unwrap_or_else(|e| panic!("probe transport: {e}"));
        let connection = Connection::connect(
            settings.url.expose_secret(),
            ConnectionProperties::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("probe connection to RabbitMQ: {e}"));
        Self {
            transport,
            connection,
        }
    }

    /// Messages in the work queue, in each retry tier, and in the dead-letter queue.
    pub async fn depths(&self) -> (u64, u64, u64) {
        let depths = self
            .transport
            .queue_depths()
            .await
            .unwrap_or_else(|e| panic!("queue depths: {e}"));
        let retry = depths.retry.iter().map(|t| u64::from(t.messages)).sum();
        (u64::from(depths.work), retry, u64::from(depths.dead))
    }

    /// The dead letters, read without consuming them.
    pub async fn dead_letters(&self) -> Vec<Envelope> {
        self.transport
            .dead_letters()
            .peek(100)
            .await
            .unwrap_or_else(|e| panic!("peek the dead letters: {e}"))
    }

    /// The headers of the first message waiting in any retry tier, put back untouched.
    pub async fn peek_retry_headers(&self) -> Option<BTreeMap<String, String>> {
        let channel = self
            .connection
            .create_channel()
            .await
            .unwrap_or_else(|e| panic!("probe channel: {e}"));
        let mut found = None;
        for tier in &self.transport.names().retry_tiers {
            let got = channel
                .basic_get(tier.queue.as_str().into(), BasicGetOptions::default())
                .await
                .unwrap_or_else(|e| panic!("basic.get on {}: {e}", tier.queue));
            if let Some(message) = got {
                let mut headers = BTreeMap::new();
                if let Some(table) = message.delivery.properties.headers() {
                    for (key, value) in table.inner() {
                        headers.insert(key.to_string(), show(value));
                    }
                }
                message
                    .delivery
                    .reject(BasicRejectOptions { requeue: true })
                    .await
                    .unwrap_or_else(|e| panic!("put the message back: {e}"));
                found = Some(headers);
                break;
            }
        }
        let _ = channel.close(200, "probe done".into()).await;
        found
    }

    pub async fn close(&self) {
        let _ = self.connection.close(200, "test done".into()).await;
    }
}

fn show(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(s) => s.to_string(),
        AMQPValue::ShortString(s) => s.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::ShortInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        AMQPValue::ShortShortInt(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}
