//! Benchmark 5a: footprint. Peak resident memory (`VmHWM`) and CPU time (utime + stime) of each
//! service process, read from `/proc`:
//! - the ingress at its maximum load (the ingress benchmark's closed loop, on its own process);
//! - `jira-sync-ingress`, `jira-sync-worker` and `jira-sync-poller` (RabbitMQ and
//!   PostgreSQL) while people change issues on a simulated site at a moderate, fixed rate and
//!   jira-sync syncs them to the other site, until every change has a twin.
//!
//! The baselines are each process's own idle figures right after start, and the Jira
//! simulator process serving both sites (a Rust HTTP service doing comparable JSON work) in
//! the same run.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::Options;
use crate::e2e::World;
use crate::process::{ProcSample, Service, release_binary, wait_for_200};
use crate::report::Section;

/// The person making the changes on site `a`.
const ADMIN: (&str, &str) = ("admin@a.example.com", "a-admin-token");

/// The load of the end-to-end phase.
struct Load {
    /// Changes per second: creates and summary edits alternating.
    rate: f64,
    duration: Duration,
    /// The window of the ingress's maximum-load phase.
    peak_window: Duration,
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let load = if opts.quick {
        Load {
            rate: 6.0,
            duration: Duration::from_secs(6),
            peak_window: Duration::from_secs(2),
        }
    } else {
        Load {
            rate: 10.0,
            duration: Duration::from_secs(40),
            peak_window: Duration::from_secs(10),
        }
    };
    let peak = crate::ingress::peak_footprint(load.peak_window).await?;
    let world = World::create("footprint").await?;
    let measured = end_to_end(&world, &load).await;
    world.cleanup().await;
    let measured = measured?;
    Ok(Section {
        name: "footprint",
        title: "Footprint: memory and CPU per service process",
        command: opts.command.clone(),
        body: render(&peak, &measured, &load),
    })
}

/// One process before and after the load.
struct Observed {
    name: &'static str,
    idle: ProcSample,
    after: ProcSample,
}

/// The end-to-end phase's figures.
struct Measured {
    processes: Vec<Observed>,
    changes: usize,
    failed: usize,
    twins: usize,
    webhooks: u64,
    /// From the first change to the last twin.
    elapsed: Duration,
}

async fn end_to_end(world: &World, load: &Load) -> anyhow::Result<Measured> {
    let config = world.write_config("distributed.toml", None)?;
    let config = config.to_string_lossy().into_owned();
    let p = world.ports;
    let mut services = Vec::new();
    // The binaries the Docker image and the Helm chart run, configured by JIRA_SYNC_CONFIG.
    for (name, port) in [
        ("jira-sync-ingress", p.ingress),
        ("jira-sync-worker", p.worker),
        ("jira-sync-poller", p.poller),
    ] {
        let binary = release_binary(name)?;
        let started = Instant::now();
        let mut service = Service::spawn(name, &binary, &[], &[("JIRA_SYNC_CONFIG", &config)])?;
        let ready = wait_for_200(
            &mut service,
            port,
            "/readyz",
            started,
            Duration::from_millis(10),
            Duration::from_secs(30),
        )
        .await;
        services.push(service);
        ready?;
    }
    let result = drive_and_observe(world, load, &services).await;
    for service in services {
        if let Err(e) = service.stop().await {
            eprintln!("warning: {e:#}");
        }
    }
    result
}

