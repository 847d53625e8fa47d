//! The Jira incremental run and its bare baseline.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_sim::{Simulator, SiteHandle};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_poller::jira_cursor_name;
use jira_sync_store::{NewLink, Store};
use jira_sync_transport::Envelope;

use super::app::{Poller, Watch};
use super::{INCREMENT, JiraParts, Measured, PAGE, SEARCH, completed, median_duration};
use crate::setup::account;

/// One incremental run: `changed` issues linked (synced now), then edited; the cursor ten
/// minutes before the edits, on the site's clock.
pub(super) async fn jira_run(
    jira: &Simulator,
    pf: &pf_sim::Simulator,
    changed: &[String],
) -> anyhow::Result<Measured> {
    let a = jira.site("a").context("site a")?;
    let now = chrono::Utc::now();
    let poller = Poller::prepare(jira, pf).await?;
    let result = jira_measure(&poller, a, changed, now).await;
    poller.cleanup().await;
    result
}

async fn jira_measure(
    poller: &Poller,
    a: &SiteHandle,
    changed: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Measured> {
    let store = &poller.db.store;
    let connection = ConnectionId::parse("a-to-b")?;
    for id in changed {
        let link = store
            .insert_link(NewLink {
                connection: connection.clone(),
                left_id: id.clone(),
                right_id: format!("twin-{id}"),
                left_key: None,
                right_key: None,
                base: Snapshot::default(),
            })
            .await?;
        store
            .save_base(link.id, &Snapshot::default(), None, None)
            .await?;
    }
    let http = reqwest::Client::new();
    let person = account(&http, a, false)?;
    for id in changed {
        let answer = person
            .edit(
                id,
                // A new value each repetition: an edit that changes nothing is no change.
                serde_json::json!({ "summary": format!("changed {id} at {}", now.timestamp_millis()) }),
            )
            .await?;
        if answer.status != 204 {
            bail!("edit {id}: {} {}", answer.status, answer.body);
        }
    }
    let cursor =
        (now - chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    store
        .advance_cursor(&jira_cursor_name(&connection, Side::Left), &cursor)
        .await?;
    a.reset_stats();
    let watch = Arc::new(Watch::default());
    poller.run(INCREMENT, watch.clone(), 1).await?;
    let stats = a.stats();
    let (wall, outcome) = watch.runs().into_iter().next().context("a run")?;
    let report = completed(&outcome)?;
    let per_issue_reads = (stats.requests.iter())
        .filter(|(route, _)| route.starts_with("GET /rest/api/3/issue"))
        .map(|(_, n)| *n)
        .sum();
    let searches = stats.requests.get(SEARCH).copied().unwrap_or(0);
    let jql = watch.first_query().context("the run's JQL")?;
    let bot = account(&http, a, true)?;
    let mut bare = Vec::new();
    let mut bare_pages = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let (pages, _issues) = bot.search_all(&jql, &["updated"], PAGE).await?;
        bare.push(started.elapsed());
        bare_pages = u64::from(pages);
    }
    if report.enqueued != changed.len() as u64 {
        bail!(
            "the run enqueued {} issues, {} changed",
            report.enqueued,
            changed.len()
        );
    }
    let parts = run_parts(poller, store, &connection, changed).await?;
    Ok(Measured {
        wall,
        pages: searches,
        per_issue_reads,
        scanned: report.scanned,
        enqueued: report.enqueued,
        bare_wall: median_duration(&bare),
        bare_pages,
        jira_parts: Some(parts),
    })
}

/// The run's work besides the search, each part alone: the link look-ups of the changed
/// issues (8 at a time, as the poller does) and as many confirmed publishes (32 in flight).
async fn run_parts(
    poller: &Poller,
    store: &dyn Store,
    connection: &ConnectionId,
    changed: &[String],
) -> anyhow::Result<JiraParts> {
    let started = Instant::now();
    for chunk in changed.chunks(8) {
        futures::future::try_join_all(
            chunk
                .iter()
                .map(|id| store.find_link(connection, Side::Left, id)),
        )
        .await?;
    }
    let lookups = started.elapsed();
    let publisher = poller.transport.publisher();
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    for id in changed {
        if pending.len() >= 32
            && let Some(done) = pending.next().await
        {
            done?;
        }
        let envelope = Envelope::new(format!("bench-{id}"), id.as_bytes().to_vec());
        pending.push(publisher.publish(envelope));
    }
    while let Some(done) = pending.next().await {
        done?;
    }
    Ok(JiraParts {
        lookups,
        publishes: started.elapsed(),
    })
}
