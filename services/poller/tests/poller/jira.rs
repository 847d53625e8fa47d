//! Jira increments: only issues changed since their last sync are enqueued, with no more
//! searches than paging needs and no per-issue reads; a run cut short resumes from its cursor.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, EndpointId, Side, Trigger};
use jira_sync_jira_sim::{BulkSeed, FaultKind, FaultSpec};
use jira_sync_poller::{RunOutcome, jira_cursor_name};
use jira_sync_store::{NewLink, Store};
use serde_json::{Map, json};

use crate::support::{Env, Probe, TestResult, eventually};

const INCREMENT: &str = "jira-incremental/a-to-b/left";
const CONNECTIONS: &str = r#"
[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART" }
"#;
const SEARCH: &str = "POST /rest/api/3/search/jql";

fn connection() -> ConnectionId {
    ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"))
}

fn cursor_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where the window of an incremental query (`updated >= "-<N>m"`) made between `from` and
/// `to` starts: (earliest, latest). Jira counts the minutes back from its own now.
fn window(query: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let minutes: i64 = query
        .split("updated >= \"-")
        .nth(1)
        .and_then(|rest| rest.split_once("m\""))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("not an incremental query: {query}"));
    let back = chrono::Duration::minutes(minutes);
    (from - back, to - back)
}

/// How many of `count` issues updated at `start + n * step` are at or after `at`.
fn updated_since(count: usize, start: DateTime<Utc>, step_secs: i64, at: DateTime<Utc>) -> usize {
    (0..count)
        .filter(|n| start + chrono::Duration::seconds(*n as i64 * step_secs) >= at)
        .count()
}

/// Seeds `count` ACME issues, the n-th updated at `start + n * step_secs`; returns their ids
/// in order.
fn seed(env: &Env, count: u32, start: DateTime<Utc>, step_secs: i64) -> Vec<u64> {
    let seeded = env
        .alpha()
        .seed_issues(&BulkSeed {
            project: "ACME".into(),
            count,
            updated_start: Some(cursor_text(start)),
            updated_step_ms: step_secs * 1000,
            ..BulkSeed::default()
        })
        .unwrap_or_else(|e| panic!("seed: {e:?}"));
    let id = |text: Option<String>| -> u64 {
        text.and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("seeded ids"))
    };
    let (first, last) = (id(seeded.first_id), id(seeded.last_id));
    assert_eq!(last - first + 1, u64::from(count), "consecutive ids");
    (first..=last).collect()
}

/// Links every issue to an imaginary twin and records a sync now (after every `updated`).
async fn link_all(store: &dyn Store, ids: &[u64]) -> TestResult {
    for chunk in ids.chunks(100) {
        futures::future::try_join_all(chunk.iter().map(|id| async move {
            let link = store
                .insert_link(NewLink {
                    connection: connection(),
                    left_id: id.to_string(),
                    right_id: format!("twin-{id}"),
                    left_key: None,
                    right_key: None,
                    base: Snapshot::default(),
                })
                .await?;
            store
                .save_base(link.id, &Snapshot::default(), None, None)
                .await
        }))
        .await?;
    }
    Ok(())
}

