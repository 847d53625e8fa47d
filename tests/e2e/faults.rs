//! Fault injection under load. In each scenario a person on each site makes a steady stream of
//! changes (creates, edits, comments) while one fault is injected in the middle of it; the
//! sync worker runs as a real `jira-sync worker` process, the ingress, poller and admin API in
//! this process. Each scenario ends with the same checks (`faults/verdict.rs`): every change
//! applied (linked pairs equal, every issue linked, every comment on both sides), no twin and no
//! comment duplicated, the dead-letter queue holding only what was meant to land there, and
//! every webhook the ingress accepted settled: accepted = reconciled + dead-lettered.
//!
//! Each prints one line of figures and appends them as JSON to `target/faults/<scenario>.jsonl`
//! (RELIABILITY.md shows the last long run). `JIRA_SYNC_FAULTS_SECS` sets the load's length
//! (default 15 s; the documented long run uses 90), `JIRA_SYNC_FAULTS_SEED` its seed (default
//! 20261124; each scenario adds its number).

#[path = "faults/backlog.rs"]
mod backlog;
mod common;
#[path = "faults/load.rs"]
mod load;
#[path = "faults/rig.rs"]
mod rig;
#[path = "faults/servers.rs"]
mod servers;
#[path = "faults/verdict.rs"]
mod verdict;
#[path = "faults/worker.rs"]
mod worker;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::WAIT;
use jira_sync_jira_sim::{FaultKind, FaultSpec};
use jira_sync_transport::Envelope;
use load::Load;
use rig::{ADMIN_KEY, PRIORITY_MAP, Rig, RigOptions};
use serde_json::{Value, json};
use servers::{PrivatePostgres, PrivateRabbit};
use verdict::{FaultFigures, conclude};
use worker::Settled;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One scenario's name, seed and clock.
struct Scenario {
    name: &'static str,
    seed: u64,
    load: Duration,
    started: Instant,
}

impl Scenario {
    fn new(name: &'static str, number: u64) -> Self {
        let seed = env_number("JIRA_SYNC_FAULTS_SEED", 20_261_124).wrapping_add(number);
        let load = Duration::from_secs(env_number("JIRA_SYNC_FAULTS_SECS", 15).max(10));
        println!("faults {name}: seed {seed}, load {} s", load.as_secs());
        Self {
            name,
            seed,
            load,
            started: Instant::now(),
        }
    }

    /// Starts the load (and the scenario's clock).
    fn start_load(&mut self, rig: &Rig) -> Load {
        self.started = Instant::now();
        Load::start(rig.actor("a"), rig.actor("b"), self.seed)
    }

    /// Sleeps until `fraction` of the load's length has passed.
    async fn at(&self, fraction: f64) {
        let when = self.started + self.load.mul_f64(fraction);
        tokio::time::sleep_until(when.into()).await;
    }

