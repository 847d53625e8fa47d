//! Benchmark 3, cost per change: the calls jira-sync's bot makes to both sites for each change a
//! person makes in site A (single-field edits, transitions, comments), read from the sites'
//! request logs (the bot's account only; reads and writes apart; 429 answers counted
//! separately), and the 429s it receives per 1,000 changes under Jira-like limits.
//!
//! Each kind is measured on its own: every linked issue is changed once, at a steady rate, and
//! the installation is left to settle (whatever the bot's own write sets off is part of what a
//! change costs). The baseline is the minimum: one read of the changed issue (a
//! webhook's values cannot be trusted: they arrive late, twice, out of order) and one write;
//! ratio = measured / minimum.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use crate::Options;
use crate::drive::{self, Driven, summary_fields, summary_value};
use crate::report::Section;
use crate::scrape::Scrape;
use crate::setup::{self, BUDGET_RPS, BotCalls, Regime, System};
use crate::stats::median;

/// The worker's concurrency as deployed.
const CONCURRENCY: usize = 8;
/// A concurrency that carries 100 changes/s (see the lag benchmark).
const TUNED: usize = 32;
/// The transition from To Do to In Progress in the simulator's default workflow.
const START: &str = "21";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Edit,
    Transition,
    Comment,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Edit => "single-field edit (summary)",
            Kind::Transition => "transition (To Do -> In Progress)",
            Kind::Comment => "comment added",
        }
    }
}

struct Plan {
    pairs: usize,
    rate: f64,
    /// Edits per second of the load phase (several per issue), for 429s.
    load_rate: f64,
    load_seconds: f64,
    /// A second installation with [`TUNED`] reconciles at once, driven at this rate (0: none):
    /// fast enough to ask for more than a site's budget.
    stress_rate: f64,
    reps: usize,
}

impl Plan {
    fn of(opts: &Options) -> Self {
        if opts.quick {
            Self {
                pairs: 21,
                rate: 10.0,
                load_rate: 40.0,
                load_seconds: 3.0,
                stress_rate: 0.0,
                reps: 1,
            }
        } else {
            Self {
                pairs: 100,
                rate: 10.0,
                load_rate: 50.0,
                load_seconds: 10.0,
                stress_rate: 100.0,
                reps: 3,
            }
        }
    }
}

/// One phase's figures.
#[derive(Debug, Clone, Default)]
struct Phase {
    changes: usize,
    calls: BotCalls,
    routes: BTreeMap<String, u64>,
    reconciles: f64,
    driven: Driven,
}

impl Phase {
    fn per_change(&self, n: u64) -> f64 {
        n as f64 / self.changes.max(1) as f64
    }

    fn per_1000(&self) -> f64 {
        self.calls.throttled as f64 * 1000.0 / self.changes.max(1) as f64
    }
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let plan = Plan::of(&opts);
    let kinds = [Kind::Edit, Kind::Transition, Kind::Comment];
    let mut phases: HashMap<&'static str, Vec<Phase>> = HashMap::new();
    for rep in 0..plan.reps {
        eprintln!("cost: run {}", rep + 1);
        let system = System::start(plan.pairs, CONCURRENCY).await?;
        let result = measure(&system, &plan, &kinds, &mut phases).await;
        system.stop().await;
        result?;
        if plan.stress_rate > 0.0 {
            let system = System::start(plan.pairs, TUNED).await?;
            let result = stress(&system, &plan).await;
            system.stop().await;
            phases.entry("stress").or_default().push(result?);
            let system =
                System::start_tuned(plan.pairs, TUNED, setup::as_deployed_with_budget).await?;
            let result = stress(&system, &plan).await;
            system.stop().await;
            phases.entry("stress_budget").or_default().push(result?);
        }
    }
    Ok(Section {
        name: "cost",
        title: "Cost per change",
        command: opts.command.clone(),
        body: render(&plan, &kinds, &phases),
    })
}

async fn measure(
    system: &System,
    plan: &Plan,
    kinds: &[Kind],
    phases: &mut HashMap<&'static str, Vec<Phase>>,
) -> anyhow::Result<()> {
    // Warm up the worker's caches (field catalogue, workflow, people) with one change of each
    // kind on the first pair, as a running installation would have them.
    system.set_regime(Regime::JiraLike, plan.rate)?;
    let first = system.pairs[..1].to_vec();
    for &kind in kinds {
        phase(system, &first, kind, 1.0, 1, "warm").await?;
    }
    let rest = system.pairs[1..].to_vec();
    for &kind in kinds {
        let p = phase(system, &rest, kind, plan.rate, rest.len(), "cost").await?;
        phases.entry(kind.label()).or_default().push(p);
    }
    // Load: several edits per issue, faster, for the 429s.
    system.set_regime(Regime::JiraLike, plan.load_rate)?;
    let count = (plan.load_rate * plan.load_seconds).round() as usize;
    let p = phase(system, &rest, Kind::Edit, plan.load_rate, count, "load").await?;
    phases.entry("load").or_default().push(p);
    Ok(())
}

