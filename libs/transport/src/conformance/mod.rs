//! The transport conformance suite: one set of behaviours every backend must show, written
//! against [`TransportFactory`] so the same cases run against RabbitMQ and the embedded queue.
//!
//! A backend's test file is one line:
//! ```ignore
//! jira_sync_transport::transport_conformance_tests!(MyFactory::new());
//! ```
//! which expands to one `#[tokio::test]` per case (the calling crate needs `tokio`), named
//! after the case (`a_retried_message_comes_back_after_its_delay_...`). Every case creates its
//! own isolated transport (unique queue names) and cleans it up, so cases run in parallel.
//!
//! Also here: [`fault_proxy::FaultProxy`], a TCP proxy that can cut a broker off,
//! [`rabbitmq::RabbitMqFactory`], the factory running the suite against a real RabbitMQ, and
//! `embedded::EmbeddedFactory` (feature `embedded`), the one for the embedded SQLite queue.

pub mod cases;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod fault_proxy;
pub mod rabbitmq;
mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{Consumer, DeadLetters, Publisher};

pub use support::eventually;

/// The settings a case needs the transport to have.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Unacknowledged deliveries per consumer.
    pub prefetch: u16,
    /// The retry delay tiers.
    pub retry_delays: Vec<Duration>,
    /// How long a publish may wait for its confirm.
    pub confirm_timeout: Duration,
}

impl Default for Profile {
    /// Short delays so the suite stays fast: prefetch 2, tiers 200 ms and 1 s, confirm 2 s.
    fn default() -> Self {
        Self {
            prefetch: 2,
            retry_delays: vec![Duration::from_millis(200), Duration::from_secs(1)],
            confirm_timeout: Duration::from_secs(2),
        }
    }
}

/// Creates isolated transports for the cases.
#[async_trait]
pub trait TransportFactory: Send + Sync {
    /// A fresh transport with its own queues, configured with `profile`. Panics (failing the
    /// test loudly) when the backend is unreachable: cases are never skipped.
    async fn create(&self, profile: Profile) -> Box<dyn TestBackend>;
}

/// One isolated transport under test, with a switch to simulate a broker outage.
#[async_trait]
pub trait TestBackend: Send + Sync {
    /// A publisher of the work queue.
    fn publisher(&self) -> Arc<dyn Publisher>;

    /// A new consumer of the work queue (panics when it cannot be created).
    async fn consumer(&self) -> Box<dyn Consumer>;

    /// The dead-letter queue.
    fn dead_letters(&self) -> Arc<dyn DeadLetters>;

    /// Makes the broker unreachable: existing connections break and new ones fail, until
    /// [`TestBackend::restore_broker`].
    async fn break_broker(&self);

    /// Makes the broker reachable again.
    async fn restore_broker(&self);

    /// Removes everything the transport created. Cases close their consumers first.
    async fn cleanup(self: Box<Self>);
}

/// Expands to one `#[tokio::test]` per conformance case, each with a fresh factory from
/// `$factory` (an expression evaluated in every test).
#[macro_export]
macro_rules! transport_conformance_tests {
    ($factory:expr) => {
        $crate::transport_conformance_tests!(@cases $factory;
            a_published_message_is_delivered_with_its_envelope_intact,
            an_acknowledged_message_is_not_delivered_again,
            a_retried_message_comes_back_after_its_delay_with_the_attempt_and_failure_recorded,
            a_dead_lettered_message_carries_its_reason_and_can_be_peeked_and_replayed,
            nothing_beyond_the_prefetch_is_delivered_before_an_ack,
            an_unsettled_delivery_returns_when_its_consumer_is_closed,
            an_unsettled_delivery_returns_when_its_consumer_is_dropped,
            concurrent_consumers_never_process_a_message_twice,
            publishing_fails_while_the_broker_is_down_and_works_again_after,
            publisher_and_consumer_recover_after_a_broker_restart,
            trace_context_and_labels_survive_retry_dead_letter_and_replay,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let factory = $factory;
                $crate::conformance::cases::$case(&factory).await;
            }
        )*
    };
}