fn pages_for(matches: usize, page_size: usize) -> u64 {
    matches.div_ceil(page_size) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_increment_enqueues_exactly_the_issues_changed_since_their_last_sync() -> TestResult {
    let env = Env::start().await?;
    let now = Utc::now();
    let start = now - chrono::Duration::seconds(10_000 + 120);
    let ids = seed(&env, 10_000, start, 1);
    link_all(&env.db.store, &ids).await?;
    // The cursor says: everything up to ten minutes ago was processed.
    let cursor = now - chrono::Duration::minutes(10);
    let store = &env.db.store;
    store
        .advance_cursor(
            &jira_cursor_name(&connection(), Side::Left),
            &cursor_text(cursor),
        )
        .await?;
    // 25 old issues (long before the cursor) are edited after their sync.
    let changed: Vec<u64> = ids.iter().step_by(37).take(25).copied().collect();
    let client = env.alpha_client();
    for id in &changed {
        let mut fields = Map::new();
        fields.insert("summary".into(), json!(format!("edited {id}")));
        client.edit_issue(&id.to_string(), &fields).await?;
    }
    env.alpha().reset_stats();

    let probe = Arc::new(Probe::default());
    let settings = env.settings("jira_page_size = 100\njira_overlap = \"2m\"", CONNECTIONS);
    let spawned_at = Utc::now();
    let app = env.spawn(settings, probe.clone(), |s| s == INCREMENT).await;
    let outcome = eventually(Duration::from_secs(60), "the increment", || async {
        probe.outcomes_of(INCREMENT).into_iter().next()
    })
    .await;
    let finished_at = Utc::now();
    app.stop().await;

    let RunOutcome::Completed(report) = outcome else {
        panic!("the run did not complete: {outcome:?}");
    };
    let published = env.recorder.published();
    let enqueued: BTreeSet<String> = published.iter().map(|r| r.entity_id.clone()).collect();
    let expected: BTreeSet<String> = changed.iter().map(u64::to_string).collect();
    assert_eq!(published.len(), 25, "each changed issue once");
    assert_eq!(enqueued, expected);
    assert!(published.iter().all(|r| r.trigger == Trigger::Poll
        && r.endpoint == EndpointId::parse("jira-a").unwrap_or_else(|e| panic!("{e}"))
        && r.issue_key.is_some()));
    assert_eq!(
        env.queued().await,
        25,
        "all 25 are in RabbitMQ's work queue"
    );

    // Paging: the issues of the overlap window plus the 25, in pages of 100. The window starts
    // whole minutes back from the search's now, at or before the cursor minus the overlap.
    let pages = probe.pages_of(INCREMENT);
    let (earliest, latest) = window(&pages[0].query, spawned_at, finished_at);
    let since = cursor - chrono::Duration::minutes(2);
    assert!(
        latest <= since,
        "the window reaches back to the cursor minus the overlap"
    );
    assert!(
        earliest >= since - chrono::Duration::seconds(60) - (finished_at - spawned_at),
        "and not more than a minute further"
    );
    let matches = report.scanned as usize;
    let bounds = (
        updated_since(ids.len(), start, 1, latest) + 25,
        updated_since(ids.len(), start, 1, earliest) + 25,
    );
    assert!(
        (bounds.0..=bounds.1).contains(&matches),
        "scanned {matches}: the window's issues plus the 25, {bounds:?}"
    );
    let stats = env.alpha().stats();
    assert_eq!(
        stats.requests.get(SEARCH).copied(),
        Some(pages_for(matches, 100))
    );
    assert_eq!(u64::from(report.pages), pages_for(matches, 100));
    assert!(
        !stats
            .requests
            .keys()
            .any(|route| route.starts_with("GET /rest/api/3/issue")),
        "no per-issue reads: {:?}",
        stats.requests
    );
    let stored = store
        .cursor(&jira_cursor_name(&connection(), Side::Left))
        .await?
        .unwrap_or_default();
    assert!(
        stored > cursor_text(now),
        "the cursor moved to the edits: {stored}"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_short_on_page_three_resumes_from_the_cursor_of_page_two() -> TestResult {
    let env = Env::start().await?;
    let now = Utc::now();
    // One issue every 10 s, so that the 2-minute overlap re-reads only a dozen of them.
    let start = now - chrono::Duration::seconds(10_000 + 120);
    let ids = seed(&env, 1_000, start, 10);
    let name = jira_cursor_name(&connection(), Side::Left);
    let initial = now - chrono::Duration::seconds(20_000);
    env.db
        .store
        .advance_cursor(&name, &cursor_text(initial))
        .await?;
    let settings = || env.settings("jira_page_size = 100\njira_overlap = \"2m\"", CONNECTIONS);

    // First process: page 3's search fails (a fault armed once page 2 is done).
    let first = Arc::new(Probe::default());
    let site = env.alpha().clone();
    *first.on_page.lock().map_err(|_| "poisoned")? = Some(Box::new(move |_, page| {
        if page.number == 2 {
            let fault = FaultSpec {
                method: Some("POST".into()),
                path_prefix: Some("/rest/api/3/search/jql".into()),
                kind: FaultKind::Status(500),
                times: None,
                probability: None,
                seed: None,
            };
            site.add_fault(fault).unwrap_or_else(|e| panic!("{e:?}"));
        }
    }));
    let app = env
        .spawn(settings(), first.clone(), |s| s == INCREMENT)
        .await;
    let outcome = eventually(Duration::from_secs(30), "the failing run", || async {
        first.outcomes_of(INCREMENT).into_iter().next()
    })
    .await;
    app.stop().await;
    assert!(
        matches!(&outcome, RunOutcome::Failed { report, .. } if report.pages == 2),
        "{outcome:?}"
    );
    let stored = env.db.store.cursor(&name).await?.unwrap_or_default();
    let page_two_end = start + chrono::Duration::seconds(199 * 10);
    assert_eq!(
        stored,
        cursor_text(page_two_end),
        "the cursor holds page 2's newest issue"
    );
    assert_eq!(env.recorder.published().len(), 200);

    // Restart: the fault is gone; the new process starts at the stored cursor.
    env.alpha().clear_faults();
    env.alpha().reset_stats();
    let second = Arc::new(Probe::default());
    let spawned_at = Utc::now();
    let app = env
        .spawn(settings(), second.clone(), |s| s == INCREMENT)
        .await;
    let outcome = eventually(Duration::from_secs(30), "the resumed run", || async {
        second.outcomes_of(INCREMENT).into_iter().next()
    })
    .await;
    let finished_at = Utc::now();
    app.stop().await;
    assert!(matches!(outcome, RunOutcome::Completed(_)), "{outcome:?}");
    let pages = second.pages_of(INCREMENT);
    let resumed_from = page_two_end - chrono::Duration::minutes(2);
    let (earliest, latest) = window(&pages[0].query, spawned_at, finished_at);
    assert!(
        latest <= resumed_from,
        "the resumed window covers the overlap"
    );
    assert!(
        earliest >= resumed_from - chrono::Duration::seconds(60) - (finished_at - spawned_at),
        "it starts at the stored cursor, not at the first run's {initial}"
    );
    let remaining = (
        updated_since(ids.len(), start, 10, latest),
        updated_since(ids.len(), start, 10, earliest),
    );
    assert!(
        800 <= remaining.0 && remaining.1 < 830,
        "the resumed run re-reads only the overlap: {remaining:?}"
    );
    let searches = env.alpha().stats().requests.get(SEARCH).copied();
    assert!(
        searches.is_some_and(
            |n| (pages_for(remaining.0, 100)..=pages_for(remaining.1, 100)).contains(&n)
        ),
        "the pages the remaining issues need: {searches:?} for {remaining:?}"
    );
    let all: BTreeSet<String> = env.recorder.entity_ids().into_iter().collect();
    assert_eq!(
        all.len(),
        1_000,
        "every issue was enqueued across the two runs"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_increment_without_a_cursor_starts_now_and_stores_where_it_started() -> TestResult {
    let env = Env::start().await?;
    // An issue updated an hour ago is history (the full pass's job), not an increment.
    seed(&env, 1, Utc::now() - chrono::Duration::hours(1), 1);
    let probe = Arc::new(Probe::default());
    let settings = env.settings("jira_overlap = \"2m\"", CONNECTIONS);
    let before = Utc::now();
    let app = env.spawn(settings, probe.clone(), |s| s == INCREMENT).await;
    let outcome = eventually(Duration::from_secs(30), "the first increment", || async {
        probe.outcomes_of(INCREMENT).into_iter().next()
    })
    .await;
    app.stop().await;
    assert!(
        matches!(outcome, RunOutcome::Completed(ref r) if r.scanned == 0),
        "{outcome:?}"
    );
    assert!(env.recorder.published().is_empty());
    let stored = env
        .db
        .store
        .cursor(&jira_cursor_name(&connection(), Side::Left))
        .await?
        .unwrap_or_default();
    let two_minutes_ago = before - chrono::Duration::minutes(2);
    assert!(
        stored >= cursor_text(two_minutes_ago - chrono::Duration::seconds(5)),
        "{stored}"
    );
    assert!(stored <= cursor_text(Utc::now()), "{stored}");
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_still_waiting_in_the_queue_is_not_enqueued_again_until_it_changes() -> TestResult
{
    let env = Env::start().await?;
    let now = Utc::now();
    let ids = seed(&env, 10, now - chrono::Duration::hours(2), 1);
    link_all(&env.db.store, &ids).await?;
    env.db
        .store
        .advance_cursor(
            &jira_cursor_name(&connection(), Side::Left),
            &cursor_text(now - chrono::Duration::minutes(10)),
        )
        .await?;
    let client = env.alpha_client();
    let edit = |id: u64, text: &'static str| {
        let client = client.clone();
        async move {
            let mut fields = Map::new();
            fields.insert("summary".into(), json!(text));
            client.edit_issue(&id.to_string(), &fields).await
        }
    };
    for id in &ids[..3] {
        edit(*id, "edited").await?;
    }
    // No worker: the three stay unsynced, their requests waiting in the queue.
    let connections = format!("{CONNECTIONS}poll_interval = \"1s\"\n");
    let probe = Arc::new(Probe::default());
    let settings = env.settings("jira_overlap = \"2m\"", &connections);
    let app = env.spawn(settings, probe.clone(), |s| s == INCREMENT).await;
    eventually(Duration::from_secs(30), "three increments", || async {
        (probe.outcomes_of(INCREMENT).len() >= 3).then_some(())
    })
    .await;
    assert_eq!(
        env.recorder.published().len(),
        3,
        "each waiting issue enqueued once, not once per poll"
    );
    // A new change to one of them is a new reason: enqueued again.
    edit(ids[0], "edited again").await?;
    eventually(
        Duration::from_secs(30),
        "the new change enqueued",
        || async { (env.recorder.published().len() == 4).then_some(()) },
    )
    .await;
    let runs = probe.outcomes_of(INCREMENT).len();
    eventually(Duration::from_secs(30), "two more increments", || async {
        (probe.outcomes_of(INCREMENT).len() >= runs + 2).then_some(())
    })
    .await;
    app.stop().await;
    let published = env.recorder.published();
    assert_eq!(published.len(), 4, "{published:?}");
    assert_eq!(published[3].entity_id, ids[0].to_string());
    env.stop().await;
    Ok(())
}
