//! Convergence under load and webhook faults: random operations made concurrently on both
//! sites while the simulator drops, duplicates, delays and reorders webhooks; then, after a
//! quiet period and one reconcile pass over every issue, every linked pair is equal, no issue
//! has two twins, no comment is lost or duplicated, and a second pass writes nothing (no echo).
//!
//! Seeded and reproducible: `JIRA_SYNC_CONVERGENCE_SEED` (default 20261124) and
//! `JIRA_SYNC_CONVERGENCE_OPS` (operations in all, default 120; the documented long run is 500).

mod common;
#[path = "convergence/ops.rs"]
mod ops;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use jira_sync_domain::{ConnectionId, DeliveryId, IssueKey, ReconcileRequest, Trigger};
use jira_sync_jira_sim::WebhookFaultSpec;
use jira_sync_tests::{EnvOptions, TestEnv, bot_writes, settled};
use jira_sync_transport::Envelope;
use jira_sync_transport::amqp::AmqpTransport;
use ops::{Person, list_issues};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_concurrent_operations_under_webhook_faults_converge_without_echoes() {
    let seed = env_number("JIRA_SYNC_CONVERGENCE_SEED", 20_261_124);
    let total_ops = env_number("JIRA_SYNC_CONVERGENCE_OPS", 120) as usize;
    println!("convergence: seed {seed}, {total_ops} operations");
    let env = TestEnv::start(EnvOptions::default()).await;
    for (n, site) in ["a", "b"].into_iter().enumerate() {
        env.site(site)
            .set_webhook_faults(WebhookFaultSpec {
                drop_probability: 0.1,
                duplicate_probability: 0.1,
                delay_ms: 30,
                reorder: true,
                reorder_window_ms: Some(80),
                seed: seed.wrapping_add(n as u64 + 100),
                ..WebhookFaultSpec::default()
            })
            .unwrap_or_else(|e| panic!("webhook faults on {site}: {e:?}"));
    }

    let a = Person::new(env.actor("a"), "a", seed);
    let b = Person::new(env.actor("b"), "b", seed.wrapping_add(1));
    let (tally_a, tally_b) = tokio::join!(a.run(total_ops / 2), b.run(total_ops - total_ops / 2));

    // Quiet: let every delivery, retry and reconcile finish, then repair what was dropped.
    quiet(&env).await;
    let transport =
        AmqpTransport::new(&env.settings.amqp).unwrap_or_else(|e| panic!("transport: {e}"));
    reconcile_everything(&env, &transport).await;
    quiet(&env).await;
    let writes_after_repair = [
        bot_writes(env.site("a")).len(),
        bot_writes(env.site("b")).len(),
    ];
    // The echo check: once converged, reconciling everything again writes nothing.
    reconcile_everything(&env, &transport).await;
    quiet(&env).await;
    let writes_after_echo = [
        bot_writes(env.site("a")).len(),
        bot_writes(env.site("b")).len(),
    ];

    let report = check::check(&env.db.store, &env.actor("a"), &env.actor("b")).await;
    let mut ops_by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for (kind, n) in tally_a.done.iter().chain(&tally_b.done) {
        *ops_by_kind.entry(kind).or_default() += n;
    }
    let user_ops = tally_a.total() + tally_b.total();
    let (stats_a, stats_b) = (
        env.site("a").stats().webhooks,
        env.site("b").stats().webhooks,
    );
    println!(
        "convergence summary (seed {seed}):\n  ops by kind {ops_by_kind:?} ({user_ops} done, {} refused)\n  \
         webhooks dropped {} / duplicated {} of {} events\n  links {}, twins checked {}, duplicate twins {}, unlinked issues {}\n  \
         comments checked {}, lost or duplicated {}\n  bot writes a={} b={} (after the second pass: a={} b={})\n  \
         open conflicts {}, mismatched pairs {}",
        tally_a.failed + tally_b.failed,
        stats_a.dropped + stats_b.dropped,
        stats_a.duplicated + stats_b.duplicated,
        stats_a.events + stats_b.events,
        report.links,
        report.twins_checked,
        report.duplicate_twins.len(),
        report.unlinked,
        report.comments,
        report.comment_errors.len(),
        writes_after_repair[0],
        writes_after_repair[1],
        writes_after_echo[0],
        writes_after_echo[1],
        report.open_conflicts,
        report.mismatches.len(),
    );
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
    let deletes = ops_by_kind.get("delete_issue").copied().unwrap_or(0);
    assert!(
        report.unlinked as u64 <= deletes,
        "{} issues have no twin, but only {deletes} issues were deleted",
        report.unlinked
    );
    assert_eq!(
        writes_after_repair, writes_after_echo,
        "the second pass wrote (an echo)"
    );
    // Each user operation causes at most a few writes by the bot (a create and its marker, an
    // edit, a transition, a comment copy), never an unbounded chain.
    let bot_total = (writes_after_echo[0] + writes_after_echo[1]) as u64;
    assert!(
        bot_total <= 3 * user_ops,
        "{bot_total} bot writes for {user_ops} operations"
    );
    env.stop().await;
}

/// Waits until nothing moves: queues empty, no new bot write, no new webhook, and no request at
/// all reaching either site (a reconcile still holding its message reads before it writes; the
/// queue depths count only messages waiting, not those being worked on).
async fn quiet(env: &TestEnv) {
    settled(
        Duration::from_secs(120),
        Duration::from_secs(3),
        "the sync to go quiet",
        || async {
            let (work, retry, dead) = env.queues.depths().await;
            let (a, b) = (env.site("a"), env.site("b"));
            (
                work,
                retry,
                dead,
                bot_writes(a).len(),
                bot_writes(b).len(),
                a.stats().webhooks.sent + b.stats().webhooks.sent,
                a.stats().reads + b.stats().reads,
            )
        },
    )
    .await;
}

/// Publishes a manual reconcile of every issue of both sites.
async fn reconcile_everything(env: &TestEnv, transport: &AmqpTransport) {
    let publisher = transport.publisher();
    let connection = ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"));
    for (site, endpoint) in [("a", "jira-a"), ("b", "jira-b")] {
        for issue in list_issues(&env.actor(site)).await {
            let request = ReconcileRequest {
                connection: connection.clone(),
                endpoint: jira_sync_domain::EndpointId::parse(endpoint)
                    .unwrap_or_else(|e| panic!("{e}")),
                entity_id: issue.id.clone(),
                issue_key: IssueKey::parse(&issue.key).ok(),
                trigger: Trigger::Manual,
                delivery_id: DeliveryId::generate(),
                event_at: None,
                change: None,
            };
            let payload = serde_json::to_vec(&request).unwrap_or_else(|e| panic!("{e}"));
            let envelope = Envelope::new(request.delivery_id.as_str(), payload)
                .with_label("endpoint", endpoint)
                .with_label("entity", issue.id.as_str())
                .with_label("connection", "a-to-b")
                .with_label("event", "manual");
            (publisher.publish(envelope).await).unwrap_or_else(|e| panic!("publish: {e}"));
        }
    }
}
