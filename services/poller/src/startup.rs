//! Building and running the poller: the clients of every endpoint, one driver task per
//! schedule (leader locks and content hashes live in the store), the HTTP server, and the
//! graceful stop.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use jira_sync_jira_client::{JiraClient, JiraClientConfig};
use jira_sync_peopleforce_client::{PeopleForceClient, PeopleForceConfig};
use jira_sync_settings::{DatabaseSettings, EndpointKind, Settings};
use jira_sync_store::{PgStore, Store};
use jira_sync_transport::{AmqpTransport, Publisher};
use tokio_util::sync::CancellationToken;

use crate::error::StartupError;
use crate::jobs::Ctx;
use crate::leader::Elector;
use crate::observe::{NoObserver, PollerHandle, RunObserver};
use crate::routes::{self, Probes};
use crate::schedule::{Schedule, plan};
use crate::{metrics, runner};

/// Time the HTTP server gives open scrapes and probes on shutdown.
const HTTP_SHUTDOWN_SECS: u64 = 5;

/// A built poller: HTTP port bound, clients ready, schedules planned.
pub struct Application {
    port: u16,
    server: Server,
    ctx: Ctx,
    elector: Elector,
    schedules: Vec<Schedule>,
    handle: PollerHandle,
}

/// A PostgreSQL store of its own for the leader locks of the schedules `settings` plans: one
/// lock connection per schedule, whatever `database.max_connections` says (see
/// [`Application::with_leader_store`]).
pub async fn leader_store(settings: &Settings) -> Result<PgStore, StartupError> {
    let schedules = u32::try_from(plan(settings).len()).unwrap_or(u32::MAX);
    let database = DatabaseSettings {
        max_connections: schedules.saturating_add(1),
        ..settings.database.clone()
    };
    PgStore::connect(&database)
        .await
        .map_err(StartupError::Store)
}

