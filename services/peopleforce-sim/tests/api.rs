//! The simulator over HTTP, as a client sees it: the pagination envelope, authentication,
//! the task life cycle, faults, the rate limit and the control API.

use jira_sync_peopleforce_sim::{
    FaultKind, FaultSpec, RateLimit, SimConfig, Simulator, TaskEdit, TaskSeed,
};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn get(sim: &Simulator, path: &str, key: &str) -> Result<(u16, Value), reqwest::Error> {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", sim.handle().api_url()))
        .header("X-API-KEY", key)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

async fn put(sim: &Simulator, path: &str) -> Result<(u16, Value), reqwest::Error> {
    let response = reqwest::Client::new()
        .put(format!("{}{path}", sim.handle().api_url()))
        .header("X-API-KEY", sim.handle().api_key())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

#[tokio::test]
async fn task_lists_are_paged_in_peopleforce_envelope() -> TestResult {
    let sim = Simulator::start(SimConfig::default()).await?;
    sim.handle().seed_tasks(&TaskSeed {
        count: 120,
        ..TaskSeed::default()
    })?;
    let key = sim.handle().api_key().to_owned();
    let (status, body) = get(&sim, "/tasks?page=3&per_page=50", &key).await?;
    assert_eq!(status, 200);
    assert_eq!(
        body["metadata"]["pagination"],
        json!({"page": 3, "pages": 3, "count": 120, "items": 20})
    );
    assert_eq!(body["data"][0]["id"], 101);
    assert_eq!(body["data"][0]["completed"], false);
    let (_, body) = get(&sim, "/tasks?per_page=1000", &key).await?;
    assert_eq!(body["metadata"]["pagination"]["items"], 100, "clamped");
    let (_, body) = get(&sim, "/tasks", &key).await?;
    assert_eq!(body["metadata"]["pagination"]["items"], 50, "default");
    assert_eq!(
        sim.handle().stats().count("GET /api/public/v3/tasks"),
        3,
        "seeding is not counted"
    );
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_request_without_the_api_key_gets_401_bad_credentials() -> TestResult {
    let sim = Simulator::start(SimConfig::default()).await?;
    let (status, body) = get(&sim, "/employees", "wrong").await?;
    assert_eq!((status, body), (401, json!({"message": "Bad Credentials"})));
    assert_eq!(sim.handle().stats().unauthorized, 1);
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn tasks_are_created_completed_and_reopened() -> TestResult {
    let sim = Simulator::start(SimConfig::default()).await?;
    let response = reqwest::Client::new()
        .post(format!("{}/tasks", sim.handle().api_url()))
        .header("X-API-KEY", sim.handle().api_key())
        .json(&json!({"title": "Sign the contract", "due_date": "2026-12-01", "assignee_id": 2}))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await?;
    let id = created["data"]["id"].as_u64().ok_or("no id")?;
    let (status, done) = put(&sim, &format!("/tasks/{id}")).await?;
    assert_eq!((status, &done["data"]["completed"]), (200, &json!(true)));
    assert!(done["data"]["completed_at"].is_string());
    let (_, reopened) = put(&sim, &format!("/tasks/{id}/incomplete")).await?;
    assert_eq!(reopened["data"]["completed"], false);
    let (status, _) = put(&sim, "/tasks/999/incomplete").await?;
    assert_eq!(status, 404);
    let blank = reqwest::Client::new()
        .post(format!("{}/tasks", sim.handle().api_url()))
        .header("X-API-KEY", sim.handle().api_key())
        .json(&json!({"description": "no title"}))
        .send()
        .await?;
    assert_eq!(blank.status().as_u16(), 422);
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn faults_and_the_rate_limit_answer_as_configured() -> TestResult {
    let sim = Simulator::start(SimConfig::default()).await?;
    let key = sim.handle().api_key().to_owned();
    sim.handle().add_fault(
        FaultSpec::always(FaultKind::RateLimit {
            retry_after_secs: 7,
        })
        .times(1),
    );
    let response = reqwest::Client::new()
        .get(format!("{}/tasks", sim.handle().api_url()))
        .header("X-API-KEY", &key)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(b"7".as_slice())
    );
    assert_eq!(get(&sim, "/tasks", &key).await?.0, 200, "the rule retired");
    sim.handle().set_rate_limit(Some(RateLimit {
        per_minute: 60,
        burst: 2,
    }));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get(&sim, "/tasks", &key).await?.0);
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    assert_eq!(sim.handle().stats().rate_limited, 1);
    sim.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_edit_through_the_control_api_changes_updated_at_only_when_something_changed()
-> TestResult {
    let sim = Simulator::start(SimConfig::default()).await?;
    sim.handle().seed_tasks(&TaskSeed {
        count: 1,
        ..TaskSeed::default()
    })?;
    let before = sim.handle().task(1).ok_or("seeded")?;
    let same = sim.handle().edit_task(
        1,
        &TaskEdit {
            title: Some(before.title.clone()),
            ..TaskEdit::default()
        },
    )?;
    assert_eq!(same.updated_at, before.updated_at);
    let response = reqwest::Client::new()
        .patch(format!("{}/_sim/tasks/1", sim.handle().base_url()))
        .json(&json!({"title": "Renamed", "due_date": null}))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let after = sim.handle().task(1).ok_or("still there")?;
    assert_eq!((after.title.as_str(), after.due_date), ("Renamed", None));
    assert!(after.updated_at >= before.updated_at);
    sim.stop().await;
    Ok(())
}
