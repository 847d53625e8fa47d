//! Detached link, comment link and conflict cases.

use std::sync::Arc;

use jira_sync_domain::Side;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{TestBackend, connection, new_link};
use crate::{ConflictStatus, Link, NewCommentLink, NewConflict, Store, StoreError};

async fn linked(store: &Arc<dyn Store>, left: &str, right: &str) -> Link {
    match store
        .insert_link(new_link(&connection("conn-a"), left, right))
        .await
    {
        Ok(link) => link,
        Err(e) => panic!("insert_link failed: {e}"),
    }
}

fn comment(link: &Link, left: &str, right: &str) -> NewCommentLink {
    NewCommentLink {
        link_id: link.id,
        connection: link.connection.clone(),
        left_id: left.to_owned(),
        right_id: right.to_owned(),
        origin: Side::Right,
        left_hash: format!("l-{left}"),
        right_hash: format!("r-{right}"),
    }
}

pub async fn detaching_a_link_leaves_a_tombstone_found_from_both_sides(
    backend: Arc<dyn TestBackend>,
) {
    let store = backend.store();
    let conn = connection("conn-a");
    let link = linked(&store, "100", "200").await;
    let detached = store.detach_link(link.id, "deleted").await;
    let Ok(detached) = detached else {
        panic!("detach_link failed: {detached:?}");
    };
    assert_eq!(
        (
            detached.id,
            detached.left_id.as_str(),
            detached.right_id.as_str()
        ),
        (link.id, "100", "200")
    );
    assert_eq!(detached.reason, "deleted");
    assert_eq!(detached.left_key.as_deref(), Some("L-100"));
    assert!(matches!(
        store.find_link(&conn, Side::Left, "100").await,
        Ok(None)
    ));
    for (side, id) in [(Side::Left, "100"), (Side::Right, "200")] {
        let found = store.find_detached(&conn, side, id).await;
        assert_eq!(found.ok().flatten().map(|d| d.id), Some(link.id), "{side}");
    }
    assert!(matches!(
        store
            .find_detached(&connection("conn-b"), Side::Left, "100")
            .await,
        Ok(None)
    ));
    // At-least-once: detaching again returns the same record.
    let again = store.detach_link(link.id, "unlinked").await;
    assert_eq!(again.map(|d| d.reason).ok().as_deref(), Some("deleted"));
    let missing = store.detach_link(Uuid::new_v4(), "deleted").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    // The entities are free to be linked again.
    assert!(
        store
            .insert_link(new_link(&conn, "100", "300"))
            .await
            .is_ok()
    );
}

pub async fn each_comment_is_linked_once_and_its_links_read_back_in_order(
    backend: Arc<dyn TestBackend>,
) {
    let store = backend.store();
    let link = linked(&store, "100", "200").await;
    let first = store.insert_comment_link(comment(&link, "c1", "d1")).await;
    let second = store.insert_comment_link(comment(&link, "c2", "d2")).await;
    let (Ok(first), Ok(second)) = (first, second) else {
        panic!("insert_comment_link failed");
    };
    assert_eq!(
        (first.origin, first.hash_on(Side::Left)),
        (Side::Right, "l-c1")
    );
    assert_eq!(first.id_on(Side::Right), "d1");
    let again = store.insert_comment_link(comment(&link, "c1", "d9")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let copy_again = store.insert_comment_link(comment(&link, "c9", "d2")).await;
    assert!(
        matches!(copy_again, Err(StoreError::Conflict(_))),
        "{copy_again:?}"
    );
    let mut orphan = comment(&link, "c5", "d5");
    orphan.link_id = Uuid::new_v4();
    let orphan = store.insert_comment_link(orphan).await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
    let listed = store.comment_links(link.id).await.unwrap_or_default();
    assert_eq!(listed, vec![first, second]);
}

pub async fn comment_links_are_updated_deleted_and_go_with_their_issue_link(
    backend: Arc<dyn TestBackend>,
) {
    let store = backend.store();
    let link = linked(&store, "100", "200").await;
    let Ok(cl) = store.insert_comment_link(comment(&link, "c1", "d1")).await else {
        panic!("insert_comment_link failed");
    };
    store
        .update_comment_link(cl.id, "l-new", "r-new")
        .await
        .unwrap_or_else(|e| panic!("update_comment_link failed: {e}"));
    let listed = store.comment_links(link.id).await.unwrap_or_default();
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.left_hash.as_str(), c.right_hash.as_str()))
            .collect::<Vec<_>>(),
        vec![("l-new", "r-new")]
    );
    let missing = store.update_comment_link(Uuid::new_v4(), "a", "b").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    assert!(store.delete_comment_link(cl.id).await.is_ok());
    assert!(
        store.delete_comment_link(cl.id).await.is_ok(),
        "delete is idempotent"
    );
    assert_eq!(
        store.comment_links(link.id).await.map(|l| l.len()).ok(),
        Some(0)
    );

    let other = linked(&store, "101", "201").await;
    assert!(
        store
            .insert_comment_link(comment(&other, "c7", "d7"))
            .await
            .is_ok()
    );
    assert!(store.detach_link(other.id, "unlinked").await.is_ok());
    assert_eq!(
        store.comment_links(other.id).await.map(|l| l.len()).ok(),
        Some(0)
    );
    // The comment ids are free again.
    let third = linked(&store, "102", "202").await;
    assert!(
        store
            .insert_comment_link(comment(&third, "c7", "d7"))
            .await
            .is_ok()
    );
}

