//! The end of every scenario: wait for the sync to go quiet, account for every accepted
//! webhook, check the sites and the dead-letter queue, then print the figures (one line),
//! append them as JSON to `target/faults/<scenario>.jsonl`, and assert.
//!
//! The accounting: every webhook a site got a 202 for is one message (its delivery id is the
//! message id); the worker's ledger ([`super::worker::Ledger`]) says how each message's last
//! delivery ended. Accepted = reconciled + dead-lettered, with nothing left over.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jira_sync_domain::JiraWebhook;
use jira_sync_tests::{eventually, settled};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::load::Tally;
use super::rig::{POLL_INTERVAL, Rig};
use super::worker::{Ledger, Settled};
use crate::common::{WAIT, check};

/// What a scenario injected and measured, for the figures.
#[derive(Debug, Default)]
pub struct FaultFigures {
    /// One line: what was injected.
    pub injected: String,
    /// Tasks measuring the recovery from each fault (see [`super::backlog::Backlog`]); the
    /// figure is the longest.
    pub recoveries: Vec<JoinHandle<Option<Duration>>>,
    /// Message ids that are meant to stay in the dead-letter queue.
    pub meant_for_dlq: BTreeSet<String>,
    /// Changes the scenario made itself, besides the load's.
    pub also_made: Vec<(&'static str, u64)>,
}

/// What became of the messages.
#[derive(Debug, Default)]
struct Accounting {
    /// Ids of the webhooks the ingress accepted (202) and published: one message each.
    accepted: BTreeSet<String>,
    /// Accepted but not synced (an event kind jira-sync ignores, such as a property change).
    ignored: usize,
    /// Webhook deliveries answered 503 (broker unavailable); the sites redeliver them.
    unavailable: u64,
    reconciled: usize,
    dead_lettered: usize,
    /// Accepted messages whose last delivery the worker never settled: lost.
    unsettled: Vec<String>,
    /// Messages settled that were not accepted webhooks (the poller's, replays, injected).
    other: usize,
    retries: usize,
    reconciled_twice: usize,
    /// Deliveries while the poller searched both sides twice more, once all was quiet.
    after_quiet: usize,
    /// From the end of the load until quiet and every accepted message settled.
    settle: Duration,
}

/// Settles, checks, records the figures and asserts.
pub async fn conclude(
    scenario: &str,
    seed: u64,
    load: Duration,
    rig: Rig,
    mut tally: Tally,
    fault: FaultFigures,
) {
    for (kind, n) in &fault.also_made {
        *tally.made.entry(kind).or_default() += n;
    }
    let mut recover = Some(Duration::ZERO);
    for task in fault.recoveries {
        let took = (task.await).unwrap_or_else(|e| panic!("recovery measure: {e}"));
        recover = recover.zip(took).map(|(a, b)| a.max(b));
    }
    let accounting = account(&rig).await;
    let report = check::check(&*rig.store(), &rig.actor("a"), &rig.actor("b")).await;
    let parked: Vec<(String, String)> = (rig.direct.dead_letters().peek(1000).await)
        .unwrap_or_else(|e| panic!("peek the dead letters: {e}"))
        .into_iter()
        .map(|e| (e.message_id, e.failure.map(|f| f.class).unwrap_or_default()))
        .collect();
    let made = tally.made_total();
    let lost = report.mismatches.len() + report.unlinked + report.comments_missing;
    let figures = json!({
        "scenario": scenario,
        "seed": seed,
        "load_secs": load.as_secs(),
        "injected": fault.injected,
        "changes_made": made,
        "changes_by_kind": tally.made,
        "changes_refused": tally.refused,
        "applied": made.saturating_sub(lost as u64),
        "duplicated": report.duplicate_twins.len() + report.comments_duplicated,
        "lost": lost,
        "time_to_recover_secs": recover.map(tenths),
        "settle_secs": tenths(accounting.settle),
        "webhooks_accepted": accounting.accepted.len(),
        "webhooks_ignored": accounting.ignored,
        "webhooks_refused_503": accounting.unavailable,
        "reconciled": accounting.reconciled,
        "dead_lettered": accounting.dead_lettered,
        "unsettled": accounting.unsettled.len(),
        "other_messages_settled": accounting.other,
        "transient_failures_retried": accounting.retries,
        "redelivered_and_reconciled_again": accounting.reconciled_twice,
        "deliveries_after_quiet": accounting.after_quiet,
        "worker_kills": rig.worker.kills.load(std::sync::atomic::Ordering::SeqCst),
        "worker_crashes": rig.worker.crashes.lock().await.len(),
        "links": report.links,
        "comments_checked": report.comments,
        "dead_letters_left": parked.len(),
        "at_unix": unix_now(),
    });
    println!("{}", summary(&figures));
    append_figures(scenario, &figures);
    assert_accounted(&rig, &accounting).await;
    assert!(
        report.mismatches.is_empty(),
        "pairs differ: {:#?}",
        report.mismatches
    );
    assert!(
        report.duplicate_twins.is_empty(),
        "two twins: {:?}",
        report.duplicate_twins
    );
    assert!(
        report.comment_errors.is_empty(),
        "comments: {:#?}",
        report.comment_errors
    );
    assert_eq!(report.unlinked, 0, "every issue has its twin");
    let meant = |(id, _): &&(String, String)| fault.meant_for_dlq.contains(id);
    assert!(
        parked.iter().all(|p| meant(&p)) && parked.len() == fault.meant_for_dlq.len(),
        "the dead-letter queue holds {parked:?}, not just {:?}",
        fault.meant_for_dlq
    );
    assert!(made > 0, "the load made changes");
    rig.stop().await;
}

/// Waits for quiet and for every accepted message to be settled, then watches two more polls.
async fn account(rig: &Rig) -> Accounting {
    let started = Instant::now();
    quiet(rig).await;
    let mut accounting = deliveries(rig);
    let deadline = Instant::now() + WAIT;
    let ledger = loop {
        let ledger = rig.worker.ledger().await;
        let open = (accounting.accepted.iter()).any(|id| ledger.outcome(id).is_none());
        if !open || Instant::now() > deadline {
            break ledger;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    accounting.settle = started.elapsed();
    // Once everything is synced the poller finds nothing to enqueue: no delivery at all while
    // it searches both sides twice more.
    let before = (ledger.settlements(), rig.poll_runs());
    eventually(WAIT + 4 * POLL_INTERVAL, "two more polls", || async {
        (rig.poll_runs() >= before.1 + 4).then_some(())
    })
    .await;
    accounting.after_quiet = (rig.worker.ledger().await.settlements()).saturating_sub(before.0);
    settle_from(&mut accounting, &ledger);
    accounting
}

fn settle_from(accounting: &mut Accounting, ledger: &Ledger) {
    for id in &accounting.accepted {
        match ledger.outcome(id) {
            Some(Settled::Reconciled) => accounting.reconciled += 1,
            Some(Settled::DeadLettered { .. }) => accounting.dead_lettered += 1,
            _ => accounting.unsettled.push(id.clone()),
        }
    }
    let accepted = &accounting.accepted;
    accounting.other = (ledger.messages.keys())
        .filter(|id| !accepted.contains(*id))
        .count();
    accounting.retries = ledger.retries();
    accounting.reconciled_twice = ledger.reconciled_twice();
}

/// Waits until nothing moves: queues, writes to the sites and webhook deliveries unchanged
/// for 5 s.
async fn quiet(rig: &Rig) {
    let backlog = rig.backlog();
    let (a, b) = (rig.site("a"), rig.site("b"));
    settled(
        Duration::from_secs(300),
        Duration::from_secs(5),
        "the sync to go quiet",
        || async {
            // Counters, not the sites' request logs: those are rings that a long run fills.
            let (a, b) = (a.stats(), b.stats());
            let sent = a.webhooks.sent + b.webhooks.sent;
            (backlog.now().await, a.writes + b.writes, sent)
        },
    )
    .await;
}

/// The webhooks the sites delivered, by how the ingress answered.
fn deliveries(rig: &Rig) -> Accounting {
    let mut out = Accounting::default();
    for site in ["a", "b"] {
        for delivery in rig.site(site).webhook_deliveries(usize::MAX) {
            match delivery.status {
                Some(202) if synced(&delivery.event) => {
                    out.accepted.insert(delivery.identifier);
                }
                Some(202) => out.ignored += 1,
                Some(503) => out.unavailable += 1,
                _ => {}
            }
        }
    }
    out
}

/// Whether the ingress publishes a message for this event (the domain's own rule).
fn synced(event: &str) -> bool {
    let body = json!({"webhookEvent": event, "issue": {"id": "1"}}).to_string();
    JiraWebhook::parse(body.as_bytes()).is_ok_and(|hook| hook.kind.is_synced())
}

/// Nothing accepted was lost, and the counts add up; nothing came after quiet.
async fn assert_accounted(rig: &Rig, accounting: &Accounting) {
    if !accounting.unsettled.is_empty() {
        let lost: Vec<String> = ["a", "b"]
            .iter()
            .flat_map(|s| rig.site(s).webhook_deliveries(usize::MAX))
            .filter(|d| accounting.unsettled.contains(&d.identifier))
            .map(|d| {
                format!(
                    "{} {} {:?} {:?} at {}",
                    d.identifier, d.event, d.issue_id, d.status, d.at
                )
            })
            .collect();
        panic!(
            "accepted webhooks never settled by the worker (lost):\n{}\nqueues now {:?}; worker logs in {}",
            lost.join("\n"),
            rig.direct.queue_depths().await,
            rig.logs().display()
        );
    }
    assert_eq!(
        accounting.accepted.len(),
        accounting.reconciled + accounting.dead_lettered,
        "webhooks accepted = reconciled + dead-lettered"
    );
    assert_eq!(
        accounting.after_quiet, 0,
        "messages kept coming once everything was synced (the poller enqueues synced pairs again)"
    );
}

/// The one-line summary.
fn summary(f: &Value) -> String {
    let recover = match f["time_to_recover_secs"].as_f64() {
        Some(s) => format!("{s:.1} s"),
        None => "n/a".to_owned(),
    };
    format!(
        "faults {}: made {} ({} refused), applied {}, duplicated {}, lost {}, time to recover {recover}, \
         settled in {} s | webhooks accepted {} = reconciled {} + dead-lettered {} (unsettled {}); \
         503s {}; other messages {}; retries {}; reconciled again {}; kills {}; crashes {}; \
         dead letters left {}; deliveries after quiet {} | seed {}, load {} s | {}",
        f["scenario"].as_str().unwrap_or_default(),
        f["changes_made"],
        f["changes_refused"],
        f["applied"],
        f["duplicated"],
        f["lost"],
        f["settle_secs"],
        f["webhooks_accepted"],
        f["reconciled"],
        f["dead_lettered"],
        f["unsettled"],
        f["webhooks_refused_503"],
        f["other_messages_settled"],
        f["transient_failures_retried"],
        f["redelivered_and_reconciled_again"],
        f["worker_kills"],
        f["worker_crashes"],
        f["dead_letters_left"],
        f["deliveries_after_quiet"],
        f["seed"],
        f["load_secs"],
        f["injected"].as_str().unwrap_or_default(),
    )
}

fn tenths(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `target/faults/<scenario>.jsonl`, one line per run.
fn append_figures(scenario: &str, figures: &Value) {
    let Some(dir) = target_dir().map(|t| t.join("faults")) else {
        eprintln!("no target directory found: figures not written");
        return;
    };
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let mut file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(dir.join(format!("{scenario}.jsonl")))?;
        writeln!(file, "{figures}")
    });
    if let Err(e) = written {
        eprintln!("figures not written to {}: {e}", dir.display());
    }
}

/// The Cargo target directory: the test binary is `<target>/<profile>/deps/<name>`.
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.to_owned())
}