/// Edits at [`Plan::stress_rate`] for [`Plan::load_seconds`] on an installation that can keep
/// up with them, under Jira-like limits.
async fn stress(system: &System, plan: &Plan) -> anyhow::Result<Phase> {
    system.set_regime(Regime::JiraLike, plan.stress_rate)?;
    let first = system.pairs[..1].to_vec();
    phase(system, &first, Kind::Edit, 1.0, 1, "warm").await?;
    let rest = system.pairs[1..].to_vec();
    let count = (plan.stress_rate * plan.load_seconds).round() as usize;
    phase(system, &rest, Kind::Edit, plan.stress_rate, count, "stress").await
}

/// Makes `count` changes of `kind` round-robin over `pairs` at `rate`, waits until they are
/// on the other side and everything is quiet, and reads the bot's calls.
async fn phase(
    system: &System,
    pairs: &[(String, String)],
    kind: Kind,
    rate: f64,
    count: usize,
    tag: &str,
) -> anyhow::Result<Phase> {
    system.settle(Duration::from_secs(120)).await?;
    let (a, b) = (system.site("a"), system.site("b"));
    a.reset_stats();
    b.reset_stats();
    let before = Scrape::worker(&system.http, &system.env.worker_url).await;
    let ids: Arc<Vec<String>> = Arc::new(pairs.iter().map(|p| p.0.clone()).collect());
    let person = system.person.clone();
    let tag = tag.to_owned();
    let driven = drive::drive(rate, count, |k| {
        let (person, ids, value) = (person.clone(), ids.clone(), summary_value(&tag, k));
        async move {
            let id = &ids[k % ids.len()];
            match kind {
                Kind::Edit => person.edit(id, summary_fields(&value)).await,
                Kind::Transition => person.transition(id, START).await,
                Kind::Comment => person.comment(id, &value).await,
            }
        }
    })
    .await;
    if driven.applied == 0 {
        bail!("no {} was applied: {:?}", kind.label(), driven.first_error);
    }
    wait_synced(system, pairs, kind).await?;
    system.settle(Duration::from_secs(120)).await?;
    let (Some(ca), Some(cb)) = (setup::bot_calls(a), setup::bot_calls(b)) else {
        bail!("a site's request log overflowed: make the phase shorter");
    };
    let mut routes = BTreeMap::new();
    for (site, name) in [(a, "A"), (b, "B")] {
        for (route, n) in setup::bot_routes(site) {
            routes.insert(format!("{name}: {route}"), n);
        }
    }
    let worker = Scrape::worker(&system.http, &system.env.worker_url)
        .await
        .since(&before);
    Ok(Phase {
        changes: driven.applied,
        calls: ca.add(cb),
        routes,
        reconciles: worker.reconciles,
        driven,
    })
}

/// Waits until every pair shows the change on B (same summary, same status, as many comments).
async fn wait_synced(
    system: &System,
    pairs: &[(String, String)],
    kind: Kind,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (a, b) = (system.site("a"), system.site("b"));
        let synced = pairs
            .iter()
            .all(|(ia, ib)| match (a.issue(ia), b.issue(ib)) {
                (Some(x), Some(y)) => same(kind, &x, &y),
                _ => false,
            });
        if synced {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the {} changes did not reach B within 120 s", kind.label());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn same(kind: Kind, a: &Value, b: &Value) -> bool {
    let f = |v: &Value, p: &str| v["fields"].pointer(p).cloned();
    match kind {
        Kind::Edit => f(a, "/summary") == f(b, "/summary"),
        Kind::Transition => f(a, "/status/name") == f(b, "/status/name"),
        Kind::Comment => {
            let n = |v: &Value| {
                v["fields"]["comment"]["comments"]
                    .as_array()
                    .map_or(0, Vec::len)
            };
            n(a) == n(b)
        }
    }
}

fn med(runs: &[Phase], f: impl Fn(&Phase) -> f64) -> f64 {
    median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0)
}

