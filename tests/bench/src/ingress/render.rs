//! The ingress section of `BENCHMARKS.md`: medians over the repetitions (each percentile is
//! computed per run, then the median taken across runs), every figure beside its baseline.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Closed, Results, Run, median_rate};
use crate::stats::{median, ms, quantile};

/// Targets from the issue.
const TARGET_RATIO: f64 = 0.95;
const TARGET_P99_MS: f64 = 5.0;
const TARGET_RSS_MIB: f64 = 20.0;

pub fn body(r: &Results) -> String {
    let mut out = String::new();
    setup(&mut out, r);
    closed(&mut out, r);
    open(&mut out, r);
    overload(&mut out, r);
    footprint(&mut out, r);
    profile(&mut out, r);
    targets(&mut out, r);
    limits(&mut out, r);
    out
}

fn setup(out: &mut String, r: &Results) {
    let mut sizes: Vec<f64> = r.fixtures.iter().map(|(_, n)| *n as f64).collect();
    sizes.sort_by(f64::total_cmp);
    let kib = |b: f64| b / 1024.0;
    let _ = writeln!(
        out,
        "The release `jira-sync-ingress` (the binary the Docker image and the Helm chart run; \
         `jira-sync ingress` runs the same code) runs as its own process, configured as deployed \
         (JSON logs at `info`, here to `/dev/null`; defaults otherwise), against the machine's \
         RabbitMQ and a fresh PostgreSQL database. The load generator (in the benchmark binary) \
         posts {} signed webhooks from `tests/fixtures/jira-webhooks` round robin over keep-alive \
         HTTP/1.1 connections, every request prebuilt so that sending one is a single write: \
         {:.1} to {:.1} KB, median {:.1} KB. Each becomes one reconcile request of {}-{} bytes \
         (plus AMQP headers), published persistent to a durable classic queue with a publisher \
         confirm before the 202.",
        r.fixtures.len(),
        kib(sizes.first().copied().unwrap_or(0.0)),
        kib(sizes.last().copied().unwrap_or(0.0)),
        kib(median(&sizes).unwrap_or(0.0)),
        r.message_bytes.0,
        r.message_bytes.1,
    );
    if !r.left_out.is_empty() {
        let _ = writeln!(out, "\nLeft out: {}.", r.left_out.join("; "));
    }
    let _ = writeln!(
        out,
        "\n**Baseline (the ceiling):** a plain lapin publisher in the same process as the \
         generator, with publisher confirms, keeping as many publishes in flight as the ingress \
         has webhooks in flight, republishing the very messages the ingress published (payload \
         and properties, persistent, mandatory) through the same topology (its own prefix). \
         Both share this machine's **2 cores** with RabbitMQ (and an idle PostgreSQL): the \
         generator and the broker compete with the ingress for CPU, exactly as the ceiling \
         publisher competes with the broker, so the ratio compares like with like, and the \
         absolute figures are this machine's. Medians of {} runs per figure; each phase has a \
         warm-up that is not counted; the queues are purged after every phase. Each phase \
         starts once the machine is quiet (other processes below 8% of it, waiting up to 20 s) \
         and is repeated (up to 3 runs, keeping the least disturbed) when other processes took \
         more than 15% of the machine during it: {} phases were repeated in this run. The \
         share other processes still took is shown with the CPU figures.",
        r.plan_reps, r.repeated
    );
}

