//! Benchmark 4, poller cost: one incremental run over a Jira project of 100,000 issues of which
//! 100 changed since the cursor, and full scans of 50,000 PeopleForce tasks (the first, which
//! knows no hashes yet, and steady ones with 50 changed tasks). Wall time of the run (the
//! poller's own start and end of run), search pages and per-issue reads counted by the
//! simulators. Baseline, in the same run: a bare client paging through the same search (the
//! JQL the poller sent, the same fields and page size) and the same task listing.
//!
//! The simulators answer at local speed (no injected latency): the wall times show the
//! poller's own work (store look-ups, confirmed publishes, cursor and hash writes, leadership
//! checks) beside the bare paging. The issues are seeded in bulk through the simulator's
//! control API. Each repetition gets a fresh database, queue prefix and poller, and changes
//! the same 100 issues again (after linking them), so every repetition finds the same work.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_sim::{BulkSeed, SimConfig, Simulator, SiteConfig, SiteHandle};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_poller::{PageEvent, RunObserver, RunOutcome, RunReport, jira_cursor_name};
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_store::{NewLink, Store};
use jira_sync_transport::amqp::AmqpTransport;
use tokio_util::sync::CancellationToken;

use crate::report::Section;
use crate::scan_parts::{self, Parts};
use crate::setup::account;
use crate::stats::{median, ms};
use crate::{Options, bare};

const ISSUES: u32 = 100_000;
const CHANGED: usize = 100;
const PAGE: u32 = 100;
const SEARCH: &str = "POST /rest/api/3/search/jql";
const TASKS: &str = "GET /api/public/v3/tasks";
const INCREMENT: &str = "jira-incremental/a-to-b/left";
const SCAN: &str = "peopleforce-scan/onboarding/right";

struct Plan {
    reps: usize,
    tasks: u32,
    /// Steady scans after the first one, per repetition.
    steady: usize,
    changed_tasks: u64,
}

impl Plan {
    fn of(opts: &Options) -> Self {
        if opts.quick {
            Self {
                reps: 1,
                tasks: 50_000,
                steady: 1,
                changed_tasks: 50,
            }
        } else {
            Self {
                reps: 3,
                tasks: 50_000,
                steady: 3,
                changed_tasks: 50,
            }
        }
    }
}

/// One run as the poller and the simulator saw it.
#[derive(Debug, Clone, Default)]
struct Measured {
    wall: Duration,
    pages: u64,
    per_issue_reads: u64,
    scanned: u64,
    enqueued: u64,
    bare_wall: Duration,
    bare_pages: u64,
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let plan = Plan::of(&opts);
    let jira = Simulator::start(SimConfig {
        sites: vec![site("a", &["A", "HR"]), site("b", &["B"])],
        workers: 2,
        ..SimConfig::default()
    })
    .await?;
    let pf = pf_sim::Simulator::start(pf_sim::SimConfig {
        workers: 2,
        ..pf_sim::SimConfig::default()
    })
    .await?;
    let result = measure(&plan, &jira, &pf).await;
    jira.stop().await;
    pf.stop().await;
    let (incremental, first, steady, parts) = result?;
    Ok(Section {
        name: "poller",
        title: "Poller cost",
        command: opts.command.clone(),
        body: render(&plan, &incremental, &first, &steady, &parts),
    })
}

fn site(name: &str, projects: &[&str]) -> SiteConfig {
    let mut site = SiteConfig::named(name);
    site.projects = projects.iter().map(|p| (*p).to_owned()).collect();
    site
}

type Results = (Vec<Measured>, Vec<Measured>, Vec<Measured>, Vec<Parts>);

