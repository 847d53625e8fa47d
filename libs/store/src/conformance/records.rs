//! Create intent, audit log and cursor cases.

use std::collections::HashSet;
use std::sync::Arc;

use jira_sync_domain::Side;
use uuid::Uuid;

use super::{TestBackend, connection};
use crate::{NewAuditEntry, StoreError};

pub async fn beginning_an_intent_twice_returns_the_same_intent(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let conn = connection("conn-a");
    let first = store.begin_intent(&conn, Side::Left, "10001").await;
    let second = store.begin_intent(&conn, Side::Left, "10001").await;
    let (Ok(first), Ok(second)) = (first, second) else {
        panic!("begin_intent failed");
    };
    assert_eq!(first, second);
    assert_eq!(first.connection, conn);
    assert_eq!(first.source_side, Side::Left);
    assert_eq!(first.source_id, "10001");
    assert_eq!(first.target_id, None);

    // The same id on the other side, or in another connection, is another source.
    let other_side = store.begin_intent(&conn, Side::Right, "10001").await;
    let other_conn = store
        .begin_intent(&connection("conn-b"), Side::Left, "10001")
        .await;
    let (Ok(other_side), Ok(other_conn)) = (other_side, other_conn) else {
        panic!("begin_intent failed");
    };
    assert_ne!(other_side.id, first.id);
    assert_ne!(other_conn.id, first.id);
}

pub async fn begin_after_complete_returns_the_twin_id(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let conn = connection("conn-a");
    let Ok(intent) = store.begin_intent(&conn, Side::Right, "20002").await else {
        panic!("begin_intent failed");
    };
    store
        .complete_intent(intent.id, "30003")
        .await
        .unwrap_or_else(|e| panic!("complete_intent failed: {e}"));
    // Completing again with the same twin is harmless (an at-least-once retry).
    store
        .complete_intent(intent.id, "30003")
        .await
        .unwrap_or_else(|e| panic!("repeated complete_intent failed: {e}"));

    let Ok(again) = store.begin_intent(&conn, Side::Right, "20002").await else {
        panic!("begin_intent failed");
    };
    assert_eq!(again.id, intent.id);
    assert_eq!(again.target_id.as_deref(), Some("30003"));

    let missing = store.complete_intent(Uuid::new_v4(), "1").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "completing an unknown intent gave {missing:?}"
    );
}

pub async fn concurrent_begins_produce_one_intent(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let conn = connection("conn-a");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let conn = conn.clone();
            tokio::spawn(async move { store.begin_intent(&conn, Side::Left, "40004").await })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        match task.await {
            Ok(Ok(intent)) => {
                ids.insert(intent.id);
            }
            Ok(Err(e)) => panic!("a concurrent begin_intent failed: {e}"),
            Err(e) => panic!("a concurrent begin_intent panicked: {e}"),
        }
    }
    assert_eq!(ids.len(), 1, "concurrent begins made {} intents", ids.len());
}

pub async fn completing_an_intent_with_another_target_is_a_conflict(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let Ok(intent) = store
        .begin_intent(&connection("conn-a"), Side::Left, "50005")
        .await
    else {
        panic!("begin_intent failed");
    };
    store
        .complete_intent(intent.id, "60006")
        .await
        .unwrap_or_else(|e| panic!("complete_intent failed: {e}"));
    let other = store.complete_intent(intent.id, "70007").await;
    assert!(
        matches!(other, Err(StoreError::Conflict(_))),
        "a second twin was accepted: {other:?}"
    );
    let Ok(again) = store
        .begin_intent(&connection("conn-a"), Side::Left, "50005")
        .await
    else {
        panic!("begin_intent failed");
    };
    assert_eq!(again.target_id.as_deref(), Some("60006"));
}

fn audit(link_id: Option<Uuid>, action: &str, fields: &[&str]) -> NewAuditEntry {
    NewAuditEntry {
        link_id,
        connection: connection("conn-a"),
        action: action.to_owned(),
        target: Side::Right,
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        changes: serde_json::json!({ "summary": { "to": action } }),
        trigger: "jira:issue_updated".to_owned(),
        delivery_id: Some(format!("delivery-{action}")),
        trace_id: None,
    }
}

