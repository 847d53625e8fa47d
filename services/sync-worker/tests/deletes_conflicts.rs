//! Deletes under each `on_delete` policy, conflicts under each policy (left, right, latest,
//! hold), and issues entering and leaving the scope filter.

mod support;

use jira_sync_domain::Side::{Left, Right};
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_worker::Outcome;
use serde_json::json;
use support::{Env, TestResult, adf, connection, field, object};

fn deleted(link_id: uuid::Uuid) -> Outcome {
    Outcome::Deleted {
        side: Left,
        link_id: Some(link_id),
    }
}

/// Deletes the left issue of a fresh pair under `policy`; returns the env and the pair.
async fn delete_left(
    policy: &str,
) -> Result<(Env, String, String, uuid::Uuid), Box<dyn std::error::Error>> {
    let env = Env::start_with(&format!("on_delete = \"{policy}\"")).await?;
    let (id, twin, link) = env.pair(json!({"summary": "Doomed"})).await?;
    env.person(Left).delete_issue(&id).await?;
    assert_eq!(env.reconcile(Left, &id).await?, deleted(link));
    Ok((env, id, twin, link))
}

/// After a pair is detached, neither issue is synced again (no new twin for the survivor).
async fn stays_detached(env: &Env, twin: &str) -> TestResult {
    assert!(
        env.db
            .store
            .find_link(&connection(), Right, twin)
            .await?
            .is_none()
    );
    let detached = env
        .db
        .store
        .find_detached(&connection(), Right, twin)
        .await?;
    assert_eq!(detached.map(|d| d.reason).as_deref(), Some("deleted"));
    assert_eq!(
        env.reconcile(Right, twin).await?,
        Outcome::Skipped { reason: "detached" }
    );
    assert!(env.issues(Left).is_empty(), "no new twin of the survivor");
    Ok(())
}

