//! [`Rig`]: the installation a fault scenario runs against. Two simulated Jira sites (`a` with
//! project `A`, `b` with project `B`) whose webhooks go to the ingress; the ingress, the poller
//! and the admin API in this process; the sync worker as a `jira-sync worker` process
//! ([`WorkerProcess`]). Everyone reaches RabbitMQ through a cuttable TCP proxy; RabbitMQ and
//! PostgreSQL are the machine's shared servers (a unique queue prefix, a fresh database) or
//! private ones a scenario restarts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_ingress::{IngressDeps, StoreReadiness};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle, WebhookSpec};
use jira_sync_poller::PollerHandle;
use jira_sync_settings::{DatabaseSettings, Settings};
use jira_sync_store::PgStore;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_tests::SiteActor;
use jira_sync_transport::amqp::AmqpTransport;
use jira_sync_transport::conformance::fault_proxy::FaultProxy;
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::backlog::Backlog;
use super::servers::Scratch;
use super::worker::WorkerProcess;

const SECRET_A: &str = "whsec-a-0123456789";
const SECRET_B: &str = "whsec-b-0123456789";
/// The admin API's bearer key.
pub const ADMIN_KEY: &str = "faults-admin-key-0123456789";

/// Where a scenario's backends are.
#[derive(Default)]
pub struct RigOptions {
    /// RabbitMQ `host:port`; the shared broker (or `JIRA_SYNC_TEST_AMQP_ADDR`) when absent.
    pub amqp_addr: Option<String>,
    /// A PostgreSQL server URL (no database); a fresh database on the shared server when
    /// absent.
    pub postgres: Option<String>,
    /// The connection's `priority_map` in the worker's config (TOML array).
    pub worker_priority_map: Option<String>,
}

/// How often the poller searches each side (the connection's `poll_interval`).
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The connection's priority map: A's `High` is B's `Highest`.
pub const PRIORITY_MAP: &str = r#"[{ left = "High", right = "Highest" }]"#;

enum Database {
    Fresh(TestDatabase),
    Private { store: PgStore },
}