fn conflict(link: &Link, field: &str, left: Value, right: Value) -> NewConflict {
    NewConflict {
        link_id: link.id,
        connection: link.connection.clone(),
        field: field.to_owned(),
        left,
        right,
        base: Some(json!("base")),
    }
}

pub async fn one_open_conflict_per_field_is_kept_up_to_date(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = linked(&store, "100", "200").await;
    let first = store
        .open_conflict(conflict(&link, "summary", json!("L"), json!("R")))
        .await;
    let Ok(first) = first else {
        panic!("open_conflict failed: {first:?}");
    };
    assert_eq!(first.status, ConflictStatus::Open);
    assert_eq!(
        (first.left.clone(), first.base.clone()),
        (json!("L"), Some(json!("base")))
    );
    let mut newer = conflict(&link, "summary", json!("L2"), json!(["R", 2]));
    newer.base = None;
    let updated = store.open_conflict(newer).await;
    let Ok(updated) = updated else {
        panic!("open_conflict failed: {updated:?}");
    };
    assert_eq!(updated.id, first.id);
    assert_eq!(
        (updated.left, updated.right, updated.base),
        (json!("L2"), json!(["R", 2]), None)
    );
    let mut null_base = conflict(&link, "labels", json!([]), json!(["x"]));
    null_base.base = Some(Value::Null);
    let labels = store.open_conflict(null_base).await.ok();
    assert_eq!(
        labels.as_ref().map(|c| c.base.clone()),
        Some(Some(Value::Null))
    );
    let all = store.conflicts_of(link.id).await.unwrap_or_default();
    assert_eq!(
        all.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        vec!["summary", "labels"]
    );
}

pub async fn a_resolved_conflict_makes_room_for_a_new_one(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = linked(&store, "100", "200").await;
    let Ok(first) = store
        .open_conflict(conflict(&link, "summary", json!("L"), json!("R")))
        .await
    else {
        panic!("open_conflict failed");
    };
    let resolved = store.resolve_conflict(first.id, "left").await;
    let Ok(resolved) = resolved else {
        panic!("resolve_conflict failed: {resolved:?}");
    };
    assert_eq!(
        (resolved.status, resolved.resolution.as_deref()),
        (ConflictStatus::Resolved, Some("left"))
    );
    assert!(resolved.resolved_at.is_some());
    let again = store.resolve_conflict(first.id, "right").await;
    assert_eq!(
        again.ok().and_then(|c| c.resolution).as_deref(),
        Some("left")
    );
    let missing = store.resolve_conflict(Uuid::new_v4(), "left").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );

    let Ok(second) = store
        .open_conflict(conflict(&link, "summary", json!("L3"), json!("R3")))
        .await
    else {
        panic!("open_conflict failed");
    };
    assert_ne!(second.id, first.id);
    let open = store
        .list_conflicts(Some(&link.connection), Some(ConflictStatus::Open), 10)
        .await;
    assert_eq!(
        open.map(|c| c.into_iter().map(|c| c.id).collect::<Vec<_>>())
            .ok(),
        Some(vec![second.id])
    );
    let any = store
        .list_conflicts(None, None, 10)
        .await
        .unwrap_or_default();
    assert_eq!(
        any.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second.id, first.id]
    );
    let other = store
        .list_conflicts(Some(&connection("conn-b")), None, 10)
        .await;
    assert_eq!(other.map(|c| c.len()).ok(), Some(0));
    assert_eq!(
        store
            .list_conflicts(None, None, 1)
            .await
            .map(|c| c.len())
            .ok(),
        Some(1)
    );
}