pub async fn audit_entries_read_back_in_order(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let link = Uuid::new_v4();
    let other_link = Uuid::new_v4();
    let written = [
        audit(Some(link), "create", &["summary", "labels"]),
        audit(Some(other_link), "update", &["summary"]),
        audit(Some(link), "update", &[]),
        audit(None, "conflict", &["priority"]),
        audit(Some(link), "conflict", &["duedate"]),
    ];
    for entry in &written {
        store
            .append_audit(entry.clone())
            .await
            .unwrap_or_else(|e| panic!("append_audit failed: {e}"));
    }
    let read = store
        .audit_of(link)
        .await
        .unwrap_or_else(|e| panic!("audit_of failed: {e}"));
    let entries: Vec<_> = read.iter().map(|e| e.entry.clone()).collect();
    assert_eq!(
        entries,
        vec![written[0].clone(), written[2].clone(), written[4].clone()]
    );
    assert!(
        read.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
    );
    let none = store.audit_of(Uuid::new_v4()).await;
    assert!(matches!(none.as_deref(), Ok([])), "got {none:?}");
}

pub async fn cursor_only_moves_forward(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let read = |name: &'static str| {
        let store = store.clone();
        async move {
            store
                .cursor(name)
                .await
                .unwrap_or_else(|e| panic!("cursor failed: {e}"))
        }
    };
    let advance = |name: &'static str, value: &'static str| {
        let store = store.clone();
        async move {
            store
                .advance_cursor(name, value)
                .await
                .unwrap_or_else(|e| panic!("advance_cursor failed: {e}"));
        }
    };
    assert_eq!(read("poll/conn-a").await, None);
    advance("poll/conn-a", "2026-11-24T10:00:00.000Z").await;
    assert_eq!(
        read("poll/conn-a").await.as_deref(),
        Some("2026-11-24T10:00:00.000Z")
    );
    advance("poll/conn-a", "2026-11-24T11:30:00.000Z").await;
    advance("poll/conn-a", "2026-11-24T09:00:00.000Z").await;
    advance("poll/conn-a", "2026-11-24T11:29:59.999Z").await;
    assert_eq!(
        read("poll/conn-a").await.as_deref(),
        Some("2026-11-24T11:30:00.000Z"),
        "an older value moved the cursor back"
    );
    // Byte order, not the locale's: an uppercase letter sorts before any lowercase one.
    advance("bytes", "b").await;
    advance("bytes", "C").await;
    assert_eq!(read("bytes").await.as_deref(), Some("b"));
    // Cursors are independent.
    assert_eq!(read("poll/conn-b").await, None);
}

pub async fn open_intents_are_those_without_a_twin_newest_first(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let conn = connection("conn-a");
    let mut begun = Vec::new();
    for source in ["1", "2", "3"] {
        let intent = (store.begin_intent(&conn, Side::Right, source).await)
            .unwrap_or_else(|e| panic!("begin_intent failed: {e}"));
        begun.push(intent);
        // Distinct creation times, whatever the clock's resolution.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    (store.complete_intent(begun[1].id, "twin-2").await)
        .unwrap_or_else(|e| panic!("complete_intent failed: {e}"));
    // Other sides and connections are not listed.
    for (c, side) in [
        (connection("conn-a"), Side::Left),
        (connection("conn-b"), Side::Right),
    ] {
        (store.begin_intent(&c, side, "9").await).unwrap_or_else(|e| panic!("begin: {e}"));
    }

    let open = (store.open_intents(&conn, Side::Right, 10).await)
        .unwrap_or_else(|e| panic!("open_intents failed: {e}"));
    let sources: Vec<&str> = open.iter().map(|i| i.source_id.as_str()).collect();
    assert_eq!(sources, ["3", "1"]);
    assert!(open.iter().all(|i| i.target_id.is_none()));
    let first = (store.open_intents(&conn, Side::Right, 1).await)
        .unwrap_or_else(|e| panic!("open_intents failed: {e}"));
    assert_eq!(first.len(), 1, "the limit holds");
    assert_eq!(first[0].id, begun[2].id);
}
