//! Where a PeopleForce scan's time goes, measured part by part right after the scans of the
//! poller benchmark: paging through the tasks with the production client (typed decoding,
//! retries and all), hashing every task as the poller does, one leadership check per page (the
//! query the poller's leader runs before every page), and loading the stored content hashes
//! once per scan.

use std::time::{Duration, Instant};

use anyhow::Context;
use jira_sync_peopleforce_client::{PeopleForceClient, PeopleForceConfig};
use jira_sync_store::Store;
use secrecy::SecretString;

/// The parts of one scan, each measured on its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts {
    /// Paging through every task with the poller's client.
    pub client: Duration,
    /// Hashing every task (and keeping the hashes by id).
    pub hashing: Duration,
    /// One leadership check per page.
    pub leader_checks: Duration,
    /// Loading the scope's content hashes.
    pub hash_load: Duration,
    /// The median page of a steady scan that enqueued nothing (filled in by the caller).
    pub quiet_page: Duration,
    /// The median page of a steady scan with a changed task (filled in by the caller).
    pub busy_page: Duration,
}

/// Measures the parts of a scan of `pages` pages whose hashes are stored under `scope`.
pub async fn measure(
    store: &dyn Store,
    scope: &str,
    base_url: &str,
    api_key: &str,
    page_size: u32,
    pages: u64,
) -> anyhow::Result<Parts> {
    let url = reqwest::Url::parse(base_url).context("the simulator's URL")?;
    let config = PeopleForceConfig::new(url, SecretString::from(api_key.to_owned()))
        .with_page_size(page_size);
    let client = PeopleForceClient::new(config)?;
    let started = Instant::now();
    let mut number = 1;
    let mut tasks = Vec::new();
    loop {
        let page = client.tasks_page(number).await?;
        let last = page.is_last() || page.items.is_empty();
        tasks.extend(page.items);
        if last {
            break;
        }
        number += 1;
    }
    let client_time = started.elapsed();

    // The poller's content hash (`jira_sync_poller::hashes`, private there), computed the same
    // way: the poller's own `content_hash`.
    let started = Instant::now();
    let mut known = std::collections::HashMap::with_capacity(tasks.len());
    for task in &tasks {
        known.insert(task.id.clone(), jira_sync_poller::content_hash(task));
    }
    let hashing = started.elapsed();

    let guard = store
        .lock("bench/leader-check", Duration::from_secs(5))
        .await?;
    let mut guard = guard.context("the benchmark's lock is free")?;
    let started = Instant::now();
    for _ in 0..pages {
        guard.is_held().await?;
    }
    let leader_checks = started.elapsed();
    guard.release().await?;

    let started = Instant::now();
    let hashes = store.content_hashes(scope).await?;
    let hash_load = started.elapsed();
    anyhow::ensure!(!hashes.is_empty(), "no hashes stored under {scope}");
    Ok(Parts {
        client: client_time,
        hashing,
        leader_checks,
        hash_load,
        ..Parts::default()
    })
}
