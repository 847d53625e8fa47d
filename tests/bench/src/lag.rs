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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_jira_sim::{BulkSeed, SimConfig, Simulator, SiteConfig};

use crate::drive::{self, Arrival, Driven, summary_fields, summary_value};
use crate::phases::{self, Phases};
use crate::report::Section;
use crate::scrape::{Delta, Scrape};
use crate::setup::{self, Regime, System};
use crate::stats::{median, ms, quantile};
use crate::{Options, bare};

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
    let admin = a.users().first().map(|u| u.account_id.clone());
    let bot = b.bot().map(|u| u.account_id.clone());
    let source = drive::summary_changes(a, "A", &tag, admin.as_deref());
    let target = drive::summary_changes(b, "B", &tag, bot.as_deref());
    let arrivals = drive::arrivals(&source, &target, &twins);
    let (sa, sb) = (a.stats(), b.stats());
    let bot_429 = (sa.rate_limited + sb.rate_limited).saturating_sub(driven.throttled);
    // Site A's reads are all the bot's (the person only writes); B only hears from the bot.
    let bot_calls = sa.reads + sb.reads + sb.writes;
    let mut m = summarize(&arrivals, &driven, rate, count, bot_429, bot_calls);
    m.max_backlog = max_backlog;
    m.end_backlog = end_backlog;
    m.worker = worker;
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

/// One run of the floor at `rate`: two fresh sites with the same limits, the same person and a
/// bare client copying each change (read A, write B) as soon as it is made.
async fn measure_floor(plan: &Plan, regime: Regime, rate: f64) -> anyhow::Result<Measured> {
    let sim = Simulator::start(SimConfig {
        sites: vec![SiteConfig::named("a"), SiteConfig::named("b")],
        ..SimConfig::default()
    })
    .await?;
    let result = floor_on(&sim, plan, regime, rate).await;
    sim.stop().await;
    result
}

