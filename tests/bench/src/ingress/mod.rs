//! Benchmark 1: ingress throughput and latency, beside the broker's own ceiling.
//!
//! The release `jira-sync-ingress` runs as its own process on a config file, against the
//! machine's RabbitMQ and PostgreSQL (a fresh database, uniquely named queues, both removed at
//! the end). Signed webhooks from the repository's fixtures go to it over keep-alive HTTP:
//! - closed loop at several concurrencies: accepted (published and confirmed) webhooks per
//!   second and the latency of the 202, beside a plain lapin publisher with confirms keeping as
//!   many publishes in flight, publishing the very messages the ingress published (the
//!   ceiling);
//! - open loop at half the measured maximum, on a fixed arrival schedule, latency from the
//!   scheduled send time, beside the ceiling publisher at the same rate;
//! - overload, far above the maximum from more connections than the in-flight limit: with the
//!   default `ingress.max_in_flight` and with the limit out of the way;
//! - the ingress process's CPU time and memory, and a `perf` profile of it at its maximum.

mod ceiling;
mod http;
mod load;
mod phases;
mod profile;
mod render;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::Options;
use crate::process::{ProcSample, Service};
use crate::report::Section;
use crate::stats::median;

use self::http::webhook_request;
use self::load::{Outcome, Phase};
use self::phases::Bench;
use self::setup::{ENDPOINT, Fixture, SECRET, World};

/// Overload: offered rates as multiples of the measured maximum. 1.5x leaves room to answer
/// the excess; 3x is more than this machine can even refuse.
const OVERLOAD_FACTORS: [f64; 2] = [1.5, 3.0];
/// `ingress.max_in_flight` for the run without admission control.
const NO_LIMIT: usize = 1_000_000;

/// Durations and repetitions of one run.
#[derive(Debug, Clone)]
struct Plan {
    concurrencies: Vec<usize>,
    reps: usize,
    closed: Phase,
    open: Phase,
    open_connections: usize,
    overload: Phase,
    overload_connections: usize,
    profile: Duration,
    /// Before each phase, how long to wait at most for the machine to be quiet.
    quiet_wait: Duration,
    /// Total time the run may spend waiting for quiet and repeating disturbed phases.
    quiet_budget: Duration,
}

impl Plan {
    fn new(quick: bool) -> Self {
        let phase = |warmup_ms, window_ms| Phase {
            warmup: Duration::from_millis(warmup_ms),
            window: Duration::from_millis(window_ms),
        };
        if quick {
            Self {
                concurrencies: vec![1, 32],
                reps: 1,
                closed: phase(300, 1000),
                open: phase(300, 1500),
                open_connections: 32,
                overload: phase(300, 1500),
                overload_connections: 512,
                profile: Duration::from_secs(2),
                quiet_wait: Duration::from_secs(1),
                quiet_budget: Duration::from_secs(5),
            }
        } else {
            Self {
                concurrencies: vec![1, 8, 32, 128],
                reps: 3,
                closed: phase(1000, 5000),
                open: phase(1000, 8000),
                open_connections: 64,
                overload: phase(1000, 5000),
                overload_connections: 512,
                profile: Duration::from_secs(5),
                quiet_wait: Duration::from_secs(20),
                quiet_budget: Duration::from_secs(600),
            }
        }
    }
}

/// CPU time spent in the measurement window, per process, and the machine's busy share.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub ingress: Duration,
    pub broker: Duration,
    pub generator: Duration,
    /// Share of the machine's capacity (all cores) in use.
    pub machine: f64,
    /// CPU time of every other process on the machine (other work running at the same time).
    pub others: Duration,
    /// The machine's capacity over the window (cores x window).
    pub capacity: Duration,
}

/// One measured phase.
#[derive(Debug, Clone)]
pub struct Run {
    pub outcome: Outcome,
    pub usage: Usage,
}

/// Closed-loop results at one concurrency.
#[derive(Debug, Clone)]
pub struct Closed {
    pub concurrency: usize,
    pub ingress: Vec<Run>,
    pub ceiling: Vec<Run>,
}

