//! Unit tests of delivery dispatch: bad messages settle into the dead-letter queue.

use std::sync::Arc;

use jira_sync_store::postgres::PgStore;
use serde_json::json;

use super::*;
use crate::jira::JiraClients;
use crate::test_support::{Settled, SettledLog, delivery, settings, settled};

fn context(traceparent: &str) -> BTreeMap<String, String> {
    [("traceparent".to_owned(), traceparent.to_owned())].into()
}

/// A handler whose store and Jira clients are never reached by the cases below (they fail
/// before any I/O): a lazy pool that never connects, clients for unreachable ports.
fn handler() -> Handler {
    let settings = settings();
    let store =
        PgStore::connect_lazy(&settings.database).unwrap_or_else(|e| panic!("lazy store: {e}"));
    let jira = JiraClients::from_settings(&settings).unwrap_or_else(|e| panic!("clients: {e}"));
    let policy = RetryPolicy::from_settings(&settings.amqp);
    Handler::new(
        Reconciler::new(Arc::new(settings), Arc::new(store), jira),
        policy,
    )
}

async fn settle(payload: &[u8]) -> Settled {
    let log = SettledLog::default();
    handler().handle(delivery("m-1", payload, 1, &log)).await;
    let mut all = settled(&log);
    assert_eq!(all.len(), 1, "settled {all:?}");
    all.remove(0).1
}

fn request(connection: &str, endpoint: &str) -> Vec<u8> {
    json!({
        "connection": connection,
        "endpoint": endpoint,
        "entity_id": "10001",
        "trigger": {"kind": "poll"},
        "delivery_id": "d-1"
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn an_undecodable_payload_is_dead_lettered_as_undecodable() {
    let Settled::DeadLetter(failure) = settle(b"not json").await else {
        panic!("not dead-lettered");
    };
    assert_eq!(failure.class, "undecodable");
    assert!(
        failure
            .message
            .starts_with("payload is not a reconcile request")
    );
}

#[tokio::test]
async fn a_request_for_an_unknown_connection_is_dead_lettered_as_config() {
    let Settled::DeadLetter(failure) = settle(&request("nope", "jira-a")).await else {
        panic!("not dead-lettered");
    };
    assert_eq!(failure.class, "config");
    assert_eq!(failure.message, "connection `nope` is not configured");
}

#[tokio::test]
async fn a_request_from_an_endpoint_outside_the_connection_is_dead_lettered_as_config() {
    let Settled::DeadLetter(failure) = settle(&request("a-to-b", "jira-z")).await else {
        panic!("not dead-lettered");
    };
    assert_eq!(failure.class, "config");
    assert!(
        failure.message.contains("`jira-z` is not a side"),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_bad_message_does_not_stop_the_next_one_from_being_handled() {
    let handler = handler();
    let log = SettledLog::default();
    handler.handle(delivery("bad", b"\xff", 1, &log)).await;
    handler
        .handle(delivery("next", &request("nope", "jira-a"), 1, &log))
        .await;
    let ids: Vec<String> = settled(&log).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec!["bad", "next"]);
}

#[test]
fn the_trace_id_is_read_from_a_traceparent() {
    let ctx = context("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
    assert_eq!(
        trace_id(&ctx).as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
}

#[test]
fn a_malformed_or_missing_traceparent_gives_no_trace_id() {
    assert_eq!(trace_id(&BTreeMap::new()), None);
    assert_eq!(trace_id(&context("garbage")), None);
    assert_eq!(
        trace_id(&context(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        )),
        None
    );
}

#[tokio::test]
async fn waiting_for_a_busy_pair_never_uses_up_the_attempts_but_other_transient_failures_do() {
    let handler = handler();
    let last = handler.policy.max_attempts;
    let busy = DeliveryError::Reconcile(crate::error::ReconcileError::LockBusy(
        "a-to-b/left/1".into(),
    ));
    for attempt in [1, last, last + 5] {
        let settlement = handler.failed(&busy, attempt, None).await;
        assert!(
            matches!(settlement, Settlement::Retry { .. }),
            "attempt {attempt}: {settlement:?}"
        );
    }
    let unstable = DeliveryError::Reconcile(crate::error::ReconcileError::LockUnstable);
    let Settlement::DeadLetter { failure } = handler.failed(&unstable, last, None).await else {
        panic!("a transient failure on the last attempt is dead-lettered");
    };
    assert_eq!(failure.class, "exhausted");
}
