//! The poller repairs what webhooks miss: a change whose webhook Jira never delivered still
//! reaches the other side within one poll interval.

mod common;
#[path = "metrics/exposition.rs"]
mod exposition;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use exposition::{Exposition, promtool_accepts};
use jira_sync_jira_sim::WebhookFaultSpec;
use jira_sync_tests::{EnvOptions, TestEnv};
use jira_sync_transport::amqp::AmqpTransport;
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_whose_webhook_was_dropped_reaches_the_other_side_within_one_poll_interval() {
    let env = TestEnv::start(EnvOptions {
        // `poll_interval` belongs to the connection table the generated config ends with.
        extra_toml: "poll_interval = \"2s\"\n\n[poller]\nlisten = \"127.0.0.1:0\"\nleader_lock_retry = \"200ms\"\n".to_owned(),
        ..EnvOptions::default()
    })
    .await;
    let a = env.actor("a");
    let issue = a.create("Polled", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;

    let transport =
        AmqpTransport::new(&env.settings.amqp).unwrap_or_else(|e| panic!("poller transport: {e}"));
    let poller = jira_sync_poller::Application::build_with(
        env.settings.clone(),
        Arc::new(env.db.store.clone()),
        transport.publisher(),
    )
    .await
    .unwrap_or_else(|e| panic!("build the poller: {e}"))
    .retain_schedules(|s| s.id.starts_with("jira-incremental"));
    let handle = poller.handle();
    let poller_url = format!("http://127.0.0.1:{}", poller.port());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poller.run_until_stopped(shutdown.clone()));
    // Let the poller take the lead and finish a first run, so the change below is "new".
    eventually(WAIT, "the poller's first run", || async {
        let runs: u64 = handle.statuses().values().map(|s| s.runs).sum();
        (runs > 0).then_some(())
    })
    .await;

    // Jira never delivers the webhook of this edit.
    env.site("a")
        .set_webhook_faults(WebhookFaultSpec {
            drop_next: 1,
            ..WebhookFaultSpec::default()
        })
        .unwrap_or_else(|e| panic!("set the webhook fault: {e:?}"));
    let runs = || handle.statuses().values().map(|s| s.runs).sum::<u64>();
    let runs_before = runs();
    a.edit(&issue.id, json!({"summary": "Polled, not pushed"}))
        .await;
    eventually(WAIT, "the edit to reach B without its webhook", || async {
        let now = env.actor("b").get(&twin.id).await;
        (now.summary() == Some("Polled, not pushed")).then_some(())
    })
    .await;
    let runs_after = runs();
    assert_eq!(
        env.site("a").stats().webhooks.dropped,
        1,
        "the webhook was dropped"
    );
    // The run in progress during the edit may have missed it; the next one must not.
    assert!(
        runs_after <= runs_before + 2,
        "repaired only after {} poll runs",
        runs_after - runs_before
    );

    // The poller's own account of it, as Prometheus scrapes it.
    let page = env
        .http
        .get(format!("{poller_url}/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scrape the poller: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("read the poller's metrics: {e}"));
    let metrics = Exposition::parse(&page);
    let leading = metrics.sum("poller_leader", &[]);
    assert_eq!(
        leading, 2.0,
        "this poller leads both sides' incremental schedules"
    );
    assert!(
        metrics.sum("poller_runs_total", &[]) >= runs_after as f64,
        "every run is counted"
    );
    assert!(
        metrics.sum("poller_enqueued_total", &[]) >= 1.0,
        "the repaired change was enqueued"
    );
    assert!(metrics.has("poller_last_run_timestamp_seconds"));
    assert!(metrics.has("poller_cursor_lag_seconds"));
    promtool_accepts("the poller's /metrics", &page);

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    env.stop().await;
}
