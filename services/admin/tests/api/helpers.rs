//! Test support: an admin API on a free port over a fresh PostgreSQL database, a uniquely
//! prefixed RabbitMQ installation (behind a cuttable proxy) and two simulated Jira sites
//! (`alpha` with project ACME on the left, `beta` with PART on the right), spoken to in the
//! words of the tests.

use std::sync::Arc;
use std::time::Duration;

use jira_sync_admin::{AdminDeps, Application};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_client::{CreateIssue, JiraClient, JiraClientConfig};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_store::{Link, NewLink, Store};
use jira_sync_transport::conformance::Profile;
use jira_sync_transport::conformance::rabbitmq::{RabbitMqBackend, RabbitMqFactory};
use jira_sync_transport::{Consumer, Delivery};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The first configured API key.
pub const KEY: &str = "test-admin-key-0123456789";
/// The second configured API key.
pub const OTHER_KEY: &str = "other-admin-key-0123456789";
/// Bound of anything that should happen.
pub const DEADLINE: Duration = Duration::from_secs(15);

pub fn connection() -> ConnectionId {
    ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"))
}

/// A running admin API and everything behind it.
pub struct TestEnv {
    pub address: String,
    pub client: reqwest::Client,
    pub sim: Simulator,
    pub db: TestDatabase,
    pub broker: RabbitMqBackend,
    pub store: Arc<dyn Store>,
    alpha: JiraClient,
    beta: JiraClient,
    shutdown: CancellationToken,
    server: JoinHandle<Result<(), jira_sync_admin::AdminError>>,
}

fn site<'a>(sim: &'a Simulator, name: &str) -> &'a SiteHandle {
    sim.site(name)
        .unwrap_or_else(|| panic!("site {name} not configured"))
}

fn endpoint_toml(site: &SiteHandle) -> String {
    let bot = site.bot().unwrap_or_else(|| panic!("site without a bot"));
    format!(
        "kind = \"jira_cloud\"\nbase_url = \"{}\"\nemail = \"{}\"\napi_token = \"{}\"\n",
        site.base_url(),
        bot.email,
        bot.api_token
    )
}

