//! The connection layer shared by every AMQP handle: two lazily (re)connecting connection
//! pools, the cached publishing channel, and the confirmed publish every other module uses.
//!
//! Publishing and consuming use separate connections, as RabbitMQ advises: when the broker
//! applies flow control to a publishing connection, the acknowledgements of the consumers
//! (on the other connection) still get through. Each pool holds one connection; a dead one is
//! dropped by deadpool's recycle check (`status().connected()`) and replaced on the next use.
//! No lapin auto-recovery: every failure surfaces to the caller, which either reports it
//! (publish) or reconnects on its own terms (consumer), so nothing hangs.

use std::time::Duration;

use deadpool_lapin::{Config, PoolConfig, QueueMode, Runtime, Timeouts};
use jira_sync_settings::AmqpSettings;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::AMQPValue;
use lapin::{BasicProperties, Channel, Confirmation, ConnectionProperties};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::headers;
use super::names::{Names, short};
use super::topology;
use crate::{Envelope, TransportError};

/// Which connection a channel is opened on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    Publish,
    Consume,
}

/// What a new channel needs before it is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setup {
    /// Declare the topology first (publishing and consuming channels).
    Declare,
    /// Use as is (passive declares, deletion).
    Bare,
}

/// Shared state behind every clone of `AmqpTransport`.
pub(crate) struct Broker {
    pub(crate) names: Names,
    pub(crate) prefetch: u16,
    pub(crate) confirm_timeout: Duration,
    publish_pool: deadpool_lapin::Pool,
    consume_pool: deadpool_lapin::Pool,
    /// One confirm-mode channel shared by all publishers (lapin channels are safe to use
    /// concurrently); replaced when it is no longer open.
    publish_channel: Mutex<Option<Channel>>,
}

impl Broker {
    /// Builds the pools without connecting.
    pub(crate) fn new(settings: &AmqpSettings) -> Result<Self, TransportError> {
        // deadpool binds its connections to the current tokio runtime and would panic without
        // one: report it instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(TransportError::Unexpected(
                "AmqpTransport::new must be called inside a tokio runtime".into(),
            ));
        }
        // Checked here because lapin's parse error quotes the URL, credentials included.
        if settings
            .url
            .expose_secret()
            .parse::<lapin::uri::AMQPUri>()
            .is_err()
        {
            return Err(TransportError::Unexpected(
                "amqp.url is not a valid amqp:// or amqps:// URL (not shown: it holds credentials)"
                    .into(),
            ));
        }
        let names = Names::new(&settings.prefix, &settings.retry_delays)?;
        let pool = |role: &str| {
            let connection_name = format!("jira-sync {} {role}", settings.prefix);
            Config {
                url: Some(with_frame_max(settings.url.expose_secret())),
                pool: Some(PoolConfig {
                    max_size: 1,
                    // Bounded waits everywhere: a broker that does not answer must turn into an
                    // error, never into a hang.
                    timeouts: Timeouts {
                        wait: Some(settings.confirm_timeout),
                        create: Some(settings.confirm_timeout),
                        recycle: Some(settings.confirm_timeout),
                    },
                    queue_mode: QueueMode::Fifo,
                }),
            }
            .create_pool(
                move || {
                    ConnectionProperties::default()
                        .with_connection_name(connection_name.clone().into())
                },
                Runtime::Tokio1,
            )
            // The error names the pool configuration only, never the URL.
            .map_err(|e| TransportError::Unexpected(Box::new(e)))
        };
        Ok(Self {
            publish_pool: pool("publish")?,
            consume_pool: pool("consume")?,
            names,
            prefetch: settings.prefetch,
            confirm_timeout: settings.confirm_timeout,
            publish_channel: Mutex::new(None),
        })
    }

    /// Opens a channel on the role's connection, connecting first when needed.
    pub(crate) async fn open_channel(
        &self,
        role: Role,
        setup: Setup,
    ) -> Result<Channel, TransportError> {
        let pool = match role {
            Role::Publish => &self.publish_pool,
            Role::Consume => &self.consume_pool,
        };
        let connection = pool
            .get()
            .await
            .map_err(|e| unavailable("cannot connect to the broker", e))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| unavailable("cannot open a channel", e))?;
        // The channel keeps the connection alive; the pool keeps it for the next caller.
        drop(connection);
        if setup == Setup::Declare {
            topology::declare(&channel, &self.names)
                .await
                .map_err(|e| unavailable("cannot declare the topology", e))?;
        }
        Ok(channel)
    }

    /// Whether a connection can be had right now.
    pub(crate) async fn is_reachable(&self) -> bool {
        let probe = self.publish_pool.get();
        matches!(
            tokio::time::timeout(self.confirm_timeout, probe).await,
            Ok(Ok(connection)) if connection.status().connected()
        )
    }

    /// Publishes `envelope` and waits for the broker's confirm, all within `confirm_timeout`.
    pub(crate) async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        envelope: &Envelope,
        extra: Vec<(&'static str, AMQPValue)>,
    ) -> Result<(), TransportError> {
        let properties = headers::encode(envelope, extra)?;
        let attempt = async {
            let channel = self.publishing_channel().await?;
            confirm_publish(
                &channel,
                exchange,
                routing_key,
                &envelope.payload,
                properties,
            )
            .await
        };
        tokio::time::timeout(self.confirm_timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::Unavailable(format!(
                    "the broker did not confirm within {:?}",
                    self.confirm_timeout
                )))
            })
    }

    /// Runs one broker operation within `confirm_timeout`, so a silent broker becomes an error.
    pub(crate) async fn bounded<T>(
        &self,
        context: &str,
        operation: impl Future<Output = lapin::Result<T>>,
    ) -> Result<T, TransportError> {
        match tokio::time::timeout(self.confirm_timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(unavailable(context, error)),
            Err(_) => Err(TransportError::Unavailable(format!(
                "{context}: no answer within {:?}",
                self.confirm_timeout
            ))),
        }
    }

    /// The shared confirm-mode channel, reopened (and the topology re-declared) when closed.
    async fn publishing_channel(&self) -> Result<Channel, TransportError> {
        let mut cached = self.publish_channel.lock().await;
        if let Some(channel) = cached.as_ref().filter(|c| c.status().connected()) {
            return Ok(channel.clone());
        }
        *cached = None;
        let channel = self.open_channel(Role::Publish, Setup::Declare).await?;
        channel
            // Publisher confirms: `publish` only succeeds once the broker has the message.
            .confirm_select(ConfirmSelectOptions { nowait: false })
            .await
            .map_err(|e| unavailable("cannot enable publisher confirms", e))?;
        *cached = Some(channel.clone());
        Ok(channel)
    }
}