/// An overload phase and the limit it ran under.
#[derive(Debug, Clone)]
pub struct Overload {
    pub limit: Option<usize>,
    pub factor: f64,
    pub offered: f64,
    pub run: Run,
}

/// Everything the report needs.
pub struct Results {
    pub plan_reps: usize,
    pub fixtures: Vec<(String, usize)>,
    pub left_out: Vec<String>,
    pub message_bytes: (usize, usize),
    pub closed: Vec<Closed>,
    pub peak_concurrency: usize,
    pub raw_ceiling: Vec<Run>,
    pub half_rate: f64,
    pub open_connections: usize,
    pub open_ingress: Vec<Run>,
    pub open_ceiling: Vec<Run>,
    pub overload_connections: usize,
    pub overloads: Vec<Overload>,
    pub idle: ProcSample,
    pub after_closed: ProcSample,
    pub after_overload: ProcSample,
    pub profile: Option<profile::Profile>,
    /// Phases repeated because other processes took much of the machine during them.
    pub repeated: u32,
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let plan = Plan::new(opts.quick);
    let (fixtures, left_out) = setup::fixtures()?;
    let world = World::create(&fixtures).await?;
    let result = measure_all(&plan, &world, &fixtures, left_out).await;
    world.cleanup().await;
    let results = result?;
    Ok(Section {
        name: "ingress",
        title: "Ingress throughput and latency",
        command: opts.command.clone(),
        body: render::body(&results),
    })
}

/// Everything with the ingress process running, in order; the process is stopped on error.
async fn measure_all(
    plan: &Plan,
    world: &World,
    fixtures: &[Fixture],
    left_out: Vec<String>,
) -> anyhow::Result<Results> {
    let port = setup::port()?;
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        fixtures
            .iter()
            .map(|f| webhook_request(port, ENDPOINT, SECRET, &f.body))
            .collect::<anyhow::Result<_>>()?,
    );
    let mut bench = Bench::connect(world, port, requests).await?;
    let ingress = world.start_ingress(port, None).await?;
    let outcome = with_default_ingress(plan, &mut bench, &ingress, fixtures).await;
    let after_overload = ingress.sample();
    ingress.stop().await?;
    let mut results = outcome?;
    results.after_overload = after_overload?;

    // The same overload without admission control: the limit far above any connection count.
    let unlimited = world.start_ingress(port, Some(NO_LIMIT)).await?;
    let mut runs = Vec::new();
    for o in &results.overloads {
        let run = bench.overload(plan, unlimited.pid, o.offered).await;
        runs.push((o.factor, o.offered, run));
    }
    unlimited.stop().await?;
    for (factor, offered, run) in runs {
        results.overloads.push(Overload {
            limit: None,
            factor,
            offered,
            run: run?,
        });
    }
    results.left_out = left_out;
    results.repeated = bench.repeated();
    results.fixtures = fixtures
        .iter()
        .map(|f| (f.name.clone(), f.body.len()))
        .collect();
    Ok(results)
}

/// The phases against the ingress with its default configuration.
async fn with_default_ingress(
    plan: &Plan,
    bench: &mut Bench,
    ingress: &Service,
    fixtures: &[Fixture],
) -> anyhow::Result<Results> {
    let pid = ingress.pid;
    let idle = ingress.sample()?;
    bench.capture().await?;
    let closed = bench.closed_loops(plan, pid).await?;
    let (peak_concurrency, max_rate) = peak(&closed);
    let raw = Arc::new(bench.raw_messages(fixtures));
    let mut raw_ceiling = Vec::new();
    for _ in 0..plan.reps {
        raw_ceiling.push(
            bench
                .ceiling_closed(plan, pid, &raw, peak_concurrency)
                .await?,
        );
    }
    let after_closed = ingress.sample()?;
    let half_rate = max_rate / 2.0;
    let (mut open_ingress, mut open_ceiling) = (Vec::new(), Vec::new());
    for _ in 0..plan.reps {
        open_ingress.push(bench.ingress_open(plan, pid, half_rate).await?);
        open_ceiling.push(bench.ceiling_open(plan, pid, half_rate).await?);
    }
    crate::process::wait_for_quiet(plan.quiet_wait, 0.08).await;
    let profile = profile::record(
        pid,
        plan.profile,
        bench.ingress_closed_once(plan, pid, peak_concurrency, plan.profile),
    )
    .await?;
    let limit = default_max_in_flight()?;
    let mut overloads = Vec::new();
    for factor in OVERLOAD_FACTORS {
        let offered = max_rate * factor;
        overloads.push(Overload {
            limit: Some(limit),
            factor,
            offered,
            run: bench.overload(plan, pid, offered).await?,
        });
    }
    Ok(Results {
        plan_reps: plan.reps,
        fixtures: Vec::new(),
        left_out: Vec::new(),
        message_bytes: bench.message_bytes(),
        closed,
        peak_concurrency,
        raw_ceiling,
        half_rate,
        open_connections: plan.open_connections,
        open_ingress,
        open_ceiling,
        overload_connections: plan.overload_connections,
        overloads,
        idle,
        after_closed,
        after_overload: ProcSample::default(),
        profile,
        repeated: 0,
    })
}

