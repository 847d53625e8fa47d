//! Building and running the HTTP server: wiring dependencies, routes and graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use async_trait::async_trait;
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_store::postgres::PgStore;
use jira_sync_transport::Publisher;
use jira_sync_transport::amqp::AmqpTransport;
use tokio_util::sync::CancellationToken;

use crate::error::{ApiError, IngressError, extractor_error};
use crate::limits::limit_headers;
use crate::routes::{health, metrics, peopleforce, webhook};

/// How long in-flight requests may take to finish after shutdown was asked for. A request is
/// bounded by reading its body plus one broker confirm, both well under this.
const SHUTDOWN_GRACE_SECS: u64 = 20;

/// A dependency `/readyz` checks besides the publisher (in practice the database).
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `Ok` when the dependency answers; the error text is logged, never returned to callers.
    async fn check(&self) -> Result<(), String>;
}

/// Readiness of a [`Store`]: its `ping`.
pub struct StoreReadiness(pub Arc<dyn Store>);

#[async_trait]
impl Readiness for StoreReadiness {
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// What the ingress needs from the outside world, injected so that tests and the all-in-one
/// binary can provide their own.
#[derive(Clone)]
pub struct IngressDeps {
    /// Where reconcile requests go; `publish` must return only once they are durable.
    pub publisher: Arc<dyn Publisher>,
    /// Checked by `/readyz` besides the publisher.
    pub readiness: Arc<dyn Readiness>,
}

/// Shared by every request handler.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub publisher: Arc<dyn Publisher>,
    pub readiness: Arc<dyn Readiness>,
    /// One permit per publish waiting for its confirm (`ingress.max_in_flight`).
    pub in_flight: tokio::sync::Semaphore,
}

/// A bound, running-on-poll ingress server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to RabbitMQ (declaring the topology) and PostgreSQL from `settings`, failing
    /// fast when either is unreachable, then builds the server as [`Application::build_with`].
    pub async fn build(settings: Settings) -> Result<Self, IngressError> {
        let transport = AmqpTransport::new(&settings.amqp)?;
        transport.declare_topology().await?;
        let store = PgStore::connect(&settings.database).await?;
        let deps = IngressDeps {
            publisher: transport.publisher(),
            readiness: Arc::new(StoreReadiness(Arc::new(store))),
        };
        Self::build_with(settings, deps)
    }

    /// Binds `settings.ingress.listen` (port 0 picks a free port) and wires the routes. The
    /// server starts accepting once [`Application::run_until_stopped`] is polled.
    pub fn build_with(settings: Settings, deps: IngressDeps) -> Result<Self, IngressError> {
        // Counters recorded before the first scrape must not be lost.
        jira_sync_telemetry::install_metrics();
        let addr = settings.ingress.listen;
        let listener =
            TcpListener::bind(addr).map_err(|source| IngressError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| IngressError::Bind { addr, source })?
            .port();
        // Explicit rather than actix's defaults: a client trickling its headers is cut off.
        let client_request_timeout = settings.ingress.client_request_timeout;
        let client_disconnect_timeout = settings.ingress.client_disconnect_timeout;
        let state = web::Data::new(AppState {
            in_flight: tokio::sync::Semaphore::new(settings.ingress.max_in_flight),
            settings: Arc::new(settings),
            publisher: deps.publisher,
            readiness: deps.readiness,
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(limit_headers))
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().error_handler(|e, _| extractor_error(e)))
                .app_data(web::PathConfig::default().error_handler(|e, _| extractor_error(e)))
                .app_data(web::QueryConfig::default().error_handler(|e, _| extractor_error(e)))
                .configure(routes)
        })
        .disable_signals()
        .client_request_timeout(client_request_timeout)
        .client_disconnect_timeout(client_disconnect_timeout)
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)
        .map_err(|source| IngressError::Bind { addr, source })?
        .run();
        Ok(Self { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` is cancelled, then stops accepting connections and lets
    /// in-flight requests finish (up to a grace period) before returning.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), IngressError> {
        let handle = self.server.handle();
        let stopper = tokio::spawn(async move {
            shutdown.cancelled().await;
            tracing::info!("ingress shutting down: draining in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await.map_err(IngressError::Server);
        stopper.abort();
        result
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/jira/{endpoint}")
            .route(web::post().to(webhook::receive))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow: "POST" })
            })),
    )
    .service(
        web::resource("/webhooks/peopleforce/{endpoint}")
            .route(web::post().to(peopleforce::receive))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow: "POST" })
            })),
    )
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(metrics::metrics))
    .default_service(web::to(|| async {
        Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
    }));
}
