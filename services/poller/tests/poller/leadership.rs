//! Leadership across replicas: one process leads each schedule, another takes over within one
//! interval when it stops, no schedule ever runs twice at once, and a leader whose lock is lost
//! (here: its PostgreSQL session is terminated) stops its run before the next page. Leadership
//! is the store's lock, so it works the same on the embedded SQLite store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_jira_sim::{BulkSeed, FaultKind, FaultSpec};
use jira_sync_poller::RunOutcome;
use jira_sync_store::SqliteOptions;
use jira_sync_store::sqlite::testing::SqliteTestDatabase;
use sqlx::Connection;

use crate::support::{Env, Probe, TestResult, eventually};

const CONNECTIONS: &str = r#"
[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART" }
poll_interval = "2s"
"#;
const POLLER: &str = r#"
full_pass_interval = "2s"
retry_sweep_interval = "2s"
leader_lock_retry = "200ms"
jira_page_size = 10
"#;
const INTERVAL: Duration = Duration::from_secs(2);

fn slow_searches(env: &Env) {
    for site in [env.alpha(), env.beta()] {
        site.add_fault(FaultSpec {
            method: None,
            path_prefix: Some("/rest/api/3/search/jql".into()),
            kind: FaultKind::LatencyMs(100),
            times: None,
            probability: None,
            seed: None,
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_each_schedule_and_another_takes_over_within_an_interval() -> TestResult {
    let env = Env::start().await?;
    env.alpha().seed_issues(&BulkSeed {
        project: "ACME".into(),
        count: 40,
        ..BulkSeed::default()
    })?;
    slow_searches(&env);
    // One probe shared by both replicas counts runs of each schedule in flight at once.
    let probe = Arc::new(Probe::default());
    let first = env
        .spawn(env.settings(POLLER, CONNECTIONS), probe.clone(), |_| true)
        .await;
    let schedules: Vec<String> = first.handle.statuses().into_keys().collect();
    assert_eq!(schedules.len(), 4);
    eventually(
        Duration::from_secs(10),
        "the first replica leads",
        || async { (first.handle.leading().len() == 4).then_some(()) },
    )
    .await;
    let second = env
        .spawn(env.settings(POLLER, CONNECTIONS), probe.clone(), |_| true)
        .await;
    // Long enough for the second to try several times and for runs to repeat.
    tokio::time::sleep(INTERVAL * 2).await;
    assert_eq!(first.handle.leading().len(), 4);
    assert!(
        second.handle.leading().is_empty(),
        "{:?}",
        second.handle.leading()
    );

    let stopped = Instant::now();
    first.stop().await;
    eventually(INTERVAL * 5, "the second replica takes over", || async {
        (second.handle.leading().len() == 4).then_some(())
    })
    .await;
    let takeover = stopped.elapsed();
    assert!(takeover < INTERVAL, "took over after {takeover:?}");
    eventually(
        INTERVAL * 5,
        "the second replica runs every schedule",
        || async {
            schedules
                .iter()
                .all(|s| second.handle.status(s).is_some_and(|st| st.runs > 0))
                .then_some(())
        },
    )
    .await;
    second.stop().await;

    let state = probe.state();
    for schedule in &schedules {
        assert_eq!(
            state.max_active.get(schedule),
            Some(&1),
            "{schedule} ran twice at once"
        );
        assert!(
            probe.outcomes_of(schedule).len() >= 2,
            "{schedule} ran on both replicas"
        );
    }
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lock_is_lost_stops_its_run_before_the_next_page() -> TestResult {
    let env = Env::start().await?;
    env.alpha().seed_issues(&BulkSeed {
        project: "ACME".into(),
        count: 1_000,
        ..BulkSeed::default()
    })?;
    slow_searches(&env);
    let probe = Arc::new(Probe::default());
    let schedule = "jira-full-pass/a-to-b";
    let app = env
        .spawn(env.settings(POLLER, CONNECTIONS), probe.clone(), |s| {
            s == schedule
        })
        .await;
    eventually(
        Duration::from_secs(20),
        "two pages of the full pass",
        || async { (probe.pages_of(schedule).len() >= 2).then_some(()) },
    )
    .await;
    // An operator (or a network cut) ends the session holding the leader lock.
    let mut admin = sqlx::PgConnection::connect(&env.db.url).await?;
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&mut admin)
    .await?;
    assert_eq!(killed, vec![true], "one leader lock");
    let outcome = eventually(Duration::from_secs(20), "the run to stop", || async {
        probe.outcomes_of(schedule).into_iter().next()
    })
    .await;
    let RunOutcome::LostLeadership(report) = outcome else {
        panic!("expected a lost leadership, got {outcome:?}");
    };
    assert!(
        report.pages < 100,
        "stopped early, after {} pages",
        report.pages
    );
    // Its lock is free again, so it (the only replica) leads again and runs to the end.
    eventually(
        Duration::from_secs(20),
        "a complete run after re-election",
        || async {
            probe
                .outcomes_of(schedule)
                .iter()
                .any(|o| matches!(o, RunOutcome::Completed(_)))
                .then_some(())
        },
    )
    .await;
    assert_eq!(probe.state().max_active.get(schedule), Some(&1));
    app.stop().await;
    admin.close().await?;
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_sqlite_store_one_replica_leads_and_another_takes_over_when_it_stops() -> TestResult
{
    let env = Env::start().await?;
    env.alpha().seed_issues(&BulkSeed {
        project: "ACME".into(),
        count: 20,
        ..BulkSeed::default()
    })?;
    let options = SqliteOptions {
        lock_lease: Duration::from_millis(600),
        ..SqliteOptions::default()
    };
    let db = SqliteTestDatabase::create(&options).await?;
    // Two stores on one file: two processes, as far as leases go.
    let other = db.open_another_with(&options).await?;
    let probe = Arc::new(Probe::default());
    let first = env
        .spawn_on(
            Arc::new(db.store.clone()),
            env.settings(POLLER, CONNECTIONS),
            probe.clone(),
            |_| true,
        )
        .await;
    eventually(
        Duration::from_secs(10),
        "the first replica leads",
        || async { (first.handle.leading().len() == 4).then_some(()) },
    )
    .await;
    let second = env
        .spawn_on(
            Arc::new(other.clone()),
            env.settings(POLLER, CONNECTIONS),
            probe.clone(),
            |_| true,
        )
        .await;
    tokio::time::sleep(INTERVAL).await;
    assert!(
        second.handle.leading().is_empty(),
        "{:?}",
        second.handle.leading()
    );
    first.stop().await;
    eventually(INTERVAL * 5, "the second replica takes over", || async {
        (second.handle.leading().len() == 4).then_some(())
    })
    .await;
    eventually(
        INTERVAL * 5,
        "the second replica runs every schedule",
        || async {
            second
                .handle
                .statuses()
                .values()
                .all(|st| st.runs > 0)
                .then_some(())
        },
    )
    .await;
    second.stop().await;
    for (schedule, max) in probe.state().max_active {
        assert_eq!(max, 1, "{schedule} ran twice at once");
    }
    other.close().await;
    db.cleanup().await;
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_schedules_than_database_connections_all_lead_on_a_leader_store_of_their_own()
-> TestResult {
    let env = Env::start().await?;
    // Three Jira connections: twelve schedules, against two connections for the store.
    let connections: String = ["ACME", "BETA", "GAMMA"]
        .iter()
        .map(|project| {
            let id = project.to_ascii_lowercase();
            format!(
                "[connections.{id}]\nleft = {{ endpoint = \"jira-a\", project = \"{project}\" }}\n\
                 right = {{ endpoint = \"jira-b\", project = \"P{project}\" }}\npoll_interval = \"2s\"\n"
            )
        })
        .collect();
    let mut settings = env.settings(POLLER, &connections);
    settings.database.max_connections = 2;
    let store = Arc::new(env.db.open_another().await?);
    let leaders = jira_sync_poller::leader_store(&settings).await?;
    let app =
        jira_sync_poller::Application::build_with(settings, store.clone(), env.recorder.clone())
            .await?
            .with_leader_store(Arc::new(leaders));
    let handle = app.handle();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let schedules = handle.statuses().len();
    assert_eq!(schedules, 12);
    eventually(Duration::from_secs(20), "every schedule leads", || async {
        (handle.leading().len() == schedules).then_some(())
    })
    .await;
    // The store's own lock connections stay free for the worker's entity locks.
    let lock = jira_sync_store::Store::lock(&*store, "a-to-b/left/10001", Duration::ZERO).await?;
    assert!(lock.is_some(), "an entity lock is still available");
    if let Some(lock) = lock {
        lock.release().await?;
    }
    shutdown.cancel();
    task.await??;
    Ok(())
}
