//! Failures end to end: a target that fails, refuses or rate-limits, and a broker that goes
//! away. Nothing accepted is lost, nothing is retried before it may be, and what cannot
//! succeed is parked in the dead-letter queue with its reason.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use jira_sync_jira_sim::{FaultKind, FaultSpec};
use jira_sync_store::Store;
use jira_sync_tests::{EnvOptions, TestEnv, settled};
use serde_json::json;

fn fault(method: &str, path_prefix: &str, kind: FaultKind, times: u32) -> FaultSpec {
    FaultSpec {
        method: Some(method.to_owned()),
        path_prefix: Some(path_prefix.to_owned()),
        kind,
        times: Some(times),
        probability: None,
        seed: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_failing_three_times_then_succeeding_is_synced_with_the_attempts_in_the_headers() {
    let env = TestEnv::start(EnvOptions {
        retry_delays: vec!["1s"],
        ..EnvOptions::default()
    })
    .await;
    let b = env.site("b");
    b.add_fault(fault(
        "POST",
        "/rest/api/3/issue",
        FaultKind::Status(500),
        3,
    ))
    .unwrap_or_else(|e| panic!("add the fault: {e:?}"));

    let issue = env.actor("a").create("Flaky target", json!({})).await;

    // While the twin is pending, read the retried message's headers as an operator would.
    let mut attempts = BTreeSet::new();
    let mut classes = BTreeSet::new();
    let deadline = Instant::now() + WAIT;
    let twin = loop {
        if let Some(headers) = env.queues.peek_retry_headers().await {
            if let Some(attempt) = headers.get("x-attempt") {
                attempts.insert(attempt.clone());
            }
            if let Some(class) = headers.get("x-error-class") {
                classes.insert(class.clone());
            }
        }
        if let Some(twin) = twins_in_b(&env, &issue.id).await.into_iter().next() {
            break twin;
        }
        assert!(Instant::now() < deadline, "the twin never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        attempts,
        BTreeSet::from(["2".to_owned(), "3".to_owned(), "4".to_owned()]),
        "every retry carried its attempt number"
    );
    assert_eq!(classes, BTreeSet::from(["transient".to_owned()]));
    assert_eq!(b.stats().faults_injected, 3, "the fault fired 3 times");
    assert_eq!(twins_in_b(&env, &issue.id).await.len(), 1);
    assert_eq!(twin.summary(), Some("Flaky target"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_target_refusing_with_400_parks_the_message_with_its_reason_and_others_still_flow() {
    let env = TestEnv::start(EnvOptions::default()).await;
    env.site("b")
        .add_fault(fault(
            "POST",
            "/rest/api/3/issue",
            FaultKind::Status(400),
            1,
        ))
        .unwrap_or_else(|e| panic!("add the fault: {e:?}"));
    let a = env.actor("a");

    let refused = a.create("Refused by B", json!({})).await;
    let dead = eventually(WAIT, "the refused message in the DLQ", || async {
        env.queues.dead_letters().await.into_iter().next()
    })
    .await;
    let failure = dead
        .failure
        .clone()
        .unwrap_or_else(|| panic!("no failure on {dead:?}"));
    assert_eq!(failure.class, "jira_rejected");
    assert!(!failure.message.is_empty(), "the reason is given");
    assert_eq!(dead.attempt, 1, "a permanent error is not retried");
    assert_eq!(
        dead.labels.get("entity").map(String::as_str),
        Some(refused.id.as_str())
    );

    let accepted = a.create("Accepted by B", json!({})).await;
    wait_for_twin(&env, &accepted.id).await;
    assert!(twins_in_b(&env, &refused.id).await.is_empty());
    let (_, _, dlq) = env.queues.depths().await;
    assert_eq!(dlq, 1, "only the refused message is parked");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_429_with_retry_after_is_not_retried_before_it() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let a = env.actor("a");
    let issue = a.create("Rate limited", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;

    let b = env.site("b");
    let limit = FaultKind::RateLimit {
        retry_after_secs: 2,
        reason: Some("jira-per-issue-on-write".to_owned()),
    };
    b.add_fault(fault("PUT", "/rest/api/3/issue", limit, 1))
        .unwrap_or_else(|e| panic!("add the fault: {e:?}"));
    a.edit(&issue.id, json!({"summary": "Rate limited, then synced"}))
        .await;
    eventually(WAIT, "the edit to reach B", || async {
        let now = env.actor("b").get(&twin.id).await;
        (now.summary() == Some("Rate limited, then synced")).then_some(())
    })
    .await;

    let puts: Vec<_> = b
        .recent_requests(usize::MAX)
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(&format!("/issue/{}", twin.id)))
        .collect();
    let limited = puts
        .iter()
        .find(|r| r.status == 429)
        .unwrap_or_else(|| panic!("no 429 among {puts:?}"));
    let next = puts
        .iter()
        .find(|r| r.at > limited.at && r.status < 300)
        .unwrap_or_else(|| panic!("no successful PUT after the 429 among {puts:?}"));
    assert!(
        next.at - limited.at >= 2_000,
        "retried {} ms after a Retry-After of 2 s",
        next.at - limited.at
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_broker_gone_ingress_answers_503_publishes_nothing_and_resumes_when_it_returns() {
    let env = TestEnv::start(EnvOptions {
        webhooks: false,
        ..EnvOptions::default()
    })
    .await;
    let issue = env
        .actor("a")
        .create("Sent during an outage", json!({}))
        .await;
    let body = webhook_body("jira:issue_created", &issue.id, &issue.key);

    env.broker.cut().await;
    let response = env
        .http
        .post(format!("{}/webhooks/jira/jira-a", env.ingress_url))
        .header("content-type", "application/json")
        .header("x-hub-signature", jira_sync_tests::sign(SECRET_A, &body))
        .header("x-atlassian-webhook-identifier", "outage-1")
        .body(body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("post: {e}"));
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        env.queues.depths().await,
        (0, 0, 0),
        "nothing was published"
    );

    env.broker.restore();
    // Jira redelivers a webhook that got a 5xx; the services were not restarted.
    eventually(WAIT, "the ingress to accept again", || async {
        let status = post_signed(&env.http, &env.ingress_url, "jira-a", &body, "outage-1").await;
        (status == 202).then_some(())
    })
    .await;
    let twin = wait_for_twin(&env, &issue.id).await;
    assert_eq!(twin.summary(), Some("Sent during an outage"));
    assert_eq!(twins_in_b(&env, &issue.id).await.len(), 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twin_whose_create_response_was_lost_is_found_on_retry_not_created_twice() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let b = env.site("b");
    // B creates the twin, but the worker never learns it: the create's answer is lost, as
    // when a worker dies between "twin created" and "link stored".
    b.add_fault(fault(
        "POST",
        "/rest/api/3/issue",
        FaultKind::LostResponse(504),
        1,
    ))
    .unwrap_or_else(|e| panic!("add the fault: {e:?}"));

    let issue = env.actor("a").create("Created once", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;
    eventually(WAIT, "the link to be stored", || async {
        let link = env
            .db
            .store
            .find_link(
                &jira_sync_domain::ConnectionId::parse("a-to-b").ok()?,
                jira_sync_domain::Side::Left,
                &issue.id,
            )
            .await
            .ok()
            .flatten()?;
        (link.right_id == twin.id).then_some(())
    })
    .await;
    let creates: Vec<_> = jira_sync_tests::bot_writes(b)
        .into_iter()
        .filter(|w| w.starts_with("POST /rest/api/3/issue "))
        .collect();
    assert_eq!(
        creates,
        vec!["POST /rest/api/3/issue -> 504"],
        "one create, never repeated"
    );
    assert_eq!(twins_in_b(&env, &issue.id).await.len(), 1);
    assert_eq!(b.issues(Some("B")).len(), 1, "exactly one issue in B");
    env.stop().await;
}

/// Jira applies a write whose client already timed out (the simulator, like a real server, goes
/// on serving a request its client stopped waiting for). The worker must not take the timeout
/// for "not created": its retry would look before the late write lands and create again.
const LATE_BY: Duration = Duration::from_millis(4_500);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twin_created_after_the_client_timed_out_is_adopted_not_created_again() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let b = env.site("b");
    // Longer than the worker's 3 s request timeout: the create lands after it gave up.
    b.add_fault(fault(
        "POST",
        "/rest/api/3/issue",
        FaultKind::LatencyMs(LATE_BY.as_millis() as u64),
        1,
    ))
    .unwrap_or_else(|e| panic!("add the fault: {e:?}"));

    let issue = env.actor("a").create("Created late", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;
    let creates = settled(WAIT, Duration::from_secs(8), "the creates in B", || async {
        jira_sync_tests::bot_writes(b)
            .into_iter()
            .filter(|w| w.starts_with("POST /rest/api/3/issue "))
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(
        creates,
        vec!["POST /rest/api/3/issue -> 201"],
        "one create, applied after its client timed out, never repeated"
    );
    assert_eq!(b.issues(Some("B")).len(), 1, "exactly one issue in B");
    let link = env
        .db
        .store
        .find_link(
            &jira_sync_domain::ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}")),
            jira_sync_domain::Side::Left,
            &issue.id,
        )
        .await
        .unwrap_or_else(|e| panic!("find the link: {e}"))
        .unwrap_or_else(|| panic!("no link for {}", issue.key));
    assert_eq!(link.right_id, twin.id, "the late twin is the linked one");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_comment_copied_after_the_client_timed_out_is_adopted_not_posted_again() {
    let env = TestEnv::start(EnvOptions::default()).await;
    let (a, b) = (env.actor("a"), env.site("b"));
    let issue = a.create("Commented late", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;
    b.add_fault(fault(
        "POST",
        &format!("/rest/api/3/issue/{}/comment", twin.id),
        FaultKind::LatencyMs(LATE_BY.as_millis() as u64),
        1,
    ))
    .unwrap_or_else(|e| panic!("add the fault: {e:?}"));

    (a.client
        .add_comment(&issue.id, &adf("Posted once"), &[])
        .await)
        .unwrap_or_else(|e| panic!("comment on A: {e}"));
    let reader = env.actor("b");
    let copies = settled(
        WAIT,
        Duration::from_secs(8),
        "the comments in B",
        || async {
            (reader.client.comments(&twin.id).await)
                .map(|list| list.into_iter().map(|c| c.id).collect::<Vec<_>>())
                .unwrap_or_default()
        },
    )
    .await;
    assert_eq!(copies.len(), 1, "one copy in B, not {copies:?}");
    let posts: Vec<_> = jira_sync_tests::bot_writes(b)
        .into_iter()
        .filter(|w| w.starts_with("POST /rest/api/3/issue/") && w.contains("/comment"))
        .collect();
    assert_eq!(posts.len(), 1, "the copy was posted once: {posts:?}");
    let links = env
        .db
        .store
        .comment_links(
            env.db
                .store
                .find_link(
                    &jira_sync_domain::ConnectionId::parse("a-to-b")
                        .unwrap_or_else(|e| panic!("{e}")),
                    jira_sync_domain::Side::Left,
                    &issue.id,
                )
                .await
                .unwrap_or_else(|e| panic!("find the link: {e}"))
                .unwrap_or_else(|| panic!("no link for {}", issue.key))
                .id,
        )
        .await
        .unwrap_or_else(|e| panic!("comment links: {e}"));
    assert_eq!(links.len(), 1, "the late copy is linked");
    assert_eq!(links[0].right_id, copies[0]);
    env.stop().await;
}
