//! PeopleForce <-> Jira end to end: the poller's scan of PeopleForce enqueues the task, the
//! worker creates its issue in Jira, and Jira's webhooks for the issue's transitions come back
//! through the ingress and complete and reopen the task.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use jira_sync_jira_sim::SimUser;
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_tests::{EnvOptions, TestEnv};
use jira_sync_transport::amqp::AmqpTransport;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The PeopleForce simulator's employee 1 (`person1@example.com`) has this Jira account in A.
const PERSON1: &str = "a-person1-0001";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_becomes_an_issue_and_the_issues_workflow_completes_and_reopens_the_task() {
    let pf = pf_sim::Simulator::start(pf_sim::SimConfig::default())
        .await
        .unwrap_or_else(|e| panic!("start the PeopleForce simulator: {e}"));
    let hr = pf.handle().clone();
    let seeded = hr
        .seed_tasks(&pf_sim::TaskSeed {
            count: 1,
            title_prefix: Some("Order a laptop".into()),
            assignee_id: Some(1),
            ..pf_sim::TaskSeed::default()
        })
        .unwrap_or_else(|e| panic!("seed a task: {e:?}"));
    let task_id = seeded.first_id.unwrap_or_else(|| panic!("no task seeded"));

    let extra = format!(
        r#"
[poller]
listen = "127.0.0.1:0"
leader_lock_retry = "200ms"

[endpoints.hr]
kind = "peopleforce"
base_url = "{}"
api_key = "{}"

[connections.hr-to-a]
left = {{ endpoint = "hr" }}
right = {{ endpoint = "jira-a", project = "A" }}
create_from = "peopleforce"
poll_interval = "1s"
"#,
        hr.base_url(),
        hr.api_key()
    );
    let env = TestEnv::start(EnvOptions {
        extra_toml: extra,
        site_a_users: vec![SimUser::new(
            PERSON1,
            "Person One",
            "person1@example.com",
            "person1-token",
        )],
        ..EnvOptions::default()
    })
    .await;

    let transport =
        AmqpTransport::new(&env.settings.amqp).unwrap_or_else(|e| panic!("poller transport: {e}"));
    let poller = jira_sync_poller::Application::build_with(
        env.settings.clone(),
        Arc::new(env.db.store.clone()),
        transport.publisher(),
    )
    .await
    .unwrap_or_else(|e| panic!("build the poller: {e}"))
    .retain_schedules(|s| s.id.starts_with("peopleforce-scan/hr-to-a"));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poller.run_until_stopped(shutdown.clone()));

    // The scan finds the task; its issue appears in A, assigned by e-mail.
    let a = env.actor("a");
    let issue = eventually(WAIT, "the task's issue in A", || async {
        env.site("a").issues(Some("A")).into_iter().find(|i| {
            i["fields"]["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("Order a laptop"))
        })
    })
    .await;
    let id = issue["id"]
        .as_str()
        .unwrap_or_else(|| panic!("issue without id: {issue}"))
        .to_owned();
    assert_eq!(
        issue["fields"]["assignee"]["accountId"],
        Value::from(PERSON1),
        "the employee's work e-mail found their Jira account"
    );

    // Done in Jira (two hops: To Do -> In Progress -> Done) completes the task.
    for transition in ["21", "31"] {
        a.client
            .transition(&id, transition, None)
            .await
            .unwrap_or_else(|e| panic!("transition {transition}: {e}"));
    }
    eventually(WAIT, "the task to be completed", || async {
        hr.task(task_id).filter(|t| t.completed).map(|_| ())
    })
    .await;

    // Reopened in Jira: the task is incomplete again.
    a.client
        .transition(&id, "11", None)
        .await
        .unwrap_or_else(|e| panic!("reopen: {e}"));
    eventually(WAIT, "the task to be incomplete again", || async {
        hr.task(task_id).filter(|t| !t.completed).map(|_| ())
    })
    .await;
    assert_eq!(
        env.site("a")
            .issues(Some("A"))
            .iter()
            .filter(|i| i["fields"]["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("Order a laptop")))
            .count(),
        1,
        "one issue for the task, however often it was scanned"
    );

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    env.stop().await;
    pf.stop().await;
}
