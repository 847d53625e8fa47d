//! Injected faults, built-in rate limits, stats and the request log, through the HTTP control
//! API as other crates' tests would use it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Jira, spawn};

async fn control(
    site_url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new().request(method, format!("{site_url}/_sim{path}"));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.expect("control answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_rate_limit_fault_answers_429_with_retry_after_then_clears() {
    let (sim, site) = spawn().await;
    let base = site.base_url();
    let (status, rule) = control(&base, reqwest::Method::POST, "/faults", Some(json!({
        "method": "GET", "path_prefix": "/rest/api/3/myself", "kind": {"rate_limit": {"retry_after_secs": 7}}, "times": 1
    }))).await;
    assert_eq!((status, rule["remaining"].as_u64()), (201, Some(1)));
    let jira = Jira::admin(&site);
    let resp = jira
        .req(reqwest::Method::GET, "/rest/api/3/myself")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(
        resp.headers()
            .get("RateLimit-Reason")
            .and_then(|v| v.to_str().ok()),
        Some("jira-burst-based")
    );
    assert_eq!(
        jira.get("/rest/api/3/myself").await.0,
        200,
        "times: 1 means once"
    );
    assert_eq!(site.stats().faults_injected, 1);
    sim.stop().await;
}

#[tokio::test]
async fn a_status_fault_hits_the_next_n_matching_requests_only() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("faulty").await;
    let (status, _) = control(&site.base_url(), reqwest::Method::POST, "/faults", Some(json!({
        "method": "PUT", "path_prefix": "/rest/api/3/issue/", "kind": {"status": 500}, "times": 2
    }))).await;
    assert_eq!(status, 201);
    let path = format!("/rest/api/3/issue/{key}");
    assert_eq!(jira.get(&path).await.0, 200, "GETs do not match");
    let edit = json!({"fields": {"summary": "x"}});
    let (first, body) = jira.put(&path, &edit).await;
    assert_eq!((first, body["errorMessages"].is_array()), (500, true));
    assert_eq!(jira.put(&path, &edit).await.0, 500);
    assert_eq!(jira.put(&path, &edit).await.0, 204);
    let (_, rules) = control(&site.base_url(), reqwest::Method::GET, "/faults", None).await;
    assert_eq!(rules, json!([]), "the rule retired");
    sim.stop().await;
}

#[tokio::test]
async fn latency_faults_delay_and_clearing_removes_them() {
    let (sim, site) = spawn().await;
    let base = site.base_url();
    control(
        &base,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"kind": {"latency_ms": 300}})),
    )
    .await;
    let jira = Jira::admin(&site);
    let start = Instant::now();
    assert_eq!(jira.get("/rest/api/3/myself").await.0, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        control(&base, reqwest::Method::DELETE, "/faults", None)
            .await
            .0,
        204
    );
    let start = Instant::now();
    jira.get("/rest/api/3/myself").await;
    assert!(start.elapsed() < Duration::from_millis(300));
    sim.stop().await;
}

#[tokio::test]
async fn the_twenty_first_write_to_one_issue_within_two_seconds_gets_429_per_issue() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (id, key) = jira.create("hot").await;
    let (_, other) = jira.create("cold").await;
    let path = format!("/rest/api/3/issue/{key}/properties/p");
    for i in 0..20 {
        assert!(
            matches!(jira.put(&path, &json!({"n": i})).await.0, 200 | 201),
            "write {i} is allowed"
        );
    }
    let resp = jira
        .req(reqwest::Method::PUT, &path)
        .json(&json!({"n": 20}))
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 429);
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("RateLimit-Reason").as_deref(),
        Some("jira-per-issue-on-write")
    );
    assert!(
        header("Retry-After")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| (1..=2).contains(&s))
    );
    assert_eq!(
        jira.get(&format!("/rest/api/3/issue/{key}")).await.0,
        200,
        "reads are not limited"
    );
    assert_eq!(
        jira.put(
            &format!("/rest/api/3/issue/{other}/properties/p"),
            &json!(1)
        )
        .await
        .0,
        201
    );
    let stats = site.stats();
    assert_eq!(
        stats.writes_per_issue.get(&id),
        Some(&21),
        "the create and 20 property writes"
    );
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(
        stats
            .requests
            .get("PUT /rest/api/3/issue/{id}/properties/{key}"),
        Some(&22)
    );
    sim.stop().await;
}

