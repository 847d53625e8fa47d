//! `/metrics` of the ingress and the worker after real traffic: the named series exist with
//! the values the traffic implies, histograms are real Prometheus histograms, and `promtool
//! check metrics` accepts both pages. (The poller does not run in this harness; its metrics are
//! covered by services/poller's own tests.)
//!
//! The recorder is process-wide, so this file holds one test and runs as its own process:
//! values are exact.

mod common;
#[path = "metrics/exposition.rs"]
mod exposition;

use std::time::Duration;

use common::*;
use exposition::{Exposition, promtool_accepts};
use jira_sync_tests::{EnvOptions, TestEnv, settled};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_synced_change_every_service_exposes_the_named_series_with_their_values() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let issue = env.actor("a").create("Measured change", json!({})).await;
    wait_for_twin(&env, &issue.id).await;
    let forged = env
        .http
        .post(format!("{}/webhooks/jira/jira-a", env.ingress_url))
        .header("content-type", "application/json")
        .header("x-hub-signature", "sha256=00")
        .body(webhook_body("jira:issue_updated", &issue.id, &issue.key))
        .send()
        .await
        .unwrap_or_else(|e| panic!("post the forged webhook: {e}"));
    assert_eq!(forged.status().as_u16(), 401);

    // The echo of the twin's creation (B's webhook) is processed too: wait until nothing moves.
    settled(
        WAIT,
        Duration::from_secs(2),
        "the worker's counters",
        || {
            let env = &env;
            async move {
                let e = Exposition::parse(&scrape(env, &env.worker_url).await);
                [
                    e.sum("events_received_total", &[]),
                    e.sum("events_succeeded_total", &[]),
                    e.sum("events_retried_total", &[]),
                    e.sum("events_dlq_total", &[]),
                    e.sum("reconcile_duration_seconds_count", &[]),
                ]
            }
        },
    )
    .await;
    let worker_page = scrape(&env, &env.worker_url).await;
    let ingress_page = scrape(&env, &env.ingress_url).await;
    let (ingress, worker) = (
        Exposition::parse(&ingress_page),
        Exposition::parse(&worker_page),
    );

    // Ingress: what was accepted and what was refused.
    let received_a = ingress.value("events_received_total", &[("endpoint", "jira-a")]);
    assert!(received_a.is_some_and(|n| n >= 1.0), "{ingress_page}");
    let received = ingress.sum("events_received_total", &[]);
    assert_eq!(
        ingress.value("events_rejected_total", &[("reason", "unauthorized")]),
        Some(1.0),
        "{ingress_page}"
    );

    // Worker: every accepted message of the one connection was reconciled once, successfully.
    let succeeded = worker.value("events_succeeded_total", &[("connection", "a-to-b")]);
    assert_eq!(succeeded, Some(received), "{worker_page}");
    assert_eq!(worker.sum("events_dlq_total", &[]), 0.0, "{worker_page}");
    let settled_deliveries = received + worker.sum("events_retried_total", &[]);
    let reconciles = worker.value("reconcile_duration_seconds_count", &[]);
    assert_eq!(reconciles, Some(settled_deliveries), "{worker_page}");
    assert_eq!(
        worker.value("reconcile_duration_seconds_bucket", &[("le", "+Inf")]),
        reconciles,
        "{worker_page}"
    );

    // Sync lag: A's change was written to B, within a minute of the event.
    let lag = worker.value("sync_lag_seconds_count", &[]).unwrap_or(0.0);
    assert!(lag >= 1.0 && lag <= received, "{worker_page}");
    assert_eq!(
        worker.value("sync_lag_seconds_bucket", &[("le", "60")]),
        Some(lag),
        "{worker_page}"
    );
    for histogram in [
        "sync_lag_seconds",
        "reconcile_duration_seconds",
        "jira_request_duration_seconds",
    ] {
        assert_eq!(
            worker.types.get(histogram).map(String::as_str),
            Some("histogram"),
            "{histogram} is a Prometheus histogram"
        );
    }

    // Outbound requests by endpoint and status: the twin's creation in B.
    let created = worker.value(
        "jira_requests_total",
        &[
            ("endpoint", "jira-b"),
            ("method", "POST"),
            ("status", "201"),
        ],
    );
    assert!(created.is_some_and(|n| n >= 1.0), "{worker_page}");
    let timed = worker.value(
        "jira_request_duration_seconds_bucket",
        &[("endpoint", "jira-b"), ("method", "POST"), ("le", "+Inf")],
    );
    assert!(timed >= created, "{worker_page}");

    // Gauges refreshed on a timer: queue depths and open conflicts.
    for queue in ["work", "retry", "dead"] {
        assert!(
            worker
                .value("queue_messages", &[("queue", queue)])
                .is_some(),
            "queue_messages{{queue={queue:?}}}: {worker_page}"
        );
    }
    assert_eq!(
        worker.value("queue_messages", &[("queue", "dead")]),
        Some(0.0)
    );
    assert_eq!(
        worker.value("conflicts_open", &[("connection", "a-to-b")]),
        Some(0.0),
        "{worker_page}"
    );

    promtool_accepts("the ingress's /metrics", &ingress_page);
    promtool_accepts("the worker's /metrics", &worker_page);
    assert!(worker.has("events_succeeded_total") && ingress.has("events_received_total"));
    env.stop().await;
}

async fn scrape(env: &TestEnv, base: &str) -> String {
    let response = env
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scrape {base}/metrics: {e}"));
    assert_eq!(response.status().as_u16(), 200, "{base}/metrics");
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("read {base}/metrics: {e}"))
}
