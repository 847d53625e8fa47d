//! Benchmark 2, end-to-end sync lag: a person changes summaries in site A at a fixed rate,
//! spread round-robin over linked pairs; each change's lag runs from the moment A applied it
//! to the moment B applied the bot's write carrying it (or a later value of the same issue),
//! both read from the sites' changelogs, so the simulator's clock times it.
//!
//! Beside it, in the same run, the floor: a bare client that, as soon as each change is made,
//! reads it from A and writes it to B (two calls, the least any sync can do) against sites
//! with the same latency and limits. Ratio = jira-sync / floor.
//!
//! A rate is sustained when every change arrived before the drain deadline, the work queue at
//! the end of the run held less than two seconds of changes, and the p99 lag of the last third
//! of the changes is within 1.5x (+200 ms) of the first third's: a backlog that grows shows in
//! all three.

mod floor;
mod render;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_jira_sim::SiteHandle;

use crate::Options;
use crate::drive::{self, Arrival, Driven, summary_fields, summary_value};
use crate::phases::{self, Phases};
use crate::report::Section;
use crate::scrape::{Delta, Scrape};
use crate::setup::{self, Regime, System};
use crate::stats::{ms, quantile};
use floor::measure_floor;
use render::{Row, render};

/// Linked pairs the changes are spread over.
const PAIRS: usize = 200;
/// The worker's concurrency as deployed (`worker.concurrency` default).
const CONCURRENCY: usize = 8;
/// A concurrency sized for 100 changes/s at 100 ms per call (Little's law: a reconcile is
/// about 0.25 s of reads and a write, so 100/s keeps about 25 busy).
const TUNED: usize = 32;

/// How the installation runs: the sites' limits and the worker's concurrency.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Variant {
    regime: Regime,
    concurrency: usize,
}

impl Variant {
    fn label(self) -> String {
        format!("{}, concurrency {}", self.regime.label(), self.concurrency)
    }
}

struct Plan {
    rates: Vec<f64>,
    variants: Vec<Variant>,
    seconds: f64,
    reps: usize,
    drain: Duration,
    /// Rates tried between the highest sustained and the lowest unsustained one.
    bisect: usize,
}

impl Plan {
    fn of(opts: &Options) -> Self {
        let deployed = |regime| Variant {
            regime,
            concurrency: CONCURRENCY,
        };
        let tuned = |regime| Variant {
            regime,
            concurrency: TUNED,
        };
        if opts.quick {
            Self {
                rates: vec![10.0, 100.0],
                variants: vec![deployed(Regime::JiraLike)],
                seconds: 4.0,
                reps: 1,
                drain: Duration::from_secs(8),
                bisect: 0,
            }
        } else {
            Self {
                rates: vec![10.0, 100.0, 500.0],
                variants: vec![
                    deployed(Regime::JiraLike),
                    tuned(Regime::JiraLike),
                    tuned(Regime::Latency),
                ],
                seconds: 12.0,
                reps: 3,
                drain: Duration::from_secs(20),
                bisect: 3,
            }
        }
    }
}