/// One installation under fault.
pub struct Rig {
    pub sim: Simulator,
    /// Between every service and RabbitMQ.
    pub broker: FaultProxy,
    /// Straight to RabbitMQ (not through the proxy): queue depths, dead letters, injection.
    pub direct: AmqpTransport,
    pub settings: Settings,
    pub ingress_url: String,
    pub admin_url: String,
    pub worker: Arc<WorkerProcess>,
    /// The poller's schedules: leadership and runs.
    pub poller: Option<PollerHandle>,
    pub http: reqwest::Client,
    pub scratch: Scratch,
    worker_config: PathBuf,
    database: Database,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

fn amqp_upstream() -> String {
    std::env::var("JIRA_SYNC_TEST_AMQP_ADDR").unwrap_or_else(|_| "127.0.0.1:5672".to_owned())
}

/// The settings every process shares.
fn common_toml(sim: &Simulator, broker: &str, prefix: &str, priority_map: &str) -> String {
    let (a, b) = (site(sim, "a").base_url(), site(sim, "b").base_url());
    format!(
        r#"
[amqp]
url = "amqp://guest:guest@{broker}/%2f"
prefix = "{prefix}"
# Shorter than production's (1s to 1h), but ten attempts still span two minutes: a delivery
# that waits for its pair's lock while a slow target holds a reconcile up does not run out.
retry_delays = ["200ms", "1s", "5s", "20s"]
max_attempts = 10
confirm_timeout = "3s"

[jira]
request_timeout = "3s"
connect_timeout = "1s"
max_retries = 2
retry_budget = "8s"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "{a}"
email = "bot@a.example.com"
api_token = "a-bot-token"
webhook = {{ method = "hub_signature", secret = "{SECRET_A}" }}

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "{b}"
email = "bot@b.example.com"
api_token = "b-bot-token"
webhook = {{ method = "hub_signature", secret = "{SECRET_B}" }}

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-b", project = "B" }}
priority_map = {priority_map}
poll_interval = "{poll}s"
"#,
        poll = POLL_INTERVAL.as_secs()
    )
}

/// The ingress, poller and admin API of this process.
fn in_process_toml() -> String {
    format!(
        r#"
[ingress]
listen = "127.0.0.1:0"
unavailable_retry_after = "2s"

[poller]
listen = "127.0.0.1:0"
leader_lock_retry = "1s"
retry_sweep_interval = "5s"

[admin]
listen = "127.0.0.1:0"
api_keys = ["{ADMIN_KEY}"]

[telemetry]
log_filter = "error"
"#
    )
}

/// The worker process: RabbitMQ and PostgreSQL, JSON logs with the settlement lines.
fn worker_toml(database_url: &str) -> String {
    format!(
        r#"
[runtime]
transport = "amqp"
store = "postgres"

[database]
url = "{database_url}"
max_connections = 8
acquire_timeout = "3s"

[worker]
listen = "127.0.0.1:0"
concurrency = 8
drain_timeout = "10s"

[telemetry]
log_format = "json"
log_filter = "warn,jira_sync_worker::handler=info,lapin=error,sqlx=error"
"#
    )
}

impl Rig {
    /// Starts everything; panics with a clear message when a backend is unreachable.
    pub async fn start(options: RigOptions) -> Self {
        let sim = Simulator::start(SimConfig {
            sites: vec![SiteConfig::named("a"), SiteConfig::named("b")],
            webhook_retry_delay: Duration::from_millis(500),
            ..SimConfig::default()
        })
        .await
        .unwrap_or_else(|e| panic!("start the Jira simulator: {e}"));
        let upstream = options.amqp_addr.clone().unwrap_or_else(amqp_upstream);
        if let Err(e) = tokio::net::TcpStream::connect(&upstream).await {
            panic!("RabbitMQ is not reachable at {upstream} ({e}): run scripts/test");
        }
        let broker = FaultProxy::start(upstream.clone())
            .await
            .unwrap_or_else(|e| panic!("start the broker proxy: {e}"));
        let (database, database_url) = match &options.postgres {
            None => {
                let db = fresh_postgres().await;
                let url = db.url.clone();
                (Database::Fresh(db), url)
            }
            Some(server) => {
                let url = format!("{server}/postgres");
                let store = PgStore::connect(&database_settings(&url))
                    .await
                    .unwrap_or_else(|e| panic!("connect to {server}: {e}"));
                (Database::Private { store }, url)
            }
        };
        let prefix = format!("faults-{}", uuid::Uuid::new_v4().simple());
        let proxied = broker.addr().to_string();
        let map = options
            .worker_priority_map
            .as_deref()
            .unwrap_or(PRIORITY_MAP);
        let common = common_toml(&sim, &proxied, &prefix, PRIORITY_MAP);
        let mut settings = Settings::from_toml(&format!("{common}{}", in_process_toml()))
            .unwrap_or_else(|e| panic!("test settings: {e}"));
        settings.database = database_settings(&database_url);
        let direct_settings = Settings::from_toml(&common_toml(&sim, &upstream, &prefix, "[]"))
            .unwrap_or_else(|e| panic!("direct settings: {e}"));
        let direct = AmqpTransport::new(&direct_settings.amqp)
            .unwrap_or_else(|e| panic!("create the direct transport: {e}"));
        direct
            .declare_topology()
            .await
            .unwrap_or_else(|e| panic!("declare the topology: {e}"));

        let scratch = Scratch::new("rig");
        let config = scratch.path().join("worker.toml");
        let worker_text = format!(
            "{}{}",
            common_toml(&sim, &proxied, &prefix, map),
            worker_toml(&database_url)
        );
        std::fs::write(&config, worker_text).unwrap_or_else(|e| panic!("write {config:?}: {e}"));
        let worker = WorkerProcess::start(config.clone(), scratch.path().to_owned()).await;

        let mut rig = Self {
            sim,
            broker,
            direct,
            settings,
            ingress_url: String::new(),
            admin_url: String::new(),
            worker,
            poller: None,
            http: reqwest::Client::new(),
            scratch,
            worker_config: config,
            database,
            shutdown: CancellationToken::new(),
            tasks: Vec::new(),
        };
        rig.start_in_process().await;
        rig.worker
            .wait_healthy(&rig.http, Duration::from_secs(60))
            .await;
        rig.register_webhooks();
        rig
    }

