//! Building and running the admin API: wiring the dependencies, the routes and the graceful
//! stop, either as a server of its own ([`Application`]) or mounted into another actix `App`
//! ([`configure`]).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_store::postgres::PgStore;
use jira_sync_transport::amqp::AmqpTransport;
use jira_sync_transport::{DeadLetters, Publisher};
use tokio_util::sync::CancellationToken;

use crate::auth::ApiKeys;
use crate::error::{AdminError, ApiError};
use crate::jira::JiraDirectory;
use crate::routes;

/// How long in-flight requests may take to finish after shutdown was asked for (a request is
/// bounded by a Jira look-up or a dead-letter replay).
const SHUTDOWN_GRACE_SECS: u64 = 20;

/// What the admin API needs from the outside world, injected so that tests and the all-in-one
/// binary can provide their own.
#[derive(Clone)]
pub struct AdminDeps {
    /// Links, audit and conflicts.
    pub store: Arc<dyn Store>,
    /// Where manual reconcile requests go; `publish` returns once they are durable.
    pub publisher: Arc<dyn Publisher>,
    /// The dead-letter queue of the same transport.
    pub dead_letters: Arc<dyn DeadLetters>,
}

/// Shared by every request handler.
pub(crate) struct AppState {
    pub settings: Arc<Settings>,
    pub keys: ApiKeys,
    pub store: Arc<dyn Store>,
    pub publisher: Arc<dyn Publisher>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub jira: JiraDirectory,
}

/// The admin API's state, ready to mount with [`configure`]. Cheap to clone.
#[derive(Clone)]
pub struct AdminState {
    pub(crate) data: web::Data<AppState>,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("keys", &self.data.keys)
            .field("jira", &self.data.jira)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// Builds the state: digests of `admin.api_keys` and one Jira client per Jira endpoint.
    /// Fails with [`AdminError::NoApiKeys`] when no key is configured.
    pub fn new(settings: Arc<Settings>, deps: AdminDeps) -> Result<Self, AdminError> {
        let keys = ApiKeys::new(&settings.admin.api_keys);
        if keys.is_empty() {
            return Err(AdminError::NoApiKeys);
        }
        let jira = JiraDirectory::from_settings(&settings)?;
        Ok(Self {
            data: web::Data::new(AppState {
                settings,
                keys,
                store: deps.store,
                publisher: deps.publisher,
                dead_letters: deps.dead_letters,
                jira,
            }),
        })
    }
}

/// Registers the admin API (`/api/v1/...`, see [`served_routes`](crate::served_routes)) on an
/// actix `App` or scope: `App::new().configure(jira_sync_admin::configure(state.clone()))`.
/// The routes bring their own state, authentication and error bodies; the probes `/healthz`
/// and `/readyz` are not included (the host application has its own).
pub fn configure(state: AdminState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg| routes::configure_api(cfg, state.data.clone())
}

/// A bound admin server, serving once [`Application::run_until_stopped`] is polled.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to RabbitMQ (declaring the topology) and PostgreSQL from `settings`, failing
    /// fast when either is unreachable, then builds the server as [`Application::build_with`].
    pub async fn build(settings: Settings) -> Result<Self, AdminError> {
        if settings.admin.api_keys.is_empty() {
            return Err(AdminError::NoApiKeys);
        }
        let transport = AmqpTransport::new(&settings.amqp)?;
        transport.declare_topology().await?;
        let store = PgStore::connect(&settings.database).await?;
        let deps = AdminDeps {
            store: Arc::new(store),
            publisher: transport.publisher(),
            dead_letters: transport.dead_letters(),
        };
        Self::build_with(settings, deps)
    }

    /// Binds `settings.admin.listen` (port 0 picks a free port) and wires the routes: the admin
    /// API plus `/healthz` and `/readyz`. Fails with [`AdminError::NoApiKeys`] when no key is
    /// configured.
    pub fn build_with(settings: Settings, deps: AdminDeps) -> Result<Self, AdminError> {
        let addr = settings.admin.listen;
        let state = AdminState::new(Arc::new(settings), deps)?;
        let listener =
            TcpListener::bind(addr).map_err(|source| AdminError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| AdminError::Bind { addr, source })?
            .port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.data.clone())
                .configure(routes::configure_probes)
                .configure(configure(state.clone()))
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                }))
        })
        // Operator traffic is light; two threads keep a slow Jira look-up from blocking others.
        .workers(2)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)
        .map_err(|source| AdminError::Bind { addr, source })?
        .run();
        Ok(Self { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` is cancelled, then stops accepting connections and lets
    /// in-flight requests finish (up to a grace period) before returning.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), AdminError> {
        let handle = self.server.handle();
        let stopper = tokio::spawn(async move {
            shutdown.cancelled().await;
            tracing::info!("admin API shutting down: draining in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await.map_err(AdminError::Server);
        stopper.abort();
        result
    }
}
