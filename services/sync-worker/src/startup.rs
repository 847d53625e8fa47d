//! Building and running the worker: wiring the store, the transport, the Jira clients and the
//! HTTP server (`/healthz`, `/readyz`, `/metrics`), and the graceful stop.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_store::postgres::PgStore;
use jira_sync_transport::Consumer;
use jira_sync_transport::amqp::AmqpTransport;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::error::StartupError;
use crate::gauges::{self, GaugeSources};
use crate::handler::{Handler, RetryPolicy};
use crate::jira::JiraClients;
use crate::peopleforce::PeopleforceClients;
use crate::reconcile::Reconciler;
use crate::{consume, routes};

/// Time the HTTP server gives open scrapes and probes on shutdown.
const HTTP_SHUTDOWN_SECS: u64 = 5;

/// A built worker: bound HTTP port, consumer subscribed, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    consumer: Box<dyn Consumer>,
    handler: Handler,
    reconciler: Reconciler,
    settings: Arc<Settings>,
    /// Read by the `conflicts_open` gauge.
    store: Arc<dyn Store>,
    /// Keeps the broker connections open for the consumer's lifetime, and is read by the
    /// `queue_messages` gauges. Set by [`Application::build`] and [`Application::with_transport`].
    transport: Option<AmqpTransport>,
}

impl Application {
    /// Connects to PostgreSQL (migrating it) and RabbitMQ (declaring the topology and
    /// subscribing to the work queue) from `settings`, builds one Jira client per endpoint,
    /// and binds `settings.worker.listen` (port 0 picks a free port). Fails fast when a
    /// dependency is unreachable.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = (PgStore::connect(&settings.database).await).map_err(StartupError::Store)?;
        let transport = AmqpTransport::new(&settings.amqp).map_err(StartupError::Transport)?;
        (transport.declare_topology().await).map_err(StartupError::Transport)?;
        let consumer = (transport.consumer().await).map_err(StartupError::Transport)?;
        Ok(Self::build_with(settings, Arc::new(store), consumer)?.with_transport(transport))
    }

    /// Reads the queue depths of `transport` into the `queue_messages` gauges (and keeps its
    /// connections open); for callers of [`Application::build_with`] on AMQP.
    pub fn with_transport(mut self, transport: AmqpTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Like [`Application::build`] with the store and the consumer given (tests, the
    /// all-in-one binary); the Jira clients are built from `settings.endpoints`.
    pub fn build_with(
        settings: Settings,
        store: Arc<dyn Store>,
        consumer: Box<dyn Consumer>,
    ) -> Result<Self, StartupError> {
        let jira = JiraClients::from_settings(&settings).map_err(StartupError::Jira)?;
        Self::build_with_clients(settings, store, consumer, jira)
    }

    /// Like [`Application::build_with`] with the Jira clients given too.
    pub fn build_with_clients(
        settings: Settings,
        store: Arc<dyn Store>,
        consumer: Box<dyn Consumer>,
        jira: JiraClients,
    ) -> Result<Self, StartupError> {
        // Counters recorded before the first scrape must not be lost.
        jira_sync_telemetry::install_metrics();
        let addr = settings.worker.listen;
        let bind_error = |source| StartupError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let readiness = web::Data::new(store.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(readiness.clone())
                .configure(routes::configure)
        })
        // One worker thread: the routes are tiny, and reconciles need the cores.
        .workers(1)
        .disable_signals()
        .shutdown_timeout(HTTP_SHUTDOWN_SECS)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        let settings = Arc::new(settings);
        let peopleforce =
            PeopleforceClients::from_settings(&settings).map_err(StartupError::Peopleforce)?;
        let reconciler =
            Reconciler::new(settings.clone(), store.clone(), jira).with_peopleforce(peopleforce);
        let handler = Handler::new(
            reconciler.clone(),
            RetryPolicy::from_settings(&settings.amqp),
        );
        Ok(Self {
            port,
            server,
            consumer,
            handler,
            reconciler,
            settings,
            store,
            transport: None,
        })
    }

    /// The port of `/healthz`, `/readyz` and `/metrics`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The reconcile engine, for callers that reconcile without a queue (tests, manual sync).
    pub fn reconciler(&self) -> &Reconciler {
        &self.reconciler
    }

    /// Consumes with `worker.concurrency` reconciles in flight until `shutdown` is cancelled
    /// (or the consumer closes); then drains in-flight work within `worker.drain_timeout`,
    /// closes the consumer (unsettled deliveries return to the queue) and stops the server.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let http = self.server.handle();
        let server = tokio::spawn(self.server);
        let worker = &self.settings.worker;
        let stop_gauges = shutdown.child_token();
        let gauges = tokio::spawn(gauges::run(
            GaugeSources {
                transport: self.transport.clone(),
                store: self.store.clone(),
                connections: self.settings.connections.keys().cloned().collect(),
            },
            stop_gauges.clone(),
        ));
        info!(concurrency = worker.concurrency, "consuming");
        // Custom fields that cannot be synced are reported at start-up rather than at the
        // first reconcile that meets them; a site that cannot be read is checked again later.
        let checker = self.reconciler.clone();
        tokio::spawn(async move {
            for (connection, e) in checker.check_fields().await {
                tracing::warn!(%connection, error = %crate::error::chain(&e), "could not check the custom fields at start-up");
            }
        });
        let handler = self.handler;
        consume::run(
            self.consumer,
            move |delivery| {
                let handler = handler.clone();
                async move { handler.handle(delivery).await }
            },
            worker.concurrency,
            worker.drain_timeout,
            shutdown,
        )
        .await;
        stop_gauges.cancel();
        let _ = gauges.await;
        http.stop(true).await;
        match server.await {
            Ok(result) => result.map_err(StartupError::Server),
            Err(join) => Err(StartupError::Server(std::io::Error::other(join))),
        }
    }
}