async fn drive_and_observe(
    world: &World,
    load: &Load,
    services: &[Service],
) -> anyhow::Result<Measured> {
    let client = reqwest::Client::new();
    world.register_webhooks(&client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let names = ["jira-sync-ingress", "jira-sync-worker", "jira-sync-poller"];
    let mut watched: Vec<(&'static str, u32)> = names
        .iter()
        .copied()
        .zip(services.iter().map(|s| s.pid))
        .collect();
    watched.push(("jira-sim (both sites)", world.sites.pid));
    let idle: Vec<ProcSample> = watched
        .iter()
        .map(|(_, pid)| ProcSample::read(*pid))
        .collect::<anyhow::Result<_>>()?;

    let began = Instant::now();
    let (changes, failed, created) = drive(&client, world, load).await?;
    eprintln!(
        "    {changes} changes sent ({failed} failed), {created} issues created; waiting for their twins"
    );
    let twins = wait_for_twins(&client, world, created, Duration::from_secs(120)).await?;
    world
        .wait_for_empty_work_queue(Duration::from_secs(60))
        .await?;
    let elapsed = began.elapsed();
    let webhooks = delivered_webhooks(&client, world).await?;

    let processes = watched
        .iter()
        .zip(idle)
        .map(|((name, pid), idle)| {
            Ok(Observed {
                name,
                idle,
                after: ProcSample::read(*pid)?,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Measured {
        processes,
        changes,
        failed,
        twins,
        webhooks,
        elapsed,
    })
}

/// Changes on site `a` at `load.rate` per second, open loop: creates, and summary edits of
/// issues created before. Returns (changes sent, failed, issues created).
async fn drive(
    client: &reqwest::Client,
    world: &World,
    load: &Load,
) -> anyhow::Result<(usize, usize, usize)> {
    let base = world.site_url("a");
    let total = (load.rate * load.duration.as_secs_f64()) as usize;
    let keys: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(64));
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..total {
        tokio::time::sleep_until(start + Duration::from_secs_f64(k as f64 / load.rate)).await;
        let permit = permits.clone().acquire_owned().await?;
        let existing = keys.lock().ok().and_then(|keys| {
            (k % 2 == 1 && !keys.is_empty()).then(|| keys[k % keys.len()].clone())
        });
        let (client, base, keys) = (client.clone(), base.clone(), keys.clone());
        tasks.spawn(async move {
            let outcome = change(&client, &base, k, existing.as_deref()).await;
            drop(permit);
            if let Ok(Some(key)) = &outcome
                && let Ok(mut keys) = keys.lock()
            {
                keys.push(key.clone());
            }
            outcome.is_ok()
        });
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if !done.unwrap_or(false) {
            failed += 1;
        }
    }
    let created = keys.lock().map(|k| k.len()).unwrap_or(0);
    Ok((total, failed, created))
}

/// Creates an issue (returning its key) or, given `existing`, edits its summary.
async fn change(
    client: &reqwest::Client,
    base: &str,
    k: usize,
    existing: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let summary = format!("Footprint change {k}: the quarterly report needs another look");
    let request = match existing {
        Some(key) => client
            .put(format!("{base}/rest/api/3/issue/{key}"))
            .json(&json!({ "fields": { "summary": summary } })),
        None => client
            .post(format!("{base}/rest/api/3/issue"))
            .json(&json!({
                "fields": {
                    "project": { "key": "A" },
                    "issuetype": { "name": "Task" },
                    "summary": summary,
                    "labels": ["footprint"],
                }
            })),
    };
    let response = request.basic_auth(ADMIN.0, Some(ADMIN.1)).send().await?;
    anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
    if existing.is_some() {
        return Ok(None);
    }
    let created: Value = response.json().await?;
    let key = created["key"]
        .as_str()
        .context("no key in the create answer")?;
    Ok(Some(key.to_owned()))
}

/// Waits until project `B` holds `expected` issues (every created issue has its twin).
async fn wait_for_twins(
    client: &reqwest::Client,
    world: &World,
    expected: usize,
    timeout: Duration,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + timeout;
    let url = format!("{}/_sim/issues?project=B", world.site_url("b"));
    loop {
        let dump: Value = client.get(&url).send().await?.json().await?;
        let twins = dump.as_array().map_or(0, Vec::len);
        if twins >= expected || Instant::now() > deadline {
            return Ok(twins);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Webhooks both sites delivered to the ingress (2xx).
async fn delivered_webhooks(client: &reqwest::Client, world: &World) -> anyhow::Result<u64> {
    let mut total = 0;
    for site in ["a", "b"] {
        let stats: Value = client
            .get(format!("{}/_sim/stats", world.site_url(site)))
            .send()
            .await?
            .json()
            .await?;
        total += stats["webhooks"]["delivered"].as_u64().unwrap_or(0);
    }
    Ok(total)
}

fn render(peak: &crate::ingress::PeakFootprint, m: &Measured, load: &Load) -> String {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Each service is its release binary in its own process, as the Docker image and the \
         Helm chart run them (`jira-sync-ingress`, `jira-sync-worker`, `jira-sync-poller`; \
         JSON logs at `info` to `/dev/null`), on the \
         machine's RabbitMQ and a fresh PostgreSQL database; figures from `/proc/<pid>/status` \
         (`VmRSS`, `VmHWM`) and `/proc/<pid>/stat` (utime + stime). Baselines: each process's \
         own idle figures right after start, and the Jira simulator serving both sites in the \
         same run.\n\n\
         ### The ingress at its maximum\n\n\
         Closed loop at concurrency {} for {:.0} s with the ingress benchmark's signed webhooks: \
         {:.0} webhooks/s, each published and confirmed.\n\n\
         | process | RSS idle (MiB) | RSS after: anonymous / file (MiB) | peak RSS, VmHWM (MiB) | CPU per webhook | CPU share |\n\
         |---|---:|---:|---:|---:|---:|\n\
         | jira-sync-ingress | {:.1} | {:.1} / {:.1} | {:.1} | {:.0} µs | {:.0}% of one core |",
        peak.concurrency,
        peak.window.as_secs_f64(),
        peak.rate,
        mib(peak.idle.rss_kib),
        mib(peak.after.rss_anon_kib),
        mib(peak.after.rss_file_kib),
        mib(peak.after.hwm_kib),
        peak.cpu_per_webhook.as_secs_f64() * 1e6,
        peak.cpu_share * 100.0,
    );
    let _ = writeln!(
        out,
        "\n### The distributed deployment under a moderate load\n\n\
         {} changes on site `a` over {:.0} s ({:.0}/s, creates and summary edits alternating, \
         {} failed), synced to site `b` ({} twins), with the poller searching both sites every \
         5 s; {} webhooks delivered to the ingress; {:.1} s from the first change to the last \
         twin. CPU time over that whole period.\n\n\
         RSS splits into anonymous memory (heap, stacks) and file-backed pages (the binary's \
         code and read-only data as far as it was touched: shared and reclaimable).\n\n\
         | process | RSS idle (MiB) | RSS after: anonymous / file (MiB) | peak RSS, VmHWM (MiB) | peak / idle | CPU time (s) | CPU per change (ms) | threads |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|",
        m.changes,
        load.duration.as_secs_f64(),
        load.rate,
        m.failed,
        m.twins,
        m.webhooks,
        m.elapsed.as_secs_f64(),
    );
    for p in &m.processes {
        let cpu = p.after.cpu.saturating_sub(p.idle.cpu);
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} / {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} |",
            p.name,
            mib(p.idle.rss_kib),
            mib(p.after.rss_anon_kib),
            mib(p.after.rss_file_kib),
            mib(p.after.hwm_kib),
            p.after.hwm_kib as f64 / p.idle.rss_kib.max(1) as f64,
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / m.changes.max(1) as f64,
            p.after.threads,
        );
    }
    out
}