/// One run at one rate: jira-sync's figures or the floor's.
#[derive(Debug, Clone, Default)]
struct Measured {
    p50: Option<Duration>,
    p99: Option<Duration>,
    /// Share of changes that arrived before the drain deadline.
    arrived: f64,
    first_p99: Option<Duration>,
    last_p99: Option<Duration>,
    max_backlog: u64,
    end_backlog: u64,
    /// Changes per second actually applied in A.
    applied_rate: f64,
    /// 429s the bot (or the floor client) received, per 1,000 changes.
    bot_429_per_1000: f64,
    /// The bot's calls per change (reads + writes, both sites).
    calls_per_change: f64,
    /// The bot's requests to site B per change (429s included).
    b_calls_per_change: f64,
    /// The worker's busy time (receive to settle, all deliveries) per change.
    busy_per_change_ms: f64,
    worker: Delta,
    /// Where the lag goes (low rates only).
    phases: Option<Phases>,
    sustained: bool,
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let plan = Plan::of(&opts);
    let load_before = setup::load_average();
    let mut rows: Vec<Row> = Vec::new();
    let mut bounds: Vec<(Variant, f64, Option<f64>)> = Vec::new();
    // The floor depends on the sites' limits and the rate only: measured once per pair.
    let mut floor_runs: HashMap<(&'static str, u64), Vec<Measured>> = HashMap::new();
    for &variant in &plan.variants {
        let mut best: f64 = 0.0;
        let mut worst: Option<f64> = None;
        for &rate in &plan.rates {
            let key = (variant.regime.label(), rate as u64);
            let measure_floors = !floor_runs.contains_key(&key);
            let mut ours = Vec::new();
            for rep in 0..plan.reps {
                eprintln!("lag: {} at {rate}/s, run {}", variant.label(), rep + 1);
                ours.push(measure_sync(&plan, variant, rate).await?);
                if measure_floors {
                    let floor = measure_floor(&plan, variant.regime, rate).await?;
                    floor_runs.entry(key).or_default().push(floor);
                }
            }
            let floors = floor_runs.get(&key).cloned().unwrap_or_default();
            if majority(&ours) {
                best = best.max(rate);
            } else {
                worst = Some(worst.map_or(rate, |w: f64| w.min(rate)));
            }
            rows.push((variant, rate, ours, floors));
        }
        for _ in 0..plan.bisect {
            let Some(high) = worst else { break };
            let mid = ((best + high) / 2.0).round();
            if mid <= best || mid >= high {
                break;
            }
            eprintln!("lag: {} at {mid}/s (bisecting)", variant.label());
            let m = measure_sync(&plan, variant, mid).await?;
            if m.sustained {
                best = mid;
            } else {
                worst = Some(mid);
            }
        }
        bounds.push((variant, best, worst));
    }
    let load = (load_before, setup::load_average());
    Ok(Section {
        name: "lag",
        title: "End-to-end sync lag",
        command: opts.command.clone(),
        body: render(&plan, &rows, &bounds, load),
    })
}

fn majority(runs: &[Measured]) -> bool {
    runs.iter().filter(|m| m.sustained).count() * 2 > runs.len()
}

/// One run of jira-sync at `rate` on a fresh installation.
async fn measure_sync(plan: &Plan, variant: Variant, rate: f64) -> anyhow::Result<Measured> {
    let system = System::start(PAIRS, variant.concurrency).await?;
    let result = measure_on(&system, plan, variant.regime, rate).await;
    system.stop().await;
    result
}

async fn measure_on(
    system: &System,
    plan: &Plan,
    regime: Regime,
    rate: f64,
) -> anyhow::Result<Measured> {
    system.set_regime(regime, rate)?;
    let (a, b) = (system.site("a"), system.site("b"));
    a.reset_stats();
    b.reset_stats();
    let before = Scrape::worker(&system.http, &system.env.worker_url).await;
    let tag = format!("sync{}", rate as u64);
    let count = (rate * plan.seconds).round() as usize;
    let ids: Arc<Vec<String>> = Arc::new(system.pairs.iter().map(|p| p.0.clone()).collect());
    let person = system.person.clone();
    let values = tag.clone();
    let driver = tokio::spawn(drive::drive(rate, count, move |k| {
        let (person, ids, value) = (person.clone(), ids.clone(), summary_value(&values, k));
        async move {
            let id = &ids[k % ids.len()];
            person.edit(id, summary_fields(&value)).await
        }
    }));
    let mut max_backlog = 0;
    while !driver.is_finished() {
        max_backlog = max_backlog.max(system.backlog().await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let driven = driver.await?;
    let end_backlog = system.backlog().await;
    let max_backlog = max_backlog.max(end_backlog);
    let twins: HashMap<String, String> = system.pairs.iter().cloned().collect();
    wait_for_arrival(system, &twins, plan.drain).await;
    let worker = Scrape::worker(&system.http, &system.env.worker_url)
        .await
        .since(&before);
    let (mut m, arrivals) = from_sites(a, b, &tag, &twins, &driven, rate, count);
    m.max_backlog = max_backlog;
    m.end_backlog = end_backlog;
    m.worker = worker;
    let applied = driven.applied.max(1) as f64;
    m.busy_per_change_ms = worker.busy_seconds * 1000.0 / applied;
    if rate <= 20.0 {
        m.phases = phases::phases(a, b, &twins, &arrivals);
    }
    m.sustained = m.arrived >= 1.0
        && end_backlog as f64 <= (rate * 2.0).max(20.0)
        && not_growing(m.first_p99, m.last_p99);
    Ok(m)
}

/// Waits until every twin shows the last value its issue was given, or `drain` passes.
async fn wait_for_arrival(system: &System, twins: &HashMap<String, String>, drain: Duration) {
    let deadline = Instant::now() + drain;
    while Instant::now() < deadline {
        let a = drive::summaries(system.site("a"), "A");
        let b = drive::summaries(system.site("b"), "B");
        let done = twins
            .iter()
            .all(|(ia, ib)| a.contains_key(ia) && a.get(ia) == b.get(ib));
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn not_growing(first: Option<Duration>, last: Option<Duration>) -> bool {
    match (first, last) {
        (Some(f), Some(l)) => ms(l) <= ms(f) * 1.5 + 200.0,
        _ => false,
    }
}

/// The figures of a run at `rate` (`count` changes tagged `tag`, made as `driven` says) from
/// both sites' changelogs and counters: each change from its time in A to its arrival in B
/// (`twins` maps A's issue ids to B's), and the bot's calls and 429s; with the arrivals.
fn from_sites(
    a: &SiteHandle,
    b: &SiteHandle,
    tag: &str,
    twins: &HashMap<String, String>,
    driven: &Driven,
    rate: f64,
    count: usize,
) -> (Measured, Vec<Arrival>) {
    let admin = a.users().first().map(|u| u.account_id.clone());
    let bot = b.bot().map(|u| u.account_id.clone());
    let source = drive::summary_changes(a, "A", tag, admin.as_deref());
    let target = drive::summary_changes(b, "B", tag, bot.as_deref());
    let arrivals = drive::arrivals(&source, &target, twins);
    let (sa, sb) = (a.stats(), b.stats());
    let bot_429 = (sa.rate_limited + sb.rate_limited).saturating_sub(driven.throttled);
    // Site A's reads are all the bot's (the person only writes); B only hears from the bot.
    let bot_calls = sa.reads + sb.reads + sb.writes;
    let mut m = summarize(&arrivals, driven, rate, count, bot_429, bot_calls);
    m.b_calls_per_change = (sb.reads + sb.writes) as f64 / driven.applied.max(1) as f64;
    (m, arrivals)
}

fn summarize(
    arrivals: &[Arrival],
    driven: &Driven,
    rate: f64,
    count: usize,
    bot_429: u64,
    bot_calls: u64,
) -> Measured {
    let changes = arrivals.len().max(1);
    let arrived = arrivals.iter().filter(|a| a.lag.is_some()).count();
    let q = |set: &[Arrival], q: f64| censored_quantile(set, q);
    let third = arrivals.len() / 3;
    let applied = driven.applied.max(1) as f64;
    Measured {
        p50: q(arrivals, 0.50),
        p99: q(arrivals, 0.99),
        arrived: arrived as f64 / changes as f64,
        first_p99: q(&arrivals[..third], 0.99),
        last_p99: q(&arrivals[arrivals.len() - third..], 0.99),
        applied_rate: if driven.elapsed.is_zero() {
            0.0
        } else {
            driven.applied as f64 / driven.elapsed.as_secs_f64().max(count as f64 / rate)
        },
        bot_429_per_1000: bot_429 as f64 * 1000.0 / applied,
        calls_per_change: bot_calls as f64 / applied,
        ..Measured::default()
    }
}

/// The `q`-quantile of the lags, counting changes that never arrived as longer than any that
/// did; `None` when the quantile falls among those.
fn censored_quantile(set: &[Arrival], q: f64) -> Option<Duration> {
    if set.is_empty() {
        return None;
    }
    let mut lags: Vec<Duration> = set.iter().map(|a| a.lag.unwrap_or(Duration::MAX)).collect();
    quantile(&mut lags, q).filter(|d| *d != Duration::MAX)
}