/// The largest AMQP frame asked of the broker unless the URL names one (`?frame_max=`).
/// lapin keeps a send and a receive buffer of 32 frames per connection, filled in full:
/// with RabbitMQ's default of 128 KiB that is 8 MiB of resident memory per connection, more
/// than everything else the ingress holds. 32 KiB is far above any header block jira-sync
/// sends (error texts are capped at 1 KiB), and larger bodies simply take more frames.
const FRAME_MAX: u32 = 32 * 1024;

/// `url` with `frame_max=`[`FRAME_MAX`] added to its query, unless it sets `frame_max` itself.
fn with_frame_max(url: &str) -> String {
    if url.contains("frame_max=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}frame_max={FRAME_MAX}")
}

/// Publishes on a confirm-mode channel and turns the broker's answer into a result.
pub(crate) async fn confirm_publish(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &[u8],
    properties: BasicProperties,
) -> Result<(), TransportError> {
    let options = BasicPublishOptions {
        // An unroutable message comes back (basic.return) instead of vanishing.
        mandatory: true,
        // Not supported by RabbitMQ.
        immediate: false,
    };
    let confirm = channel
        .basic_publish(
            short(exchange),
            short(routing_key),
            options,
            payload,
            properties,
        )
        .await
        .map_err(|e| unavailable("cannot publish", e))?;
    match confirm
        .await
        .map_err(|e| unavailable("no publisher confirm", e))?
    {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) => Err(TransportError::Rejected(format!(
            "unroutable via exchange `{exchange}` with key `{routing_key}`: {} {}",
            returned.reply_code, returned.reply_text
        ))),
        Confirmation::Nack(_) => Err(TransportError::Rejected(format!(
            "the broker nacked the message on exchange `{exchange}`"
        ))),
        Confirmation::NotRequested => Err(TransportError::Unexpected(
            "publisher confirms are not enabled on this channel".into(),
        )),
    }
}

/// A broker-side or network failure; the text never includes the URL.
pub(crate) fn unavailable(context: &str, error: impl std::fmt::Display) -> TransportError {
    TransportError::Unavailable(format!("{context}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_size_is_capped_unless_the_url_sets_one() {
        assert_eq!(
            with_frame_max("amqp://u:p@h:5672/%2f"),
            "amqp://u:p@h:5672/%2f?frame_max=32768"
        );
        assert_eq!(
            with_frame_max("amqp://h/%2f?heartbeat=30"),
            "amqp://h/%2f?heartbeat=30&frame_max=32768"
        );
        assert_eq!(
            with_frame_max("amqp://h/%2f?frame_max=131072"),
            "amqp://h/%2f?frame_max=131072"
        );
        for url in [
            with_frame_max("amqp://u:p@h:5672/%2f"),
            with_frame_max("amqp://h/%2f?heartbeat=30"),
        ] {
            let parsed: lapin::uri::AMQPUri = url.parse().expect("still a valid AMQP URI");
            assert_eq!(parsed.query.frame_max, Some(FRAME_MAX));
        }
    }
}