#[tokio::test]
async fn on_delete_delete_twin_deletes_the_other_issue() -> TestResult {
    let (env, _, twin, link) = delete_left("delete_twin").await?;
    assert!(env.issues(Right).is_empty(), "the twin was deleted");
    assert_eq!(
        env.reconcile(Right, &twin).await?,
        Outcome::Skipped { reason: "detached" }
    );
    assert_eq!(env.actions(link).await?[1..], ["delete", "unlink"]);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn on_delete_comment_says_so_on_the_other_issue_and_stops_syncing_it() -> TestResult {
    let (env, _, twin, link) = delete_left("comment").await?;
    let comments = env.comments(Right, &twin);
    assert_eq!(comments.len(), 1);
    let text = comments[0]["body"]["content"][0]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.starts_with("The linked issue ACME-1 in Alpha Jira was deleted."),
        "{text}"
    );
    stays_detached(&env, &twin).await?;
    assert_eq!(env.actions(link).await?[1..], ["delete_notice", "unlink"]);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn on_delete_unlink_leaves_the_other_issue_alone_and_stops_syncing_it() -> TestResult {
    let (env, _, twin, link) = delete_left("unlink").await?;
    assert_eq!(env.issues(Right).len(), 1);
    assert!(env.comments(Right, &twin).is_empty());
    env.person(Right)
        .edit_issue(&twin, &object(json!({"summary": "Still here"})))
        .await?;
    stays_detached(&env, &twin).await?;
    assert_eq!(env.actions(link).await?[1..], ["unlink"]);
    env.stop().await;
    Ok(())
}

/// A pair whose summary was changed on both sides (left first), and labels on the left only.
async fn conflicting(
    policy: &str,
) -> Result<(Env, String, String, uuid::Uuid), Box<dyn std::error::Error>> {
    let fields = format!("fields = {{ summary = {{ conflict = \"{policy}\" }}, labels = {{}} }}");
    let env = Env::start_with(&fields).await?;
    let (id, twin, link) = env.pair(json!({"summary": "Base"})).await?;
    env.alpha
        .edit_issue(
            &id,
            &object(json!({"summary": "Left says", "labels": ["left"]})),
        )
        .await?;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    env.beta
        .edit_issue(&twin, &object(json!({"summary": "Right says"})))
        .await?;
    Ok((env, id, twin, link))
}

async fn summaries(env: &Env, id: &str, twin: &str) -> (String, String) {
    let s = |v: serde_json::Value| field(&v, "summary").as_str().unwrap_or_default().to_owned();
    (s(env.issue(Left, id)), s(env.issue(Right, twin)))
}

#[tokio::test]
async fn a_conflict_under_left_wins_and_right_wins_takes_that_sides_value() -> TestResult {
    for (policy, winner) in [("left_wins", "Left says"), ("right_wins", "Right says")] {
        let (env, id, twin, _) = conflicting(policy).await?;
        env.reconcile(Right, &twin).await?;
        assert_eq!(
            summaries(&env, &id, &twin).await,
            (winner.to_owned(), winner.to_owned()),
            "{policy}"
        );
        assert!(
            env.db
                .store
                .list_conflicts(None, None, 10)
                .await?
                .is_empty()
        );
        env.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_conflict_under_latest_wins_takes_the_side_updated_last() -> TestResult {
    let (env, id, twin, link) = conflicting("latest_wins").await?;
    let outcome = env.reconcile(Left, &id).await?;
    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id: link,
            to_left: vec!["summary".into()],
            to_right: vec!["labels".into()],
            held: vec![]
        }
    );
    assert_eq!(
        summaries(&env, &id, &twin).await,
        ("Right says".into(), "Right says".into())
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_conflict_under_hold_is_stored_while_the_rest_of_the_issue_keeps_syncing() -> TestResult {
    let (env, id, twin, link) = conflicting("hold").await?;

    let outcome = env.reconcile(Right, &twin).await?;

    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id: link,
            to_left: vec![],
            to_right: vec!["labels".into()],
            held: vec!["summary".into()]
        }
    );
    assert_eq!(
        summaries(&env, &id, &twin).await,
        ("Left says".into(), "Right says".into())
    );
    assert_eq!(field(&env.issue(Right, &twin), "labels"), &json!(["left"]));
    let conflicts = env.db.store.conflicts_of(link).await?;
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (c.field.as_str(), c.status),
        ("summary", ConflictStatus::Open)
    );
    assert_eq!(
        (c.left.clone(), c.right.clone(), c.base.clone()),
        (json!("Left says"), json!("Right says"), Some(json!("Base")))
    );
    // Held, not repeated: another delivery keeps the one open conflict.
    env.reconcile(Left, &id).await?;
    assert_eq!(env.db.store.conflicts_of(link).await?.len(), 1);
    // A person aligns the two sides: the conflict resolves itself.
    env.beta
        .edit_issue(&twin, &object(json!({"summary": "Left says"})))
        .await?;
    env.reconcile(Right, &twin).await?;
    let resolved = env.db.store.conflicts_of(link).await?;
    assert_eq!(
        (resolved[0].status, resolved[0].resolution.as_deref()),
        (ConflictStatus::Resolved, Some("converged"))
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn only_issues_in_scope_get_twins_and_one_that_leaves_is_paused_or_unlinked() -> TestResult {
    for policy in ["stop", "unlink"] {
        let env = Env::start_custom(
            &format!("on_leave_scope = \"{policy}\""),
            r#"scope = { issue_types = ["Task"], jql = "labels = partner AND status != Done" }"#,
            "",
            |_, _| {},
        )
        .await?;
        let (outside, _) = env
            .create(Left, json!({"summary": "Internal"}), None)
            .await?;
        assert_eq!(
            env.reconcile(Left, &outside).await?,
            Outcome::Skipped {
                reason: "out_of_scope"
            }
        );
        assert!(env.issues(Right).is_empty());
        let (id, twin, link) = env
            .pair(json!({"summary": "Shared", "labels": ["partner"]}))
            .await?;
        env.alpha
            .edit_issue(
                &id,
                &object(json!({"labels": [], "description": adf("private")})),
            )
            .await?;

        let outcome = env.reconcile(Left, &id).await?;

        assert_eq!(
            field(&env.issue(Right, &twin), "labels"),
            &json!(["partner"]),
            "{policy}"
        );
        assert_eq!(
            field(&env.issue(Right, &twin), "description"),
            &serde_json::Value::Null
        );
        match policy {
            "stop" => {
                assert_eq!(
                    outcome,
                    Outcome::Skipped {
                        reason: "out_of_scope"
                    }
                );
                // Back in scope: the changes made meanwhile flow.
                env.alpha
                    .edit_issue(&id, &object(json!({"labels": ["partner"]})))
                    .await?;
                env.reconcile(Left, &id).await?;
                assert_eq!(
                    field(&env.issue(Right, &twin), "description"),
                    &adf("private")
                );
            }
            _ => {
                assert_eq!(outcome, Outcome::Unlinked { link_id: link });
                let detached = env.db.store.find_detached(&connection(), Left, &id).await?;
                assert_eq!(detached.map(|d| d.reason).as_deref(), Some("left_scope"));
            }
        }
        env.stop().await;
    }
    Ok(())
}

/// A lock lost mid-reconcile (PostgreSQL ended the session holding it, as a restart does): the
/// reconcile writes nothing and fails, to be retried, because another reconcile of the pair
/// may hold the lock by now and have written newer values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_whose_lock_was_lost_while_reading_writes_nothing() -> TestResult {
    let env = Env::start().await?;
    let (id, twin, _) = env.pair(json!({"summary": "Before"})).await?;
    env.person(Left)
        .edit_issue(&id, &object(json!({"summary": "After"})))
        .await?;
    // Reading the issue takes long enough to end the lock's session meanwhile.
    env.site(Left).add_fault(jira_sync_jira_sim::FaultSpec {
        method: Some("GET".into()),
        path_prefix: Some(format!("/rest/api/3/issue/{id}")),
        kind: jira_sync_jira_sim::FaultKind::LatencyMs(800),
        times: Some(1),
        probability: None,
        seed: None,
    })?;
    let pool = env.db.store.pool().clone();
    let reconcile = env.reconcile(Left, &id);
    let terminate = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted AND database = \
             (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_all(&pool)
        .await?;
        Ok::<_, sqlx::Error>(ended)
    };
    let (outcome, ended) = tokio::join!(reconcile, terminate);
    assert_eq!(ended?, vec![true], "one lock session ended");
    let error = outcome.err().ok_or("the reconcile must fail")?;
    assert!(
        matches!(error, jira_sync_worker::ReconcileError::LockLost(_)),
        "{error:?}"
    );
    assert_eq!(field(&env.issue(Right, &twin), "summary"), "Before");

    // The retry, with a lock of its own, syncs the change.
    env.reconcile(Left, &id).await?;
    assert_eq!(field(&env.issue(Right, &twin), "summary"), "After");
    env.stop().await;
    Ok(())
}
