//! [`TestEnv`]: one complete installation under test.

use std::sync::Arc;
use std::time::Duration;

use jira_sync_ingress::{IngressDeps, StoreReadiness};
use jira_sync_jira_sim::{SimConfig, SimUser, Simulator, SiteConfig, SiteHandle, WebhookSpec};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_store::{PgStore, Store};
use jira_sync_transport::amqp::AmqpTransport;
use jira_sync_transport::conformance::fault_proxy::FaultProxy;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jira::SiteActor;
use crate::queues::QueueProbe;

/// The webhook secret of site A's and site B's endpoints.
pub const SECRET_A: &str = "whsec-a-0123456789";
pub const SECRET_B: &str = "whsec-b-0123456789";

/// Knobs of one environment.
#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// Extra TOML appended to the generated config (e.g. `[jira]` overrides).
    pub extra_toml: String,
    /// Retry tiers of the work queue.
    pub retry_delays: Vec<&'static str>,
    pub max_attempts: u32,
    /// Client-side retries inside one reconcile.
    pub jira_max_retries: u32,
    /// Register the simulators' webhooks on the ingress.
    pub webhooks: bool,
    pub worker_concurrency: usize,
    /// Extra users of site A (people a PeopleForce employee maps to by e-mail, say).
    pub site_a_users: Vec<SimUser>,
    /// Extra users of site B (on a Data Center site B, each `account_id` is a user name).
    pub site_b_users: Vec<SimUser>,
    /// Makes site B a Jira Data Center site: REST v2 with wiki markup and users by name, and
    /// endpoint `jira-b` of kind `jira_data_center` (the bot's user name and password).
    pub site_b_data_center: bool,
    /// Export spans over OTLP/gRPC to this collector (`http://127.0.0.1:port`): the environment
    /// then installs the process-wide telemetry ([`jira_sync_telemetry::init`]) with it. The
    /// first environment of a test process that does so decides for the whole process.
    pub otlp_endpoint: Option<String>,
    /// Adjusts the generated settings before the services are built (keys the generated
    /// config already sets, such as `[jira]` timeouts or `amqp.prefetch`).
    pub tune: Option<fn(&mut Settings)>,
    /// Gives the worker a store of its own with this many connections per pool (queries, and
    /// the entity locks it holds); default: the test database's store (5 each).
    pub worker_db_connections: Option<u32>,
}

impl Default for EnvOptions {
    fn default() -> Self {
        Self {
            extra_toml: String::new(),
            retry_delays: vec!["200ms", "1s", "3s"],
            max_attempts: 6,
            jira_max_retries: 0,
            webhooks: true,
            worker_concurrency: 4,
            site_a_users: Vec::new(),
            site_b_users: Vec::new(),
            site_b_data_center: false,
            otlp_endpoint: None,
            tune: None,
            worker_db_connections: None,
        }
    }
}

/// Two simulated Jira sites (`a` with project `A`, `b` with project `B`), the ingress and the
/// worker, a fresh database and a unique queue prefix.
pub struct TestEnv {
    pub sim: Simulator,
    pub db: TestDatabase,
    pub settings: Settings,
    /// Between the services and RabbitMQ: `cut()` takes the broker away.
    pub broker: FaultProxy,
    /// Reaches the same queues directly, for inspection.
    pub queues: QueueProbe,
    pub ingress_url: String,
    pub worker_url: String,
    pub http: reqwest::Client,
    /// Telemetry installed for [`EnvOptions::otlp_endpoint`]; dropped (flushing spans) by
    /// [`TestEnv::stop`].
    pub telemetry: Option<jira_sync_telemetry::Guard>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    direct_amqp: jira_sync_settings::AmqpSettings,
}

fn amqp_upstream() -> String {
    std::env::var("JIRA_SYNC_TEST_AMQP_ADDR").unwrap_or_else(|_| "127.0.0.1:5672".to_owned())
}

fn config_toml(a: &str, b: &str, broker: &str, prefix: &str, options: &EnvOptions) -> String {
    let delays = options
        .retry_delays
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    // Logs at `warn`: they go to stdout, which the test harness does not capture.
    let telemetry = match &options.otlp_endpoint {
        Some(endpoint) => format!(
            "[telemetry]\nlog_filter = \"warn\"\notlp_endpoint = \"{endpoint}\"\notlp_protocol = \"grpc\"\n"
        ),
        None => String::new(),
    };
    format!(
        r#"
[amqp]
url = "amqp://guest:guest@{broker}/%2f"
prefix = "{prefix}"
retry_delays = [{delays}]
max_attempts = {max_attempts}
confirm_timeout = "5s"

[ingress]
listen = "127.0.0.1:0"
unavailable_retry_after = "5s"

[worker]
listen = "127.0.0.1:0"
concurrency = {concurrency}
drain_timeout = "5s"

[jira]
request_timeout = "3s"
connect_timeout = "1s"
max_retries = {jira_retries}
retry_budget = "1s"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "{a}"
email = "bot@a.example.com"
api_token = "a-bot-token"
webhook = {{ method = "hub_signature", secret = "{SECRET_A}" }}

[endpoints.jira-b]
base_url = "{b}"
{b_credentials}
webhook = {{ method = "hub_signature", secret = "{SECRET_B}" }}

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-b", project = "B" }}
priority_map = [{{ left = "High", right = "Highest" }}]
{telemetry}
{extra}
"#,
        max_attempts = options.max_attempts,
        concurrency = options.worker_concurrency,
        jira_retries = options.jira_max_retries,
        extra = options.extra_toml,
        b_credentials = if options.site_b_data_center {
            "kind = \"jira_data_center\"\nusername = \"b-bot-0001\"\npassword = \"b-bot-token\""
        } else {
            "kind = \"jira_cloud\"\nemail = \"bot@b.example.com\"\napi_token = \"b-bot-token\""
        },
    )
}

