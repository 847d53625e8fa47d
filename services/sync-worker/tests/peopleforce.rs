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
    assert_eq!(field(&env.issue(&issue_id), "assignee")["accountId"], "alpha-p1");
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
    assert!(wrote_nothing(&env.reconcile(PF, &other_task.to_string()).await?));
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