async fn measure(plan: &Plan, jira: &Simulator, pf: &pf_sim::Simulator) -> anyhow::Result<Results> {
    let a = jira.site("a").context("site a")?;
    let seeded_at = chrono::Utc::now() - chrono::Duration::days(2);
    let seeded = a
        .seed_issues(&BulkSeed {
            project: "A".into(),
            count: ISSUES,
            updated_start: Some(seeded_at.to_rfc3339()),
            updated_step_ms: 1,
            ..BulkSeed::default()
        })
        .map_err(|e| anyhow::anyhow!("seed the issues: {e:?}"))?;
    let first: u64 = seeded
        .first_id
        .and_then(|f| f.parse().ok())
        .context("seeded ids")?;
    pf.handle()
        .seed_tasks(&pf_sim::TaskSeed {
            count: plan.tasks,
            due_date: Some("2026-12-01".into()),
            ..pf_sim::TaskSeed::default()
        })
        .map_err(|e| anyhow::anyhow!("seed the tasks: {e}"))?;
    let changed: Vec<String> = (0..CHANGED as u64)
        .map(|i| (first + i * 997 % u64::from(ISSUES)).to_string())
        .collect();
    let (mut incremental, mut first_scans, mut steady) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts = Vec::new();
    for rep in 0..plan.reps {
        eprintln!("poller: run {}", rep + 1);
        incremental.push(jira_run(jira, pf, &changed).await?);
        let (f, s, p) = scan_runs(plan, jira, pf, rep).await?;
        first_scans.push(f);
        steady.extend(s);
        parts.push(p);
    }
    Ok((incremental, first_scans, steady, parts))
}

/// Watches one schedule's runs: when each started and ended, its pages, and a hook.
#[derive(Default)]
struct Watch {
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
    fn runs(&self) -> Vec<(Duration, RunOutcome)> {
        self.state
            .lock()
            .map(|s| s.runs.clone())
            .unwrap_or_default()
    }

