//! The test environment: a fresh database, an isolated RabbitMQ installation, the Jira
//! simulator (site `alpha` with ACME and HR, site `beta` with PART), the PeopleForce
//! simulator, a publisher that records what it published (and publishes it to RabbitMQ), and an
//! observer that records runs and pages.

#![allow(dead_code)] // Each test uses a different part of it.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::ReconcileRequest;
use jira_sync_jira_client::{JiraClient, JiraClientConfig};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_poller::{Application, PageEvent, PollerHandle, RunObserver, RunOutcome};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_store::{PgStore, Store};
use jira_sync_transport::conformance::rabbitmq::{RabbitMqBackend, RabbitMqFactory};
use jira_sync_transport::conformance::{Profile, TestBackend};
use jira_sync_transport::{Envelope, Publisher, TransportError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Polls `check` every 50 ms until it returns `Some`, panicking after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    jira_sync_transport::conformance::eventually(timeout, what, check).await
}

/// Publishes to RabbitMQ and remembers every confirmed request, in order.
pub struct Recorder {
    inner: Arc<dyn Publisher>,
    published: Mutex<Vec<ReconcileRequest>>,
}

impl Recorder {
    pub fn published(&self) -> Vec<ReconcileRequest> {
        self.published.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn entity_ids(&self) -> Vec<String> {
        self.published().into_iter().map(|r| r.entity_id).collect()
    }

    pub fn clear(&self) {
        if let Ok(mut p) = self.published.lock() {
            p.clear();
        }
    }
}

#[async_trait]
impl Publisher for Recorder {
    async fn publish(&self, envelope: Envelope) -> Result<(), TransportError> {
        let request: ReconcileRequest = serde_json::from_slice(&envelope.payload)
            .map_err(|e| TransportError::Unexpected(Box::new(e)))?;
        self.inner.publish(envelope).await?;
        if let Ok(mut p) = self.published.lock() {
            p.push(request);
        }
        Ok(())
    }

    async fn is_ready(&self) -> bool {
        self.inner.is_ready().await
    }
}

/// A hook called at the end of every page.
pub type PageHook = Box<dyn Fn(&str, &PageEvent) + Send>;
/// A hook called at the end of every run.
pub type FinishHook = Box<dyn Fn(&str, &RunOutcome) + Send>;

/// Records runs and pages by schedule, and the most runs of one schedule at once.
#[derive(Default)]
pub struct Probe {
    state: Mutex<ProbeState>,
    /// Called at the end of every page, with the schedule and the page.
    pub on_page: Mutex<Option<PageHook>>,
    /// Called at the end of every run, with the schedule and the outcome.
    pub on_finish: Mutex<Option<FinishHook>>,
}

#[derive(Default, Clone)]
pub struct ProbeState {
    pub active: BTreeMap<String, u32>,
    pub max_active: BTreeMap<String, u32>,
    pub outcomes: Vec<(String, RunOutcome)>,
    pub pages: Vec<(String, PageEvent)>,
}

impl Probe {
    pub fn state(&self) -> ProbeState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn outcomes_of(&self, schedule: &str) -> Vec<RunOutcome> {
        let state = self.state();
        state
            .outcomes
            .into_iter()
            .filter(|(s, _)| s == schedule)
            .map(|(_, o)| o)
            .collect()
    }

    pub fn pages_of(&self, schedule: &str) -> Vec<PageEvent> {
        let state = self.state();
        state
            .pages
            .into_iter()
            .filter(|(s, _)| s == schedule)
            .map(|(_, p)| p)
            .collect()
    }
}

impl RunObserver for Probe {
    fn run_started(&self, schedule: &str) {
        if let Ok(mut s) = self.state.lock() {
            let active = s.active.entry(schedule.to_owned()).or_default();
            *active += 1;
            let now = *active;
            let max = s.max_active.entry(schedule.to_owned()).or_default();
            *max = (*max).max(now);
        }
    }

    fn page_done(&self, schedule: &str, page: &PageEvent) {
        if let Ok(mut s) = self.state.lock() {
            s.pages.push((schedule.to_owned(), page.clone()));
        }
        if let Ok(hook) = self.on_page.lock()
            && let Some(hook) = hook.as_ref()
        {
            hook(schedule, page);
        }
    }

    fn run_finished(&self, schedule: &str, outcome: &RunOutcome) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(active) = s.active.get_mut(schedule) {
                *active -= 1;
            }
            s.outcomes.push((schedule.to_owned(), outcome.clone()));
        }
        if let Ok(hook) = self.on_finish.lock()
            && let Some(hook) = hook.as_ref()
        {
            hook(schedule, outcome);
        }
    }
}

pub struct Env {
    pub db: TestDatabase,
    pub rabbit: RabbitMqBackend,
    pub jira: Simulator,
    pub pf: pf_sim::Simulator,
    pub recorder: Arc<Recorder>,
}

