//! A test environment for reconciles against real services: two simulated Jira sites (`alpha`
//! with project ACME on the left, `beta` with PART on the right, whose priorities are named
//! P1..P4), a fresh PostgreSQL database, and the worker's [`Reconciler`] wired to both.

#![allow(dead_code)] // Each test binary uses a different part of it.

use std::sync::Arc;

use jira_sync_domain::{ConnectionId, DeliveryId, EndpointId, ReconcileRequest, Side, Trigger};
use jira_sync_jira_client::{CreateIssue, EntityProperty, JiraClient, JiraClientConfig};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_worker::reconcile::jira_map::{ORIGIN_PROPERTY, OriginMarker};
use jira_sync_worker::{JiraClients, ReconcileError, Reconciler};
use serde_json::{Map, Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub struct Env {
    pub sim: Simulator,
    pub db: TestDatabase,
    pub settings: Arc<Settings>,
    pub reconciler: Reconciler,
    pub alpha: JiraClient,
    pub beta: JiraClient,
}

pub fn connection() -> ConnectionId {
    ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"))
}

fn endpoint(side: Side) -> EndpointId {
    let name = match side {
        Side::Left => "jira-a",
        Side::Right => "jira-b",
    };
    EndpointId::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

fn site_settings(site: &SiteHandle) -> String {
    let bot = site.bot().unwrap_or_else(|| panic!("site without a bot"));
    format!(
        "kind = \"jira_cloud\"\nbase_url = \"{}\"\nemail = \"{}\"\napi_token = \"{}\"\n",
        site.base_url(),
        bot.email,
        bot.api_token
    )
}

impl Env {
    /// The environment with the default field rules (all fields, both ways, latest wins).
    pub async fn start() -> Result<Self, Box<dyn std::error::Error>> {
        Self::start_with("").await
    }

    /// The environment with extra TOML lines in the connection's table (such as `fields`).
    pub async fn start_with(connection_extra: &str) -> Result<Self, Box<dyn std::error::Error>> {
        Self::start_custom(connection_extra, "", "", |_, _| {}).await
    }

    /// The environment with extra TOML lines in the connection's table and in the left and
    /// right side tables (`key = value, ...`), after `adjust` changed the two sites.
    pub async fn start_custom(
        connection_extra: &str,
        left_extra: &str,
        right_extra: &str,
        adjust: impl FnOnce(&mut SiteConfig, &mut SiteConfig),
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let mut alpha = SiteConfig::named("alpha");
        alpha.projects = vec!["ACME".into(), "OTHER".into()];
        let mut beta = SiteConfig::named("beta");
        beta.projects = vec!["PART".into()];
        beta.priorities = ["P1", "P2", "P3", "P4"].map(String::from).to_vec();
        beta.default_priority = Some("P3".into());
        adjust(&mut alpha, &mut beta);
        let comma = |extra: &str| {
            if extra.is_empty() {
                String::new()
            } else {
                format!(", {extra}")
            }
        };
        let sim = Simulator::start(SimConfig {
            sites: vec![alpha, beta],
            ..SimConfig::default()
        })
        .await?;
        let (a, b) = (site(&sim, "alpha"), site(&sim, "beta"));
        let toml = format!(
            r#"
[jira]
max_retries = 0

[endpoints.jira-a]
{}site_name = "Alpha Jira"

[endpoints.jira-b]
{}site_name = "Beta Jira"

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "ACME"{} }}
right = {{ endpoint = "jira-b", project = "PART"{} }}
priority_map = [{{ left = "High", right = "P1" }}, {{ left = "Medium", right = "P3" }}, {{ left = "Low", right = "P4" }}]
{}
"#,
            site_settings(a),
            site_settings(b),
            comma(left_extra),
            comma(right_extra),
            connection_extra
        );
        let mut settings = Settings::from_toml(&toml)?;
        let db = fresh_postgres().await;
        settings.database = db.settings();
        let jira = JiraClients::from_settings(&settings)?;
        let client = |id: &str| -> Result<JiraClient, Box<dyn std::error::Error>> {
            let id = EndpointId::parse(id)?;
            let config =
                JiraClientConfig::from_endpoint(&id, &settings.endpoints[&id], &settings.jira);
            Ok(JiraClient::new(config)?)
        };
        let (alpha, beta) = (client("jira-a")?, client("jira-b")?);
        let settings = Arc::new(settings);
        let reconciler = Reconciler::new(settings.clone(), Arc::new(db.store.clone()), jira);
        Ok(Self {
            sim,
            db,
            settings,
            reconciler,
            alpha,
            beta,
        })
    }

    pub async fn stop(self) {
        self.db.cleanup().await;
        self.sim.stop().await;
    }

    pub fn client(&self, side: Side) -> &JiraClient {
        match side {
            Side::Left => &self.alpha,
            Side::Right => &self.beta,
        }
    }

    /// A reconcile request for issue `id` on `side`, as the ingress would publish it.
    pub fn request(&self, side: Side, id: &str) -> ReconcileRequest {
        ReconcileRequest {
            connection: connection(),
            endpoint: endpoint(side),
            entity_id: id.to_owned(),
            issue_key: None,
            trigger: Trigger::Webhook {
                event: "jira:issue_updated".into(),
                actor: None,
            },
            delivery_id: DeliveryId::generate(),
            event_at: None,
            change: None,
        }
    }

    pub async fn reconcile(
        &self,
        side: Side,
        id: &str,
    ) -> Result<jira_sync_worker::Outcome, ReconcileError> {
        self.reconciler
            .reconcile(&self.request(side, id), None)
            .await
    }

    /// Creates an issue in the project of `side` with the given extra fields; returns its id
    /// and key.
    pub async fn create(
        &self,
        side: Side,
        fields: Value,
        marker: Option<&OriginMarker>,
    ) -> Result<(String, String), Box<dyn std::error::Error>> {
        let project = match side {
            Side::Left => "ACME",
            Side::Right => "PART",
        };
        let mut all: Map<String, Value> = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        (all.entry("project")).or_insert_with(|| json!({ "key": project }));
        (all.entry("issuetype")).or_insert_with(|| json!({ "name": "Task" }));
        let properties = marker
            .map(|m| EntityProperty {
                key: ORIGIN_PROPERTY.to_owned(),
                value: m.to_value(),
            })
            .into_iter()
            .collect();
        let created = self
            .client(side)
            .create_issue(&CreateIssue {
                fields: all,
                properties,
            })
            .await?;
        Ok((created.id, created.key))
    }

    /// The simulated site of `side`.
    pub fn site(&self, side: Side) -> &SiteHandle {
        match side {
            Side::Left => site(&self.sim, "alpha"),
            Side::Right => site(&self.sim, "beta"),
        }
    }

    /// Every issue of a project, as the simulator holds it (fields and properties).
    pub fn issues(&self, side: Side) -> Vec<Value> {
        let (site_name, project) = match side {
            Side::Left => ("alpha", "ACME"),
            Side::Right => ("beta", "PART"),
        };
        site(&self.sim, site_name).issues(Some(project))
    }

    /// A person on a site: its first (admin) user, through the production client.
    pub fn person(&self, side: Side) -> JiraClient {
        let site = self.site(side);
        let user = &site.users()[0];
        let url = url_of(&site.base_url());
        let config = JiraClientConfig::new(
            url,
            user.email.clone(),
            secrecy::SecretString::from(user.api_token.clone()),
        );
        JiraClient::new(config).unwrap_or_else(|e| panic!("client: {e}"))
    }

    /// How many audit entries of `action` the store holds (with or without a link).
    pub async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(self.db.store.pool())
            .await
            .unwrap_or_else(|e| panic!("count audit entries: {e}"))
    }

    /// One issue as the simulator holds it.
    pub fn issue(&self, side: Side, id: &str) -> Value {
        self.site(side)
            .issue(id)
            .unwrap_or_else(|| panic!("issue {id} not on {side}"))
    }

    /// The comments of an issue, as the simulator holds them (with properties).
    pub fn comments(&self, side: Side, id: &str) -> Vec<Value> {
        let issue = self.issue(side, id);
        field(&issue, "comment")["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Creates the issue and its twin; returns (left id, right id, link id).
    pub async fn pair(
        &self,
        fields: Value,
    ) -> Result<(String, String, uuid::Uuid), Box<dyn std::error::Error>> {
        let (id, _) = self.create(Side::Left, fields, None).await?;
        match self.reconcile(Side::Left, &id).await? {
            jira_sync_worker::Outcome::Created {
                link_id, twin_id, ..
            } => Ok((id, twin_id, link_id)),
            other => Err(format!("no twin created: {other:?}").into()),
        }
    }

    /// Moves an issue through the named transitions, as a person would.
    pub async fn transition(
        &self,
        side: Side,
        id: &str,
        names: &[&str],
        fields: Option<Value>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        for name in names {
            let available = self.client(side).transitions(id).await?;
            let t = available
                .iter()
                .find(|t| t.name == *name)
                .ok_or_else(|| format!("no transition {name} on {id}"))?;
            let fields = fields
                .as_ref()
                .and_then(|f| f.as_object())
                .filter(|_| t.has_screen);
            self.client(side).transition(id, &t.id, fields).await?;
        }
        Ok(())
    }

    /// The audit actions of a link, in order.
    pub async fn actions(
        &self,
        link_id: uuid::Uuid,
    ) -> Result<Vec<String>, Box<dyn std::error::Error>> {
        use jira_sync_store::Store;
        let audit = self.db.store.audit_of(link_id).await?;
        Ok(audit.into_iter().map(|a| a.entry.action).collect())
    }

    /// Write requests (POST, PUT, DELETE) the sync bot sent to a site since its stats were
    /// last reset, searches excluded.
    pub fn bot_writes(&self, side: Side) -> Vec<String> {
        let site = self.site(side);
        let bot = site.bot().map(|b| b.account_id.clone()).unwrap_or_default();
        site.recent_requests(usize::MAX)
            .into_iter()
            .filter(|r| r.account.as_deref() == Some(bot.as_str()))
            .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "DELETE"))
            .filter(|r| !r.route.contains("/search"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The marker a twin of `source_id` on `source_side` carries.
    pub fn marker(&self, source_side: Side, source_id: &str, source_key: &str) -> OriginMarker {
        OriginMarker::new(&connection(), &endpoint(source_side), source_id, source_key)
    }
}

fn url_of(text: &str) -> url::Url {
    url::Url::parse(text).unwrap_or_else(|e| panic!("simulator URL {text}: {e}"))
}

fn site<'a>(sim: &'a Simulator, name: &str) -> &'a SiteHandle {
    sim.site(name)
        .unwrap_or_else(|| panic!("site {name} not configured"))
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}

/// A status name of an issue bean.
pub fn status(issue: &Value) -> &str {
    field(issue, "status")["name"].as_str().unwrap_or_default()
}

/// A JSON object's map (empty for anything else).
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A field of an issue bean.
pub fn field<'a>(issue: &'a Value, name: &str) -> &'a Value {
    issue
        .pointer(&format!("/fields/{name}"))
        .unwrap_or(&Value::Null)
}
