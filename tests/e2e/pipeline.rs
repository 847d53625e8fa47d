//! The core pipeline end to end: Jira A's webhook -> ingress -> RabbitMQ -> worker -> Jira B,
//! and back, with real processes' code, the real broker and database, and the simulator over
//! HTTP.

mod common;

use std::time::Duration;

use common::*;
use jira_sync_tests::{EnvOptions, TestEnv, bot_writes, settled};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issue_created_in_a_appears_in_b_and_an_edit_in_b_flows_back_without_echo_writes() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let (a, b) = (env.actor("a"), env.actor("b"));

    let issue = a
        .create(
            "Printer on fire",
            json!({
                "description": adf("The printer on floor 3 is on fire."),
                "labels": ["facilities", "urgent"],
                "priority": {"name": "High"},
                "duedate": "2026-12-24",
            }),
        )
        .await;

    let twin = wait_for_twin(&env, &issue.id).await;
    let twin = b.get(&twin.id).await;
    assert_eq!(
        synced_fields(&twin),
        synced_fields(&issue).with_priority("Highest")
    );

    b.edit(
        &twin.id,
        json!({"summary": "Printer fire put out", "labels": ["facilities"]}),
    )
    .await;
    eventually(WAIT, "the edit made in B to reach A", || async {
        let now = a.get(&issue.id).await;
        (now.summary() == Some("Printer fire put out")).then_some(())
    })
    .await;

    let (writes_a, writes_b) = quiet_writes(&env).await;
    assert_eq!(
        writes_b.len(),
        1,
        "B received only the twin's creation: {writes_b:?}"
    );
    assert!(
        writes_b[0].starts_with("POST /rest/api/3/issue "),
        "{writes_b:?}"
    );
    assert_eq!(
        writes_a.len(),
        1,
        "A received only the one edit: {writes_a:?}"
    );
    assert!(
        writes_a[0].starts_with("PUT /rest/api/3/issue/"),
        "{writes_a:?}"
    );

    let now_a = a.get(&issue.id).await;
    let now_b = b.get(&twin.id).await;
    assert_eq!(
        synced_fields(&now_b),
        synced_fields(&now_a).with_priority("Highest")
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_webhook_five_times_and_five_webhooks_at_once_give_one_twin_and_no_extra_writes() {
    // Without registered webhooks: this test is the only sender.
    let env = TestEnv::start(EnvOptions {
        webhooks: false,
        ..EnvOptions::default()
    })
    .await;
    let a = env.actor("a");
    let first = a
        .create("Duplicate delivery", json!({"labels": ["x"]}))
        .await;
    let second = a.create("Concurrent deliveries", json!({})).await;

    // One delivery, sent five times with the same identifier.
    let body = webhook_body("jira:issue_updated", &first.id, &first.key);
    for _ in 0..5 {
        let status = post_webhook(&env, "jira-a", &body, "same-delivery-id").await;
        assert_eq!(status, 202);
    }
    // Five different deliveries for one issue, at once.
    let sends = (0..5).map(|i| {
        let body = webhook_body("jira:issue_updated", &second.id, &second.key);
        let (http, url) = (env.http.clone(), env.ingress_url.clone());
        async move { post_signed(&http, &url, "jira-a", &body, &format!("delivery-{i}")).await }
    });
    for status in futures_join_all(sends).await {
        assert_eq!(status, 202);
    }

    wait_for_twin(&env, &first.id).await;
    wait_for_twin(&env, &second.id).await;
    let (writes_a, writes_b) = quiet_writes(&env).await;
    assert_eq!(
        writes_b.len(),
        2,
        "one create per issue and nothing else: {writes_b:?}"
    );
    assert!(
        writes_a.is_empty(),
        "nothing written back to A: {writes_a:?}"
    );
    assert_eq!(twins_in_b(&env, &first.id).await.len(), 1);
    assert_eq!(twins_in_b(&env, &second.id).await.len(), 1);
    env.stop().await;
}

/// Waits until neither site receives bot writes for a while and the queues are empty, and
/// returns the bot writes of A and B.
async fn quiet_writes(env: &TestEnv) -> (Vec<String>, Vec<String>) {
    let (a, b, _depths) = settled(
        Duration::from_secs(30),
        Duration::from_secs(2),
        "the sync",
        || async {
            let depths = env.queues.depths().await;
            (bot_writes(env.site("a")), bot_writes(env.site("b")), depths)
        },
    )
    .await;
    (a, b)
}

async fn post_webhook(env: &TestEnv, endpoint: &str, body: &[u8], identifier: &str) -> u16 {
    post_signed(&env.http, &env.ingress_url, endpoint, body, identifier).await
}