/// A running poller application.
pub struct Running {
    pub handle: PollerHandle,
    pub port: u16,
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), jira_sync_poller::StartupError>>,
    /// The replica's own PostgreSQL store, closed on stop.
    pub store: Option<PgStore>,
}

impl Running {
    /// Cancels and waits for the application to stop.
    pub async fn stop(self) {
        self.shutdown.cancel();
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(Ok(Ok(()))) => {}
            other => panic!("the poller did not stop cleanly: {other:?}"),
        }
        if let Some(store) = self.store {
            store.close().await;
        }
    }
}

fn site_toml(site: &SiteHandle) -> String {
    let bot = site.bot().unwrap_or_else(|| panic!("site without a bot"));
    format!(
        "kind = \"jira_cloud\"\nbase_url = \"{}\"\nemail = \"{}\"\napi_token = \"{}\"\n",
        site.base_url(),
        bot.email,
        bot.api_token
    )
}

impl Env {
    pub async fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let mut alpha = SiteConfig::named("alpha");
        alpha.projects = vec!["ACME".into(), "HR".into()];
        let mut beta = SiteConfig::named("beta");
        beta.projects = vec!["PART".into()];
        let jira = Simulator::start(SimConfig {
            sites: vec![alpha, beta],
            workers: 2,
            ..SimConfig::default()
        })
        .await?;
        let pf = pf_sim::Simulator::start(pf_sim::SimConfig {
            workers: 2,
            ..pf_sim::SimConfig::default()
        })
        .await?;
        let db = fresh_postgres().await;
        let rabbit = RabbitMqFactory::from_env()
            .backend(Profile::default())
            .await;
        rabbit.transport.declare_topology().await?;
        let recorder = Arc::new(Recorder {
            inner: rabbit.publisher(),
            published: Mutex::new(Vec::new()),
        });
        Ok(Self {
            db,
            rabbit,
            jira,
            pf,
            recorder,
        })
    }

    pub fn alpha(&self) -> &SiteHandle {
        self.jira.site("alpha").unwrap_or_else(|| panic!("alpha"))
    }

    pub fn beta(&self) -> &SiteHandle {
        self.jira.site("beta").unwrap_or_else(|| panic!("beta"))
    }

    /// Settings with every endpoint, the given `[poller]` lines and connection tables.
    pub fn settings(&self, poller: &str, connections: &str) -> Settings {
        let pf = self.pf.handle();
        let toml = format!(
            r#"
[jira]
max_retries = 0

[poller]
listen = "127.0.0.1:0"
{poller}

[endpoints.jira-a]
{}
[endpoints.jira-b]
{}
[endpoints.pf]
kind = "peopleforce"
base_url = "{}"
api_key = "{}"

{connections}
"#,
            site_toml(self.alpha()),
            site_toml(self.beta()),
            pf.base_url(),
            pf.api_key(),
        );
        let mut settings = Settings::from_toml(&toml).unwrap_or_else(|e| panic!("{e}"));
        settings.database = self.db.settings();
        settings
    }

    /// A Jira client of site `alpha` (as its admin, so the test's edits are not the bot's).
    pub fn alpha_client(&self) -> JiraClient {
        let admin = &self.alpha().users()[0];
        let config = JiraClientConfig::new(
            self.alpha()
                .base_url()
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            admin.email.clone(),
            admin.api_token.clone().into(),
        );
        JiraClient::new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Builds and starts a poller with `settings`, keeping the schedules `keep` accepts.
    pub async fn spawn(
        &self,
        settings: Settings,
        observer: Arc<Probe>,
        keep: impl Fn(&str) -> bool,
    ) -> Running {
        // A store of its own, as a separate replica would have: its own locks and connections.
        let store = self
            .db
            .open_another()
            .await
            .unwrap_or_else(|e| panic!("open the store: {e}"));
        let mut running = self
            .spawn_on(Arc::new(store.clone()), settings, observer, keep)
            .await;
        running.store = Some(store);
        running
    }

    /// Like [`Env::spawn`] on the store given (a SQLite one, say).
    pub async fn spawn_on(
        &self,
        store: Arc<dyn Store>,
        settings: Settings,
        observer: Arc<Probe>,
        keep: impl Fn(&str) -> bool,
    ) -> Running {
        let app = Application::build_with(settings, store, self.recorder.clone())
            .await
            .unwrap_or_else(|e| panic!("build the poller: {e}"))
            .retain_schedules(|s| keep(&s.id))
            .with_observer(observer);
        let handle = app.handle();
        let port = app.port();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Running {
            handle,
            port,
            shutdown,
            task,
            store: None,
        }
    }

    /// Messages waiting in the work queue.
    pub async fn queued(&self) -> u32 {
        self.rabbit
            .transport
            .queue_depths()
            .await
            .unwrap_or_else(|e| panic!("queue depths: {e}"))
            .work
    }

    pub async fn stop(self) {
        self.db.cleanup().await;
        self.rabbit.cleanup().await;
        self.jira.stop().await;
        self.pf.stop().await;
    }
}