async fn floor_on(
    sim: &Simulator,
    plan: &Plan,
    regime: Regime,
    rate: f64,
) -> anyhow::Result<Measured> {
    let site = |name: &str| {
        sim.site(name)
            .ok_or_else(|| anyhow::anyhow!("no site {name}"))
    };
    let (a, b) = (site("a")?, site("b")?);
    let seed = |project: &str| BulkSeed {
        project: project.to_owned(),
        count: PAIRS as u32,
        summary_prefix: Some("pair".to_owned()),
        ..BulkSeed::default()
    };
    let seeded_a = a
        .seed_issues(&seed("A"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let seeded_b = b
        .seed_issues(&seed("B"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let ids = |first: Option<String>| -> anyhow::Result<Vec<String>> {
        let first: u64 = first.and_then(|f| f.parse().ok()).unwrap_or_default();
        Ok((first..first + PAIRS as u64)
            .map(|i| i.to_string())
            .collect())
    };
    let pairs: Arc<Vec<(String, String)>> = Arc::new(
        ids(seeded_a.first_id)?
            .into_iter()
            .zip(ids(seeded_b.first_id)?)
            .collect(),
    );
    for (name, other) in [("a", rate), ("b", 0.0)] {
        site(name)?
            .set_limits(regime.limits(other))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let person = setup::account(&http, a, false)?;
    let (reader, writer) = (
        setup::account(&http, a, true)?,
        setup::account(&http, b, true)?,
    );
    let tag = format!("floor{}", rate as u64);
    let count = (rate * plan.seconds).round() as usize;
    let driven = drive::drive(rate, count, |k| {
        let (person, reader, writer) = (person.clone(), reader.clone(), writer.clone());
        let (pairs, value) = (pairs.clone(), summary_value(&tag, k));
        async move {
            let (ia, ib) = &pairs[k % pairs.len()];
            let made = person.edit(ia, summary_fields(&value)).await?;
            if (200..300).contains(&made.status) {
                copy(&reader, &writer, ia, ib).await?;
            }
            Ok(made)
        }
    })
    .await;
    let twins: HashMap<String, String> = pairs.iter().cloned().collect();
    let admin = a.users().first().map(|u| u.account_id.clone());
    let bot = b.bot().map(|u| u.account_id.clone());
    let source = drive::summary_changes(a, "A", &tag, admin.as_deref());
    let target = drive::summary_changes(b, "B", &tag, bot.as_deref());
    let arrivals = drive::arrivals(&source, &target, &twins);
    let (sa, sb) = (a.stats(), b.stats());
    let bot_429 = (sa.rate_limited + sb.rate_limited).saturating_sub(driven.throttled);
    let calls = sa.reads + sb.reads + sb.writes;
    let mut m = summarize(&arrivals, &driven, rate, count, bot_429, calls);
    m.sustained = m.arrived >= 1.0 && not_growing(m.first_p99, m.last_p99);
    Ok(m)
}

/// The floor's work for one change: read the summary in A, write it to B.
async fn copy(reader: &bare::Jira, writer: &bare::Jira, a: &str, b: &str) -> anyhow::Result<()> {
    let read = reader.get_issue(a, "summary").await?;
    let summary = read.body["fields"]["summary"].clone();
    writer
        .edit(b, serde_json::json!({ "summary": summary }))
        .await?;
    Ok(())
}

/// The median of durations where `None` (did not arrive) counts as longer than any.
fn median_lag(values: impl Iterator<Item = Option<Duration>>) -> Option<Duration> {
    let mut v: Vec<Duration> = values.map(|d| d.unwrap_or(Duration::MAX)).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2]).filter(|d| *d != Duration::MAX)
}

fn show(d: Option<Duration>) -> String {
    d.map_or_else(|| "not arrived".to_owned(), |d| format!("{:.0} ms", ms(d)))
}

fn ratio(ours: Option<Duration>, floor: Option<Duration>) -> String {
    match (ours, floor) {
        (Some(o), Some(f)) if !f.is_zero() => format!("{:.2}x", ms(o) / ms(f)),
        (None, Some(_)) => "n/a (not arrived)".to_owned(),
        _ => "n/a".to_owned(),
    }
}

fn med(runs: &[Measured], f: impl Fn(&Measured) -> f64) -> f64 {
    median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0)
}

type Row = (Variant, f64, Vec<Measured>, Vec<Measured>);

fn render(
    plan: &Plan,
    rows: &[Row],
    bounds: &[(Variant, f64, Option<f64>)],
    load: (String, String),
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "A person edits summaries in site A at a fixed rate (open loop), round-robin over {PAIRS} \
         linked pairs, for {:.0} s per run; lag = B's changelog time of the bot's write carrying \
         the change (or a later value of the same issue) minus A's changelog time of the change: \
         the simulator's clock, no polling. Median of {} run(s) per row, each on a fresh \
         installation (ingress + worker in-process, RabbitMQ, PostgreSQL; prefetch = 2 x \
         concurrency, at least 16; database pools of max(10, concurrency) connections; the \
         compiled-in `[jira]` defaults). A change not on B {:.0} s \
         after the last one was made counts as not arrived. Floor: a bare client that reads each \
         change from A and writes it to B as soon as it is made, against two sites with the same \
         latency and limits. Jira-like limits: a token bucket of 100 requests/s per site for the \
         bot (the person's own requests are added to site A's bucket) and 20 writes per issue \
         per 2 s. Load average (1 min) before / after: {} / {}.\n",
        plan.seconds,
        plan.reps,
        plan.drain.as_secs_f64(),
        load.0,
        load.1,
    );
    let _ = writeln!(
        out,
        "| setting | rate (achieved) | lag p50 | floor p50 | ratio | lag p99 | floor p99 | ratio | \
         arrived | p99 first / last third | queue max / at end | bot calls per change | bot 429s \
         per 1k | mean reconcile | retried | sustained |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for (variant, rate, ours, floors) in rows {
        let p50 = median_lag(ours.iter().map(|m| m.p50));
        let p99 = median_lag(ours.iter().map(|m| m.p99));
        let f50 = median_lag(floors.iter().map(|m| m.p50));
        let f99 = median_lag(floors.iter().map(|m| m.p99));
        let _ = writeln!(
            out,
            "| {} | {rate:.0}/s ({:.0}/s) | {} | {} | {} | {} | {} | {} | {:.1}% | {} / {} | \
             {:.0} / {:.0} | {:.1} (floor {:.1}) | {:.0} (floor {:.0}) | {:.0} ms | {:.0} | {} |",
            variant.label(),
            med(ours, |m| m.applied_rate),
            show(p50),
            show(f50),
            ratio(p50, f50),
            show(p99),
            show(f99),
            ratio(p99, f99),
            med(ours, |m| m.arrived * 100.0),
            show(median_lag(ours.iter().map(|m| m.first_p99))),
            show(median_lag(ours.iter().map(|m| m.last_p99))),
            med(ours, |m| m.max_backlog as f64),
            med(ours, |m| m.end_backlog as f64),
            med(ours, |m| m.calls_per_change),
            med(floors, |m| m.calls_per_change),
            med(ours, |m| m.bot_429_per_1000),
            med(floors, |m| m.bot_429_per_1000),
            med(ours, |m| m.worker.mean_ms()),
            med(ours, |m| m.worker.retried),
            if majority(ours) { "yes" } else { "no" },
        );
    }
    out.push('\n');
    let phased: Vec<(&Variant, &f64, Vec<Phases>)> = rows
        .iter()
        .map(|(v, r, ours, _)| (v, r, ours.iter().filter_map(|m| m.phases).collect()))
        .filter(|(_, _, p): &(_, _, Vec<Phases>)| !p.is_empty())
        .collect();
    if !phased.is_empty() {
        let _ = writeln!(
            out,
            "Where the lag goes (from A's webhook log and both sites' request logs; medians over \
             the changes of a run, then over runs). The simulator alone accounts for about \
             117 ms of the reads (the slower of two parallel calls of 50-150 ms) and 100 ms of \
             the write; the rest is jira-sync's: webhook = A applied it -> the ingress answered \
             (broker confirmed); reads = -> the bot's reads of both issues answered (queue, \
             worker pick-up, lock, link look-up, the reads); write = -> B applied the write.\n"
        );
        let _ = writeln!(
            out,
            "| setting | rate | webhook | reads | write | changes followed |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for (variant, rate, p) in phased {
            let m = |f: fn(&Phases) -> Duration| {
                median(&p.iter().map(|x| ms(f(x))).collect::<Vec<_>>()).unwrap_or(0.0)
            };
            let _ = writeln!(
                out,
                "| {} | {rate:.0}/s | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} |",
                variant.label(),
                m(|x| x.webhook),
                m(|x| x.reads),
                m(|x| x.write),
                median(&p.iter().map(|x| x.samples as f64).collect::<Vec<_>>()).unwrap_or(0.0),
            );
        }
        out.push('\n');
    }
    for (variant, best, worst) in bounds {
        let _ = match worst {
            Some(w) => writeln!(
                out,
                "- Highest sustained rate, {}: **{best:.0} changes/s** (not sustained at {w:.0}/s).",
                variant.label()
            ),
            None => writeln!(
                out,
                "- Highest sustained rate, {}: at least **{best:.0} changes/s** (every rate tried).",
                variant.label()
            ),
        };
    }
    out
}
