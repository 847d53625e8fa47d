//! The PeopleForce scans (the first of a fresh database, then steady ones) and their bare
//! baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jira_sync_jira_sim::Simulator;
use jira_sync_peopleforce_sim as pf_sim;

use super::app::{Poller, Watch};
use super::parts::{self, Parts};
use super::{Measured, PAGE, Plan, SCAN, TASKS, completed, median_duration};
use crate::bare;

/// The first scan of a fresh database (every task new), then `plan.steady` scans each after
/// `plan.changed_tasks` tasks changed.
pub(super) async fn scan_runs(
    plan: &Plan,
    jira: &Simulator,
    pf: &pf_sim::Simulator,
    rep: usize,
) -> anyhow::Result<(Measured, Vec<Measured>, Parts)> {
    let poller = Poller::prepare(jira, pf).await?;
    let result = scan_measure(&poller, plan, pf, rep).await;
    poller.cleanup().await;
    result
}

async fn scan_measure(
    poller: &Poller,
    plan: &Plan,
    pf: &pf_sim::Simulator,
    rep: usize,
) -> anyhow::Result<(Measured, Vec<Measured>, Parts)> {
    let handle = pf.handle().clone();
    let (tasks, changed) = (u64::from(plan.tasks), plan.changed_tasks);
    // After each scan (on the scan's own task, so the next cannot start first), some tasks
    // change as a person would change them in PeopleForce.
    let editor = handle.clone();
    let watch = Arc::new(Watch::calling(move |run| {
        for i in 0..changed {
            let id = (rep as u64 * 7_919 + run as u64 * 1_009 + i * 977) % tasks + 1;
            let edit = pf_sim::TaskEdit {
                title: Some(format!("changed in run {rep}/{run}")),
                ..pf_sim::TaskEdit::default()
            };
            if let Err(e) = editor.edit_task(id, &edit) {
                eprintln!("edit task {id}: {e}");
            }
        }
    }));
    handle.reset_stats();
    poller.run(SCAN, watch.clone(), 1 + plan.steady).await?;
    let requests = handle.stats().count(TASKS);
    let http = reqwest::Client::new();
    let mut bare = Vec::new();
    let mut bare_pages = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (pages, _) =
            bare::peopleforce_tasks(&http, &handle.api_url(), handle.api_key(), PAGE).await?;
        bare.push(started.elapsed());
        bare_pages = u64::from(pages);
    }
    let bare_wall = median_duration(&bare);
    let runs = watch.runs();
    let measured = runs
        .iter()
        .take(1 + plan.steady)
        .map(|(wall, outcome)| {
            completed(outcome).map(|r| Measured {
                wall: *wall,
                pages: u64::from(r.pages),
                per_issue_reads: 0,
                scanned: r.scanned,
                enqueued: r.enqueued,
                bare_wall,
                bare_pages,
                jira_parts: None,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let pages_read: u64 = measured.iter().map(|m| m.pages).sum();
    if requests < pages_read {
        bail!("the simulator counted {requests} task pages, the poller {pages_read}");
    }
    let parts = parts::measure(
        &poller.db.store,
        "peopleforce-scan/onboarding/right/task",
        &handle.base_url(),
        handle.api_key(),
        PAGE,
        bare_pages,
    )
    .await?;
    // Page by page, in the last steady scan: pages that enqueue nothing, and pages with a
    // changed task (a confirmed publish and a hash write more).
    let times = watch.page_times(plan.steady);
    let page_median = |changed: bool| {
        let picked: Vec<Duration> = (times.iter())
            .filter(|(_, n)| (*n > 0) == changed)
            .map(|(d, _)| *d)
            .collect();
        median_duration(&picked)
    };
    let parts = Parts {
        quiet_page: page_median(false),
        busy_page: page_median(true),
        ..parts
    };
    let mut measured = measured.into_iter();
    let first = measured.next().context("a first scan")?;
    Ok((first, measured.collect(), parts))
}
