//! Content hash cases: hashes are kept per scope, replaced, forgotten, and read back whole.
//! Plus the lock case a long-held lock relies on: a guard knows it still holds its lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::TestBackend;

fn pairs(entries: &[(&str, &str)]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|(id, hash)| ((*id).to_owned(), (*hash).to_owned()))
        .collect()
}

fn map(entries: &[(&str, &str)]) -> HashMap<String, String> {
    pairs(entries).into_iter().collect()
}

pub async fn content_hashes_are_kept_per_scope_replaced_and_forgotten(
    backend: Arc<dyn TestBackend>,
) {
    let store = backend.store();
    let read = |scope: &'static str| {
        let store = store.clone();
        async move {
            match store.content_hashes(scope).await {
                Ok(hashes) => hashes,
                Err(e) => panic!("content_hashes({scope}): {e}"),
            }
        }
    };
    assert!(read("pf/left").await.is_empty(), "a new scope is empty");
    let saved = store
        .set_content_hashes("pf/left", &pairs(&[("1", "aa"), ("2", "bb"), ("3", "cc")]))
        .await;
    assert!(saved.is_ok(), "{saved:?}");
    let other = store
        .set_content_hashes("pf/right", &pairs(&[("1", "zz")]))
        .await;
    assert!(other.is_ok(), "{other:?}");
    assert!(store.set_content_hashes("pf/left", &[]).await.is_ok());
    assert_eq!(
        read("pf/left").await,
        map(&[("1", "aa"), ("2", "bb"), ("3", "cc")])
    );

    let replaced = store
        .set_content_hashes("pf/left", &pairs(&[("2", "b2"), ("4", "dd")]))
        .await;
    assert!(replaced.is_ok(), "{replaced:?}");
    let forgotten = store
        .forget_content_hashes("pf/left", &["1".to_owned(), "unknown".to_owned()])
        .await;
    assert!(forgotten.is_ok(), "{forgotten:?}");
    assert!(store.forget_content_hashes("pf/left", &[]).await.is_ok());
    assert_eq!(
        read("pf/left").await,
        map(&[("2", "b2"), ("3", "cc"), ("4", "dd")])
    );
    assert_eq!(
        read("pf/right").await,
        map(&[("1", "zz")]),
        "other scopes are untouched"
    );

    // Another process sees them, and a large batch is one call.
    let many: Vec<(String, String)> = (0..5_000)
        .map(|i| (format!("task-{i}"), format!("{i:064x}")))
        .collect();
    let big = store.set_content_hashes("pf/big", &many).await;
    assert!(big.is_ok(), "{big:?}");
    match backend.open_another().await.content_hashes("pf/big").await {
        Ok(hashes) => assert_eq!(hashes, many.into_iter().collect()),
        Err(e) => panic!("content_hashes from another instance: {e}"),
    }
}

pub async fn a_held_lock_knows_it_is_held(backend: Arc<dyn TestBackend>) {
    let store = backend.store();
    let mut guard = match store.lock("poller/leader/x", Duration::from_secs(5)).await {
        Ok(Some(guard)) => guard,
        other => panic!(
            "a free key was not locked: {:?}",
            other.map(|g| g.is_some())
        ),
    };
    for _ in 0..3 {
        let held = guard.is_held().await;
        assert!(matches!(held, Ok(true)), "{held:?}");
    }
    let another = backend.open_another().await;
    let second = another.lock("poller/leader/x", Duration::ZERO).await;
    assert!(matches!(second, Ok(None)), "taken twice");
    let held = guard.is_held().await;
    assert!(
        matches!(held, Ok(true)),
        "a refused locker does not take it: {held:?}"
    );
    assert!(guard.release().await.is_ok());
}
