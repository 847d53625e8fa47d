//! The service around the jobs: health, readiness and metrics over HTTP, the retry sweep, and
//! the full pass comparing every issue in scope with its link.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, EndpointId};
use jira_sync_jira_sim::BulkSeed;
use jira_sync_poller::RunOutcome;
use jira_sync_store::{NewLink, Store};
use serde_json::{Map, json};

use crate::support::{Env, Probe, TestResult, eventually};

const CONNECTIONS: &str = r#"
[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART" }
"#;

fn connection() -> ConnectionId {
    ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"))
}

async fn link(
    store: &dyn Store,
    left: &str,
    right: &str,
) -> Result<uuid::Uuid, Box<dyn std::error::Error>> {
    let link = store
        .insert_link(NewLink {
            connection: connection(),
            left_id: left.into(),
            right_id: right.into(),
            left_key: None,
            right_key: None,
            base: Snapshot::default(),
        })
        .await?;
    store
        .save_base(link.id, &Snapshot::default(), None, None)
        .await?;
    Ok(link.id)
}

async fn one_run(probe: &Probe, schedule: &str) -> RunOutcome {
    eventually(Duration::from_secs(30), schedule, || async {
        probe.outcomes_of(schedule).into_iter().next()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_are_served() -> TestResult {
    let env = Env::start().await?;
    let probe = Arc::new(Probe::default());
    let app = env
        .spawn(env.settings("", CONNECTIONS), probe.clone(), |s| {
            s.starts_with("retry-sweep")
        })
        .await;
    one_run(&probe, "retry-sweep/a-to-b").await;
    let base = format!("http://127.0.0.1:{}", app.port);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for expected in [
        r#"poller_leader{schedule="retry-sweep/a-to-b"} 1"#,
        r#"poller_runs_total{schedule="retry-sweep/a-to-b",outcome="ok"}"#,
        "# HELP poller_last_run_timestamp_seconds",
        r#"poller_cursor_lag_seconds{schedule="retry-sweep/a-to-b"}"#,
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
    app.stop().await;
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_sweep_enqueues_exactly_the_links_whose_last_sync_failed() -> TestResult {
    let env = Env::start().await?;
    let store = &env.db.store;
    let mut failed = BTreeSet::new();
    for n in 0..6 {
        let id = link(store, &format!("{}", 100 + n), &format!("{}", 200 + n)).await?;
        if n % 2 == 0 {
            store.record_error(id, "Jira answered 503").await?;
            failed.insert(format!("{}", 100 + n));
        }
    }
    let probe = Arc::new(Probe::default());
    let app = env
        .spawn(env.settings("", CONNECTIONS), probe.clone(), |s| {
            s == "retry-sweep/a-to-b"
        })
        .await;
    let outcome = one_run(&probe, "retry-sweep/a-to-b").await;
    app.stop().await;
    assert!(
        matches!(outcome, RunOutcome::Completed(ref r) if r.scanned == 6 && r.enqueued == 3),
        "{outcome:?}"
    );
    let enqueued: BTreeSet<String> = env.recorder.entity_ids().into_iter().collect();
    assert_eq!(enqueued, failed);
    let left = EndpointId::parse("jira-a")?;
    assert!(env.recorder.published().iter().all(|r| r.endpoint == left));
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_pass_enqueues_changed_pairs_once_unlinked_issues_and_vanished_ones() -> TestResult
{
    let env = Env::start().await?;
    let seed = |site: &jira_sync_jira_sim::SiteHandle, project: &str| -> Vec<String> {
        let seeded = site
            .seed_issues(&BulkSeed {
                project: project.into(),
                count: 6,
                ..BulkSeed::default()
            })
            .unwrap_or_else(|e| panic!("{e:?}"));
        let first: u64 = seeded
            .first_id
            .and_then(|i| i.parse().ok())
            .unwrap_or_default();
        (first..first + 6).map(|i| i.to_string()).collect()
    };
    let (acme, part) = (seed(env.alpha(), "ACME"), seed(env.beta(), "PART"));
    let store = &env.db.store;
    // Pairs 0..4 are linked and synced now; ACME 5 and PART 5 are unlinked.
    for n in 0..5 {
        link(store, &acme[n], &part[n]).await?;
    }
    // A link whose left issue no longer exists (deleted while no webhook came).
    link(store, "999999", &format!("{}", 888_888)).await?;
    // Pair 1 changed on the left, pair 2 on the right, pair 3 on both sides.
    let edit = |site: &jira_sync_jira_sim::SiteHandle| {
        let admin = &site.users()[0];
        jira_sync_jira_client::JiraClient::new(jira_sync_jira_client::JiraClientConfig::new(
            site.base_url().parse().unwrap_or_else(|e| panic!("{e}")),
            admin.email.clone(),
            admin.api_token.clone().into(),
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let (alpha, beta) = (edit(env.alpha()), edit(env.beta()));
    let mut fields = Map::new();
    fields.insert("summary".into(), json!("edited"));
    alpha.edit_issue(&acme[1], &fields).await?;
    beta.edit_issue(&part[2], &fields).await?;
    alpha.edit_issue(&acme[3], &fields).await?;
    beta.edit_issue(&part[3], &fields).await?;

    let probe = Arc::new(Probe::default());
    let schedule = "jira-full-pass/a-to-b";
    let app = env
        .spawn(env.settings("", CONNECTIONS), probe.clone(), |s| {
            s == schedule
        })
        .await;
    let outcome = one_run(&probe, schedule).await;
    app.stop().await;
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
    let published = env.recorder.published();
    let got: BTreeSet<(String, String)> = published
        .iter()
        .map(|r| (r.endpoint.to_string(), r.entity_id.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("jira-a", acme[1].clone()),
        ("jira-b", part[2].clone()),
        ("jira-a", acme[3].clone()), // pair 3 once, from the first side searched
        ("jira-a", acme[5].clone()),
        ("jira-b", part[5].clone()),
        ("jira-a", "999999".to_owned()),
    ]
    .into_iter()
    .map(|(e, i)| (e.to_owned(), i))
    .collect();
    assert_eq!(got, expected);
    assert_eq!(published.len(), expected.len(), "no pair twice");
    env.stop().await;
    Ok(())
}
