//! Link cases: insert, find from either side, base round trip, errors, uniqueness, listing
//! and deletion.

use std::sync::Arc;

use jira_sync_domain::Side;
use uuid::Uuid;

use super::{TestBackend, connection, new_link, snapshot};
use crate::{Link, Store, StoreError};

async fn insert(store: &Arc<dyn Store>, conn: &str, left: &str, right: &str) -> Link {
    store
        .insert_link(new_link(&connection(conn), left, right))
        .await
        .unwrap_or_else(|e| panic!("insert_link({left}, {right}) failed: {e}"))
}

async fn find(store: &Arc<dyn Store>, conn: &str, side: Side, id: &str) -> Option<Link> {
    store
        .find_link(&connection(conn), side, id)
        .await
        .unwrap_or_else(|e| panic!("find_link failed: {e}"))
}

pub async fn base_round_trips_and_is_found_from_both_sides(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = insert(&store, "conn-a", "10001", "20001").await;
    assert_eq!(link.left_id, "10001");
    assert_eq!(link.right_id, "20001");
    assert_eq!(link.base, snapshot("initial"));
    assert_eq!(link.last_synced_at, None);
    assert_eq!(link.id_on(Side::Right), "20001");

    let mut base = snapshot("synced");
    base.insert("description".to_owned(), serde_json::json!({"type": "doc"}));
    base.insert("duedate".to_owned(), serde_json::Value::Null);
    store
        .save_base(link.id, &base, Some("ACME-1"), Some("OPS-9"))
        .await
        .unwrap_or_else(|e| panic!("save_base failed: {e}"));

    let from_left = find(&store, "conn-a", Side::Left, "10001").await;
    let from_right = find(&store, "conn-a", Side::Right, "20001").await;
    let Some(found) = from_left else {
        panic!("link not found from the left");
    };
    assert_eq!(from_right.as_ref(), Some(&found));
    assert_eq!(found.id, link.id);
    assert_eq!(found.base, base);
    assert_eq!(found.left_key.as_deref(), Some("ACME-1"));
    assert_eq!(found.right_key.as_deref(), Some("OPS-9"));
    assert!(found.last_synced_at.is_some());
    assert_eq!(found.created_at, link.created_at);

    // A key not given is kept.
    store
        .save_base(link.id, &base, None, Some("OPS-10"))
        .await
        .unwrap_or_else(|e| panic!("save_base failed: {e}"));
    let found = find(&store, "conn-a", Side::Right, "20001").await;
    let keys = found.map(|l| (l.left_key, l.right_key));
    assert_eq!(
        keys,
        Some((Some("ACME-1".to_owned()), Some("OPS-10".to_owned())))
    );

    // Ids are per side and per connection.
    assert_eq!(find(&store, "conn-a", Side::Right, "10001").await, None);
    assert_eq!(find(&store, "conn-b", Side::Left, "10001").await, None);
}

pub async fn record_error_is_visible_until_the_next_save(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = insert(&store, "conn-a", "10002", "20002").await;
    store
        .record_error(link.id, "jira 503 on update")
        .await
        .unwrap_or_else(|e| panic!("record_error failed: {e}"));
    let found = find(&store, "conn-a", Side::Left, "10002").await;
    assert_eq!(
        found.and_then(|l| l.last_error).as_deref(),
        Some("jira 503 on update")
    );

    store
        .save_base(link.id, &snapshot("fixed"), None, None)
        .await
        .unwrap_or_else(|e| panic!("save_base failed: {e}"));
    let Some(found) = find(&store, "conn-a", Side::Left, "10002").await else {
        panic!("link disappeared");
    };
    assert_eq!(found.last_error, None);
    assert_eq!(found.base, snapshot("fixed"));
    assert_eq!(
        found.left_key, link.left_key,
        "a key given as None was lost"
    );
}

pub async fn second_link_for_a_linked_entity_is_a_conflict(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let conn = connection("conn-a");
    insert(&store, "conn-a", "10003", "20003").await;
    for (left, right) in [("10003", "29999"), ("19999", "20003"), ("10003", "20003")] {
        let second = store.insert_link(new_link(&conn, left, right)).await;
        assert!(
            matches!(second, Err(StoreError::Conflict(_))),
            "linking {left} to {right} gave {second:?}"
        );
    }
    // The same ids in another connection, or on the other side, are free.
    insert(&store, "conn-b", "10003", "20003").await;
    insert(&store, "conn-a", "20003", "10003").await;
}

pub async fn list_links_is_newest_first_filtered_and_limited(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let a1 = insert(&store, "conn-a", "1", "101").await;
    let b1 = insert(&store, "conn-b", "1", "101").await;
    let a2 = insert(&store, "conn-a", "2", "102").await;
    let a3 = insert(&store, "conn-a", "3", "103").await;
    let list = |conn: Option<&'static str>, limit: i64| {
        let store = store.clone();
        async move {
            let conn = conn.map(connection);
            let links = store
                .list_links(conn.as_ref(), limit)
                .await
                .unwrap_or_else(|e| panic!("list_links failed: {e}"));
            links.into_iter().map(|l| l.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(Some("conn-a"), 10).await, vec![a3.id, a2.id, a1.id]);
    assert_eq!(list(Some("conn-a"), 2).await, vec![a3.id, a2.id]);
    assert_eq!(list(Some("conn-b"), 10).await, vec![b1.id]);
    assert_eq!(list(Some("conn-c"), 10).await, Vec::<Uuid>::new());
    assert_eq!(list(None, 10).await, vec![a3.id, a2.id, b1.id, a1.id]);
    assert_eq!(list(None, 0).await, Vec::<Uuid>::new());
}

pub async fn delete_link_removes_it_and_is_idempotent(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = insert(&store, "conn-a", "10004", "20004").await;
    let kept = insert(&store, "conn-a", "10005", "20005").await;
    store
        .delete_link(link.id)
        .await
        .unwrap_or_else(|e| panic!("delete_link failed: {e}"));
    assert_eq!(find(&store, "conn-a", Side::Left, "10004").await, None);
    assert_eq!(find(&store, "conn-a", Side::Right, "20004").await, None);
    assert_eq!(
        find(&store, "conn-a", Side::Left, "10005")
            .await
            .map(|l| l.id),
        Some(kept.id)
    );
    store
        .delete_link(link.id)
        .await
        .unwrap_or_else(|e| panic!("deleting a deleted link failed: {e}"));
    // Both entities are free to be linked again.
    insert(&store, "conn-a", "10004", "20004").await;
}

pub async fn updating_an_unknown_link_is_not_found(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let unknown = Uuid::new_v4();
    let saved = store.save_base(unknown, &snapshot("x"), None, None).await;
    assert!(matches!(saved, Err(StoreError::NotFound(_))), "{saved:?}");
    let recorded = store.record_error(unknown, "boom").await;
    assert!(
        matches!(recorded, Err(StoreError::NotFound(_))),
        "{recorded:?}"
    );
}

pub async fn ping_answers(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let pinged = store.ping().await;
    assert!(pinged.is_ok(), "{pinged:?}");
}
