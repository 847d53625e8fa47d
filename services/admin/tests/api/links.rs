//! `GET /api/v1/links` and `GET /api/v1/links/{connection}/{issue}`: the state of a link with
//! its base, lag and recent audit, found by the id of either side or by key; 404 otherwise.

use jira_sync_domain::Side;
use jira_sync_domain::document::Snapshot;
use jira_sync_store::NewAuditEntry;
use serde_json::json;

use super::helpers::{TestEnv, connection};
use super::schema::assert_documented;

const DETAIL: &str = "/api/v1/links/{connection}/{issue}";

fn base() -> Snapshot {
    Snapshot::from([
        ("summary".to_owned(), json!("Printer on fire")),
        ("labels".to_owned(), json!(["hardware"])),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_shows_its_base_lag_and_audit_by_either_id_or_key() {
    let env = TestEnv::start().await;
    let (left_id, left_key) = env.create_issue(Side::Left, "Printer on fire").await;
    let (right_id, right_key) = env.create_issue(Side::Right, "Printer on fire").await;
    let link = env
        .insert_link(
            (&left_id, Some(&left_key)),
            (&right_id, Some(&right_key)),
            &base(),
        )
        .await;
    env.store
        .append_audit(NewAuditEntry {
            link_id: Some(link.id),
            connection: connection(),
            action: "update".into(),
            target: Side::Right,
            fields: vec!["summary".into()],
            changes: json!({ "summary": "Printer on fire" }),
            trigger: "manual".into(),
            delivery_id: Some("d-1".into()),
            trace_id: None,
        })
        .await
        .expect("append an audit entry");

    for issue in [&left_key, &left_id, &right_id, &right_key] {
        let reply = env.get(&format!("/api/v1/links/a-to-b/{issue}")).await;
        assert_eq!(reply.status, 200, "{issue}: {:?}", reply.json);
        assert_documented("GET", DETAIL, &reply);
        assert_eq!(reply.json["id"], json!(link.id), "{issue}");
    }
    let reply = env.get(&format!("/api/v1/links/a-to-b/{left_key}")).await;
    let detail = &reply.json;
    assert_eq!(
        detail["base"],
        json!({ "summary": "Printer on fire", "labels": ["hardware"] })
    );
    assert_eq!(
        detail["left"],
        json!({ "endpoint": "jira-a", "id": left_id, "key": left_key })
    );
    assert_eq!(detail["right"]["endpoint"], "jira-b");
    let lag = detail["lag_seconds"].as_f64().expect("a lag once synced");
    assert!((0.0..60.0).contains(&lag), "lag {lag}");
    assert!(detail["last_synced_at"].is_string());
    assert_eq!(detail["last_error"], json!(null));
    assert_eq!(detail["audit"].as_array().map(Vec::len), Some(1));
    assert_eq!(detail["audit"][0]["trigger"], "manual");
    assert_eq!(detail["audit"][0]["target"], "right");

    env.store
        .record_error(link.id, "Jira answered 400 to PUT")
        .await
        .expect("record an error");
    let list = env.get("/api/v1/links?connection=a-to-b&limit=10").await;
    assert_eq!(list.status, 200, "{:?}", list.json);
    assert_documented("GET", "/api/v1/links", &list);
    let links = list.json["links"].as_array().expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["last_error"], "Jira answered 400 to PUT");
    assert!(links[0]["lag_seconds"].as_f64().is_some());
    let other = env.get("/api/v1/links?connection=b-to-c").await;
    assert_eq!(other.json, json!({ "links": [] }));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_link_is_404_and_a_bad_listing_is_400() {
    let env = TestEnv::start().await;
    let (_, unlinked_key) = env.create_issue(Side::Left, "Not linked").await;
    for path in [
        "/api/v1/links/a-to-b/99999".to_owned(),
        "/api/v1/links/a-to-b/ACME-999".to_owned(),
        format!("/api/v1/links/a-to-b/{unlinked_key}"),
        "/api/v1/links/no-such-connection/1".to_owned(),
        "/api/v1/links/a-to-b/not%20an%20issue".to_owned(),
    ] {
        let reply = env.get(&path).await;
        assert_eq!(
            (reply.status, reply.code()),
            (404, "unknown_link"),
            "{path}: {:?}",
            reply.json
        );
        assert_documented("GET", DETAIL, &reply);
    }
    for (query, reason) in [
        ("limit=0", "limit must be between 1 and 500"),
        ("limit=many", "invalid query string"),
        ("connection=a%20b", "connection"),
        ("colour=red", "unknown field `colour`"),
    ] {
        let reply = env.get(&format!("/api/v1/links?{query}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "bad_request"),
            "{query}"
        );
        assert!(
            reply.detail().contains(reason),
            "{query}: {}",
            reply.detail()
        );
        assert_documented("GET", "/api/v1/links", &reply);
    }
    env.stop().await;
}
