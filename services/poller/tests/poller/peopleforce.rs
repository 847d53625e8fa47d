//! PeopleForce full scans: the first scan enqueues every task (none was ever reconciled) and
//! records their content hashes; later scans enqueue only tasks whose content changed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::{EndpointId, Trigger};
use jira_sync_peopleforce_sim::{TaskEdit, TaskSeed};
use jira_sync_poller::RunOutcome;

use crate::support::{Env, Probe, TestResult, eventually};

const SCAN: &str = "peopleforce-scan/onboarding/right";
const CONNECTIONS: &str = r#"
[connections.onboarding]
left = { endpoint = "jira-a", project = "HR" }
right = { endpoint = "pf" }
poll_interval = "1s"
"#;

fn completed(outcomes: &[RunOutcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o, RunOutcome::Completed(_)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_ten_thousand_tasks_enqueues_only_the_five_that_changed() -> TestResult {
    let env = Env::start().await?;
    let pf = env.pf.handle().clone();
    pf.seed_tasks(&TaskSeed {
        count: 10_000,
        due_date: Some("2026-12-01".into()),
        ..TaskSeed::default()
    })?;
    // Between the first and the second scan (on the scan's own task, so the next scan cannot
    // start first), five tasks change and one is touched without a change.
    let probe = Arc::new(Probe::default());
    let editor = pf.clone();
    *probe.on_finish.lock().map_err(|_| "poisoned")? = Some(Box::new(move |_, outcome| {
        let RunOutcome::Completed(report) = outcome else {
            return;
        };
        if report.scanned != 10_000 || report.enqueued != 10_000 {
            return; // only after the first scan
        }
        let edits = [
            (
                11,
                TaskEdit {
                    title: Some("Renamed".into()),
                    ..TaskEdit::default()
                },
            ),
            (
                222,
                TaskEdit {
                    description: Some(Some("Bring ID".into())),
                    ..TaskEdit::default()
                },
            ),
            (
                3_333,
                TaskEdit {
                    due_date: Some(None),
                    ..TaskEdit::default()
                },
            ),
            (
                4_444,
                TaskEdit {
                    assignee_id: Some(Some(9)),
                    ..TaskEdit::default()
                },
            ),
            (
                9_999,
                TaskEdit {
                    completed: Some(true),
                    ..TaskEdit::default()
                },
            ),
            (
                5_000,
                TaskEdit {
                    title: Some("Seeded task 5000".into()),
                    ..TaskEdit::default()
                },
            ),
        ];
        for (id, edit) in edits {
            editor
                .edit_task(id, &edit)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }));
    let settings = env.settings("peopleforce_page_size = 100", CONNECTIONS);
    let app = env.spawn(settings, probe.clone(), |s| s == SCAN).await;
    eventually(Duration::from_secs(120), "two complete scans", || async {
        (completed(&probe.outcomes_of(SCAN)) >= 2).then_some(())
    })
    .await;
    app.stop().await;

    let outcomes = probe.outcomes_of(SCAN);
    let reports: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RunOutcome::Completed(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!((reports[0].scanned, reports[0].enqueued), (10_000, 10_000));
    assert_eq!((reports[1].scanned, reports[1].enqueued), (10_000, 5));
    let published = env.recorder.published();
    let first: BTreeSet<&str> = published[..10_000]
        .iter()
        .map(|r| r.entity_id.as_str())
        .collect();
    assert_eq!(
        first.len(),
        10_000,
        "the first scan enqueued every task once"
    );
    let second: BTreeSet<&str> = published[10_000..10_005]
        .iter()
        .map(|r| r.entity_id.as_str())
        .collect();
    assert_eq!(
        second,
        BTreeSet::from(["11", "222", "3333", "4444", "9999"])
    );
    let pf_endpoint = EndpointId::parse("pf")?;
    assert!(
        published
            .iter()
            .all(|r| r.endpoint == pf_endpoint && r.trigger == Trigger::Poll)
    );
    let later = &published[10_005..];
    assert!(
        later.is_empty() || reports.len() > 2,
        "a third scan found nothing new: {later:?}"
    );
    assert!(reports.iter().skip(2).all(|r| r.enqueued == 0));
    // One request per page, 100 pages of 100 per complete scan (a scan cut short by the
    // stop counts its pages too).
    assert!(reports.iter().all(|r| r.pages == 100));
    let requests = env.pf.handle().stats().count("GET /api/public/v3/tasks");
    assert_eq!(requests, probe.pages_of(SCAN).len() as u64);
    assert_eq!(u64::from(env.queued().await), published.len() as u64);
    env.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_are_not_recorded_when_the_publish_is_not_confirmed() -> TestResult {
    let env = Env::start().await?;
    env.pf.handle().seed_tasks(&TaskSeed {
        count: 30,
        ..TaskSeed::default()
    })?;
    // The broker is cut off: nothing can be confirmed, so the scan fails and records nothing.
    env.rabbit.proxy().cut().await;
    let probe = Arc::new(Probe::default());
    let settings = env.settings("peopleforce_page_size = 10", CONNECTIONS);
    let app = env.spawn(settings, probe.clone(), |s| s == SCAN).await;
    let outcome = eventually(Duration::from_secs(30), "a failed scan", || async {
        probe.outcomes_of(SCAN).into_iter().next()
    })
    .await;
    assert!(matches!(outcome, RunOutcome::Failed { .. }), "{outcome:?}");
    // Back online: the next scan still sees every task as new.
    env.rabbit.proxy().restore();
    eventually(Duration::from_secs(30), "a complete scan", || async {
        (completed(&probe.outcomes_of(SCAN)) >= 1).then_some(())
    })
    .await;
    app.stop().await;
    let ids: BTreeSet<String> = env.recorder.entity_ids().into_iter().collect();
    assert_eq!(
        ids.len(),
        30,
        "every task was enqueued once the broker was back"
    );
    env.stop().await;
    Ok(())
}