    /// The ingress, the poller and the admin API, on a transport through the proxy.
    async fn start_in_process(&mut self) {
        let transport = AmqpTransport::new(&self.settings.amqp)
            .unwrap_or_else(|e| panic!("create the transport: {e}"));
        let store = self.store();
        let ingress = jira_sync_ingress::Application::build_with(
            self.settings.clone(),
            IngressDeps {
                publisher: transport.publisher(),
                readiness: Arc::new(StoreReadiness(store.clone())),
            },
        )
        .unwrap_or_else(|e| panic!("build the ingress: {e}"));
        self.ingress_url = format!("http://127.0.0.1:{}", ingress.port());
        let poller = jira_sync_poller::Application::build_with(
            self.settings.clone(),
            store.clone(),
            transport.publisher(),
        )
        .await
        .unwrap_or_else(|e| panic!("build the poller: {e}"));
        self.poller = Some(poller.handle());
        let admin = jira_sync_admin::Application::build_with(
            self.settings.clone(),
            jira_sync_admin::AdminDeps {
                store,
                publisher: transport.publisher(),
                dead_letters: transport.dead_letters(),
            },
        )
        .unwrap_or_else(|e| panic!("build the admin API: {e}"));
        self.admin_url = format!("http://127.0.0.1:{}", admin.port());
        let token = self.shutdown.clone();
        self.tasks.push(tokio::spawn(async move {
            if let Err(e) = ingress.run_until_stopped(token).await {
                eprintln!("ingress stopped with an error: {e}");
            }
        }));
        let token = self.shutdown.clone();
        self.tasks.push(tokio::spawn(async move {
            if let Err(e) = poller.run_until_stopped(token).await {
                eprintln!("poller stopped with an error: {e}");
            }
        }));
        let token = self.shutdown.clone();
        self.tasks.push(tokio::spawn(async move {
            // Keeps the transport (and its connections) alive as long as the services run.
            let _transport = transport;
            if let Err(e) = admin.run_until_stopped(token).await {
                eprintln!("admin API stopped with an error: {e}");
            }
        }));
    }

    fn register_webhooks(&self) {
        for (name, endpoint, secret) in [("a", "jira-a", SECRET_A), ("b", "jira-b", SECRET_B)] {
            let spec = WebhookSpec {
                url: format!("{}/webhooks/jira/{endpoint}", self.ingress_url),
                secret: Some(secret.to_owned()),
                events: vec!["*".to_owned()],
                jql: None,
            };
            if let Err(e) = self.site(name).register_webhook(spec) {
                panic!("register the webhook on site {name}: {e:?}");
            }
        }
    }

    /// A simulated site by name (`a` or `b`).
    pub fn site(&self, name: &str) -> &SiteHandle {
        site(&self.sim, name)
    }

    /// A person working on a site through its REST API (the site's admin user).
    pub fn actor(&self, name: &str) -> SiteActor {
        SiteActor::admin_of(self.site(name))
    }

    /// What [`Backlog`] needs, detached from the rig (for tasks measuring a recovery).
    pub fn backlog(&self) -> Backlog {
        Backlog {
            direct: self.direct.clone(),
            sites: [self.site("a").clone(), self.site("b").clone()],
        }
    }

    /// Runs of the poller's incremental searches so far (both sides).
    pub fn poll_runs(&self) -> u64 {
        let statuses = self.poller.as_ref().map(PollerHandle::statuses);
        (statuses.unwrap_or_default().iter())
            .filter(|(id, _)| id.starts_with("jira-incremental"))
            .map(|(_, s)| s.runs)
            .sum()
    }

    /// The store the services use.
    pub fn store(&self) -> Arc<dyn jira_sync_store::Store> {
        match &self.database {
            Database::Fresh(db) => Arc::new(db.store.clone()),
            Database::Private { store, .. } => Arc::new(store.clone()),
        }
    }

    /// Rewrites the connection's priority map in the worker's config file (the worker reads it
    /// when it starts).
    pub fn set_worker_priority_map(&self, map: &str) {
        let text = std::fs::read_to_string(&self.worker_config)
            .unwrap_or_else(|e| panic!("read the worker config: {e}"));
        let text: Vec<String> = text
            .lines()
            .map(|line| {
                if line.starts_with("priority_map =") {
                    format!("priority_map = {map}")
                } else {
                    line.to_owned()
                }
            })
            .collect();
        std::fs::write(&self.worker_config, text.join("\n"))
            .unwrap_or_else(|e| panic!("write the worker config: {e}"));
    }

    /// The worker's log directory (kept when a test fails).
    pub fn logs(&self) -> PathBuf {
        self.scratch.path().to_owned()
    }

    /// Stops the worker and the services, deletes the queues and drops the database.
    pub async fn stop(self) {
        self.worker.shutdown().await;
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        if let Err(e) = self.direct.delete_topology().await {
            eprintln!("could not delete the test queues: {e}");
        }
        match self.database {
            Database::Fresh(db) => db.cleanup().await,
            Database::Private { store } => store.close().await,
        }
        self.sim.stop().await;
    }
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: SecretString::from(url.to_owned()),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(3),
    }
}

fn site<'a>(sim: &'a Simulator, name: &str) -> &'a SiteHandle {
    match sim.site(name) {
        Some(site) => site,
        None => panic!("the simulator has no site {name}"),
    }
}