impl TestEnv {
    /// Starts everything; panics with a clear message when PostgreSQL or RabbitMQ is down.
    pub async fn start(options: EnvOptions) -> Self {
        let sim_config = SimConfig {
            sites: vec![
                {
                    let mut a = SiteConfig::named("a");
                    a.users.extend(options.site_a_users.iter().cloned());
                    a
                },
                {
                    let mut b = SiteConfig::named("b");
                    b.data_center = options.site_b_data_center;
                    b.users.extend(options.site_b_users.iter().cloned());
                    b
                },
            ],
            webhook_retry_delay: Duration::from_millis(500),
            ..SimConfig::default()
        };
        let sim = Simulator::start(sim_config)
            .await
            .unwrap_or_else(|e| panic!("start the Jira simulator: {e}"));
        let db = fresh_postgres().await;
        let upstream = amqp_upstream();
        if let Err(e) = tokio::net::TcpStream::connect(&upstream).await {
            panic!("RabbitMQ is not reachable at {upstream} ({e}): run scripts/test");
        }
        let broker = FaultProxy::start(upstream.clone())
            .await
            .unwrap_or_else(|e| panic!("start the broker proxy: {e}"));
        let prefix = format!("e2e-{}", uuid::Uuid::new_v4().simple());
        let (a, b) = (site(&sim, "a").base_url(), site(&sim, "b").base_url());
        let text = config_toml(&a, &b, &broker.addr().to_string(), &prefix, &options);
        let mut settings =
            Settings::from_toml(&text).unwrap_or_else(|e| panic!("test settings: {e}"));
        settings.database = db.settings();
        if let Some(tune) = options.tune {
            tune(&mut settings);
        }
        let telemetry = options
            .otlp_endpoint
            .is_some()
            .then(|| jira_sync_telemetry::init(&settings.telemetry, "jira-sync-e2e"));
        let direct_text = config_toml(&a, &b, &upstream, &prefix, &options);
        let direct_amqp = Settings::from_toml(&direct_text)
            .unwrap_or_else(|e| panic!("direct settings: {e}"))
            .amqp;
        let queues = QueueProbe::connect(&direct_amqp).await;

        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let transport = AmqpTransport::new(&settings.amqp)
            .unwrap_or_else(|e| panic!("create the transport: {e}"));
        transport
            .declare_topology()
            .await
            .unwrap_or_else(|e| panic!("declare the topology: {e}"));
        let ingress = jira_sync_ingress::Application::build_with(
            settings.clone(),
            IngressDeps {
                publisher: transport.publisher(),
                readiness: Arc::new(StoreReadiness(Arc::new(db.store.clone()))),
            },
        )
        .unwrap_or_else(|e| panic!("build the ingress: {e}"));
        let ingress_url = format!("http://127.0.0.1:{}", ingress.port());
        let consumer = transport
            .consumer()
            .await
            .unwrap_or_else(|e| panic!("subscribe the worker: {e}"));
        let worker_store: Arc<dyn Store> = match options.worker_db_connections {
            None => Arc::new(db.store.clone()),
            Some(connections) => {
                let mut database = db.settings();
                database.max_connections = connections;
                let store = PgStore::connect(&database)
                    .await
                    .unwrap_or_else(|e| panic!("open the worker's store: {e}"));
                Arc::new(store)
            }
        };
        let worker =
            jira_sync_worker::Application::build_with(settings.clone(), worker_store, consumer)
                .unwrap_or_else(|e| panic!("build the worker: {e}"))
                .with_transport(transport.clone());
        let worker_url = format!("http://127.0.0.1:{}", worker.port());
        let token = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = ingress.run_until_stopped(token).await {
                eprintln!("ingress stopped with an error: {e}");
            }
        }));
        let token = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            // Keeps the transport (and its connections) alive as long as the worker runs.
            let _transport = transport;
            if let Err(e) = worker.run_until_stopped(token).await {
                eprintln!("worker stopped with an error: {e}");
            }
        }));

        let env = Self {
            sim,
            db,
            settings,
            broker,
            queues,
            ingress_url,
            worker_url,
            http: reqwest::Client::new(),
            telemetry,
            shutdown,
            tasks,
            direct_amqp,
        };
        if options.webhooks {
            env.register_webhooks();
        }
        env
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

    /// Stops the services, deletes the queues and drops the database.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.queues.close().await;
        match AmqpTransport::new(&self.direct_amqp) {
            Ok(t) => {
                if let Err(e) = t.delete_topology().await {
                    eprintln!("could not delete the test queues: {e}");
                }
            }
            Err(e) => eprintln!("could not reach RabbitMQ to clean up: {e}"),
        }
        self.db.cleanup().await;
        self.sim.stop().await;
        if let Some(telemetry) = self.telemetry {
            // Dropping the guard exports the last spans and waits for the collector: off the
            // runtime's threads, which that export needs.
            let _ = tokio::task::spawn_blocking(move || drop(telemetry)).await;
        }
    }
}

fn site<'a>(sim: &'a Simulator, name: &str) -> &'a SiteHandle {
    match sim.site(name) {
        Some(site) => site,
        None => panic!("the simulator has no site {name}"),
    }
}