fn closed(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "\n### Maximum throughput (closed loop)\n\n\
         | concurrency | ingress webhooks/s | ceiling messages/s | ingress / ceiling | \
         ingress p50 / p99 / p99.9 (ms) | ceiling p50 / p99 / p99.9 (ms) |\n|---:|---:|---:|---:|---:|---:|"
    );
    for c in &r.closed {
        let (i, b) = (median_rate(&c.ingress), median_rate(&c.ceiling));
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.2} | {} | {} |",
            c.concurrency,
            i,
            b,
            i / b.max(1e-9),
            percentiles(&c.ingress),
            percentiles(&c.ceiling),
        );
    }
    let (best_i, best_b) = maxima(r);
    let raw = median_rate(&r.raw_ceiling);
    let _ = writeln!(
        out,
        "\n**Maximum: ingress {best_i:.0} webhooks/s (at concurrency {}), ceiling {best_b:.0} \
         messages/s: {:.2} of the ceiling.** For scale, the ceiling publishing the webhook bodies \
         themselves (2-20 KB) instead of the reconcile requests, at concurrency {}: {raw:.0} \
         messages/s.",
        r.peak_concurrency,
        best_i / best_b.max(1e-9),
        r.peak_concurrency,
    );
    cpu_table(out, &r.closed);
}

/// The highest median rates of the ingress and of the ceiling over the concurrencies.
fn maxima(r: &Results) -> (f64, f64) {
    let best = |f: fn(&Closed) -> &Vec<Run>| {
        r.closed
            .iter()
            .map(|c| median_rate(f(c)))
            .fold(0.0, f64::max)
    };
    (best(|c| &c.ingress), best(|c| &c.ceiling))
}

fn cpu_table(out: &mut String, closed: &[Closed]) {
    let _ = writeln!(
        out,
        "\nCPU time per webhook (per message for the ceiling) in the measurement window, from \
         `/proc/<pid>/stat`; how busy the whole machine was (100% = both cores, `/proc/stat`); \
         and how much of it went to other processes (anything else running on the machine \
         meanwhile):\n\n\
         | concurrency | ingress run: ingress / broker / generator (µs) | machine busy | of which others | \
         ceiling run: broker / publisher (µs) | machine busy | of which others |\n\
         |---:|---:|---:|---:|---:|---:|---:|"
    );
    for c in closed {
        let _ = writeln!(
            out,
            "| {} | {:.0} / {:.0} / {:.0} | {:.0}% | {:.0}% | {:.0} / {:.0} | {:.0}% | {:.0}% |",
            c.concurrency,
            per(&c.ingress, |r| r.usage.ingress),
            per(&c.ingress, |r| r.usage.broker),
            per(&c.ingress, |r| r.usage.generator),
            busy(&c.ingress) * 100.0,
            others(&c.ingress) * 100.0,
            per(&c.ceiling, |r| r.usage.broker),
            per(&c.ceiling, |r| r.usage.generator),
            busy(&c.ceiling) * 100.0,
            others(&c.ceiling) * 100.0,
        );
    }
}

/// The median share of the machine in use during `runs`.
fn busy(runs: &[Run]) -> f64 {
    median(&runs.iter().map(|r| r.usage.machine).collect::<Vec<_>>()).unwrap_or(0.0)
}

/// The median share of the machine used by other processes during `runs`.
fn others(runs: &[Run]) -> f64 {
    let shares: Vec<f64> = runs
        .iter()
        .map(|r| r.usage.others.as_secs_f64() / r.usage.capacity.as_secs_f64().max(1e-9))
        .collect();
    median(&shares).unwrap_or(0.0)
}

fn open(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "\n### Latency at half the maximum (open loop)\n\n\
         {:.0} requests/s offered on a fixed schedule over {} keep-alive connections; latency \
         from each request's scheduled send time when its connection was still busy then (so \
         that a slow answer cannot hide the requests it delayed), else from its actual send.\n\n\
         | | offered/s | accepted/s | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | other answers | others' CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---|---:|",
        r.half_rate, r.open_connections
    );
    for (name, runs) in [("ingress", &r.open_ingress), ("ceiling", &r.open_ceiling)] {
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.0} | {} | {} | {:.0}% |",
            r.half_rate,
            median_rate(runs),
            percentiles_cells(runs),
            other_answers(runs),
            others(runs) * 100.0,
        );
    }
    let mut lag: Vec<Duration> = r
        .open_ingress
        .iter()
        .flat_map(|run| run.outcome.send_lag.iter().copied())
        .collect();
    let _ = writeln!(
        out,
        "\nThe generator kept to its schedule: requests whose connection was idle left {:.2} ms \
         (median) / {:.2} ms (p99) after their scheduled time (tokio's 1 ms timer).",
        quantile(&mut lag, 0.5).map_or(0.0, ms),
        quantile(&mut lag, 0.99).map_or(0.0, ms),
    );
}

