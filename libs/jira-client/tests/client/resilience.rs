//! Retries, Retry-After, budgets, timeouts, idempotency and rate-limit pauses.

use std::time::{Duration, Instant};

use jira_sync_domain::Disposition;
use jira_sync_jira_client::{CreateIssue, JiraClient, JiraError};
use serde_json::json;

use crate::support::{JiraStub, Scripted, user_json};

fn create_request() -> CreateIssue {
    CreateIssue {
        fields: serde_json::from_value(json!({
            "project": {"key": "ABC"}, "issuetype": {"name": "Task"}, "summary": "Hello"
        }))
        .unwrap(),
        properties: vec![],
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_not_retried_before_the_delay() {
    let stub = JiraStub::start(
        vec![
            Scripted::json(429, json!({"errorMessages": ["Rate limit exceeded."]}))
                .header("Retry-After", "1")
                .header("RateLimit-Reason", "jira-burst-based"),
        ],
        Scripted::json(200, user_json()),
    )
    .await;

    let user = stub
        .client()
        .myself()
        .await
        .expect("retried after the delay");

    assert_eq!(user.display_name, "Sync Bot");
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_millis(990),
        "retried after only {gap:?}"
    );
}

#[tokio::test]
async fn three_500s_then_a_200_succeed_within_the_budget() {
    let stub = JiraStub::start(
        vec![
            Scripted::raw(500, "boom"),
            Scripted::raw(502, "<html>bad gateway</html>"),
            Scripted::empty(503),
        ],
        Scripted::json(200, user_json()),
    )
    .await;

    let user = stub
        .client()
        .myself()
        .await
        .expect("fourth attempt succeeds");

    assert_eq!(user.account_id, "5b10a2844c20165700ede21g");
    assert_eq!(stub.count(), 4);
}

#[tokio::test]
async fn a_400_surfaces_jira_messages_and_is_permanent_without_retry() {
    let stub = JiraStub::start(
        vec![],
        Scripted::json(
            400,
            json!({"errorMessages": ["Field 'priority' is required"],
                   "errors": {"summary": "You must specify a summary of the issue."}}),
        ),
    )
    .await;

    let error = stub
        .client()
        .create_issue(&create_request())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(400));
    assert_eq!(
        error.disposition(),
        Disposition::Permanent {
            class: "jira_rejected"
        }
    );
    assert_eq!(
        error.messages(),
        vec![
            "Field 'priority' is required".to_owned(),
            "summary: You must specify a summary of the issue.".to_owned()
        ]
    );
    assert!(error.to_string().contains("Field 'priority' is required"));
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_transient_error() {
    let stub = JiraStub::start(
        vec![],
        Scripted::json(200, user_json()).delayed(Duration::from_secs(3)),
    )
    .await;
    let mut config = stub.config();
    config.request_timeout = Duration::from_millis(200);
    config.max_retries = 0;

    let started = Instant::now();
    let error = JiraClient::new(config).unwrap().myself().await.unwrap_err();

    assert!(matches!(error, JiraError::Timeout { .. }), "{error:?}");
    assert_eq!(
        error.disposition(),
        Disposition::Transient { retry_after: None }
    );
    assert!(error.outcome_unknown());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn create_is_not_retried_after_a_500() {
    let stub = JiraStub::start(
        vec![Scripted::raw(500, "oops")],
        Scripted::json(201, json!({"id": "10000", "key": "ABC-24"})),
    )
    .await;

    let error = stub
        .client()
        .create_issue(&create_request())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(500));
    assert!(error.disposition().is_transient());
    assert!(error.outcome_unknown(), "the issue may exist now");
    assert_eq!(stub.count(), 1, "a second POST could duplicate the issue");
}

#[tokio::test]
async fn create_is_not_retried_after_a_timeout() {
    let stub = JiraStub::start(
        vec![
            Scripted::json(201, json!({"id": "1", "key": "ABC-1"})).delayed(Duration::from_secs(1)),
        ],
        Scripted::json(201, json!({"id": "2", "key": "ABC-2"})),
    )
    .await;
    let mut config = stub.config();
    config.request_timeout = Duration::from_millis(200);

    let error = JiraClient::new(config)
        .unwrap()
        .create_issue(&create_request())
        .await
        .unwrap_err();

    assert!(matches!(error, JiraError::Timeout { .. }), "{error:?}");
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn create_is_retried_after_a_429_and_sends_fields_and_properties() {
    let stub = JiraStub::start(
        vec![Scripted::empty(429).header("Retry-After", "0")],
        Scripted::json(
            201,
            json!({"id": "10000", "key": "ABC-24", "self": "http://x/rest/api/3/issue/10000"}),
        ),
    )
    .await;
    let mut request = create_request();
    request
        .properties
        .push(jira_sync_jira_client::EntityProperty {
            key: "jira-sync".into(),
            value: json!({"origin": "left:10001"}),
        });

    let created = stub.client().create_issue(&request).await.unwrap();

    assert_eq!(
        (created.id.as_str(), created.key.as_str()),
        ("10000", "ABC-24")
    );
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/rest/api/3/issue")
    );
    assert_eq!(seen[1].headers["content-type"], "application/json");
    assert_eq!(
        seen[1].json(),
        json!({"fields": {"project": {"key": "ABC"}, "issuetype": {"name": "Task"}, "summary": "Hello"},
               "properties": [{"key": "jira-sync", "value": {"origin": "left:10001"}}]})
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_returns_at_once_with_the_delay() {
    let stub = JiraStub::start(
        vec![],
        Scripted::empty(429)
            .header("Retry-After", "30")
            .header("RateLimit-Reason", "jira-quota-tenant-based"),
    )
    .await;
    let client = stub.client();

    let started = Instant::now();
    let error = client.myself().await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(1), "did not wait");
    assert_eq!(
        error.disposition(),
        Disposition::Transient {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert_eq!(stub.count(), 1);

    // The endpoint stays paused: the next call fails fast without touching Jira.
    let paused = client.myself().await.unwrap_err();
    assert!(matches!(paused, JiraError::Throttled { .. }), "{paused:?}");
    let retry_after = paused.retry_after().unwrap();
    assert!(retry_after > Duration::from_secs(28) && retry_after <= Duration::from_secs(30));
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn a_per_issue_429_pauses_writes_to_that_issue_only() {
    let stub = JiraStub::start(
        vec![
            Scripted::empty(429)
                .header("Retry-After", "30")
                .header("RateLimit-Reason", "jira-per-issue-on-write"),
        ],
        Scripted::empty(204),
    )
    .await;
    let client = stub.client();
    let fields = serde_json::from_value(json!({"summary": "x"})).unwrap();

    let first = client.edit_issue("ABC-1", &fields).await.unwrap_err();
    assert_eq!(first.status(), Some(429));

    let again = client.edit_issue("abc-1", &fields).await.unwrap_err();
    assert!(matches!(again, JiraError::Throttled { .. }), "{again:?}");
    assert!(again.retry_after().unwrap() > Duration::from_secs(28));
    assert_eq!(stub.count(), 1, "the paused write was not sent");

    client
        .edit_issue("ABC-2", &fields)
        .await
        .expect("other issues are not paused");
    client
        .delete_comment("ABC-3", "77")
        .await
        .expect("other issues are not paused");
    assert_eq!(stub.count(), 3);
}

#[tokio::test]
async fn a_retried_delete_that_finds_nothing_counts_as_done() {
    let stub = JiraStub::start(
        vec![Scripted::raw(503, "busy")],
        Scripted::json(404, json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."]})),
    )
    .await;

    stub.client()
        .delete_issue("ABC-9")
        .await
        .expect("deleted by the first attempt");

    assert_eq!(stub.count(), 2);
    assert_eq!(stub.seen()[1].method, "DELETE");
}

#[tokio::test]
async fn a_connection_refused_is_transient_and_known_not_applied() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stub = JiraStub::start(vec![], Scripted::empty(204)).await;
    let mut config = stub.config();
    config.base_url = format!("http://127.0.0.1:{port}").parse().unwrap();
    config.max_retries = 1;

    let error = JiraClient::new(config)
        .unwrap()
        .create_issue(&create_request())
        .await
        .unwrap_err();

    assert!(matches!(error, JiraError::Connect { .. }), "{error:?}");
    assert!(error.disposition().is_transient());
    assert!(!error.outcome_unknown());
}
