//! Shared by the tests of the `jira-sync` binary: two simulated Jira sites, a config in
//! embedded mode whose RabbitMQ and PostgreSQL URLs point at closed ports (so any use of them
//! would fail), a scratch directory, and people acting on the sites.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jira_sync_jira_client::{CreateIssue, JiraClient, JiraClientConfig};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle, WebhookSpec};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

/// Webhook secrets of the two endpoints.
pub const SECRET_A: &str = "whsec-a-embedded";
pub const SECRET_B: &str = "whsec-b-embedded";

/// Nothing listens here: a URL on this port proves a backend is not used.
pub const CLOSED_PORT: u16 = 1;

/// Two sites, `a` (project A) and `b` (project B); failed webhooks are retried every
/// `retry_delay`, `max_retries` times, as Jira retries them.
pub async fn two_sites(retry_delay: Duration, max_retries: u32) -> Simulator {
    let config = SimConfig {
        sites: vec![SiteConfig::named("a"), SiteConfig::named("b")],
        webhook_retry_delay: retry_delay,
        webhook_max_retries: max_retries,
        ..SimConfig::default()
    };
    Simulator::start(config)
        .await
        .unwrap_or_else(|e| panic!("start the Jira simulator: {e}"))
}

/// A site of `sim` by name.
pub fn site<'a>(sim: &'a Simulator, name: &str) -> &'a SiteHandle {
    sim.site(name)
        .unwrap_or_else(|| panic!("the simulator has no site {name}"))
}

/// The config of a two-site installation in embedded mode, the ingress on `ingress_port`
/// (0: any), the embedded files under `data_dir`, with `extra` TOML appended.
pub fn embedded_config(sim: &Simulator, ingress_port: u16, data_dir: &Path, extra: &str) -> String {
    let (a, b) = (site(sim, "a").base_url(), site(sim, "b").base_url());
    format!(
        r#"
[runtime]
data_dir = "{data_dir}"
lease_timeout = "1s"

[database]
url = "postgres://postgres@127.0.0.1:{CLOSED_PORT}/never_used"

[amqp]
url = "amqp://guest:guest@127.0.0.1:{CLOSED_PORT}/%2f"
retry_delays = ["200ms", "500ms", "1s"]
max_attempts = 30

[ingress]
listen = "127.0.0.1:{ingress_port}"

[worker]
listen = "127.0.0.1:0"
concurrency = 4
drain_timeout = "2s"

[jira]
request_timeout = "5s"
connect_timeout = "1s"
max_retries = 1
retry_budget = "2s"

[poller]
listen = "127.0.0.1:0"

[telemetry]
log_filter = "info,lapin=warn,sqlx=warn"

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
priority_map = [{{ left = "High", right = "Highest" }}]

[connections.a-to-b.fields]
summary = {{ direction = "both", conflict = "latest_wins" }}
labels = {{ direction = "both", conflict = "latest_wins" }}
{extra}
"#,
        data_dir = data_dir.display(),
    )
}

/// Registers both sites' webhooks (every event) on the ingress at `ingress_port`.
pub fn register_webhooks(sim: &Simulator, ingress_port: u16) {
    for (name, endpoint, secret) in [("a", "jira-a", SECRET_A), ("b", "jira-b", SECRET_B)] {
        let spec = WebhookSpec {
            url: format!("http://127.0.0.1:{ingress_port}/webhooks/jira/{endpoint}"),
            secret: Some(secret.to_owned()),
            events: vec!["*".to_owned()],
            jql: None,
        };
        if let Err(e) = site(sim, name).register_webhook(spec) {
            panic!("register the webhook of site {name}: {e:?}");
        }
    }
}

/// A directory of its own under the system's temporary directory, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("jira-sync-{what}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The admin of a site, working through its REST API.
pub struct Person {
    pub client: JiraClient,
    pub project: String,
}

impl Person {
    pub fn admin_of(site: &SiteHandle) -> Self {
        let user = &site.users()[0];
        let url = url::Url::parse(&site.base_url())
            .unwrap_or_else(|e| panic!("simulator URL {}: {e}", site.base_url()));
        let config = JiraClientConfig::new(
            url,
            user.email.clone(),
            SecretString::from(user.api_token.clone()),
        );
        Self {
            client: JiraClient::new(config).unwrap_or_else(|e| panic!("client: {e}")),
            project: site.projects()[0].clone(),
        }
    }

    /// Creates a task with `summary`; returns its id.
    pub async fn create(&self, summary: &str) -> String {
        let mut fields = Map::new();
        fields.insert("project".into(), json!({ "key": self.project }));
        fields.insert("issuetype".into(), json!({ "name": "Task" }));
        fields.insert("summary".into(), json!(summary));
        let request = CreateIssue {
            fields,
            properties: Vec::new(),
        };
        match self.client.create_issue(&request).await {
            Ok(created) => created.id,
            Err(e) => panic!("create {summary:?}: {e}"),
        }
    }

    /// Sets the summary of issue `id`.
    pub async fn rename(&self, id: &str, summary: &str) {
        let Value::Object(fields) = json!({ "summary": summary }) else {
            unreachable!("a JSON object literal");
        };
        if let Err(e) = self.client.edit_issue(id, &fields).await {
            panic!("edit {id}: {e}");
        }
    }
}

/// The issues of a site's project that carry jira-sync's origin marker, counted by the id of
/// the issue they were created from.
pub fn twins_by_origin(site: &SiteHandle) -> BTreeMap<String, usize> {
    let mut twins = BTreeMap::new();
    for issue in site.issues(None) {
        if let Some(origin) = issue
            .pointer("/properties/jira-sync.origin/id")
            .and_then(Value::as_str)
        {
            *twins.entry(origin.to_owned()).or_default() += 1;
        }
    }
    twins
}

/// The id of the twin of issue `origin` on `site`, once there is one.
pub fn twin_of(site: &SiteHandle, origin: &str) -> Option<String> {
    site.issues(None).into_iter().find_map(|issue| {
        let marked = issue.pointer("/properties/jira-sync.origin/id")?.as_str()? == origin;
        marked.then(|| issue["id"].as_str().map(str::to_owned))?
    })
}

/// The summary of issue `id` on `site`.
pub fn summary_of(site: &SiteHandle, id: &str) -> Option<String> {
    site.issue(id)?
        .pointer("/fields/summary")?
        .as_str()
        .map(str::to_owned)
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `GET url` answers 200.
pub async fn answers_ok(http: &reqwest::Client, url: &str) -> bool {
    matches!(http.get(url).send().await, Ok(r) if r.status().is_success())
}