fn overload(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "\n### Overload\n\n\
         1.5x and 3x the maximum offered on a fixed schedule from {} connections (more than \
         the in-flight limit, as many concurrent Jira deliveries would be), with the default \
         `ingress.max_in_flight` and with the limit out of the way ({}); latency from the \
         scheduled time as above.\n\n\
         202/s and 503/s count the answers that arrived inside the {:.0} s window; the \
         latencies are those of the requests scheduled inside it, however late they were \
         answered; \"not sent\" are requests still waiting for their connection a whole window \
         after the schedule ended (the generator gives up on them).\n\n\
         | ingress.max_in_flight | offered/s | 202/s | 503/s | 503 with Retry-After | \
         202 p50 / p99 (ms) | 503 p50 / p99 (ms) | not sent / errors | others |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|",
        r.overload_connections,
        super::NO_LIMIT,
        r.overloads
            .first()
            .map_or(0.0, |o| o.run.outcome.window.as_secs_f64()),
    );
    for o in &r.overloads {
        let run = &o.run.outcome;
        let window = run.window.as_secs_f64().max(1e-9);
        let mut ok = run.accepted_latency.clone();
        let mut busy = run.unavailable_latency.clone();
        let pair = |v: &mut Vec<Duration>| match (quantile(v, 0.5), quantile(v, 0.99)) {
            (Some(a), Some(b)) => format!("{:.1} / {:.1}", ms(a), ms(b)),
            _ => "-".to_owned(),
        };
        let limit = o.limit.map_or_else(
            || format!("{} (no limit)", super::NO_LIMIT),
            |l| format!("{l} (default)"),
        );
        let _ = writeln!(
            out,
            "| {limit} | {:.0} ({}x) | {:.0} | {:.0} | {} | {} | {} | {} / {} | {:.0}% |",
            o.offered,
            o.factor,
            run.accepted_done_in_window as f64 / window,
            run.unavailable_done_in_window as f64 / window,
            if run.unavailable == 0 {
                "-".to_owned()
            } else {
                format!(
                    "{:.0}%",
                    100.0 * (run.unavailable - run.unavailable_without_retry_after) as f64
                        / run.unavailable as f64
                )
            },
            pair(&mut ok),
            pair(&mut busy),
            run.abandoned,
            run.io_errors + run.unexpected,
            others(std::slice::from_ref(&o.run)) * 100.0,
        );
    }
}

fn footprint(out: &mut String, r: &Results) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "\n### Footprint of the ingress process\n\n\
         RSS splits into anonymous memory (heap, stacks: what the process allocates) and \
         file-backed pages (the binary's code and read-only data as far as it was touched: \
         shared with other processes of the same binary, and reclaimable).\n\n\
         | | RSS (MiB) | of which anonymous / file (MiB) | peak RSS, VmHWM (MiB) | threads |\n\
         |---|---:|---:|---:|---:|",
    );
    for (name, sample) in [
        ("idle, right after start".to_owned(), &r.idle),
        (
            "after the closed- and open-loop phases".to_owned(),
            &r.after_closed,
        ),
        (
            format!("after overload ({} connections)", r.overload_connections),
            &r.after_overload,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {:.1} | {:.1} / {:.1} | {:.1} | {} |",
            mib(sample.rss_kib),
            mib(sample.rss_anon_kib),
            mib(sample.rss_file_kib),
            mib(sample.hwm_kib),
            sample.threads,
        );
    }
}

