//! The lag section: the table, where the lag goes, the target and the sustained rates.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Measured, PAIRS, Plan, Variant, majority};
use crate::phases::Phases;
use crate::setup::{self, Regime};
use crate::stats::{median, ms};

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

pub(super) type Row = (Variant, f64, Vec<Measured>, Vec<Measured>);

pub(super) fn render(
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
    targets(&mut out, rows, bounds);
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

/// The target at 100 changes/s (p50 < 400 ms, p99 < 1 s), per setting, and what limits the
/// settings that miss it, from the figures of the runs at the lowest rate.
fn targets(out: &mut String, rows: &[Row], bounds: &[(Variant, f64, Option<f64>)]) {
    let _ = writeln!(
        out,
        "Target at 100 changes/s with 100 ms average latency: p50 < 400 ms and p99 < 1 s.\n"
    );
    for (variant, rate, ours, _) in rows.iter().filter(|r| r.1 == 100.0) {
        let p50 = median_lag(ours.iter().map(|m| m.p50));
        let p99 = median_lag(ours.iter().map(|m| m.p99));
        let met = p50.is_some_and(|d| ms(d) < 400.0) && p99.is_some_and(|d| ms(d) < 1000.0);
        let low = rows
            .iter()
            .filter(|r| r.0 == *variant)
            .min_by(|x, y| x.1.total_cmp(&y.1))
            .map(|r| r.2.as_slice())
            .unwrap_or_default();
        let best = bounds.iter().find(|b| b.0 == *variant).map_or(0.0, |b| b.1);
        let verdict = if met {
            format!(
                "**met**: p50 {}, p99 {} at {rate:.0}/s",
                show(p50),
                show(p99)
            )
        } else {
            format!(
                "**missed**: p50 {} ({:.1}x the target), p99 {} ({})",
                show(p50),
                p50.map_or(f64::INFINITY, |d| ms(d) / 400.0),
                show(p99),
                p99.map_or_else(
                    || "not all arrived".to_owned(),
                    |d| format!("{:.1}x the target", ms(d) / 1000.0)
                ),
            )
        };
        let _ = write!(out, "- {}: {verdict}.", variant.label());
        if !met {
            let busy = med(low, |m| m.busy_per_change_ms);
            let b_calls = med(low, |m| m.b_calls_per_change);
            let by_workers = variant.concurrency as f64 * 1000.0 / busy.max(1.0);
            let _ = write!(
                out,
                " The backlog grows: at most {best:.0} changes/s are sustained. A change keeps a \
                 reconcile busy {busy:.0} ms (at the lowest rate), so {} reconciles at once carry \
                 at most {by_workers:.0} changes/s",
                variant.concurrency
            );
            if variant.regime == Regime::JiraLike {
                let _ = write!(
                    out,
                    "; and each change costs {b_calls:.1} requests on site B (the read of B's \
                     issue for the three-way merge, and the write), so B's 100 requests/s allow \
                     at most {:.0} changes/s, where the floor's single write allows 100",
                    setup::SITE_RPS / b_calls.max(0.1)
                );
            }
            let _ = write!(out, ".");
        }
        out.push('\n');
    }
    out.push('\n');
}