impl TestEnv {
    pub async fn start() -> Self {
        let mut alpha = SiteConfig::named("alpha");
        alpha.projects = vec!["ACME".into(), "OTHER".into()];
        let mut beta = SiteConfig::named("beta");
        beta.projects = vec!["PART".into()];
        let sim = Simulator::start(SimConfig {
            sites: vec![alpha, beta],
            ..SimConfig::default()
        })
        .await
        .unwrap_or_else(|e| panic!("the Jira simulator starts: {e}"));
        let toml = format!(
            r#"
[admin]
listen = "127.0.0.1:0"
api_keys = ["{KEY}", "{OTHER_KEY}"]

[amqp]
confirm_timeout = "2s"

[jira]
max_retries = 0

[endpoints.jira-a]
{}
[endpoints.jira-b]
{}
[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "ACME" }}
right = {{ endpoint = "jira-b", project = "PART" }}
"#,
            endpoint_toml(site(&sim, "alpha")),
            endpoint_toml(site(&sim, "beta")),
        );
        let mut settings = Settings::from_toml(&toml).unwrap_or_else(|e| panic!("{e}"));
        let db = fresh_postgres().await;
        settings.database = db.settings();
        let broker = RabbitMqFactory::from_env()
            .backend(Profile::default())
            .await;
        let store: Arc<dyn Store> = Arc::new(db.store.clone());
        let client = |id: &str| {
            let id = jira_sync_domain::EndpointId::parse(id).unwrap_or_else(|e| panic!("{e}"));
            let config =
                JiraClientConfig::from_endpoint(&id, &settings.endpoints[&id], &settings.jira);
            JiraClient::new(config).unwrap_or_else(|e| panic!("{e}"))
        };
        let (alpha, beta) = (client("jira-a"), client("jira-b"));
        let deps = AdminDeps {
            store: store.clone(),
            publisher: broker.transport.publisher(),
            dead_letters: broker.transport.dead_letters(),
        };
        let app = Application::build_with(settings, deps).unwrap_or_else(|e| panic!("{e}"));
        let address = format!("http://127.0.0.1:{}", app.port());
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Self {
            address,
            client: reqwest::Client::new(),
            sim,
            db,
            broker,
            store,
            alpha,
            beta,
            shutdown,
            server,
        }
    }

    /// Stops the app and removes the database, the queues and the simulator.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(Duration::from_secs(30), self.server).await;
        assert!(
            matches!(stopped, Ok(Ok(Ok(())))),
            "the server stops cleanly: {stopped:?}"
        );
        self.db.cleanup().await;
        self.broker.cleanup().await;
        self.sim.stop().await;
    }

    /// A request without credentials.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// `GET` with the first key.
    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.request(reqwest::Method::GET, path).bearer_auth(KEY)).await
    }

    /// `POST` of a JSON body with the first key.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        let request = self
            .request(reqwest::Method::POST, path)
            .bearer_auth(KEY)
            .json(&body);
        Reply::read(request).await
    }

    /// `POST` of a raw body with the first key.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> Reply {
        let request = self
            .request(reqwest::Method::POST, path)
            .bearer_auth(KEY)
            .header("Content-Type", content_type)
            .body(body.to_owned());
        Reply::read(request).await
    }

    /// Creates an issue in the project of `side`; returns its id and key.
    pub async fn create_issue(&self, side: Side, summary: &str) -> (String, String) {
        let project = match side {
            Side::Left => "ACME",
            Side::Right => "PART",
        };
        self.create_issue_in(side, project, summary).await
    }

    /// Creates an issue in `project` on the site of `side` (alpha also has OTHER, a project
    /// the connection does not sync); returns its id and key.
    pub async fn create_issue_in(
        &self,
        side: Side,
        project: &str,
        summary: &str,
    ) -> (String, String) {
        let client = match side {
            Side::Left => &self.alpha,
            Side::Right => &self.beta,
        };
        let mut fields = Map::new();
        fields.insert("project".into(), json!({ "key": project }));
        fields.insert("issuetype".into(), json!({ "name": "Task" }));
        fields.insert("summary".into(), json!(summary));
        let created = client
            .create_issue(&CreateIssue {
                fields,
                properties: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("create an issue: {e}"));
        (created.id, created.key)
    }

    /// Stores a link of `a-to-b` with `base`, synced now.
    pub async fn insert_link(
        &self,
        left: (&str, Option<&str>),
        right: (&str, Option<&str>),
        base: &Snapshot,
    ) -> Link {
        let link = self
            .store
            .insert_link(NewLink {
                connection: connection(),
                left_id: left.0.to_owned(),
                right_id: right.0.to_owned(),
                left_key: left.1.map(str::to_owned),
                right_key: right.1.map(str::to_owned),
                base: base.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("insert a link: {e}"));
        self.store
            .save_base(link.id, base, None, None)
            .await
            .unwrap_or_else(|e| panic!("save the base: {e}"));
        link
    }

    /// A consumer of the work queue.
    pub async fn consumer(&self) -> Box<dyn Consumer> {
        self.broker
            .transport
            .consumer()
            .await
            .unwrap_or_else(|e| panic!("a consumer: {e}"))
    }
}

/// The next delivery, or a panic after [`DEADLINE`].
pub async fn next(consumer: &mut Box<dyn Consumer>) -> Box<dyn Delivery> {
    match tokio::time::timeout(DEADLINE, consumer.next()).await {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(error)) => panic!("consumer failed: {error}"),
        Err(_) => panic!("no delivery within {DEADLINE:?}"),
    }
}

/// Asserts that nothing is delivered for a moment.
pub async fn nothing_delivered(consumer: &mut Box<dyn Consumer>) {
    if let Ok(result) = tokio::time::timeout(Duration::from_millis(500), consumer.next()).await {
        match result {
            Ok(delivery) => panic!("unexpected delivery {}", delivery.envelope().message_id),
            Err(error) => panic!("consumer failed: {error}"),
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, panicking after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Reply {
    pub async fn read(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
        Self {
            status,
            headers,
            json,
        }
    }

    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
