//! `POST /api/v1/sync`: a manual sync publishes a decodable `ReconcileRequest` that a consumer
//! of the work queue receives; bad requests are refused with a reason and publish nothing; an
//! unconfirmed publish is a 503.

use jira_sync_domain::{ReconcileRequest, Side, Trigger};
use serde_json::{Value, json};

use super::helpers::{TestEnv, eventually, next, nothing_delivered};
use super::schema::assert_documented;

const SYNC: &str = "/api/v1/sync";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_sync_publishes_a_decodable_request_that_a_consumer_receives() {
    let env = TestEnv::start().await;
    let (id, key) = env.create_issue(Side::Left, "Printer on fire").await;
    let mut consumer = env.consumer().await;

    let reply = env
        .post(
            SYNC,
            json!({ "connection": "a-to-b", "issue": key, "side": "left" }),
        )
        .await;
    assert_eq!(reply.status, 202, "{:?}", reply.json);
    assert_documented("POST", SYNC, &reply);
    assert_eq!(reply.json["entity_id"], json!(id));
    assert_eq!(reply.json["issue_key"], json!(key));
    assert_eq!(reply.json["endpoint"], "jira-a");
    let delivery = next(&mut consumer).await;
    let envelope = delivery.envelope().clone();
    assert_eq!(
        Some(envelope.message_id.as_str()),
        reply.json["delivery_id"].as_str()
    );
    let request: ReconcileRequest =
        serde_json::from_slice(&envelope.payload).expect("the payload is a ReconcileRequest");
    assert_eq!(request.trigger, Trigger::Manual);
    assert_eq!(request.entity_id, id);
    assert_eq!(request.endpoint.as_str(), "jira-a");
    assert_eq!(request.connection.as_str(), "a-to-b");
    assert_eq!(request.issue_key.map(String::from), Some(key.clone()));
    assert_eq!(
        envelope.labels.get("event").map(String::as_str),
        Some("manual")
    );
    assert_eq!(envelope.labels.get("issue"), Some(&key));
    delivery.ack().await.expect("ack");

    // By id, on the right side: no look-up, no key.
    let reply = env
        .post(
            SYNC,
            json!({ "connection": "a-to-b", "issue": "20001", "side": "right" }),
        )
        .await;
    assert_eq!(reply.status, 202, "{:?}", reply.json);
    assert_eq!(reply.json["issue_key"], Value::Null);
    let delivery = next(&mut consumer).await;
    let request: ReconcileRequest =
        serde_json::from_slice(&delivery.envelope().payload).expect("decodes");
    assert_eq!(
        (request.endpoint.as_str(), request.entity_id.as_str()),
        ("jira-b", "20001")
    );
    assert_eq!(request.issue_key, None);
    delivery.ack().await.expect("ack");
    consumer.close().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sync_requests_are_refused_with_400_and_a_reason_and_publish_nothing() {
    let env = TestEnv::start().await;
    let (_, other_project_key) = env.create_issue_in(Side::Left, "OTHER", "Elsewhere").await;
    let mut consumer = env.consumer().await;
    let cases = [
        (
            json!({ "connection": "a-to-b", "issue": "ACME-1" }),
            "bad_request",
            "missing field `side`",
        ),
        (
            json!({ "connection": "a-to-b", "issue": "1", "side": "up" }),
            "bad_request",
            "unknown variant `up`",
        ),
        (
            json!({ "connection": "a-to-b", "issue": "1", "side": "left", "force": true }),
            "bad_request",
            "unknown field `force`",
        ),
        (
            json!({ "connection": "a-to-c", "issue": "1", "side": "left" }),
            "unknown_connection",
            "a-to-c",
        ),
        (
            json!({ "connection": "a-to-b", "issue": " ", "side": "left" }),
            "bad_request",
            "must not be empty",
        ),
        (
            json!({ "connection": "a-to-b", "issue": "drop table", "side": "left" }),
            "bad_request",
            "id (digits) or key",
        ),
        (
            json!({ "connection": "a-to-b", "issue": "ACME-999", "side": "left" }),
            "unknown_issue",
            "does not exist",
        ),
        (
            json!({ "connection": "a-to-b", "issue": other_project_key, "side": "left" }),
            "unknown_issue",
            "in project OTHER",
        ),
        (json!(["a-to-b"]), "bad_request", "invalid JSON body"),
    ];
    for (body, code, reason) in cases {
        let reply = env.post(SYNC, body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, code),
            "{body}: {:?}",
            reply.json
        );
        assert!(
            reply.detail().contains(reason),
            "{body}: {:?}",
            reply.detail()
        );
        assert_documented("POST", SYNC, &reply);
    }
    let malformed = env
        .post_raw(SYNC, "application/json", "{\"connection\":")
        .await;
    assert_eq!((malformed.status, malformed.code()), (400, "bad_request"));
    let empty = env.post_raw(SYNC, "application/json", "").await;
    assert_eq!(empty.detail(), "the body is empty; send a JSON object");
    let text = env.post_raw(SYNC, "text/plain", "{}").await;
    assert_eq!(text.status, 400);
    assert!(
        text.detail().contains("Content-Type: application/json"),
        "{}",
        text.detail()
    );
    nothing_delivered(&mut consumer).await;
    consumer.close().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_the_broker_does_not_confirm_is_answered_503_and_works_again_after() {
    let env = TestEnv::start().await;
    let body = json!({ "connection": "a-to-b", "issue": "10001", "side": "left" });
    env.broker.proxy().cut().await;
    let reply = env.post(SYNC, body.clone()).await;
    assert_eq!(
        (reply.status, reply.code()),
        (503, "broker_unavailable"),
        "{:?}",
        reply.json
    );
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert!(!reply.detail().contains("127.0.0.1"), "{}", reply.detail());
    assert_documented("POST", SYNC, &reply);
    env.broker.proxy().restore();
    eventually("a confirmed publish after the outage", || {
        let env = &env;
        let body = body.clone();
        async move { (env.post(SYNC, body).await.status == 202).then_some(()) }
    })
    .await;
    env.stop().await;
}