fn profile(out: &mut String, r: &Results) {
    let Some(p) = &r.profile else {
        let _ = writeln!(out, "\n(No CPU profile: `perf` was not available.)");
        return;
    };
    let _ = writeln!(
        out,
        "\n### Where the ingress spends its CPU\n\n\
         `perf record -e cpu-clock -F 999 -p <ingress>` during a separate closed-loop run at \
         concurrency {} ({:.0} webhooks/s while profiled, {} samples). By shared object:\n\n```text",
        r.peak_concurrency,
        p.run.outcome.rate(),
        p.samples,
    );
    for (percent, text) in &p.by_object {
        let _ = writeln!(out, "{percent:6.2}%  {text}");
    }
    let _ = writeln!(out, "```\n\nBy symbol (at least 0.8%):\n\n```text");
    for (percent, text) in &p.by_symbol {
        let _ = writeln!(out, "{percent:6.2}%  {text}");
    }
    let _ = writeln!(out, "```");
}

fn targets(out: &mut String, r: &Results) {
    let (best_i, best_b) = maxima(r);
    let ratio = best_i / best_b.max(1e-9);
    let p99 = per_run(&r.open_ingress, 0.99);
    let hwm = r.after_closed.hwm_kib.max(r.after_overload.hwm_kib) as f64 / 1024.0;
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let _ = writeln!(
        out,
        "\n### Targets\n\n\
         | target | measured | |\n|---|---:|---|\n\
         | throughput >= {TARGET_RATIO} x ceiling | {ratio:.2} x | {} |\n\
         | p99 < {TARGET_P99_MS} ms at half load | {p99:.2} ms | {} |\n\
         | RSS < {TARGET_RSS_MIB} MiB | {hwm:.1} MiB peak | {} |",
        verdict(ratio >= TARGET_RATIO),
        verdict(p99 < TARGET_P99_MS),
        verdict(hwm < TARGET_RSS_MIB),
    );
}

/// What limits each figure, from the CPU accounting, the baselines and the profile.
fn limits(out: &mut String, r: &Results) {
    let Some(peak) = r
        .closed
        .iter()
        .find(|c| c.concurrency == r.peak_concurrency)
    else {
        return;
    };
    let (i, b, g) = (
        per(&peak.ingress, |r| r.usage.ingress),
        per(&peak.ingress, |r| r.usage.broker),
        per(&peak.ingress, |r| r.usage.generator),
    );
    let (b0, p0) = (
        per(&peak.ceiling, |r| r.usage.broker),
        per(&peak.ceiling, |r| r.usage.generator),
    );
    let (all, ceiling) = (i + b + g, b0 + p0);
    let (best_i, best_b) = maxima(r);
    let _ = writeln!(
        out,
        "\n**What limits the throughput: CPU, shared.** At concurrency {}, one webhook cost \
         {all:.0} µs of CPU in all (the ingress {i:.0}, the broker {b:.0}, the generator {g:.0}) \
         where one message of the ceiling cost {ceiling:.0} µs (the broker {b0:.0}, the publisher \
         {p0:.0}). With all of it on the same 2 cores, the ingress can reach at most about \
         {:.2} of the ceiling once the cores are saturated; it reached {:.2} (the machine was \
         {:.0}% busy, {:.0}% of it other processes). Even an ingress costing nothing would stay \
         below {:.2}: the broker spends more per message for the ingress ({b:.0} µs) than for \
         the ceiling publisher ({b0:.0} µs), whose publishes arrive in larger batches.",
        r.peak_concurrency,
        ceiling / all.max(1e-9),
        best_i / best_b.max(1e-9),
        busy(&peak.ingress) * 100.0,
        others(&peak.ingress) * 100.0,
        ceiling / (b + g).max(1e-9),
    );
    if let Some(p) = &r.profile {
        let share = |name: &str| {
            p.by_object
                .iter()
                .find(|(_, o)| o.contains(name))
                .map_or(0.0, |(pct, _)| *pct)
        };
        let _ = writeln!(
            out,
            "The ingress's own {i:.0} µs, by the profile: {:.0}% in the kernel (socket reads \
             and writes, and waking threads: each webhook crosses from an HTTP worker thread to \
             lapin's I/O thread and back), {:.0}% in libc (malloc and free, copying bodies), the \
             rest in its own code (HMAC-SHA256 of the body, skimming the JSON for the routing \
             fields, the JSON log line and spans).",
            share("kernel"),
            share("libc"),
        );
    }
    let p99 = per_run(&r.open_ingress, 0.99);
    let floor = per_run(&r.open_ceiling, 0.99);
    let _ = writeln!(
        out,
        "\n**What limits the latency at half load: the broker's confirms on this machine.** \
         The ceiling publisher's own p99 at the same rate is {floor:.1} ms: the persistent \
         publish and its confirm alone take longer than the target at the tail, whatever comes \
         before them (the ingress's p99 is {p99:.1} ms; its median adds {:.2} ms to the \
         ceiling's).",
        per_run(&r.open_ingress, 0.5) - per_run(&r.open_ceiling, 0.5),
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "\n**What limits the memory: connections.** {:.1} MiB idle ({:.1} of it the binary's \
         code), {:.1} MiB peak after up to 128 (closed loop) and 64 (open loop) connections, \
         {:.1} MiB with {} connections in overload: each open connection holds the HTTP \
         server's read and write buffers and its body in flight, and freed heap is kept by the \
         allocator for reuse.",
        mib(r.idle.rss_kib),
        mib(r.idle.rss_file_kib),
        mib(r.after_closed.hwm_kib),
        mib(r.after_overload.hwm_kib),
        r.overload_connections,
    );
}