    /// Page durations of run `run` (from the run's start or the previous page), with the
    /// requests each page enqueued.
    fn page_times(&self, run: usize) -> Vec<(Duration, usize)> {
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

    fn first_query(&self) -> Option<String> {
        let state = self.state.lock().ok()?;
        state.pages.first().map(|p| p.query.clone())
    }
}

/// A fresh database, queue prefix and poller with one schedule, running until `enough` runs
/// finished (or two minutes passed).
struct Poller {
    db: TestDatabase,
    transport: AmqpTransport,
    settings: Settings,
}

impl Poller {
    async fn prepare(jira: &Simulator, pf: &pf_sim::Simulator) -> anyhow::Result<Self> {
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

    async fn run(&self, schedule: &str, watch: Arc<Watch>, enough: usize) -> anyhow::Result<()> {
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

    async fn cleanup(self) {
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

/// One incremental run: `changed` issues linked (synced now), then edited; the cursor ten
/// minutes before the edits, on the site's clock.
async fn jira_run(
    jira: &Simulator,
    pf: &pf_sim::Simulator,
    changed: &[String],
) -> anyhow::Result<Measured> {
    let a = jira.site("a").context("site a")?;
    let now = chrono::Utc::now();
    let poller = Poller::prepare(jira, pf).await?;
    let result = jira_measure(&poller, a, changed, now).await;
    poller.cleanup().await;
    result
}

async fn jira_measure(
    poller: &Poller,
    a: &SiteHandle,
    changed: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Measured> {
    let store = &poller.db.store;
    let connection = ConnectionId::parse("a-to-b")?;
    for id in changed {
        let link = store
            .insert_link(NewLink {
                connection: connection.clone(),
                left_id: id.clone(),
                right_id: format!("twin-{id}"),
                left_key: None,
                right_key: None,
                base: Snapshot::default(),
            })
            .await?;
        store
            .save_base(link.id, &Snapshot::default(), None, None)
            .await?;
    }
    let http = reqwest::Client::new();
    let person = account(&http, a, false)?;
    for id in changed {
        let answer = person
            .edit(
                id,
                serde_json::json!({ "summary": format!("changed {id}") }),
            )
            .await?;
        if answer.status != 204 {
            bail!("edit {id}: {} {}", answer.status, answer.body);
        }
    }
    let cursor =
        (now - chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    store
        .advance_cursor(&jira_cursor_name(&connection, Side::Left), &cursor)
        .await?;
    a.reset_stats();
    let watch = Arc::new(Watch::default());
    poller.run(INCREMENT, watch.clone(), 1).await?;
    let stats = a.stats();
    let (wall, outcome) = watch.runs().into_iter().next().context("a run")?;
    let report = completed(&outcome)?;
    let per_issue_reads = (stats.requests.iter())
        .filter(|(route, _)| route.starts_with("GET /rest/api/3/issue"))
        .map(|(_, n)| *n)
        .sum();
    let searches = stats.requests.get(SEARCH).copied().unwrap_or(0);
    let jql = watch.first_query().context("the run's JQL")?;
    let bot = account(&http, a, true)?;
    let mut bare = Vec::new();
    let mut bare_pages = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (pages, _issues) = bot.search_all(&jql, &["updated"], PAGE).await?;
        bare.push(started.elapsed());
        bare_pages = u64::from(pages);
    }
    Ok(Measured {
        wall,
        pages: searches,
        per_issue_reads,
        scanned: report.scanned,
        enqueued: report.enqueued,
        bare_wall: median_duration(&bare),
        bare_pages,
    })
}

fn completed(outcome: &RunOutcome) -> anyhow::Result<RunReport> {
    match outcome {
        RunOutcome::Completed(report) => Ok(report.clone()),
        other => bail!("the run did not complete: {other:?}"),
    }
}

/// The first scan of a fresh database (every task new), then `plan.steady` scans each after
/// `plan.changed_tasks` tasks changed.
async fn scan_runs(
    plan: &Plan,
    jira: &Simulator,
    pf: &pf_sim::Simulator,
    rep: usize,
) -> anyhow::Result<(Measured, Vec<Measured>, Parts)> {
    let poller = Poller::prepare(jira, pf).await?;
    let result = scan_measure(&poller, plan, pf, rep).await;
    poller.cleanup().await;
    result
}

async fn scan_measure(
    poller: &Poller,
    plan: &Plan,
    pf: &pf_sim::Simulator,
    rep: usize,
) -> anyhow::Result<(Measured, Vec<Measured>, Parts)> {
    let handle = pf.handle().clone();
    let (tasks, changed) = (u64::from(plan.tasks), plan.changed_tasks);
    // After each scan (on the scan's own task, so the next cannot start first), some tasks
    // change as a person would change them in PeopleForce.
    let editor = handle.clone();
    let watch = Arc::new(Watch {
        on_finish: Some(Box::new(move |run| {
            for i in 0..changed {
                let id = (rep as u64 * 7_919 + run as u64 * 1_009 + i * 977) % tasks + 1;
                let edit = pf_sim::TaskEdit {
                    title: Some(format!("changed in run {rep}/{run}")),
                    ..pf_sim::TaskEdit::default()
                };
                if let Err(e) = editor.edit_task(id, &edit) {
                    eprintln!("edit task {id}: {e}");
                }
            }
        })),
        ..Watch::default()
    });
    handle.reset_stats();
    poller.run(SCAN, watch.clone(), 1 + plan.steady).await?;
    let requests = handle.stats().count(TASKS);
    let http = reqwest::Client::new();
    let mut bare = Vec::new();
    let mut bare_pages = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (pages, _) =
            bare::peopleforce_tasks(&http, &handle.api_url(), handle.api_key(), PAGE).await?;
        bare.push(started.elapsed());
        bare_pages = u64::from(pages);
    }
    let bare_wall = median_duration(&bare);
    let runs = watch.runs();
    let measured = runs
        .iter()
        .take(1 + plan.steady)
        .map(|(wall, outcome)| {
            completed(outcome).map(|r| Measured {
                wall: *wall,
                pages: u64::from(r.pages),
                per_issue_reads: 0,
                scanned: r.scanned,
                enqueued: r.enqueued,
                bare_wall,
                bare_pages,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let pages_read: u64 = measured.iter().map(|m| m.pages).sum();
    if requests < pages_read {
        bail!("the simulator counted {requests} task pages, the poller {pages_read}");
    }
    let parts = scan_parts::measure(
        &poller.db.store,
        "peopleforce-scan/onboarding/right/task",
        &handle.base_url(),
        handle.api_key(),
        PAGE,
        bare_pages,
    )
    .await?;
    // Page by page, in the last steady scan: pages that enqueue nothing, and pages with a
    // changed task (a confirmed publish and a hash write more).
    let times = watch.page_times(plan.steady);
    let page_median = |changed: bool| {
        let picked: Vec<Duration> = (times.iter())
            .filter(|(_, n)| (*n > 0) == changed)
            .map(|(d, _)| *d)
            .collect();
        median_duration(&picked)
    };
    let parts = Parts {
        quiet_page: page_median(false),
        busy_page: page_median(true),
        ..parts
    };
    let mut measured = measured.into_iter();
    let first = measured.next().context("a first scan")?;
    Ok((first, measured.collect(), parts))
}

fn median_duration(values: &[Duration]) -> Duration {
    let ms: Vec<f64> = values.iter().map(|d| d.as_secs_f64()).collect();
    Duration::from_secs_f64(median(&ms).unwrap_or(0.0))
}

fn med(runs: &[Measured], f: impl Fn(&Measured) -> f64) -> f64 {
    median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0)
}

fn row(out: &mut String, what: &str, runs: &[Measured]) {
    let wall = med(runs, |m| ms(m.wall));
    let bare = med(runs, |m| ms(m.bare_wall));
    let pages = med(runs, |m| m.pages as f64);
    let bare_pages = med(runs, |m| m.bare_pages as f64);
    let _ = writeln!(
        out,
        "| {what} | {wall:.0} ms | {bare:.0} ms | {:.2}x | {pages:.0} | {bare_pages:.0} | {:.2}x | \
         {:.0} | {:.0} | {:.0} |",
        if bare > 0.0 { wall / bare } else { 0.0 },
        if bare_pages > 0.0 {
            pages / bare_pages
        } else {
            0.0
        },
        med(runs, |m| m.per_issue_reads as f64),
        med(runs, |m| m.scanned as f64),
        med(runs, |m| m.enqueued as f64),
    );
}

fn render(
    plan: &Plan,
    incremental: &[Measured],
    first: &[Measured],
    steady: &[Measured],
    parts: &[Parts],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Jira: {ISSUES} issues seeded in bulk (updated two days before), {CHANGED} of them linked \
         and then edited; the cursor ten minutes before the edits; page size {PAGE}, overlap \
         2 min. PeopleForce: {} tasks; the first scan of a fresh database (no content hashes \
         yet), then scans after {} tasks changed. Median of {} repetition(s) (steady scans: \
         {} per repetition); the bare client's time is the median of 3 passes right after. \
         Simulators without injected latency; the poller publishes to RabbitMQ (confirmed) and \
         keeps its cursor, links and hashes in PostgreSQL.\n",
        plan.tasks, plan.changed_tasks, plan.reps, plan.steady
    );
    let _ = writeln!(
        out,
        "| run | poller wall | bare wall | ratio | poller pages | bare pages | ratio | per-issue GETs | scanned | enqueued |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    row(
        &mut out,
        &format!("Jira incremental, {ISSUES} issues, {CHANGED} changed"),
        incremental,
    );
    row(
        &mut out,
        &format!("PeopleForce first scan, {} tasks", plan.tasks),
        first,
    );
    row(
        &mut out,
        &format!(
            "PeopleForce scan, {} tasks, {} changed",
            plan.tasks, plan.changed_tasks
        ),
        steady,
    );
    let wall = med(steady, |m| ms(m.wall));
    let pages = med(steady, |m| m.pages as f64).max(1.0);
    let part = |f: fn(&Parts) -> Duration| {
        median(&parts.iter().map(|p| ms(f(p))).collect::<Vec<_>>()).unwrap_or(0.0)
    };
    let (client, leader, hashes) = (
        part(|p| p.client),
        part(|p| p.leader_checks),
        part(|p| p.hash_load),
    );
    let bare = med(steady, |m| ms(m.bare_wall));
    let _ = writeln!(
        out,
        "\nWhere a steady scan's time goes (each part measured alone right after the scans; \
         medians):\n\n| part | time | per page |\n|---|---|---|"
    );
    for (what, t) in [
        ("the poller's scan (wall)", wall),
        ("bare paging (untyped JSON)", bare),
        ("paging with the poller's PeopleForce client", client),
        ("one leadership check per page", leader),
        ("loading the stored hashes (once)", hashes),
        (
            "the rest (not attributed)",
            (wall - client - leader - hashes).max(0.0),
        ),
    ] {
        let _ = writeln!(out, "| {what} | {t:.0} ms | {:.2} ms |", t / pages);
    }
    let _ = writeln!(
        out,
        "\nPage by page in the poller's last steady scan (medians): a page that enqueues \
         nothing takes {:.2} ms, a page with a changed task {:.2} ms (one confirmed publish and \
         one hash write more); the bare client reads a page in {:.2} ms.",
        part(|p| p.quiet_page),
        part(|p| p.busy_page),
        bare / pages
    );
    let first_wall = med(first, |m| ms(m.wall));
    let _ = writeln!(
        out,
        "\nThe first scan costs {:.1} s more than a steady one: publishing {} confirmed \
         requests (32 in flight) and writing as many content hashes.",
        (first_wall - wall) / 1000.0,
        plan.tasks
    );
    out
}
