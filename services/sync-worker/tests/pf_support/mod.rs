//! A test environment for PeopleForce <-> Jira reconciles against real services: the
//! PeopleForce simulator (10 employees, `personN@example.com`), one simulated Jira site
//! (`alpha`, project ACME, with a user `alpha-p1` whose e-mail is employee 1's), a fresh
//! PostgreSQL database, and the worker's [`Reconciler`] wired to both.

#![allow(dead_code)] // Not every test uses every helper.

use std::sync::Arc;

use jira_sync_domain::{ConnectionId, DeliveryId, EndpointId, ReconcileRequest, Side, Trigger};
use jira_sync_jira_client::{CreateIssue, JiraClient, JiraClientConfig};
use jira_sync_jira_sim::{SimConfig, SimUser, Simulator, SiteConfig, SiteHandle};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_worker::{
    CreateFrom, JiraClients, Outcome, PeopleforceClients, ReconcileError, Reconciler,
};
use serde_json::{Map, Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The PeopleForce side is on the left, Jira on the right.
pub const PF: Side = Side::Left;
pub const JIRA: Side = Side::Right;

pub struct PfEnv {
    pub jira_sim: Simulator,
    pub pf_sim: pf_sim::Simulator,
    pub pf: pf_sim::SimHandle,
    pub db: TestDatabase,
    pub reconciler: Reconciler,
    pub jira: JiraClient,
}

pub fn connection() -> ConnectionId {
    ConnectionId::parse("pf-to-jira").unwrap_or_else(|e| panic!("{e}"))
}

fn endpoint(side: Side) -> EndpointId {
    let name = if side == PF { "pf" } else { "jira-a" };
    EndpointId::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

impl PfEnv {
    /// The environment with extra TOML in the Jira side's table (`key = value, ...`) and a
    /// `create_from` choice.
    pub async fn start(
        jira_extra: &str,
        create_from: CreateFrom,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        Self::start_with(jira_extra, create_from, "").await
    }

    /// [`PfEnv::start`] with extra lines in the connection's table (`on_delete = ...`).
    pub async fn start_with(
        jira_extra: &str,
        create_from: CreateFrom,
        connection_extra: &str,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let create_from = match create_from {
            CreateFrom::Peopleforce => "peopleforce",
            CreateFrom::Jira => "jira",
            CreateFrom::Both => "both",
        };
        let mut alpha = SiteConfig::named("alpha");
        alpha.projects = vec!["ACME".into()];
        alpha.users.push(SimUser::new(
            "alpha-p1",
            "Person1 Example",
            "person1@example.com",
            "t",
        ));
        // Employee 1's Jira identity after an e-mail change.
        alpha.users.push(SimUser::new(
            "alpha-p1-new",
            "Person1 Example (new)",
            "person1.new@example.com",
            "t",
        ));
        let jira_sim = Simulator::start(SimConfig {
            sites: vec![alpha],
            ..SimConfig::default()
        })
        .await?;
        let pf_sim = pf_sim::Simulator::start(pf_sim::SimConfig::default()).await?;
        let pf = pf_sim.handle().clone();
        let site = site(&jira_sim);
        let bot = site.bot().ok_or("site without a bot")?;
        let extra = if jira_extra.is_empty() {
            String::new()
        } else {
            format!(", {jira_extra}")
        };
        let toml = format!(
            r#"
[jira]
max_retries = 0

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "{}"
email = "{}"
api_token = "{}"

[endpoints.pf]
kind = "peopleforce"
base_url = "{}"
api_key = "{}"

[connections.pf-to-jira]
left = {{ endpoint = "pf" }}
right = {{ endpoint = "jira-a", project = "ACME"{extra} }}
create_from = "{create_from}"
{connection_extra}
"#,
            site.base_url(),
            bot.email,
            bot.api_token,
            pf.base_url(),
            pf.api_key(),
        );
        let mut settings = Settings::from_toml(&toml)?;
        let db = fresh_postgres().await;
        settings.database = db.settings();
        let jira_clients = JiraClients::from_settings(&settings)?;
        let pf_clients = PeopleforceClients::from_settings(&settings)?;
        let id = endpoint(JIRA);
        let config = JiraClientConfig::from_endpoint(&id, &settings.endpoints[&id], &settings.jira);
        let jira = JiraClient::new(config)?;
        let reconciler =
            Reconciler::new(Arc::new(settings), Arc::new(db.store.clone()), jira_clients)
                .with_peopleforce(pf_clients);
        Ok(Self {
            jira_sim,
            pf_sim,
            pf,
            db,
            reconciler,
            jira,
        })
    }

    pub async fn stop(self) {
        self.db.cleanup().await;
        self.jira_sim.stop().await;
        self.pf_sim.stop().await;
    }

    pub fn site(&self) -> &SiteHandle {
        site(&self.jira_sim)
    }

    /// Reconciles entity `id` of `side`, as a scan or webhook would ask.
    pub async fn reconcile(&self, side: Side, id: &str) -> Result<Outcome, ReconcileError> {
        let request = ReconcileRequest {
            connection: connection(),
            endpoint: endpoint(side),
            entity_id: id.to_owned(),
            issue_key: None,
            trigger: Trigger::Manual,
            delivery_id: DeliveryId::generate(),
            event_at: None,
            change: None,
        };
        self.reconciler.reconcile(&request, None).await
    }

    /// Seeds one task titled `<title> 1` for `assignee`; returns its id.
    pub fn task(&self, title: &str, assignee: u64) -> Result<u64, Box<dyn std::error::Error>> {
        let seeded = self.pf.seed_tasks(&pf_sim::TaskSeed {
            count: 1,
            title_prefix: Some(title.to_owned()),
            description: Some("Bring the signed contract.".into()),
            due_date: Some("2026-12-01".into()),
            assignee_id: Some(assignee),
            completed: false,
        })?;
        Ok(seeded.first_id.ok_or("nothing seeded")?)
    }

    /// A task and its Jira twin; returns (task id, issue id).
    pub async fn pair(&self, assignee: u64) -> Result<(u64, String), Box<dyn std::error::Error>> {
        let task = self.task("Onboard", assignee)?;
        match self.reconcile(PF, &task.to_string()).await? {
            Outcome::Created { twin_id, .. } => Ok((task, twin_id)),
            other => Err(format!("no twin created: {other:?}").into()),
        }
    }

    /// Creates an issue in ACME with the given extra fields; returns its id.
    pub async fn create_issue(&self, fields: Value) -> Result<String, Box<dyn std::error::Error>> {
        let mut all: Map<String, Value> = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        all.insert("project".into(), json!({ "key": "ACME" }));
        all.insert("issuetype".into(), json!({ "name": "Task" }));
        let request = CreateIssue {
            fields: all,
            properties: Vec::new(),
        };
        Ok(self.jira.create_issue(&request).await?.id)
    }

    /// One issue as the simulator holds it.
    pub fn issue(&self, id: &str) -> Value {
        self.site()
            .issue(id)
            .unwrap_or_else(|| panic!("issue {id} not in the simulator"))
    }

    /// Moves an issue through the named transitions, as a person would.
    pub async fn transition(&self, id: &str, names: &[&str]) -> TestResult {
        for name in names {
            let available = self.jira.transitions(id).await?;
            let t = (available.iter().find(|t| t.name == *name))
                .ok_or_else(|| format!("no transition {name} on {id}"))?;
            self.jira.transition(id, &t.id, None).await?;
        }
        Ok(())
    }

    /// How many audit entries of `action` the store holds.
    pub async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(self.db.store.pool())
            .await
            .unwrap_or_else(|e| panic!("count audit entries: {e}"))
    }
}

fn site(sim: &Simulator) -> &SiteHandle {
    sim.site("alpha")
        .unwrap_or_else(|| panic!("site alpha not configured"))
}

/// A field of an issue bean.
pub fn field<'a>(issue: &'a Value, name: &str) -> &'a Value {
    issue
        .pointer(&format!("/fields/{name}"))
        .unwrap_or(&Value::Null)
}

/// Whether a reconcile wrote nothing.
pub fn wrote_nothing(outcome: &Outcome) -> bool {
    !outcome.wrote()
}