#[tokio::test]
async fn stats_count_routes_and_the_request_log_keeps_traceparent_and_account() {
    let (sim, site) = spawn().await;
    let base = site.base_url();
    let jira = Jira::bot(&site);
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = jira
        .req(reqwest::Method::GET, "/rest/api/3/issue/ALPHA-1")
        .header("traceparent", trace)
        .send()
        .await;
    assert_eq!(resp.expect("answered").status().as_u16(), 404);
    jira.create("counted").await;
    let (_, stats) = control(&base, reqwest::Method::GET, "/stats", None).await;
    assert_eq!(stats["requests"]["GET /rest/api/3/issue/{id}"], 1);
    assert_eq!(stats["requests"]["POST /rest/api/3/issue"], 1);
    assert_eq!(
        (stats["reads"].as_u64(), stats["writes"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, log) = control(&base, reqwest::Method::GET, "/requests?limit=5", None).await;
    assert_eq!(log[0]["traceparent"], trace);
    assert_eq!(log[0]["status"], 404);
    assert_eq!(log[0]["route"], "/rest/api/3/issue/{id}");
    assert_eq!(log[0]["account"], site.users()[1].account_id);
    assert_eq!(
        control(&base, reqwest::Method::POST, "/stats/reset", None)
            .await
            .0,
        204
    );
    assert_eq!(site.stats().reads, 0);
    assert_eq!(
        control(&base, reqwest::Method::POST, "/reset", None)
            .await
            .0,
        204
    );
    let (_, issues) = control(&base, reqwest::Method::GET, "/issues", None).await;
    assert_eq!(issues, json!([]));
    sim.stop().await;
}

#[tokio::test]
async fn a_global_token_bucket_refuses_bursts_with_429() {
    let (sim, site) = spawn().await;
    let (status, limits) = control(
        &site.base_url(),
        reqwest::Method::PUT,
        "/limits",
        Some(json!({
            "global_rps": {"rate": 1.0, "burst": 3}
        })),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        limits["per_issue_writes"].is_object(),
        "unspecified limits keep their defaults"
    );
    let jira = Jira::admin(&site);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(jira.get("/rest/api/3/myself").await.0);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    sim.stop().await;
}

#[tokio::test]
async fn a_timeout_fault_hangs_for_hang_ms_then_answers_504() {
    let (sim, site) = spawn().await;
    let limits = jira_sync_jira_sim::Limits {
        hang_ms: 300,
        ..site.limits()
    };
    site.set_limits(limits).expect("limits");
    let spec = jira_sync_jira_sim::FaultSpec {
        method: None,
        path_prefix: Some("/rest/api/3/myself".into()),
        kind: jira_sync_jira_sim::FaultKind::Timeout(true),
        times: Some(1),
        probability: None,
        seed: None,
    };
    site.add_fault(spec).expect("fault");
    let jira = Jira::admin(&site);
    let start = Instant::now();
    let quick = jira
        .req(reqwest::Method::GET, "/rest/api/3/myself")
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(
        quick.is_err_and(|e| e.is_timeout()),
        "a client with a short timeout gives up"
    );
    assert!(start.elapsed() < Duration::from_millis(300));
    assert_eq!(
        jira.get("/rest/api/3/myself").await.0,
        200,
        "the one hit is used up"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_lost_response_fault_makes_the_change_but_answers_with_the_error() {
    let (sim, site) = spawn().await;
    let base = site.base_url();
    let (status, _) = control(&base, reqwest::Method::POST, "/faults", Some(json!({
        "method": "POST", "path_prefix": "/rest/api/3/issue", "kind": {"lost_response": 504}, "times": 1
    }))).await;
    assert_eq!(status, 201);
    let jira = Jira::admin(&site);
    let body = json!({"fields": {"project": {"key": "ALPHA"}, "issuetype": {"name": "Task"}, "summary": "Lost"}});
    let (status, _) = jira.post("/rest/api/3/issue", &body).await;
    assert_eq!(status, 504, "the caller sees the failure");
    let issues = site.issues(Some("ALPHA"));
    assert_eq!(issues.len(), 1, "but the issue was created");
    assert_eq!(issues[0]["fields"]["summary"], "Lost");
    sim.stop().await;
}
