//! `GET /api/v1/dead-letters` reads dead letters without consuming them;
//! `POST /api/v1/dead-letters/replay` moves the chosen ones (or all) back to the work queue.

use jira_sync_domain::{ConnectionId, DeliveryId, EndpointId, ReconcileRequest, Trigger};
use jira_sync_transport::{Envelope, Failure};
use serde_json::json;

use super::helpers::{TestEnv, eventually, next};
use super::schema::assert_documented;

const LIST: &str = "/api/v1/dead-letters";
const REPLAY: &str = "/api/v1/dead-letters/replay";

fn request_envelope() -> Envelope {
    let request = ReconcileRequest {
        connection: ConnectionId::parse("a-to-b").expect("id"),
        endpoint: EndpointId::parse("jira-a").expect("id"),
        entity_id: "10001".into(),
        issue_key: None,
        trigger: Trigger::Webhook {
            event: "jira:issue_updated".into(),
            actor: None,
        },
        delivery_id: DeliveryId::generate(),
        event_at: None,
        change: None,
    };
    let payload = serde_json::to_vec(&request).expect("encodes");
    Envelope::new(request.delivery_id.as_str(), payload)
        .with_label("connection", "a-to-b")
        .with_label("entity", "10001")
}

/// The message ids the API lists, after it lists `count` of them.
async fn listed(env: &TestEnv, count: usize) -> Vec<String> {
    eventually(&format!("{count} dead letters listed"), || async move {
        let reply = env.get(LIST).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        assert_documented("GET", LIST, &reply);
        let ids: Vec<String> = reply.json["dead_letters"]
            .as_array()?
            .iter()
            .filter_map(|d| d["message_id"].as_str().map(str::to_owned))
            .collect();
        (ids.len() == count).then_some(ids)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_without_being_consumed_and_replayed_to_the_work_queue() {
    let env = TestEnv::start().await;
    let publisher = env.broker.transport.publisher();
    let (good, bad) = (
        request_envelope(),
        Envelope::new("bad-1", b"not json".to_vec()),
    );
    let mut consumer = env.consumer().await;
    for (envelope, class) in [(&good, "jira_rejected"), (&bad, "undecodable")] {
        publisher
            .publish(envelope.clone())
            .await
            .expect("published");
        let delivery = next(&mut consumer).await;
        assert_eq!(delivery.envelope().message_id, envelope.message_id);
        let failure = Failure::new(class, format!("{class}: refused"));
        delivery.dead_letter(failure).await.expect("dead-lettered");
    }

    listed(&env, 2).await;
    let reply = env.get(&format!("{LIST}?limit=10")).await;
    let letters = reply.json["dead_letters"]
        .as_array()
        .expect("a list")
        .clone();
    let by_id = |id: &str| letters.iter().find(|d| d["message_id"] == id).cloned();
    let first = by_id(&good.message_id).expect("the request is listed");
    assert_eq!(first["attempts"], 1);
    assert_eq!(
        first["error"],
        json!({ "class": "jira_rejected", "message": "jira_rejected: refused" })
    );
    assert_eq!(first["labels"]["connection"], "a-to-b");
    assert_eq!(first["request"]["entity_id"], "10001");
    assert_eq!(first["payload_excerpt"], json!(null));
    let second = by_id("bad-1").expect("the undecodable one is listed");
    assert_eq!(second["request"], json!(null));
    assert_eq!(second["payload_excerpt"], "not json");
    assert_eq!(second["error"]["class"], "undecodable");
    // Listing consumed nothing.
    listed(&env, 2).await;

    for (body, reason) in [
        (json!({ "ids": [] }), "ids must not be empty"),
        (json!({ "id": ["bad-1"] }), "unknown field `id`"),
        (json!({ "ids": "bad-1" }), "invalid JSON body"),
    ] {
        let reply = env.post(REPLAY, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (400, "bad_request"), "{body}");
        assert!(
            reply.detail().contains(reason),
            "{body}: {}",
            reply.detail()
        );
        assert_documented("POST", REPLAY, &reply);
    }
    let empty = env.post_raw(REPLAY, "application/json", "").await;
    assert_eq!(empty.status, 400);
    listed(&env, 2).await;

    let reply = env.post(REPLAY, json!({ "ids": [good.message_id] })).await;
    assert_eq!(reply.json, json!({ "replayed": 1 }), "{:?}", reply.json);
    assert_documented("POST", REPLAY, &reply);
    let replayed = next(&mut consumer).await;
    assert_eq!(replayed.envelope().message_id, good.message_id);
    assert_eq!(replayed.envelope().payload, good.payload);
    assert_eq!(replayed.envelope().attempt, 1);
    replayed.ack().await.expect("ack");
    assert_eq!(listed(&env, 1).await, ["bad-1"]);

    let reply = env.post(REPLAY, json!({})).await;
    assert_eq!(reply.json, json!({ "replayed": 1 }));
    let replayed = next(&mut consumer).await;
    assert_eq!(replayed.envelope().message_id, "bad-1");
    replayed.ack().await.expect("ack");
    listed(&env, 0).await;
    let reply = env.get(&format!("{LIST}?limit=0")).await;
    assert_eq!((reply.status, reply.code()), (400, "bad_request"));
    consumer.close().await;
    env.stop().await;
}
