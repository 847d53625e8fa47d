//! Running the poller for a benchmark: a fresh database and queue prefix per run, one schedule
//! kept, and an observer that times its runs and pages.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jira_sync_jira_sim::Simulator;
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_poller::{PageEvent, RunObserver, RunOutcome};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_transport::amqp::AmqpTransport;
use tokio_util::sync::CancellationToken;

use super::PAGE;

/// Watches one schedule's runs: when each started and ended, its pages, and a hook.
#[derive(Default)]
pub(super) struct Watch {
    state: Mutex<WatchState>,
    on_finish: Option<Box<dyn Fn(usize) + Send + Sync>>,
}

#[derive(Default)]
struct WatchState {
    started: Option<Instant>,
    runs: Vec<(Duration, RunOutcome)>,
    pages: Vec<PageEvent>,
    /// When each page ended, in the run it belongs to (0 for the first).
    page_ends: Vec<(usize, Instant, usize)>,
}

impl RunObserver for Watch {
    fn run_started(&self, _schedule: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.started = Some(Instant::now());
        }
    }

    fn page_done(&self, _schedule: &str, page: &PageEvent) {
        if let Ok(mut s) = self.state.lock() {
            s.pages.push(page.clone());
            let run = s.runs.len();
            s.page_ends.push((run, Instant::now(), page.enqueued));
        }
    }

    fn run_finished(&self, _schedule: &str, outcome: &RunOutcome) {
        let done = match self.state.lock() {
            Ok(mut s) => {
                let wall = s.started.map(|t| t.elapsed()).unwrap_or_default();
                s.runs.push((wall, outcome.clone()));
                s.runs.len()
            }
            Err(_) => return,
        };
        if let Some(hook) = &self.on_finish {
            hook(done);
        }
    }
}

impl Watch {
    /// A watch that calls `hook` after each run with the number of runs finished so far.
    pub(super) fn calling(hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        Self {
            on_finish: Some(Box::new(hook)),
            ..Self::default()
        }
    }

    pub(super) fn runs(&self) -> Vec<(Duration, RunOutcome)> {
        self.state
            .lock()
            .map(|s| s.runs.clone())
            .unwrap_or_default()
    }

    /// Page durations of run `run` (from the run's start or the previous page), with the
    /// requests each page enqueued.
    pub(super) fn page_times(&self, run: usize) -> Vec<(Duration, usize)> {
        let Ok(state) = self.state.lock() else {
            return Vec::new();
        };
        let ends: Vec<(Instant, usize)> = (state.page_ends.iter())
            .filter(|(r, _, _)| *r == run)
            .map(|(_, at, n)| (*at, *n))
            .collect();
        ends.windows(2)
            .map(|w| (w[1].0.duration_since(w[0].0), w[1].1))
            .collect()
    }

    pub(super) fn first_query(&self) -> Option<String> {
        let state = self.state.lock().ok()?;
        state.pages.first().map(|p| p.query.clone())
    }
}

/// A fresh database, queue prefix and poller with one schedule, running until `enough` runs
/// finished (or two minutes passed).
pub(super) struct Poller {
    pub db: TestDatabase,
    pub transport: AmqpTransport,
    settings: Settings,
}

impl Poller {
    pub(super) async fn prepare(jira: &Simulator, pf: &pf_sim::Simulator) -> anyhow::Result<Self> {
        let db = fresh_postgres().await;
        let mut settings = Settings::from_toml(&config(jira, pf)?)?;
        settings.database = db.settings();
        let transport = AmqpTransport::new(&settings.amqp)?;
        if let Err(e) = transport.declare_topology().await {
            db.cleanup().await;
            bail!("declare the queues: {e}");
        }
        Ok(Self {
            db,
            transport,
            settings,
        })
    }

    pub(super) async fn run(
        &self,
        schedule: &str,
        watch: Arc<Watch>,
        enough: usize,
    ) -> anyhow::Result<()> {
        let app = jira_sync_poller::Application::build_with(
            self.settings.clone(),
            Arc::new(self.db.store.clone()),
            self.transport.publisher(),
        )
        .await?
        .retain_schedules(|s| s.id == schedule)
        .with_observer(watch.clone());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let deadline = Instant::now() + Duration::from_secs(300);
        while watch.runs().len() < enough && Instant::now() < deadline && !task.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        if watch.runs().len() < enough {
            bail!(
                "{schedule}: only {} of {enough} runs finished",
                watch.runs().len()
            );
        }
        Ok(())
    }

    pub(super) async fn cleanup(self) {
        if let Err(e) = self.transport.delete_topology().await {
            eprintln!("could not delete the benchmark's queues: {e}");
        }
        self.db.cleanup().await;
    }
}

fn config(jira: &Simulator, pf: &pf_sim::Simulator) -> anyhow::Result<String> {
    let broker =
        std::env::var("JIRA_SYNC_TEST_AMQP_ADDR").unwrap_or_else(|_| "127.0.0.1:5672".to_owned());
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let endpoint = |name: &str| -> anyhow::Result<String> {
        let site = jira.site(name).context("site")?;
        let bot = site.bot().context("bot")?;
        Ok(format!(
            "[endpoints.jira-{name}]\nkind = \"jira_cloud\"\nbase_url = \"{}\"\nemail = \"{}\"\napi_token = \"{}\"\n",
            site.base_url(),
            bot.email,
            bot.api_token
        ))
    };
    let pf = pf.handle();
    Ok(format!(
        r#"
[amqp]
url = "amqp://guest:guest@{broker}/%2f"
prefix = "{prefix}"

[poller]
listen = "127.0.0.1:0"
jira_page_size = {PAGE}
jira_overlap = "2m"
peopleforce_page_size = {PAGE}
leader_lock_retry = "200ms"

{}
{}
[endpoints.pf]
kind = "peopleforce"
base_url = "{}"
api_key = "{}"

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-b", project = "B" }}
poll_interval = "1h"

[connections.onboarding]
left = {{ endpoint = "jira-a", project = "HR" }}
right = {{ endpoint = "pf" }}
poll_interval = "1s"
"#,
        endpoint("a")?,
        endpoint("b")?,
        pf.base_url(),
        pf.api_key(),
    ))
}
