//! The store conformance suite: the behaviour every [`Store`] backend must show, written once
//! against the trait and run against each backend (PostgreSQL now, SQLite later).
//!
//! A backend provides a factory, `async fn() -> impl TestBackend`, giving each case a fresh,
//! empty, migrated database; [`store_conformance_tests!`](crate::store_conformance_tests)
//! expands into one `#[tokio::test]` per case (the calling crate depends on `tokio`):
//!
//! ```ignore
//! async fn postgres() -> jira_sync_store::testing::TestDatabase {
//!     jira_sync_store::testing::fresh_postgres().await
//! }
//! jira_sync_store::store_conformance_tests!(postgres);
//! ```
//!
//! The cases live in [`locks`], [`links`], [`records`], [`sync_records`] and [`hashes`]; this
//! module holds the harness.

pub mod hashes;
pub mod links;
pub mod locks;
pub mod records;
pub mod sync_records;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::ConnectionId;
use jira_sync_domain::document::Snapshot;

use crate::{NewLink, Store};

/// One backend's fresh database, as a case sees it.
#[async_trait]
pub trait TestBackend: Send + Sync + 'static {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;

    /// Another, independent instance on the same database, with its own connections: stands
    /// in for a second process.
    async fn open_another(&self) -> Arc<dyn Store>;

    /// Removes the database. Called once after the case, whether it passed or not.
    async fn cleanup(&self);
}

/// Runs one case on `backend`, cleans up even if the case panicked, then reports the outcome.
pub async fn run<B, F, Fut>(backend: B, case: F)
where
    B: TestBackend,
    F: FnOnce(Arc<dyn TestBackend>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let backend: Arc<dyn TestBackend> = Arc::new(backend);
    // Spawned, so that a panic in the case comes back as a value and cleanup still runs.
    let outcome = tokio::spawn(case(backend.clone())).await;
    backend.cleanup().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("conformance case did not finish: {e}"),
        }
    }
}

/// Expands into one `#[tokio::test]` per conformance case, each on a fresh database from
/// `$factory` (an `async fn() -> impl TestBackend`).
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:path) => {
        $crate::store_conformance_tests!(@cases $factory;
            locks::second_locker_of_a_key_waits_then_gets_none_while_it_is_held,
            locks::lock_is_taken_again_after_release,
            locks::waiting_locker_gets_the_lock_when_it_is_released,
            locks::lock_is_exclusive_across_store_instances,
            locks::dropped_guard_frees_the_lock,
            locks::locks_on_different_keys_do_not_block_each_other,
            locks::cancelled_waiter_does_not_keep_the_lock,
            records::beginning_an_intent_twice_returns_the_same_intent,
            records::begin_after_complete_returns_the_twin_id,
            records::concurrent_begins_produce_one_intent,
            records::completing_an_intent_with_another_target_is_a_conflict,
            records::open_intents_are_those_without_a_twin_newest_first,
            records::audit_entries_read_back_in_order,
            records::cursor_only_moves_forward,
            links::base_round_trips_and_is_found_from_both_sides,
            links::record_error_is_visible_until_the_next_save,
            links::second_link_for_a_linked_entity_is_a_conflict,
            links::list_links_is_newest_first_filtered_and_limited,
            links::delete_link_removes_it_and_is_idempotent,
            links::updating_an_unknown_link_is_not_found,
            links::ping_answers,
            sync_records::detaching_a_link_leaves_a_tombstone_found_from_both_sides,
            sync_records::each_comment_is_linked_once_and_its_links_read_back_in_order,
            sync_records::comment_links_are_updated_deleted_and_go_with_their_issue_link,
            sync_records::one_open_conflict_per_field_is_kept_up_to_date,
            sync_records::a_resolved_conflict_makes_room_for_a_new_one,
            hashes::content_hashes_are_kept_per_scope_replaced_and_forgotten,
            hashes::a_held_lock_knows_it_is_held,
        );
    };
    (@cases $factory:path; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let backend = $factory().await;
                $crate::conformance::run(backend, $crate::conformance::$module::$case).await;
            }
        )*
    };
}

/// A connection id for tests.
pub fn connection(name: &str) -> ConnectionId {
    match ConnectionId::parse(name) {
        Ok(id) => id,
        Err(e) => panic!("bad test connection id {name:?}: {e}"),
    }
}

/// A snapshot with a summary and labels.
pub fn snapshot(summary: &str) -> Snapshot {
    Snapshot::from([
        ("summary".to_owned(), serde_json::json!(summary)),
        ("labels".to_owned(), serde_json::json!(["a", "b"])),
    ])
}

/// A link between `left` and `right` in `connection`, with keys and a base.
pub fn new_link(connection: &ConnectionId, left: &str, right: &str) -> NewLink {
    NewLink {
        connection: connection.clone(),
        left_id: left.to_owned(),
        right_id: right.to_owned(),
        left_key: Some(format!("L-{left}")),
        right_key: Some(format!("R-{right}")),
        base: snapshot("initial"),
    }
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
