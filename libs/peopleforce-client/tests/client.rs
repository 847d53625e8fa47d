//! The client against the PeopleForce simulator over HTTP: pagination, retries of 429 (with
//! `Retry-After`) and 5xx, permanent errors, the task life cycle, and secrets kept out of
//! errors and `Debug`.

use std::time::{Duration, Instant};

use jira_sync_domain::Disposition;
use jira_sync_peopleforce_client::{NewTask, PeopleForceClient, PeopleForceConfig};
use jira_sync_peopleforce_sim::{FaultKind, FaultSpec, SimConfig, Simulator, TaskSeed};
use secrecy::SecretString;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KEY: &str = "pf-test-key-0123456789-very-secret";

async fn sim() -> Result<Simulator, std::io::Error> {
    Simulator::start(SimConfig {
        api_key: KEY.to_owned(),
        ..SimConfig::default()
    })
    .await
}

fn client(
    sim: &Simulator,
    key: &str,
    page_size: u32,
) -> Result<PeopleForceClient, Box<dyn std::error::Error>> {
    let config = PeopleForceConfig::new(sim.handle().base_url().parse()?, SecretString::from(key))
        .with_page_size(page_size)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(100));
    Ok(PeopleForceClient::new(config)?)
}

#[tokio::test]
async fn listing_tasks_reads_every_page_in_order() -> TestResult {
    let sim = sim().await?;
    sim.handle().seed_tasks(&TaskSeed {
        count: 250,
        ..TaskSeed::default()
    })?;
    let tasks = client(&sim, KEY, 100)?.list_tasks().await?;
    assert_eq!(tasks.len(), 250);
    assert!(
        tasks
            .iter()
            .enumerate()
            .all(|(i, t)| t.id == (i + 1).to_string())
    );
    assert!(
        tasks
            .iter()
            .all(|t| t.assignee_id.is_some() && !t.title.is_empty())
    );
    let queries: Vec<String> = sim
        .handle()
        .recent_requests(10)
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(
        queries,
        vec![
            "page=1&per_page=100",
            "page=2&per_page=100",
            "page=3&per_page=100"
        ]
    );
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_empty_account_lists_no_tasks_in_one_request() -> TestResult {
    let sim = sim().await?;
    assert!(client(&sim, KEY, 50)?.list_tasks().await?.is_empty());
    assert_eq!(sim.handle().stats().count("GET /api/public/v3/tasks"), 1);
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_429_is_retried_no_earlier_than_its_retry_after() -> TestResult {
    let sim = sim().await?;
    sim.handle().seed_tasks(&TaskSeed {
        count: 3,
        ..TaskSeed::default()
    })?;
    sim.handle().add_fault(
        FaultSpec::always(FaultKind::RateLimit {
            retry_after_secs: 1,
        })
        .times(1),
    );
    let started = Instant::now();
    let page = client(&sim, KEY, 100)?.tasks_page(1).await?;
    assert_eq!(page.items.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(sim.handle().stats().count("GET /api/public/v3/tasks"), 2);
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn transient_5xx_answers_are_retried_until_one_succeeds() -> TestResult {
    let sim = sim().await?;
    sim.handle()
        .add_fault(FaultSpec::always(FaultKind::Status(503)).times(2));
    let employees = client(&sim, KEY, 100)?.list_employees().await?;
    assert_eq!(employees.len(), 10);
    assert_eq!(
        sim.handle().stats().count("GET /api/public/v3/employees"),
        3
    );
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_lasting_outage_gives_up_after_the_retries_as_a_transient_error() -> TestResult {
    let sim = sim().await?;
    sim.handle()
        .add_fault(FaultSpec::always(FaultKind::Status(502)));
    let error = client(&sim, KEY, 100)?
        .tasks_page(1)
        .await
        .err()
        .ok_or("expected an error")?;
    assert_eq!(error.status(), Some(502));
    assert!(error.disposition().is_transient());
    assert_eq!(
        sim.handle().stats().count("GET /api/public/v3/tasks"),
        4,
        "1 + 3 retries"
    );
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_api_key_is_a_permanent_401_tried_once_and_never_shown() -> TestResult {
    let sim = sim().await?;
    let wrong = "pf-wrong-key-that-must-not-leak";
    let client = client(&sim, wrong, 100)?;
    let error = client.list_tasks().await.err().ok_or("expected an error")?;
    assert_eq!(error.status(), Some(401));
    assert_eq!(
        error.disposition(),
        Disposition::Permanent {
            class: "peopleforce_unauthorized"
        }
    );
    assert_eq!(sim.handle().stats().unauthorized, 1, "not retried");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(shown.contains("Bad Credentials"), "{shown}");
    assert!(!shown.contains(wrong), "the key leaked: {shown}");
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_task_is_created_completed_and_reopened() -> TestResult {
    let sim = sim().await?;
    let client = client(&sim, KEY, 100)?;
    let created = client
        .create_task(&NewTask {
            title: "Order a laptop".into(),
            due_date: Some("2026-12-01".into()),
            assignee_id: Some(3),
            ..NewTask::default()
        })
        .await?;
    assert_eq!(created.title, "Order a laptop");
    assert_eq!(created.assignee_id.as_deref(), Some("3"));
    assert!(!created.completed);
    assert!(client.complete_task(&created.id).await?.completed);
    assert!(
        client.complete_task(&created.id).await?.completed,
        "idempotent"
    );
    assert!(!client.incomplete_task(&created.id).await?.completed);
    let missing = client
        .complete_task("999")
        .await
        .err()
        .ok_or("expected 404")?;
    assert!(missing.is_not_found());
    let refused = client
        .create_task(&NewTask::default())
        .await
        .err()
        .ok_or("expected 422")?;
    assert_eq!(
        refused.disposition(),
        Disposition::Permanent {
            class: "peopleforce_rejected"
        }
    );
    assert!(client.complete_task("..").await.is_err(), "no path tricks");
    let employee = client.get_employee("3").await?;
    assert_eq!(employee.email.as_deref(), Some("person3@example.com"));
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_server_error_but_is_after_a_429() -> TestResult {
    let sim = sim().await?;
    let client = client(&sim, KEY, 100)?;
    let task = NewTask {
        title: "Once".into(),
        ..NewTask::default()
    };
    sim.handle().add_fault(
        FaultSpec::always(FaultKind::Status(500))
            .times(1)
            .method("POST"),
    );
    assert!(client.create_task(&task).await.is_err());
    assert_eq!(sim.handle().stats().count("POST /api/public/v3/tasks"), 1);
    sim.handle().add_fault(
        FaultSpec::always(FaultKind::RateLimit {
            retry_after_secs: 0,
        })
        .times(1),
    );
    client.create_task(&task).await?;
    assert_eq!(sim.handle().stats().count("POST /api/public/v3/tasks"), 3);
    assert_eq!(sim.handle().tasks().len(), 1, "one task created");
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_connect_error() -> TestResult {
    let sim = sim().await?;
    let client = client(&sim, KEY, 100)?;
    sim.stop().await;
    let error = client
        .tasks_page(1)
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(error.disposition().is_transient(), "{error:?}");
    Ok(())
}
