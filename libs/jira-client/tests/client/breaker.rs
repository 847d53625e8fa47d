//! The circuit breaker: opens after consecutive outage-like failures, fails fast, half-opens.

use std::time::Duration;

use jira_sync_jira_client::{ClientPolicy, JiraClient, JiraError};
use serde_json::json;

use crate::support::{JiraStub, Scripted, eventually, user_json};

fn breaker_client(stub: &JiraStub, threshold: u32) -> JiraClient {
    let mut config = stub.config().with_policy(ClientPolicy {
        breaker_threshold: threshold,
        breaker_cooldown: Duration::from_millis(300),
        backoff_base: Duration::from_millis(10),
        ..ClientPolicy::default()
    });
    config.max_retries = 0;
    JiraClient::new(config).unwrap()
}

#[tokio::test]
async fn the_circuit_opens_after_consecutive_failures_and_half_opens_after_the_cooldown() {
    let stub = JiraStub::start(vec![], Scripted::raw(500, "down")).await;
    let client = breaker_client(&stub, 3);

    for _ in 0..3 {
        assert_eq!(client.myself().await.unwrap_err().status(), Some(500));
    }
    let open = client.myself().await.unwrap_err();
    assert!(matches!(open, JiraError::CircuitOpen { .. }), "{open:?}");
    assert!(open.disposition().is_transient());
    assert!(open.retry_after().unwrap() <= Duration::from_millis(300));
    assert_eq!(stub.count(), 3, "an open circuit sends nothing");

    stub.set_fallback(Scripted::json(200, user_json()));
    eventually(Duration::from_secs(3), || async {
        client.myself().await.ok()
    })
    .await;
    assert_eq!(stub.count(), 4, "exactly one probe after the cool-down");

    client.myself().await.expect("closed again");
    assert_eq!(stub.count(), 5);
}

#[tokio::test]
async fn a_failed_probe_reopens_the_circuit() {
    let stub = JiraStub::start(vec![], Scripted::empty(503)).await;
    let client = breaker_client(&stub, 1);

    assert_eq!(client.myself().await.unwrap_err().status(), Some(503));
    let probe = eventually(Duration::from_secs(3), || async {
        match client.myself().await {
            Err(JiraError::CircuitOpen { .. }) => None,
            other => Some(other),
        }
    })
    .await;
    assert_eq!(probe.unwrap_err().status(), Some(503));

    let reopened = client.myself().await.unwrap_err();
    assert!(
        matches!(reopened, JiraError::CircuitOpen { .. }),
        "{reopened:?}"
    );
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn answers_that_prove_jira_is_up_do_not_open_the_circuit() {
    let stub = JiraStub::start(
        vec![],
        Scripted::json(404, json!({"errorMessages": ["Issue does not exist"]})),
    )
    .await;
    let client = breaker_client(&stub, 2);

    for _ in 0..4 {
        let error = client.get_issue("ABC-1", &[], &[]).await.unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
    }
    assert_eq!(stub.count(), 4);
}