/// The compiled-in default of `ingress.max_in_flight`.
fn default_max_in_flight() -> anyhow::Result<usize> {
    Ok(jira_sync_settings::Settings::from_toml("")
        .context("the default settings")?
        .ingress
        .max_in_flight)
}

/// The concurrency with the highest median ingress rate, and that rate.
fn peak(closed: &[Closed]) -> (usize, f64) {
    closed
        .iter()
        .map(|c| (c.concurrency, median_rate(&c.ingress)))
        .fold((1, 0.0), |best, x| if x.1 > best.1 { x } else { best })
}

/// The median accepted rate of `runs`.
pub fn median_rate(runs: &[Run]) -> f64 {
    median(&runs.iter().map(|r| r.outcome.rate()).collect::<Vec<_>>()).unwrap_or(0.0)
}

/// Concurrency of the footprint benchmark's maximum-load phase (where throughput levels off).
const FOOTPRINT_CONCURRENCY: usize = 32;

/// The ingress process at its maximum load, for the footprint benchmark.
pub struct PeakFootprint {
    pub concurrency: usize,
    pub window: Duration,
    /// Accepted webhooks per second.
    pub rate: f64,
    pub idle: ProcSample,
    pub after: ProcSample,
    pub cpu_per_webhook: Duration,
    /// The ingress's CPU time over the window, as a share of one core.
    pub cpu_share: f64,
}

/// Starts an ingress, loads it in a closed loop for `window` (after a second of warm-up) and
/// reads its `/proc` figures before and after.
pub async fn peak_footprint(window: Duration) -> anyhow::Result<PeakFootprint> {
    let (fixtures, _) = setup::fixtures()?;
    let world = World::create(&fixtures).await?;
    let result = peak_footprint_in(&world, &fixtures, window).await;
    world.cleanup().await;
    result
}

async fn peak_footprint_in(
    world: &World,
    fixtures: &[Fixture],
    window: Duration,
) -> anyhow::Result<PeakFootprint> {
    let port = setup::port()?;
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        fixtures
            .iter()
            .map(|f| webhook_request(port, ENDPOINT, SECRET, &f.body))
            .collect::<anyhow::Result<_>>()?,
    );
    let bench = Bench::connect(world, port, requests).await?;
    let ingress = world.start_ingress(port, None).await?;
    let measured = async {
        let idle = ingress.sample()?;
        let mut plan = Plan::new(false);
        plan.closed.warmup = Duration::from_secs(1);
        let run = bench
            .ingress_closed(&plan, ingress.pid, FOOTPRINT_CONCURRENCY, window)
            .await?;
        Ok::<_, anyhow::Error>((idle, run, ingress.sample()?))
    }
    .await;
    ingress.stop().await?;
    let (idle, run, after) = measured?;
    let accepted = run.outcome.accepted.max(1);
    Ok(PeakFootprint {
        concurrency: FOOTPRINT_CONCURRENCY,
        window,
        rate: run.outcome.rate(),
        idle,
        after,
        cpu_per_webhook: run.usage.ingress / u32::try_from(accepted).unwrap_or(u32::MAX),
        cpu_share: run.usage.ingress.as_secs_f64() / window.as_secs_f64(),
    })
}