    async fn conclude(self, rig: Rig, load: Load, fault: FaultFigures) {
        self.at(1.0).await;
        let tally = load.finish().await;
        conclude(self.name, self.seed, self.load, rig, tally, fault).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn worker_killed_with_sigkill_again_and_again_mid_load_loses_and_duplicates_nothing() {
    let mut s = Scenario::new("worker_sigkill", 1);
    let rig = Rig::start(RigOptions::default()).await;
    let load = s.start_load(&rig);
    let kills = (s.load.as_secs() / 3).max(5);
    let mut recoveries = Vec::new();
    for k in 0..kills {
        s.at((k + 1) as f64 / (kills + 1) as f64).await;
        rig.worker.kill().await;
        // Down long enough for deliveries to pile up in the work queue.
        tokio::time::sleep(Duration::from_millis(300 + 200 * (k % 4))).await;
        rig.worker.restart().await;
        recoveries.push(rig.backlog().drained_after(Instant::now()));
    }
    let killed = rig.worker.kills.load(std::sync::atomic::Ordering::SeqCst);
    assert!(killed >= 5, "the worker was killed {killed} times");
    let fault = FaultFigures {
        injected: format!("worker SIGKILLed {killed} times, down 0.3-0.9 s each"),
        recoveries,
        ..FaultFigures::default()
    };
    s.conclude(rig, load, fault).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rabbitmq_restarted_mid_load_loses_nothing_that_got_a_202() {
    let mut s = Scenario::new("rabbitmq_restart", 2);
    let mut rabbit = PrivateRabbit::start().await;
    let rig = Rig::start(RigOptions {
        amqp_addr: Some(rabbit.addr()),
        ..RigOptions::default()
    })
    .await;
    let load = s.start_load(&rig);
    s.at(0.3).await;
    let down = Instant::now();
    rabbit.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    rabbit.boot().await;
    let outage = down.elapsed();
    let recover = rig.backlog().drained_after(Instant::now());
    let refused = refused_with_503(&rig);
    assert!(
        refused > 0,
        "the ingress answered 503 while the broker was down"
    );
    let fault = FaultFigures {
        injected: format!(
            "RabbitMQ node stopped and started again ({:.1} s without a broker)",
            outage.as_secs_f64()
        ),
        recoveries: vec![recover],
        ..FaultFigures::default()
    };
    s.conclude(rig, load, fault).await;
    drop(rabbit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_mid_load_loses_and_duplicates_nothing() {
    let mut s = Scenario::new("postgres_restart", 3);
    let mut pg = PrivatePostgres::start().await;
    let rig = Rig::start(RigOptions {
        postgres: Some(pg.server_url()),
        ..RigOptions::default()
    })
    .await;
    let load = s.start_load(&rig);
    s.at(0.35).await;
    let down = Instant::now();
    pg.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg.boot().await;
    let outage = down.elapsed();
    let recover = rig.backlog().drained_after(Instant::now());
    let fault = FaultFigures {
        injected: format!(
            "PostgreSQL stopped (-m fast) and started again ({:.1} s without a database)",
            outage.as_secs_f64()
        ),
        recoveries: vec![recover],
        ..FaultFigures::default()
    };
    s.conclude(rig, load, fault).await;
    drop(pg);
}

fn rule(kind: FaultKind, probability: Option<f64>, seed: u64, times: Option<u32>) -> FaultSpec {
    FaultSpec {
        method: None,
        path_prefix: Some("/rest/api/3/".to_owned()),
        kind,
        times,
        probability,
        seed: Some(seed),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_answering_5xx_429_and_too_slowly_mid_load_loses_and_duplicates_nothing() {
    let mut s = Scenario::new("target_faults", 4);
    let rig = Rig::start(RigOptions::default()).await;
    let load = s.start_load(&rig);
    s.at(0.2).await;
    let b = rig.site("b");
    let add = |spec: FaultSpec| {
        b.add_fault(spec)
            .unwrap_or_else(|e| panic!("add a fault to B: {e:?}"));
    };
    // 20% 5xx (10% 500, 10% of the rest 503), and 3% answered after 4.5 s: beyond the
    // worker's 3 s client timeout, the write is applied after the client gave up.
    add(rule(FaultKind::Status(500), Some(0.1), s.seed, None));
    add(rule(FaultKind::Status(503), Some(0.112), s.seed + 1, None));
    add(rule(
        FaultKind::LatencyMs(4_500),
        Some(0.03),
        s.seed + 2,
        None,
    ));
    let mut bursts = 0;
    while s.started.elapsed() < s.load.mul_f64(0.8) {
        // A burst of 429s with Retry-After: the next 8 requests, whoever sends them.
        let limit = FaultKind::RateLimit {
            retry_after_secs: 1 + bursts % 2,
            reason: Some("jira-burst-based".to_owned()),
        };
        add(rule(limit, None, s.seed + 3, Some(8)));
        bursts += 1;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let injected = b.stats().faults_injected;
    b.clear_faults();
    let recover = rig.backlog().drained_after(Instant::now());
    assert!(injected > 0, "faults were injected");
    let fault = FaultFigures {
        injected: format!(
            "site B: 20% 5xx, 3% answered after 4.5 s (client timeout 3 s), {bursts} bursts of 8 \
             429s with Retry-After, for 60% of the load ({injected} requests hit)"
        ),
        recoveries: vec![recover],
        ..FaultFigures::default()
    };
    s.conclude(rig, load, fault).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_network_to_the_broker_cut_and_restored_mid_load_loses_nothing_that_got_a_202() {
    let mut s = Scenario::new("broker_cut", 5);
    let rig = Rig::start(RigOptions::default()).await;
    let load = s.start_load(&rig);
    s.at(0.35).await;
    let cut = Instant::now();
    rig.broker.cut().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    rig.broker.restore();
    let outage = cut.elapsed();
    let recover = rig.backlog().drained_after(Instant::now());
    let refused = refused_with_503(&rig);
    assert!(refused > 0, "the ingress answered 503 while cut off");
    let fault = FaultFigures {
        injected: format!(
            "every connection to RabbitMQ cut by the TCP proxy, new ones refused, for {:.1} s",
            outage.as_secs_f64()
        ),
        recoveries: vec![recover],
        ..FaultFigures::default()
    };
    s.conclude(rig, load, fault).await;
}

/// The mapping B refuses: A's `High` becomes `Urgent`, a priority B does not have.
const BAD_PRIORITY_MAP: &str = r#"[{ left = "High", right = "Urgent" }]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poisoned_messages_are_parked_then_replayed_after_the_fix_and_only_the_undecodable_stays() {
    let mut s = Scenario::new("poisoned_message", 6);
    let rig = Rig::start(RigOptions {
        worker_priority_map: Some(BAD_PRIORITY_MAP.to_owned()),
        ..RigOptions::default()
    })
    .await;
    let load = s.start_load(&rig);
    s.at(0.2).await;
    // An undecodable message, as a buggy producer would publish it.
    let poison = format!("poison-{}", uuid::Uuid::new_v4().simple());
    let envelope = Envelope::new(
        poison.clone(),
        b"{\"connection\": \"a-to-b\", oops".to_vec(),
    )
    .with_label("connection", "a-to-b")
    .with_label("event", "manual");
    (rig.direct.publisher().publish(envelope).await)
        .unwrap_or_else(|e| panic!("publish the poisoned message: {e}"));
    // Changes B refuses while the mapping is wrong: A's High on a few issues.
    let a = rig.actor("a");
    let mut refused_changes = 0;
    for issue in common::check::list_issues(&a).await.iter().take(3) {
        a.edit(&issue.id, json!({"priority": {"name": "High"}}))
            .await;
        refused_changes += 1;
    }
    let parked = common::eventually(
        Duration::from_secs(120),
        "refused changes parked",
        || async {
            let parked = dead_letters(&rig).await;
            let rejected = parked
                .iter()
                .filter(|(_, class)| class == "jira_rejected")
                .count();
            let undecodable = parked
                .iter()
                .any(|(id, class)| *id == poison && class == "undecodable");
            (rejected > 0 && undecodable).then_some(parked)
        },
    )
    .await;

    // The fix: the right mapping, an orderly restart, and a replay of what B refused.
    s.at(0.55).await;
    rig.set_worker_priority_map(PRIORITY_MAP);
    rig.worker.terminate().await;
    rig.worker.restart().await;
    rig.worker
        .wait_healthy(&rig.http, Duration::from_secs(60))
        .await;
    let rejected: Vec<String> = dead_letters(&rig)
        .await
        .into_iter()
        .filter(|(_, class)| class == "jira_rejected")
        .map(|(id, _)| id)
        .collect();
    let replayed = replay(&rig, &rejected).await;
    assert_eq!(
        replayed,
        rejected.len(),
        "every refused message was replayed"
    );
    // Measured in a task, so that the load goes on meanwhile.
    let (since, worker, replayed_ids) = (Instant::now(), rig.worker.clone(), rejected.clone());
    let recover = tokio::spawn(async move {
        while since.elapsed() < WAIT {
            let ledger = worker.ledger().await;
            let done = |id: &String| ledger.outcome(id) == Some(&Settled::Reconciled);
            if replayed_ids.iter().all(done) {
                return Some(since.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    });
    let fault = FaultFigures {
        injected: format!(
            "priority map High -> Urgent (B refuses it) for half the load, plus one undecodable \
             message; {} parked; fixed, worker restarted, {replayed} replayed through the admin API",
            parked.len()
        ),
        recoveries: vec![recover],
        meant_for_dlq: BTreeSet::from([poison]),
        also_made: vec![("priority", refused_changes)],
    };
    s.conclude(rig, load, fault).await;
}

/// The dead letters as (message id, error class), through the admin API.
async fn dead_letters(rig: &Rig) -> Vec<(String, String)> {
    let body: Value = (rig.http)
        .get(format!("{}/api/v1/dead-letters?limit=1000", rig.admin_url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list the dead letters: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("read the dead letters: {e}"));
    let list = body["dead_letters"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|d| {
            let id = d["message_id"].as_str().unwrap_or_default().to_owned();
            let class = d["error"]["class"].as_str().unwrap_or_default().to_owned();
            (id, class)
        })
        .collect()
}

/// Replays dead letters by id through the admin API; returns how many moved.
async fn replay(rig: &Rig, ids: &[String]) -> usize {
    let body: Value = (rig.http)
        .post(format!("{}/api/v1/dead-letters/replay", rig.admin_url))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "ids": ids }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("replay the dead letters: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("read the replay result: {e}"));
    body["replayed"].as_u64().unwrap_or_default() as usize
}

/// Webhook deliveries the ingress answered with 503.
fn refused_with_503(rig: &Rig) -> usize {
    ["a", "b"]
        .iter()
        .flat_map(|s| rig.site(s).webhook_deliveries(usize::MAX))
        .filter(|d| d.status == Some(503))
        .count()
}
