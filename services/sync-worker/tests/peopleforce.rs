//! PeopleForce <-> Jira connections end to end: the PeopleForce and Jira simulators in-process,
//! a fresh PostgreSQL database per test, the worker's reconcile engine between them.

mod pf_support;

use jira_sync_store::Store;
use jira_sync_worker::{CreateFrom, Outcome};
use pf_support::{JIRA, PF, PfEnv, TestResult, field, wrote_nothing};
use serde_json::json;

#[tokio::test]
async fn a_task_becomes_an_issue_once_with_the_assignee_mapped_by_email() -> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let (task, issue_id) = env.pair(1).await?;
    let issue = env.issue(&issue_id);
    assert_eq!(field(&issue, "summary"), "Onboard 1");
    assert_eq!(field(&issue, "duedate"), "2026-12-01");
    assert_eq!(field(&issue, "assignee")["accountId"], "alpha-p1");
    let text = jira_sync_domain::richtext::text::from_adf(field(&issue, "description"));
    assert_eq!(text.trim(), "Bring the signed contract.");

    // Once: both sides reconcile to nothing, and no second issue appears.
    assert!(wrote_nothing(&env.reconcile(PF, &task.to_string()).await?));
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert_eq!(env.site().issues(Some("ACME")).len(), 1);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn completing_the_issue_completes_the_task_and_reopening_it_marks_it_incomplete() -> TestResult
{
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let (task, issue_id) = env.pair(1).await?;

    env.transition(&issue_id, &["In Progress", "Done"]).await?;
    env.reconcile(JIRA, &issue_id).await?;
    assert_eq!(env.pf.task(task).map(|t| t.completed), Some(true));

    env.transition(&issue_id, &["To Do"]).await?;
    env.reconcile(JIRA, &issue_id).await?;
    assert_eq!(env.pf.task(task).map(|t| t.completed), Some(false));

    // And the other way: completing the task moves the issue into a done status.
    let done = jira_sync_peopleforce_sim::TaskEdit {
        completed: Some(true),
        ..Default::default()
    };
    env.pf.edit_task(task, &done)?;
    env.reconcile(PF, &task.to_string()).await?;
    let issue = env.issue(&issue_id);
    assert_eq!(field(&issue, "status")["statusCategory"]["key"], "done");
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_employee_without_a_jira_user_gets_the_connection_fallback() -> TestResult {
    let env = PfEnv::start(r#"default_user = "alpha-admin-0001""#, CreateFrom::Both).await?;
    // Employee 2 (person2@example.com) has no Jira user.
    let (task, issue_id) = env.pair(2).await?;
    let issue = env.issue(&issue_id);
    assert_eq!(field(&issue, "assignee")["accountId"], "alpha-admin-0001");
    // The fallback is remembered as what Jira shows: no echo back, no rewrite.
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert!(wrote_nothing(&env.reconcile(PF, &task.to_string()).await?));
    assert_eq!(env.pf.task(task).and_then(|t| t.assignee_id), Some(2));
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_a_fallback_an_unmapped_employee_leaves_the_issue_unassigned() -> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let (_, issue_id) = env.pair(3).await?;
    assert!(field(&env.issue(&issue_id), "assignee").is_null());
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_jira_text_edit_is_reported_not_applicable_once_and_acknowledged() -> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let (task, issue_id) = env.pair(1).await?;
    let edit = json!({ "summary": "Renamed in Jira" });
    let fields = edit.as_object().cloned().unwrap_or_default();
    env.jira.edit_issue(&issue_id, &fields).await?;

    // Ok (so the delivery is acked), nothing written, and reported.
    let outcome = env.reconcile(JIRA, &issue_id).await?;
    assert!(wrote_nothing(&outcome), "{outcome:?}");
    assert_eq!(env.audit_count("not_applicable").await, 1);
    assert_eq!(env.pf.task(task).map(|t| t.title), Some("Onboard 1".into()));
    // Reported once, not on every later reconcile; the Jira text is left as it is.
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert!(wrote_nothing(&env.reconcile(PF, &task.to_string()).await?));
    assert_eq!(env.audit_count("not_applicable").await, 1);
    assert_eq!(field(&env.issue(&issue_id), "summary"), "Renamed in Jira");
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_jira_issue_becomes_a_task_for_the_assignee_once() -> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let issue_id = env
        .create_issue(json!({ "summary": "Sign NDA", "assignee": { "accountId": "alpha-p1" } }))
        .await?;
    let outcome = env.reconcile(JIRA, &issue_id).await?;
    let Outcome::Created { twin_id, .. } = outcome else {
        return Err(format!("no task created: {outcome:?}").into());
    };
    let task = env.pf.task(twin_id.parse()?).ok_or("task missing")?;
    assert_eq!(
        (task.title.as_str(), task.assignee_id),
        ("Sign NDA", Some(1))
    );
    let before = env.pf.tasks().len();
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert!(wrote_nothing(&env.reconcile(PF, &twin_id).await?));
    assert_eq!(env.pf.tasks().len(), before);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn create_from_peopleforce_leaves_jira_issues_without_a_task() -> TestResult {
    let env = PfEnv::start("", CreateFrom::Peopleforce).await?;
    let issue_id = env.create_issue(json!({ "summary": "Jira only" })).await?;
    let before = env.pf.tasks().len();
    let outcome = env.reconcile(JIRA, &issue_id).await?;
    assert_eq!(
        outcome,
        Outcome::Skipped {
            reason: "create_from"
        }
    );
    assert_eq!(env.pf.tasks().len(), before);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_task_left_by_an_interrupted_create_from_jira_is_linked_not_given_an_issue_of_its_own()
-> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let issue_id = env
        .create_issue(json!({ "summary": "Sign NDA 1", "assignee": { "accountId": "alpha-p1" } }))
        .await?;
    // A worker began the issue's task, PeopleForce made it, and the worker died before it
    // learned the task's id: the intent stays open and the task looks new to a scan.
    env.db
        .store
        .begin_intent(&pf_support::connection(), JIRA, &issue_id)
        .await?;
    let task = env.task("Sign NDA", 1)?;
    let issues_before = env.site().issues(Some("ACME")).len();

    // The scan reaches the task first: it is recognised as the issue's twin, not given a twin.
    let outcome = env.reconcile(PF, &task.to_string()).await?;
    let Outcome::Created { twin_id, .. } = outcome else {
        return Err(format!("the task was not linked: {outcome:?}").into());
    };
    assert_eq!(twin_id, issue_id, "linked to the issue that made it");
    assert_eq!(env.site().issues(Some("ACME")).len(), issues_before);

    // The issue's own retry finds the link: no second task, nothing written.
    let tasks_before = env.pf.tasks().len();
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert!(wrote_nothing(&env.reconcile(PF, &task.to_string()).await?));
    assert_eq!(env.pf.tasks().len(), tasks_before);
    assert_eq!(env.site().issues(Some("ACME")).len(), issues_before);
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_employee_whose_email_changed_takes_their_linked_issues_to_their_new_jira_user()
-> TestResult {
    let env = PfEnv::start("", CreateFrom::Both).await?;
    let (task, issue_id) = env.pair(1).await?;
    let (other_task, other_issue) = env.pair(2).await?;
    assert_eq!(
        field(&env.issue(&issue_id), "assignee")["accountId"],
        "alpha-p1"
    );
    let other_before = field(&env.issue(&other_issue), "assignee").clone();

    env.pf.edit_employee(
        1,
        &jira_sync_peopleforce_sim::EmployeeEdit {
            email: Some("person1.new@example.com".into()),
        },
    )?;
    // What the ingress publishes for an `employee_update` webhook of employee 1.
    let outcome = env.reconcile(PF, "employee:1").await?;
    assert_eq!(
        outcome,
        Outcome::Refreshed {
            reconciled: 1,
            wrote: true
        },
        "only employee 1's linked task"
    );
    assert_eq!(
        field(&env.issue(&issue_id), "assignee")["accountId"],
        "alpha-p1-new"
    );
    assert_eq!(field(&env.issue(&other_issue), "assignee"), &other_before);
    assert_eq!(env.audit_count("remap").await, 1);

    // Settled: the old account is not taken for a change made in Jira, nothing more is written.
    assert!(wrote_nothing(&env.reconcile(PF, &task.to_string()).await?));
    assert!(wrote_nothing(&env.reconcile(JIRA, &issue_id).await?));
    assert!(wrote_nothing(
        &env.reconcile(PF, &other_task.to_string()).await?
    ));
    assert_eq!(env.audit_count("not_applicable").await, 0);
    assert_eq!(
        env.reconcile(PF, "employee:1").await?,
        Outcome::Refreshed {
            reconciled: 1,
            wrote: false
        },
        "a repeated webhook writes nothing"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_deleted_task_is_followed_on_its_issue_under_each_delete_policy() -> TestResult {
    for policy in ["delete_twin", "comment", "unlink"] {
        let env =
            PfEnv::start_with("", CreateFrom::Both, &format!("on_delete = \"{policy}\"")).await?;
        let (task, issue_id) = env.pair(1).await?;
        env.pf.delete_task(task)?;

        let outcome = env.reconcile(PF, &task.to_string()).await?;
        assert!(
            matches!(outcome, Outcome::Deleted { side, link_id: Some(_) } if side == PF),
            "{policy}: {outcome:?}"
        );
        let survivor = env.site().issue(&issue_id);
        match policy {
            "delete_twin" => assert!(survivor.is_none(), "the issue was deleted"),
            "comment" => {
                let comments = env.jira.comments(&issue_id).await?;
                let texts: Vec<String> = (comments.iter())
                    .map(|c| jira_sync_domain::richtext::text::from_adf(&c.body))
                    .collect();
                assert!(
                    texts.iter().any(|t| t.contains("was deleted")),
                    "a notice on the issue: {texts:?}"
                );
            }
            _ => assert!(survivor.is_some(), "the issue is left alone"),
        }
        if survivor.is_some() {
            // Detached: the surviving issue is not given a new task.
            let tasks = env.pf.tasks().len();
            assert_eq!(
                env.reconcile(JIRA, &issue_id).await?,
                Outcome::Skipped { reason: "detached" },
                "{policy}"
            );
            assert_eq!(env.pf.tasks().len(), tasks, "{policy}");
        }
        env.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_deleted_issue_detaches_its_task_which_gets_no_new_issue() -> TestResult {
    let env = PfEnv::start_with("", CreateFrom::Both, "on_delete = \"delete_twin\"").await?;
    let (task, issue_id) = env.pair(1).await?;
    env.jira.delete_issue(&issue_id).await?;

    let outcome = env.reconcile(JIRA, &issue_id).await?;
    assert!(
        matches!(outcome, Outcome::Deleted { side, link_id: Some(_) } if side == JIRA),
        "{outcome:?}"
    );
    assert!(
        env.pf.task(task).is_some(),
        "PeopleForce cannot delete a task: it stays"
    );
    assert_eq!(
        env.reconcile(PF, &task.to_string()).await?,
        Outcome::Skipped { reason: "detached" }
    );
    assert!(env.site().issues(Some("ACME")).is_empty(), "no new issue");
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_issue_that_leaves_the_scope_pauses_or_unlinks_its_pair() -> TestResult {
    for policy in ["stop", "unlink"] {
        let env = PfEnv::start_with(
            r#"scope = { jql = "status != Done" }"#,
            CreateFrom::Both,
            &format!("on_leave_scope = \"{policy}\""),
        )
        .await?;
        let (task, issue_id) = env.pair(1).await?;
        env.transition(&issue_id, &["In Progress", "Done"]).await?;

        let outcome = env.reconcile(JIRA, &issue_id).await?;
        match policy {
            "stop" => assert_eq!(
                outcome,
                Outcome::Skipped {
                    reason: "out_of_scope"
                }
            ),
            _ => assert!(matches!(outcome, Outcome::Unlinked { .. }), "{outcome:?}"),
        }
        let pf_task = env.pf.task(task).ok_or("task missing")?;
        assert!(!pf_task.completed, "{policy}: nothing synced out of scope");
        env.stop().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_conflict_under_hold_is_stored_and_resolved_through_the_store_like_jira_ones()
-> TestResult {
    let env = PfEnv::start_with(
        "",
        CreateFrom::Both,
        r#"fields = { summary = { conflict = "hold" }, status = {} }"#,
    )
    .await?;
    let (task, issue_id) = env.pair(1).await?;
    env.pf.edit_task(
        task,
        &jira_sync_peopleforce_sim::TaskEdit {
            title: Some("Title from HR".into()),
            ..Default::default()
        },
    )?;
    let mut fields = serde_json::Map::new();
    fields.insert("summary".into(), json!("Summary from Jira"));
    env.jira.edit_issue(&issue_id, &fields).await?;

    let outcome = env.reconcile(PF, &task.to_string()).await?;
    let Outcome::Synced { link_id, held, .. } = outcome else {
        return Err(format!("not merged: {outcome:?}").into());
    };
    assert_eq!(held, vec!["summary".to_owned()]);
    assert_eq!(field(&env.issue(&issue_id), "summary"), "Summary from Jira");
    let conflicts = env.db.store.conflicts_of(link_id).await?;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(
        (conflicts[0].left.clone(), conflicts[0].right.clone()),
        (json!("Title from HR"), json!("Summary from Jira"))
    );

    // A person picks PeopleForce's title: Jira takes it, and the conflict is resolved.
    env.db
        .store
        .resolve_conflict(conflicts[0].id, "left")
        .await?;
    env.reconcile(PF, &task.to_string()).await?;
    assert_eq!(field(&env.issue(&issue_id), "summary"), "Title from HR");
    let after = env.db.store.conflicts_of(link_id).await?;
    assert_eq!(after[0].status, jira_sync_store::ConflictStatus::Resolved);
    env.stop().await;
    Ok(())
}
