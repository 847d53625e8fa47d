//! The conformance factory for RabbitMQ: every transport gets a unique `test-<uuid>` prefix and
//! talks to the broker through its own [`FaultProxy`], so a case can cut "the broker" off
//! without disturbing the others. The broker address is `JIRA_SYNC_TEST_AMQP_ADDR`
//! (default `127.0.0.1:5672`, user guest/guest).

use std::sync::Arc;

use async_trait::async_trait;
use jira_sync_settings::AmqpSettings;
use secrecy::SecretString;

use super::fault_proxy::FaultProxy;
use super::{Profile, TestBackend, TransportFactory};
use crate::amqp::AmqpTransport;
use crate::{Consumer, DeadLetters, Publisher};

/// Environment variable naming the RabbitMQ `host:port` the tests use.
pub const ADDR_ENV: &str = "JIRA_SYNC_TEST_AMQP_ADDR";

/// Creates RabbitMQ transports behind fault proxies.
#[derive(Debug, Clone)]
pub struct RabbitMqFactory {
    upstream: String,
}

impl RabbitMqFactory {
    /// Uses `JIRA_SYNC_TEST_AMQP_ADDR` or `127.0.0.1:5672`.
    pub fn from_env() -> Self {
        Self {
            upstream: std::env::var(ADDR_ENV).unwrap_or_else(|_| "127.0.0.1:5672".to_owned()),
        }
    }

    /// Settings for a fresh installation reached at `addr`.
    pub fn settings(addr: &str, prefix: &str, profile: &Profile) -> AmqpSettings {
        AmqpSettings {
            url: SecretString::from(format!("amqp://guest:guest@{addr}/%2f")),
            prefix: prefix.to_owned(),
            prefetch: profile.prefetch,
            retry_delays: profile.retry_delays.clone(),
            max_attempts: 5,
            confirm_timeout: profile.confirm_timeout,
        }
    }
}

impl RabbitMqFactory {
    /// A fresh installation behind its own fault proxy, as the concrete type (for tests of
    /// what only RabbitMQ has). Panics when RabbitMQ is unreachable: tests never skip.
    pub async fn backend(&self, profile: Profile) -> RabbitMqBackend {
        if let Err(error) = tokio::net::TcpStream::connect(&self.upstream).await {
            panic!(
                "RabbitMQ is not reachable at {} ({error}); start it or set {ADDR_ENV}",
                self.upstream
            );
        }
        let proxy = FaultProxy::start(self.upstream.clone())
            .await
            .expect("start the fault proxy");
        let prefix = format!("test-{}", uuid::Uuid::new_v4());
        let proxied = Self::settings(&proxy.addr().to_string(), &prefix, &profile);
        let transport = AmqpTransport::new(&proxied).expect("create the transport");
        RabbitMqBackend {
            transport,
            proxy,
            direct: Self::settings(&self.upstream, &prefix, &profile),
            cleaned: false,
        }
    }
}

#[async_trait]
impl TransportFactory for RabbitMqFactory {
    async fn create(&self, profile: Profile) -> Box<dyn TestBackend> {
        Box::new(self.backend(profile).await)
    }
}

/// One RabbitMQ installation under test. Deletes its topology on `cleanup`, or when dropped
/// without it (a failed case), so no queue is left behind.
pub struct RabbitMqBackend {
    /// The transport under test, connected through `proxy`.
    pub transport: AmqpTransport,
    proxy: FaultProxy,
    /// Settings reaching the broker directly, for the cleanup.
    direct: AmqpSettings,
    cleaned: bool,
}

impl RabbitMqBackend {
    /// The proxy between the transport and the broker.
    pub fn proxy(&self) -> &FaultProxy {
        &self.proxy
    }

    /// Settings reaching the same installation directly, bypassing the proxy.
    pub fn direct_settings(&self) -> &AmqpSettings {
        &self.direct
    }

    /// Deletes the installation's exchanges and queues (also done on drop).
    pub async fn cleanup(mut self) {
        self.cleaned = true;
        Self::delete_topology(&self.direct).await;
    }

    async fn delete_topology(settings: &AmqpSettings) {
        let transport = AmqpTransport::new(settings).expect("create the cleanup transport");
        transport
            .delete_topology()
            .await
            .expect("delete the test topology");
    }
}

#[async_trait]
impl TestBackend for RabbitMqBackend {
    fn publisher(&self) -> Arc<dyn Publisher> {
        self.transport.publisher()
    }

    async fn consumer(&self) -> Box<dyn Consumer> {
        self.transport.consumer().await.expect("create a consumer")
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        self.transport.dead_letters()
    }

    async fn break_broker(&self) {
        self.proxy.cut().await;
    }

    async fn restore_broker(&self) {
        self.proxy.restore();
    }

    async fn cleanup(self: Box<Self>) {
        RabbitMqBackend::cleanup(*self).await;
    }
}

impl Drop for RabbitMqBackend {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        // A case failed before its cleanup: delete the queues on a runtime of our own (this
        // may run while the test's runtime is unwinding).
        let settings = self.direct.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(Self::delete_topology(&settings));
        });
        if cleanup.join().is_err() {
            eprintln!("could not delete the topology of a failed test");
        }
    }
}
