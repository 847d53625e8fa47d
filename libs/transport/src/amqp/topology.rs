//! The RabbitMQ topology, declared in one place with every option spelled out, plus the two
//! operations that read or remove it (queue depths for metrics, deletion for tests).
//!
//! ```text
//! publish ──> {prefix}.work (direct) ──"work"──> {prefix}.work queue ──> workers
//!                  ^                                   │ (rejected without requeue)
//!                  │ TTL expired                       v
//! retry ───> {prefix}.retry (direct) ──"10s"──> {prefix}.retry.10s (x-message-ttl 10s)
//! dead_letter ─> {prefix}.dead (direct) ──"dead"──> {prefix}.dlq <── operators (peek, replay)
//! ```
//!
//! Queues are classic durable queues, not quorum queues: the broker is a single node, so quorum
//! replication buys nothing, and a quorum queue counts every requeue against its delivery limit
//! (20 by default since RabbitMQ 4.0), which would silently drop dead letters that were peeked
//! (peek requeues) too often. Changing the type later means new queue names or a migration,
//! because a queue's type cannot change in place.

use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use super::headers::text;
use super::names::{DEAD_ROUTING_KEY, Names, WORK_ROUTING_KEY, short};

/// Message counts per queue, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepths {
    /// Ready messages in the work queue (not counting unacknowledged ones).
    pub work: u32,
    /// Messages waiting in each retry tier, shortest delay first.
    pub retry: Vec<TierDepth>,
    /// Parked messages in the dead-letter queue.
    pub dead: u32,
}

/// Messages waiting in one retry tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierDepth {
    /// The tier's queue name.
    pub queue: String,
    /// How many messages it holds.
    pub messages: u32,
}

/// Declares every exchange, queue and binding. Idempotent: run on every new channel that
/// publishes or consumes, so a broker that lost its state (or a deleted queue) heals itself.
pub(crate) async fn declare(channel: &Channel, names: &Names) -> lapin::Result<()> {
    let exchange_options = ExchangeDeclareOptions {
        // Create it when missing rather than only checking for it.
        passive: false,
        // Survives a broker restart.
        durable: true,
        // Must stay even when no queue is bound for a moment.
        auto_delete: false,
        // We publish to it directly.
        internal: false,
        // Wait for declare-ok so a conflicting existing exchange is reported here.
        nowait: false,
    };
    let queue_options = QueueDeclareOptions {
        passive: false,
        // Survives a broker restart (with persistent messages).
        durable: true,
        // Shared by every worker, and outlives the connection that declared it.
        exclusive: false,
        // Must keep its messages while no worker is connected.
        auto_delete: false,
        // Wait for declare-ok so conflicting arguments (406) are reported here.
        nowait: false,
    };
    // Wait for bind-ok, so that a publish right after declaring cannot be unroutable.
    let bind_options = QueueBindOptions { nowait: false };

    for exchange in names.exchanges() {
        channel
            .exchange_declare(
                short(exchange),
                // Direct: exactly one binding per routing key, nothing implicit.
                ExchangeKind::Direct,
                exchange_options,
                FieldTable::default(),
            )
            .await?;
    }

    let mut work_arguments = FieldTable::default();
    // A message rejected without requeue (by a buggy consumer or by hand in the console) is
    // parked in the DLQ instead of being dropped.
    work_arguments.insert("x-dead-letter-exchange".into(), text(&names.dead_exchange));
    work_arguments.insert("x-dead-letter-routing-key".into(), text(DEAD_ROUTING_KEY));
    channel
        .queue_declare(short(&names.work_queue), queue_options, work_arguments)
        .await?;
    channel
        .queue_bind(
            short(&names.work_queue),
            short(&names.work_exchange),
            short(WORK_ROUTING_KEY),
            bind_options,
            FieldTable::default(),
        )
        .await?;

    for tier in &names.retry_tiers {
        let mut arguments = FieldTable::default();
        // Every message of a tier waits the same time, so the oldest always expires first:
        // per-queue TTL never leaves an expired message stuck behind a younger one (which is
        // why there is one queue per delay rather than per-message TTLs).
        let ttl = i64::try_from(tier.delay.as_millis()).unwrap_or(i64::MAX);
        arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
        // Expired messages go back to the work exchange...
        arguments.insert("x-dead-letter-exchange".into(), text(&names.work_exchange));
        // ...with the work routing key, since their own key (the tier label) routes nowhere there.
        arguments.insert("x-dead-letter-routing-key".into(), text(WORK_ROUTING_KEY));
        channel
            .queue_declare(short(&tier.queue), queue_options, arguments)
            .await?;
        channel
            .queue_bind(
                short(&tier.queue),
                short(&names.retry_exchange),
                short(&tier.routing_key),
                bind_options,
                FieldTable::default(),
            )
            .await?;
    }

    // The DLQ has no TTL and no dead-letter exchange: parked messages stay until replayed.
    channel
        .queue_declare(
            short(&names.dead_queue),
            queue_options,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            short(&names.dead_queue),
            short(&names.dead_exchange),
            short(DEAD_ROUTING_KEY),
            bind_options,
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// Reads message counts with passive declares (which fail on a missing queue).
pub(crate) async fn depths(channel: &Channel, names: &Names) -> lapin::Result<QueueDepths> {
    let count = |queue: String| async move {
        let options = QueueDeclareOptions {
            // Only look: never create a queue with the wrong arguments just to count it.
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let queue = channel
            .queue_declare(short(&queue), options, FieldTable::default())
            .await?;
        Ok::<_, lapin::Error>(queue.message_count())
    };
    let work = count(names.work_queue.clone()).await?;
    let mut retry = Vec::with_capacity(names.retry_tiers.len());
    for tier in &names.retry_tiers {
        retry.push(TierDepth {
            queue: tier.queue.clone(),
            messages: count(tier.queue.clone()).await?,
        });
    }
    let dead = count(names.dead_queue.clone()).await?;
    Ok(QueueDepths { work, retry, dead })
}

/// Deletes every queue and exchange of this prefix, messages included. For tests and teardown.
pub(crate) async fn delete(channel: &Channel, names: &Names) -> lapin::Result<()> {
    let queue_options = QueueDeleteOptions {
        // Delete even while a consumer is attached or messages are left: this is a teardown.
        if_unused: false,
        if_empty: false,
        nowait: false,
    };
    for queue in names.queues() {
        channel.queue_delete(short(queue), queue_options).await?;
    }
    let exchange_options = ExchangeDeleteOptions {
        if_unused: false,
        nowait: false,
    };
    for exchange in names.exchanges() {
        channel
            .exchange_delete(short(exchange), exchange_options)
            .await?;
    }
    Ok(())
}