impl Application {
    /// Connects to PostgreSQL (migrating it) and RabbitMQ (declaring the topology) from
    /// `settings`, failing fast when either is unreachable, then builds as
    /// [`Application::build_with`].
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = PgStore::connect(&settings.database)
            .await
            .map_err(StartupError::Store)?;
        let leaders = leader_store(&settings).await?;
        let transport = AmqpTransport::new(&settings.amqp).map_err(StartupError::Transport)?;
        transport
            .declare_topology()
            .await
            .map_err(StartupError::Transport)?;
        let app = Self::build_with(settings, Arc::new(store), transport.publisher()).await?;
        Ok(app.with_leader_store(Arc::new(leaders)))
    }

    /// Takes leader locks on `store` instead of the store of [`Application::build_with`]. On
    /// PostgreSQL a leader lock holds a connection for as long as the replica leads, one per
    /// schedule: on the shared store they would take every lock connection the worker's entity
    /// locks need (in `serve`) or exceed `database.max_connections` and leave schedules
    /// leaderless. Give it [`leader_store`].
    pub fn with_leader_store(mut self, store: Arc<dyn Store>) -> Self {
        self.elector = Elector::new(store);
        self
    }

    /// Builds with the store and publisher given (tests, the all-in-one binary), on either
    /// store: leader locks are the store's locks (`poller/leader/<schedule>`) and content
    /// hashes its `content_hashes`. Binds `settings.poller.listen` (port 0 picks a free one);
    /// the schedules start with [`Application::run_until_stopped`].
    pub async fn build_with(
        settings: Settings,
        store: Arc<dyn Store>,
        publisher: Arc<dyn Publisher>,
    ) -> Result<Self, StartupError> {
        jira_sync_telemetry::install_metrics();
        metrics::describe();
        let (jira, peopleforce) = clients(&settings)?;
        let addr = settings.poller.listen;
        let bind_error = |source| StartupError::Bind { addr, source };
        let listener = TcpListener::bind(addr).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let probes = web::Data::new(Probes {
            store: store.clone(),
            publisher: publisher.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(probes.clone())
                .configure(routes::configure)
        })
        // One worker thread: the routes are tiny.
        .workers(1)
        .disable_signals()
        .shutdown_timeout(HTTP_SHUTDOWN_SECS)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        let schedules = plan(&settings);
        let elector = Elector::new(store.clone());
        let handle = PollerHandle::default();
        for schedule in &schedules {
            handle.register(&schedule.id);
        }
        Ok(Self {
            port,
            server,
            ctx: Ctx {
                settings: Arc::new(settings),
                store,
                publisher,
                jira,
                peopleforce,
                observer: Arc::new(NoObserver),
                enqueued: Arc::default(),
            },
            elector,
            schedules,
            handle,
        })
    }

    /// Hooks an observer into every run (tests count concurrent runs and pages with it).
    pub fn with_observer(mut self, observer: Arc<dyn RunObserver>) -> Self {
        self.ctx.observer = observer;
        self
    }

    /// Keeps only the schedules `keep` accepts (an embedding that runs some jobs elsewhere,
    /// tests that watch one job).
    pub fn retain_schedules(mut self, keep: impl Fn(&Schedule) -> bool) -> Self {
        self.schedules.retain(|s| keep(s));
        self.handle = PollerHandle::default();
        for schedule in &self.schedules {
            self.handle.register(&schedule.id);
        }
        self
    }

    /// The port of `/healthz`, `/readyz` and `/metrics`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The planned schedules.
    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    /// A view of which schedules this process leads and how its runs went; valid after
    /// `run_until_stopped` took the application.
    pub fn handle(&self) -> PollerHandle {
        self.handle.clone()
    }

    /// Drives every schedule until `shutdown` is cancelled: a run in progress stops before
    /// its next page, leader locks are released, then the HTTP server stops.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let http = self.server.handle();
        let server = tokio::spawn(self.server);
        let ctx = Arc::new(self.ctx);
        let drivers: Vec<_> = self
            .schedules
            .into_iter()
            .map(|schedule| {
                tokio::spawn(runner::drive(
                    ctx.clone(),
                    self.elector.clone(),
                    schedule,
                    self.handle.clone(),
                    shutdown.clone(),
                ))
            })
            .collect();
        tracing::info!(schedules = drivers.len(), "poller running");
        for driver in drivers {
            if let Err(e) = driver.await {
                tracing::error!(error = %e, "a schedule driver stopped abnormally");
            }
        }
        http.stop(true).await;
        match server.await {
            Ok(result) => result.map_err(StartupError::Server),
            Err(join) => Err(StartupError::Server(std::io::Error::other(join))),
        }
    }
}

type Clients = (
    BTreeMap<jira_sync_domain::EndpointId, JiraClient>,
    BTreeMap<jira_sync_domain::EndpointId, PeopleForceClient>,
);

/// One client per endpoint, by kind.
fn clients(settings: &Settings) -> Result<Clients, StartupError> {
    let mut jira = BTreeMap::new();
    let mut peopleforce = BTreeMap::new();
    for (id, endpoint) in &settings.endpoints {
        match endpoint.kind {
            EndpointKind::JiraCloud | EndpointKind::JiraDataCenter => {
                let config = JiraClientConfig::from_endpoint(id, endpoint, &settings.jira);
                let client = JiraClient::new(config).map_err(|source| StartupError::Jira {
                    endpoint: id.clone(),
                    source: Box::new(source),
                })?;
                jira.insert(id.clone(), client);
            }
            EndpointKind::Peopleforce => {
                let config = PeopleForceConfig::from_endpoint(id, endpoint, &settings.jira)
                    .with_page_size(settings.poller.peopleforce_page_size);
                let client =
                    PeopleForceClient::new(config).map_err(|source| StartupError::PeopleForce {
                        endpoint: id.clone(),
                        source: Box::new(source),
                    })?;
                peopleforce.insert(id.clone(), client);
            }
        }
    }
    Ok((jira, peopleforce))
}
