//! Making changes at a fixed rate, open loop: change `k` is sent at `start + k / rate` whatever
//! happened to the ones before it (a slow answer does not slow the next change down), as people
//! working on a site would. And reading back, from a site's own changelog, when each change was
//! applied: the simulator's clock, not the benchmark's polling, times every change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_jira_sim::SiteHandle;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::bare::Answer;

/// Changes in flight at most (a site answering slowly must not exhaust the machine).
const IN_FLIGHT: usize = 1024;

/// What a driven phase did.
#[derive(Debug, Clone, Default)]
pub struct Driven {
    /// Changes the site accepted (2xx).
    pub applied: usize,
    /// Changes refused or failed for good.
    pub failed: usize,
    /// 429s the person met (and waited out).
    pub throttled: u64,
    /// From the first change sent to the last one answered.
    pub elapsed: Duration,
    /// The first error, for the report.
    pub first_error: Option<String>,
}

/// Sends `count` changes at `rate` per second; `act(k)` makes change `k`.
pub async fn drive<F, Fut>(rate: f64, count: usize, act: F) -> Driven
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<Answer>> + Send + 'static,
{
    let start = tokio::time::Instant::now();
    let began = Instant::now();
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for k in 0..count {
        tokio::time::sleep_until(start + Duration::from_secs_f64(k as f64 / rate)).await;
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let change = act(k);
        tasks.spawn(async move {
            let answer = change.await;
            drop(permit);
            answer
        });
    }
    let mut driven = Driven::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(answer)) => {
                driven.throttled += u64::from(answer.throttled);
                if (200..300).contains(&answer.status) {
                    driven.applied += 1;
                } else {
                    driven.failed += 1;
                    driven
                        .first_error
                        .get_or_insert_with(|| format!("HTTP {}: {}", answer.status, answer.body));
                }
            }
            Ok(Err(e)) => {
                driven.failed += 1;
                driven.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
            Err(e) => {
                driven.failed += 1;
                driven.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    driven.elapsed = began.elapsed();
    driven
}

/// The summary values a phase writes: `<tag>-<k>`.
pub fn summary_value(tag: &str, k: usize) -> String {
    format!("{tag}-{k}")
}

/// When each summary change `<tag>-<k>` was applied on a site, by issue id: `(k, epoch ms)` in
/// the order of the site's changelog (oldest first). `author` keeps only one account's changes.
pub fn summary_changes(
    site: &SiteHandle,
    project: &str,
    tag: &str,
    author: Option<&str>,
) -> HashMap<String, Vec<(usize, i64)>> {
    let prefix = format!("{tag}-");
    let mut changes = HashMap::new();
    for issue in site.issues(Some(project)) {
        let Some(id) = issue["id"].as_str() else {
            continue;
        };
        let mut found: Vec<(usize, i64)> = Vec::new();
        for group in issue["changelog"]["histories"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if author.is_some_and(|a| group["author"]["accountId"].as_str() != Some(a)) {
                continue;
            }
            let Some(at) = group["created"].as_str().and_then(epoch_ms) else {
                continue;
            };
            for item in group["items"].as_array().into_iter().flatten() {
                if item["field"].as_str() != Some("summary") {
                    continue;
                }
                let seq = item["toString"]
                    .as_str()
                    .and_then(|v| v.strip_prefix(&prefix))
                    .and_then(|k| k.parse().ok());
                if let Some(seq) = seq {
                    found.push((seq, at));
                }
            }
        }
        found.sort_by_key(|(_, at)| *at);
        changes.insert(id.to_owned(), found);
    }
    changes
}

/// The current summaries of a project's issues, by issue id.
pub fn summaries(site: &SiteHandle, project: &str) -> HashMap<String, String> {
    site.issues(Some(project))
        .into_iter()
        .filter_map(|issue| {
            let id = issue["id"].as_str()?.to_owned();
            let summary = issue["fields"]["summary"].as_str()?.to_owned();
            Some((id, summary))
        })
        .collect()
}

/// How long each change took to arrive: for every change `k` applied on issue `a` at `t`, the
/// first time its twin was written with change `k` or a later one of the same issue (a later
/// value carries `k` with it: the sync copies states, not events). `None`: never arrived.
pub fn arrivals(
    source: &HashMap<String, Vec<(usize, i64)>>,
    target: &HashMap<String, Vec<(usize, i64)>>,
    twins: &HashMap<String, String>,
) -> Vec<Arrival> {
    let empty = Vec::new();
    let mut out = Vec::new();
    for (a, changes) in source {
        let written = twins.get(a).and_then(|b| target.get(b)).unwrap_or(&empty);
        for &(seq, at) in changes {
            let arrived = written
                .iter()
                .find(|(k, when)| *k >= seq && *when >= at)
                .map(|(_, when)| *when);
            out.push(Arrival {
                issue: a.clone(),
                seq,
                applied_ms: at,
                arrived_ms: arrived,
                lag: arrived.map(|w| Duration::from_millis(u64::try_from(w - at).unwrap_or(0))),
            });
        }
    }
    out.sort_by_key(|a| a.seq);
    out
}

/// One change and how long it took to reach the other side.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The issue in the source site.
    pub issue: String,
    pub seq: usize,
    /// When the source applied it (epoch ms, the simulator's clock).
    pub applied_ms: i64,
    /// When the target applied the write carrying it.
    pub arrived_ms: Option<i64>,
    pub lag: Option<Duration>,
}

fn epoch_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A JSON object with one field, for an edit.
pub fn summary_fields(value: &str) -> Value {
    serde_json::json!({ "summary": value })
}
