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

mod app;
mod jira;
mod parts;
mod render;
mod scan;

use std::time::Duration;

use anyhow::{Context, bail};
use jira_sync_jira_sim::{BulkSeed, SimConfig, Simulator, SiteConfig};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_poller::{RunOutcome, RunReport};

use crate::Options;
use crate::report::Section;
use crate::stats::median;
use parts::Parts;

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
    /// The incremental run's parts besides the search.
    jira_parts: Option<JiraParts>,
}

/// The incremental run's work besides the search, each part timed alone.
#[derive(Debug, Clone, Copy, Default)]
struct JiraParts {
    /// Link look-ups of the changed issues, 8 at a time.
    lookups: Duration,
    /// As many confirmed publishes, 32 in flight.
    publishes: Duration,
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
        body: render::render(&plan, &incremental, &first, &steady, &parts),
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
        incremental.push(jira::jira_run(jira, pf, &changed).await?);
        let (f, s, p) = scan::scan_runs(plan, jira, pf, rep).await?;
        first_scans.push(f);
        steady.extend(s);
        parts.push(p);
    }
    Ok((incremental, first_scans, steady, parts))
}

fn completed(outcome: &RunOutcome) -> anyhow::Result<RunReport> {
    match outcome {
        RunOutcome::Completed(report) => Ok(report.clone()),
        other => bail!("the run did not complete: {other:?}"),
    }
}

fn median_duration(values: &[Duration]) -> Duration {
    let ms: Vec<f64> = values.iter().map(|d| d.as_secs_f64()).collect();
    Duration::from_secs_f64(median(&ms).unwrap_or(0.0))
}

fn med(runs: &[Measured], f: impl Fn(&Measured) -> f64) -> f64 {
    median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0)
}
