//! `GET /api/v1/conflicts` and `POST /api/v1/conflicts/{id}/resolve`: resolving stores the
//! operator's choice on the conflict and enqueues a manual reconcile of the link; the first
//! resolution stands; unknown conflicts are 404 and bad bodies 400.

use jira_sync_admin::Resolution;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ReconcileRequest, Trigger};
use jira_sync_store::{ConflictStatus, Link, NewConflict};
use serde_json::{Value, json};

use super::helpers::{TestEnv, connection, next};
use super::schema::assert_documented;

const RESOLVE: &str = "/api/v1/conflicts/{id}/resolve";

async fn conflict(env: &TestEnv, link: &Link, field: &str) -> uuid::Uuid {
    env.store
        .open_conflict(NewConflict {
            link_id: link.id,
            connection: connection(),
            field: field.into(),
            left: json!("Printer on fire"),
            right: json!("Printer is on fire"),
            base: Some(json!("Printer broken")),
        })
        .await
        .expect("a conflict")
        .id
}

fn ids(reply: &Value) -> Vec<String> {
    reply["conflicts"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_a_conflict_stores_the_choice_and_enqueues_a_reconcile_of_its_link() {
    let env = TestEnv::start().await;
    let link = env
        .insert_link(
            ("10001", Some("ACME-1")),
            ("20001", Some("PART-1")),
            &Snapshot::new(),
        )
        .await;
    let id = conflict(&env, &link, "summary").await;
    let open = env
        .get("/api/v1/conflicts?status=open&connection=a-to-b")
        .await;
    assert_eq!(open.status, 200, "{:?}", open.json);
    assert_documented("GET", "/api/v1/conflicts", &open);
    assert_eq!(ids(&open.json), [id.to_string()]);
    assert_eq!(
        env.get("/api/v1/conflicts").await.json,
        open.json,
        "open is the default"
    );

    let mut consumer = env.consumer().await;
    let path = format!("/api/v1/conflicts/{id}/resolve");
    let reply = env.post(&path, json!({ "take": "left" })).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_documented("POST", RESOLVE, &reply);
    assert_eq!(reply.json["conflict"]["status"], "resolved");
    assert_eq!(reply.json["conflict"]["resolution"], "left");
    let delivery = next(&mut consumer).await;
    assert_eq!(
        Some(delivery.envelope().message_id.as_str()),
        reply.json["delivery_id"].as_str()
    );
    let request: ReconcileRequest =
        serde_json::from_slice(&delivery.envelope().payload).expect("decodes");
    assert_eq!(request.trigger, Trigger::Manual);
    assert_eq!(
        (request.endpoint.as_str(), request.entity_id.as_str()),
        ("jira-a", "10001")
    );
    delivery.ack().await.expect("ack");
    let stored = env.store.conflicts_of(link.id).await.expect("conflicts");
    assert_eq!(stored[0].status, ConflictStatus::Resolved);
    assert_eq!(stored[0].resolution.as_deref(), Some("left"));

    // Open ones no longer list it; resolved ones do.
    assert!(ids(&env.get("/api/v1/conflicts").await.json).is_empty());
    let resolved = env.get("/api/v1/conflicts?status=resolved").await;
    assert_eq!(ids(&resolved.json), [id.to_string()]);
    assert_eq!(
        ids(&env.get("/api/v1/conflicts?status=all").await.json).len(),
        1
    );

    // The same again is harmless and enqueues again; another choice is refused.
    let again = env.post(&path, json!({ "take": "left" })).await;
    assert_eq!(again.status, 200);
    next(&mut consumer).await.ack().await.expect("ack");
    let other = env.post(&path, json!({ "take": "right" })).await;
    assert_eq!((other.status, other.code()), (409, "already_resolved"));
    assert!(other.detail().contains("`left`"), "{}", other.detail());
    assert_documented("POST", RESOLVE, &other);

    // A value of the operator's own, null included.
    for (field, value) in [("labels", json!(["a", "b"])), ("duedate", json!(null))] {
        let id = conflict(&env, &link, field).await;
        let reply = env
            .post(
                &format!("/api/v1/conflicts/{id}/resolve"),
                json!({ "value": value }),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        let text = reply.json["conflict"]["resolution"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(Resolution::decode(text), Some(Resolution::Value(value)));
        next(&mut consumer).await.ack().await.expect("ack");
    }
    let detail = env.get("/api/v1/links/a-to-b/10001").await;
    assert_eq!(detail.json["conflicts"].as_array().map(Vec::len), Some(3));
    consumer.close().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_conflict_is_404_and_a_bad_resolution_is_400() {
    let env = TestEnv::start().await;
    let link = env
        .insert_link(("10001", None), ("20001", None), &Snapshot::new())
        .await;
    let id = conflict(&env, &link, "summary").await;
    for missing in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_owned()] {
        let reply = env
            .post(
                &format!("/api/v1/conflicts/{missing}/resolve"),
                json!({ "take": "left" }),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "unknown_conflict"),
            "{missing}"
        );
        assert_documented("POST", RESOLVE, &reply);
    }
    let path = format!("/api/v1/conflicts/{id}/resolve");
    for (body, reason) in [
        (json!({}), "give {\"take\""),
        (json!({ "take": "up" }), "unknown variant `up`"),
        (json!({ "take": "left", "value": 1 }), "not both"),
        (json!({ "pick": "left" }), "unknown field `pick`"),
    ] {
        let reply = env.post(&path, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (400, "bad_request"), "{body}");
        assert!(
            reply.detail().contains(reason),
            "{body}: {}",
            reply.detail()
        );
        assert_documented("POST", RESOLVE, &reply);
    }
    let listing = env.get("/api/v1/conflicts?status=closed").await;
    assert_eq!((listing.status, listing.code()), (400, "bad_request"));
    assert!(listing.detail().contains("open, resolved or all"));
    // Nothing above resolved it.
    let stored = env.store.conflicts_of(link.id).await.expect("conflicts");
    assert_eq!(stored[0].status, ConflictStatus::Open);
    env.stop().await;
}