/// The median across runs of each run's `q`-quantile of accepted latency, in ms.
fn per_run(runs: &[Run], q: f64) -> f64 {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|run| {
            let mut v = run.outcome.accepted_latency.clone();
            quantile(&mut v, q).map(ms)
        })
        .collect();
    median(&values).unwrap_or(f64::NAN)
}

/// `p50 / p99 / p99.9` of accepted latency, medians across runs.
fn percentiles(runs: &[Run]) -> String {
    format!(
        "{:.2} / {:.2} / {:.2}",
        per_run(runs, 0.5),
        per_run(runs, 0.99),
        per_run(runs, 0.999)
    )
}

/// `p50 | p99 | p99.9 | max` cells.
fn percentiles_cells(runs: &[Run]) -> String {
    format!(
        "{:.2} | {:.2} | {:.2} | {:.2}",
        per_run(runs, 0.5),
        per_run(runs, 0.99),
        per_run(runs, 0.999),
        per_run(runs, 1.0)
    )
}

/// Anything but accepted answers, summed over the runs.
fn other_answers(runs: &[Run]) -> String {
    let sum = |f: fn(&Run) -> u64| runs.iter().map(f).sum::<u64>();
    let (busy, odd, io, gone) = (
        sum(|r| r.outcome.unavailable),
        sum(|r| r.outcome.unexpected),
        sum(|r| r.outcome.io_errors),
        sum(|r| r.outcome.abandoned),
    );
    if busy + odd + io + gone == 0 {
        "none".to_owned()
    } else {
        format!("{busy} x 503, {odd} unexpected, {io} I/O errors, {gone} not sent")
    }
}

/// The median over `runs` of the CPU time `f` took per accepted webhook, in µs.
fn per(runs: &[Run], f: fn(&Run) -> Duration) -> f64 {
    median(
        &runs
            .iter()
            .map(|r| f(r).as_secs_f64() * 1e6 / r.outcome.accepted.max(1) as f64)
            .collect::<Vec<_>>(),
    )
    .unwrap_or(0.0)
}