fn render(plan: &Plan, kinds: &[Kind], phases: &HashMap<&'static str, Vec<Phase>>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "A person changes each of {} linked issues in site A once, at {:.0} changes/s, under \
         Jira-like limits (latency 50-150 ms, 100 requests/s per site for the bot, 20 writes per \
         issue per 2 s); the installation is then left to settle, so whatever the bot's own \
         write sets off is counted too (its webhook from B, which the worker acknowledges without a reconcile, as the echo of its own write). Calls are the bot's \
         requests to both sites from the simulators' request logs; a 429 answer is not counted \
         as a call but in its own column. Minimum: 1 read (the changed issue; webhook payloads \
         are not trusted) + 1 write. Median of {} run(s), each on a fresh installation \
         (`worker.concurrency` = {CONCURRENCY}).\n",
        plan.pairs - 1,
        plan.rate,
        plan.reps
    );
    let _ = writeln!(
        out,
        "| change | reads/change | writes/change | calls/change | minimum | ratio | reconciles/change | 429 per 1,000 changes |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    let empty = Vec::new();
    for kind in kinds {
        let runs = phases.get(kind.label()).unwrap_or(&empty);
        let reads = med(runs, |p| p.per_change(p.calls.reads));
        let writes = med(runs, |p| p.per_change(p.calls.writes));
        let _ = writeln!(
            out,
            "| {} | {reads:.2} | {writes:.2} | **{:.2}** | 2 | {:.2}x | {:.2} | {:.1} |",
            kind.label(),
            reads + writes,
            (reads + writes) / 2.0,
            med(runs, |p| p.reconciles / p.changes.max(1) as f64),
            med(runs, Phase::per_1000),
        );
    }
    let load = phases.get("load").unwrap_or(&empty);
    let _ = writeln!(
        out,
        "\nUnder load ({:.0} edits/s for {:.0} s, several per issue): **{:.1} 429s per 1,000 \
         changes** (reads/change {:.2}, writes/change {:.2}; the person's own 429s on A: {:.0}).\n",
        plan.load_rate,
        plan.load_seconds,
        med(load, Phase::per_1000),
        med(load, |p| p.per_change(p.calls.reads)),
        med(load, |p| p.per_change(p.calls.writes)),
        med(load, |p| p.driven.throttled as f64),
    );
    if let Some(stress) = phases.get("stress") {
        let _ = writeln!(
            out,
            "With `worker.concurrency` = {TUNED} ({:.0} edits/s for {:.0} s): **{:.1} 429s per \
             1,000 changes** (reads/change {:.2}, writes/change {:.2}). The worker then asks for \
             more than a site's 100 requests/s (two calls on B per change); its Jira client has \
             no request budget of its own (`jira.requests_per_second` is unset, the default), so it \
             learns the limit from 429s, then pauses the endpoint for the `Retry-After`.\n",
            plan.stress_rate,
            plan.load_seconds,
            med(stress, Phase::per_1000),
            med(stress, |p| p.per_change(p.calls.reads)),
            med(stress, |p| p.per_change(p.calls.writes)),
        );
    }
    if let Some(budgeted) = phases.get("stress_budget") {
        let _ = writeln!(
            out,
            "The same with `jira.requests_per_second` = {BUDGET_RPS:.0} (a budget per site a \
             little under the site's 100): **{:.1} 429s per 1,000 changes** (reads/change \
             {:.2}, writes/change {:.2}); the requests beyond the budget wait in the worker \
             instead.\n",
            med(budgeted, Phase::per_1000),
            med(budgeted, |p| p.per_change(p.calls.reads)),
            med(budgeted, |p| p.per_change(p.calls.writes)),
        );
    }
    targets(&mut out, plan, phases);
    let _ = writeln!(out, "Where the calls go (first run, per change):\n");
    let _ = writeln!(out, "| change | call | per change |");
    let _ = writeln!(out, "|---|---|---|");
    for kind in kinds {
        let Some(first) = phases.get(kind.label()).and_then(|r| r.first()) else {
            continue;
        };
        for (route, n) in &first.routes {
            let _ = writeln!(
                out,
                "| {} | `{route}` | {:.2} |",
                kind.label(),
                first.per_change(*n)
            );
        }
    }
    out
}

/// The targets: at most 2 calls per synced single-field edit, at most one 429 per 1,000 changes.
fn targets(out: &mut String, plan: &Plan, phases: &HashMap<&'static str, Vec<Phase>>) {
    let empty = Vec::new();
    let edits = phases.get(Kind::Edit.label()).unwrap_or(&empty);
    let calls = med(edits, |p| p.per_change(p.calls.reads + p.calls.writes));
    let verdict = |met: bool| if met { "**met**" } else { "**missed**" };
    let _ = writeln!(
        out,
        "Targets:\n\n- At most 2 outbound calls per synced single-field edit: {} ({calls:.2} \
         calls, {:.2}x the target). Beyond the minimum's read of A and write to B, the worker \
         reads B's issue: the three-way merge needs B's current values to tell a concurrent edit \
         made in B (kept, or a conflict) from a value B still holds from the last sync (the \
         floor's client overwrites B blindly). Comments are listed only when an issue has some.",
        verdict(calls <= 2.0),
        calls / 2.0
    );
    let mut worst: f64 = 0.0;
    let mut parts = Vec::new();
    // Judged on the configurations that keep within the sites' quota; the one asking for
    // more without a budget is shown beside them.
    for (name, label, rate, judged) in [
        (Kind::Edit.label(), "edits/s", plan.rate, true),
        ("load", "edits/s", plan.load_rate, true),
        (
            "stress",
            "edits/s, concurrency 32, no budget",
            plan.stress_rate,
            false,
        ),
        (
            "stress_budget",
            "edits/s, concurrency 32 and a budget",
            plan.stress_rate,
            true,
        ),
    ] {
        if let Some(runs) = phases.get(name) {
            let n = med(runs, Phase::per_1000);
            if judged {
                worst = worst.max(n);
            }
            parts.push(format!("{n:.1} at {rate:.0} {label}"));
        }
    }
    let _ = writeln!(
        out,
        "- At most one 429 per 1,000 changes: {} ({}). A worker that cannot ask for more than \
         a site's quota meets it; one fast enough to exceed it meets it with a request budget \
         (`jira.requests_per_second`), and draws 429s without one.\n",
        verdict(worst <= 1.0),
        parts.join("; ")
    );
}
