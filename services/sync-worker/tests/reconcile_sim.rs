//! Reconciles through the real engine against two simulated Jira sites and a real PostgreSQL
//! store: twin creation with mapped fields, edits flowing both ways, echo suppression, and the
//! exactly-once guarantees around interrupted creates and concurrent requests.

mod support;

use jira_sync_domain::Side::{Left, Right};
use jira_sync_store::Store;
use jira_sync_worker::Outcome;
use jira_sync_worker::reconcile::jira_map::ORIGIN_PROPERTY;
use serde_json::{Map, Value, json};
use support::{Env, TestResult, adf, connection, field};

fn in_sync(link_id: uuid::Uuid) -> Outcome {
    Outcome::Synced {
        link_id,
        to_left: vec![],
        to_right: vec![],
        held: vec![],
    }
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn a_new_issue_in_site_a_gets_exactly_one_twin_in_site_b_with_mapped_fields() -> TestResult {
    let env = Env::start().await?;
    let (id, key) = env
        .create(
            Left,
            json!({
                "summary": "Printer on fire",
                "description": adf("It is hot"),
                "labels": ["ops", "fire"],
                "priority": {"name": "High"},
                "duedate": "2026-12-24"
            }),
            None,
        )
        .await?;

    let Outcome::Created {
        link_id,
        twin_id,
        twin_key,
    } = env.reconcile(Left, &id).await?
    else {
        panic!("no twin created");
    };

    let twins = env.issues(Right);
    assert_eq!(twins.len(), 1, "{twins:#?}");
    let twin = &twins[0];
    assert_eq!(twin["id"], json!(twin_id));
    assert_eq!(twin["key"], json!(twin_key));
    assert_eq!(field(twin, "summary"), "Printer on fire");
    assert_eq!(field(twin, "description"), &adf("It is hot"));
    assert_eq!(field(twin, "labels"), &json!(["fire", "ops"]));
    assert_eq!(field(twin, "priority")["name"], "P1");
    assert_eq!(field(twin, "duedate"), "2026-12-24");
    let marker = &twin["properties"][ORIGIN_PROPERTY];
    assert_eq!(
        marker,
        &json!({"connection": "a-to-b", "endpoint": "jira-a", "id": id, "key": key})
    );

    // A duplicate delivery, and our own create coming back as the twin's webhook: no-ops.
    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link_id));
    assert_eq!(env.reconcile(Right, &twin_id).await?, in_sync(link_id));
    assert_eq!(env.issues(Right).len(), 1);
    assert_eq!(env.issues(Left).len(), 1);

    let link = env
        .db
        .store
        .find_link(&connection(), Right, &twin_id)
        .await?;
    assert_eq!(link.map(|l| (l.left_id, l.right_id)), Some((id, twin_id)));
    let audit = env.db.store.audit_of(link_id).await?;
    let actions: Vec<_> = audit.iter().map(|a| a.entry.action.as_str()).collect();
    assert_eq!(actions, vec!["create"]);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn edits_flow_both_ways_with_priorities_mapped_and_echoes_do_nothing() -> TestResult {
    let env = Env::start().await?;
    let (id, _) = env
        .create(
            Left,
            json!({"summary": "Sync me", "labels": ["a"], "priority": {"name": "High"}}),
            None,
        )
        .await?;
    let Outcome::Created {
        link_id, twin_id, ..
    } = env.reconcile(Left, &id).await?
    else {
        panic!("no twin created");
    };

    let edit = fields(json!({"priority": {"name": "P4"}, "labels": ["a", "b"]}));
    env.beta.edit_issue(&twin_id, &edit).await?;
    let outcome = env.reconcile(Right, &twin_id).await?;
    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id,
            to_left: vec!["labels".into(), "priority".into()],
            to_right: vec![],
            held: vec![],
        }
    );
    let left = &env.issues(Left)[0];
    assert_eq!(field(left, "priority")["name"], "Low");
    assert_eq!(field(left, "labels"), &json!(["a", "b"]));
    // Our write to the left comes back as its webhook: nothing to do.
    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link_id));

    let edit = fields(json!({"summary": "Renamed", "duedate": "2027-01-31"}));
    env.alpha.edit_issue(&id, &edit).await?;
    let outcome = env.reconcile(Left, &id).await?;
    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id,
            to_left: vec![],
            to_right: vec!["due_date".into(), "summary".into()],
            held: vec![],
        }
    );
    let right = &env.issues(Right)[0];
    assert_eq!(field(right, "summary"), "Renamed");
    assert_eq!(field(right, "duedate"), "2027-01-31");
    assert_eq!(field(right, "priority")["name"], "P4");
    assert_eq!(env.reconcile(Right, &twin_id).await?, in_sync(link_id));

    let audit = env.db.store.audit_of(link_id).await?;
    let trail: Vec<_> = (audit.iter())
        .map(|a| {
            (
                a.entry.action.as_str(),
                a.entry.target,
                a.entry.fields.clone(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            ("create", Right, trail[0].2.clone()),
            ("update", Left, vec!["labels".into(), "priority".into()]),
            ("update", Right, vec!["due_date".into(), "summary".into()]),
        ]
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_retry_after_a_crash_between_create_and_link_adopts_the_twin_instead_of_creating_another()
-> TestResult {
    let env = Env::start().await?;
    let (id, key) = env
        .create(Left, json!({"summary": "Once", "labels": ["late"]}), None)
        .await?;
    // The crashed attempt: intent recorded, twin created with its marker, link never stored.
    env.db.store.begin_intent(&connection(), Left, &id).await?;
    let marker = env.marker(Left, &id, &key);
    let (twin_id, _) = env
        .create(Right, json!({"summary": "Once"}), Some(&marker))
        .await?;

    let outcome = env.reconcile(Left, &id).await?;

    let Outcome::Synced {
        link_id, to_right, ..
    } = outcome
    else {
        panic!("not linked: {outcome:?}");
    };
    // The adopted twin missed the labels set before the crash: they flow now.
    assert_eq!(to_right, vec!["labels".to_owned()]);
    assert_eq!(env.issues(Right).len(), 1);
    let link = env.db.store.find_link(&connection(), Left, &id).await?;
    assert_eq!(link.map(|l| (l.id, l.right_id)), Some((link_id, twin_id)));
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_twin_seen_before_its_link_is_stored_gets_linked_and_never_gets_a_twin() -> TestResult {
    let env = Env::start().await?;
    let (id, key) = env.create(Left, json!({"summary": "Origin"}), None).await?;
    env.db.store.begin_intent(&connection(), Left, &id).await?;
    let marker = env.marker(Left, &id, &key);
    let (twin_id, _) = env
        .create(Right, json!({"summary": "Origin"}), Some(&marker))
        .await?;

    let outcome = env.reconcile(Right, &twin_id).await?;

    assert!(matches!(outcome, Outcome::Synced { .. }), "{outcome:?}");
    assert_eq!(env.issues(Left).len(), 1, "a twin of the twin was created");
    assert_eq!(env.issues(Right).len(), 1);
    let link = env
        .db
        .store
        .find_link(&connection(), Right, &twin_id)
        .await?;
    assert_eq!(link.map(|l| l.left_id), Some(id.clone()));
    // The origin's own (late) request now finds the pair linked and in sync.
    assert!(matches!(
        env.reconcile(Left, &id).await?,
        Outcome::Synced { .. }
    ));
    assert_eq!(env.issues(Right).len(), 1);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn concurrent_requests_for_one_new_issue_create_exactly_one_twin() -> TestResult {
    let env = Env::start().await?;
    let (id, _) = env.create(Left, json!({"summary": "Busy"}), None).await?;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let reconciler = env.reconciler.clone();
            let request = env.request(Left, &id);
            tokio::spawn(async move { reconciler.reconcile(&request, None).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        if let Outcome::Created { .. } = task.await?? {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(env.issues(Right).len(), 1);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_value_the_other_site_refuses_is_a_permanent_error_with_jiras_messages() -> TestResult {
    let env = Env::start().await?;
    // "Highest" is not mapped and site B has no such priority.
    let (id, _) = env
        .create(
            Left,
            json!({"summary": "Too urgent", "priority": {"name": "Highest"}}),
            None,
        )
        .await?;

    let error = match env.reconcile(Left, &id).await {
        Err(error) => error,
        Ok(outcome) => panic!("reconciled: {outcome:?}"),
    };

    assert_eq!(error.disposition().class(), "jira_rejected");
    let messages = error.messages();
    assert!(
        messages[0].starts_with("Jira `jira-b` failed to create the twin of ACME-"),
        "{messages:?}"
    );
    assert!(messages.len() > 1, "no Jira messages in {messages:?}");
    assert!(env.issues(Right).is_empty());
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn deleted_and_out_of_scope_issues_are_acknowledged_without_writes() -> TestResult {
    let env = Env::start().await?;
    assert_eq!(
        env.reconcile(Left, "999999").await?,
        Outcome::Deleted {
            side: Left,
            link_id: None
        }
    );
    let (other, _) = env
        .create(
            Left,
            json!({"summary": "Elsewhere", "project": {"key": "OTHER"}}),
            None,
        )
        .await?;
    assert_eq!(
        env.reconcile(Left, &other).await?,
        Outcome::Skipped {
            reason: "out_of_scope"
        }
    );
    assert!(env.issues(Right).is_empty());
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_conflict_held_for_a_person_and_a_blocked_direction_write_nothing() -> TestResult {
    let env = Env::start_with(
        r#"fields = { summary = { conflict = "hold" }, labels = { direction = "left_to_right" }, priority = {}, due_date = {}, description = {} }"#,
    )
    .await?;
    let (id, _) = env
        .create(Left, json!({"summary": "Base", "labels": ["x"]}), None)
        .await?;
    let Outcome::Created {
        link_id, twin_id, ..
    } = env.reconcile(Left, &id).await?
    else {
        panic!("no twin created");
    };
    env.alpha
        .edit_issue(&id, &fields(json!({"summary": "Left says"})))
        .await?;
    let edit = fields(json!({"summary": "Right says", "labels": ["y"]}));
    env.beta.edit_issue(&twin_id, &edit).await?;

    let outcome = env.reconcile(Right, &twin_id).await?;

    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id,
            to_left: vec![],
            to_right: vec![],
            held: vec!["summary".into()],
        }
    );
    assert_eq!(field(&env.issues(Left)[0], "summary"), "Left says");
    assert_eq!(field(&env.issues(Left)[0], "labels"), &json!(["x"]));
    assert_eq!(field(&env.issues(Right)[0], "summary"), "Right says");
    let audit = env.db.store.audit_of(link_id).await?;
    let conflict = audit.iter().find(|a| a.entry.action == "conflict");
    assert_eq!(
        conflict.map(|a| a.entry.changes.clone()),
        Some(json!({"summary": {"left": "Left says", "right": "Right says", "base": "Base"}}))
    );
    env.stop().await;
    Ok(())
}
