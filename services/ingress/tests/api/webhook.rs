//! The happy paths and routing decisions of `POST /webhooks/jira/{endpoint}`.

use jira_sync_domain::ReconcileRequest;

use crate::helpers::{API_KEY, SECRET, fixtures, spawn_fake_app};

const ISSUE_UPDATED: &str = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
    "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;

fn decode(payload: &[u8]) -> ReconcileRequest {
    serde_json::from_slice(payload).expect("payload is a reconcile request")
}

#[tokio::test]
async fn every_fixture_signed_is_accepted_and_becomes_reconcile_requests() {
    let (app, fakes) = spawn_fake_app().await;
    for (name, body) in fixtures() {
        let expected_entity = jira_sync_domain::JiraWebhook::parse(&body)
            .expect("fixture parses")
            .issue_id
            .expect("fixture names an issue");
        let reply = app
            .post_webhook("jira-a", body)
            .signed_with(SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 202, "{name}: {reply:?}");
        assert_eq!(reply.json["status"], "accepted", "{name}");
        let published = fakes.publisher.take();
        assert!(!published.is_empty(), "{name}: nothing published");
        assert_eq!(reply.json["messages"], published.len(), "{name}");
        for envelope in published {
            let request = decode(&envelope.payload);
            assert_eq!(request.entity_id, expected_entity, "{name}");
            assert_eq!(request.endpoint.as_str(), "jira-a", "{name}");
            assert_eq!(envelope.labels["connection"], request.connection.as_str());
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_jira_delivery_id_becomes_the_message_id() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .delivery("0a1b2c3d-4e5f-6789-abcd-ef0123456789")
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let published = fakes.publisher.take();
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].message_id,
        "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    );
    let request = decode(&published[0].payload);
    assert_eq!(request.delivery_id.as_str(), published[0].message_id);
    assert_eq!(request.connection.as_str(), "tes");
    assert_eq!(
        request.event_at.map(|t| t.timestamp_millis()),
        Some(1550286601840)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_delivery_without_an_identifier_gets_a_fresh_one() {
    let (app, fakes) = spawn_fake_app().await;
    for _ in 0..2 {
        let reply = app
            .post_webhook("jira-a", ISSUE_UPDATED)
            .signed_with(SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
    }
    let published = fakes.publisher.take();
    assert_eq!(published.len(), 2);
    assert_ne!(published[0].message_id, published[1].message_id);
    app.stop().await;
}

#[tokio::test]
async fn an_unsynced_event_is_ignored_with_202_and_nothing_is_published() {
    let (app, fakes) = spawn_fake_app().await;
    let body = r#"{"timestamp":1,"webhookEvent":"sprint_started","sprint":{"id":3}}"#;
    let reply = app
        .post_webhook("jira-a", body)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.json, serde_json::json!({ "status": "ignored" }));
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_issue_of_a_project_no_connection_includes_is_ignored() {
    let (app, fakes) = spawn_fake_app().await;
    let body = r#"{"webhookEvent":"jira:issue_created","issue":{"id":"5","key":"NOPE-5"}}"#;
    let reply = app
        .post_webhook("jira-a", body)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.json["status"], "ignored");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_api_key_endpoint_accepts_its_bearer_key_and_nothing_else() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-key", ISSUE_UPDATED)
        .bearer(API_KEY)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let published = fakes.publisher.take();
    assert_eq!(published.len(), 1);
    assert_eq!(decode(&published[0].payload).connection.as_str(), "key");

    let reply = app
        .post_webhook("jira-key", ISSUE_UPDATED)
        .bearer("k-wrong")
        .send()
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    let reply = app
        .post_webhook("jira-key", ISSUE_UPDATED)
        .signed_with(API_KEY)
        .send()
        .await;
    assert_eq!(reply.status, 401, "a signature is not a key: {reply:?}");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn accepted_webhooks_are_counted_in_metrics() {
    let (app, _fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-key", ISSUE_UPDATED)
        .bearer(API_KEY)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let response = app.get("/metrics").await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("metrics body");
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"events_received_total{endpoint="jira-key"}"#)),
        "{text}"
    );
    assert!(
        text.contains("# TYPE events_received_total counter"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn published_messages_carry_the_trace_context_of_the_request() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let published = fakes.publisher.take();
    let traceparent = published[0]
        .trace_context
        .get("traceparent")
        .expect("a traceparent on the message");
    assert_eq!(traceparent.len(), 55, "{traceparent}");

    let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .header("traceparent", remote)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let published = fakes.publisher.take();
    let traceparent = &published[0].trace_context["traceparent"];
    assert!(
        traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "an incoming trace is continued: {traceparent}"
    );
}
