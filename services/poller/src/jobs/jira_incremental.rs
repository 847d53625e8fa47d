//! The incremental search of one Jira side: issues of the side's project updated since the
//! cursor (minus the overlap), oldest first, paged with `nextPageToken`, asking only for
//! `updated` (the key and id come with every issue), so no issue is read one by one.
//!
//! An issue is enqueued when it is unlinked (it is in scope: the JQL names the project) or
//! changed after its link's last sync (`last_synced_at < updated`). After each page, once its
//! requests are confirmed, the cursor moves to the newest `updated` of the page, so a run cut
//! short (crash, lost leadership, error) resumes from there.
//!
//! The cursor only ever holds Jira's own timestamps. Without a cursor the search starts at now
//! minus the overlap (and that start is stored when nothing newer was seen): history is the full
//! pass's job.
//!
//! The window is a relative date (`updated >= "-90m"`): Jira reads absolute date literals in the
//! time zone of the account's profile, so a UTC literal would miss hours of changes for an
//! account west of Greenwich; a relative date counts back from Jira's own now, in any zone. Its
//! minutes round up, and the overlap (minutes, where the literal was floored to the minute
//! anyway) covers clock skew between the poller and Jira.

use chrono::{DateTime, Utc};
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_client::{Issue, SearchRequest};
use jira_sync_store::Link;

use super::Run;
use crate::enqueue::request;
use crate::error::RunError;
use crate::timefmt::{cursor_text, jql_minutes_ago, jql_string, parse_cursor};

/// Link look-ups in flight at once.
const LOOKUPS: usize = 8;

/// The store cursor of one Jira side of a connection: the newest `updated` processed.
pub fn cursor_name(connection: &ConnectionId, side: Side) -> String {
    format!("poller/jira-incremental/{connection}/{side}/updated")
}

/// The JQL of an incremental search from `since`, made at `now`: its window starts at or
/// before `since` (whole minutes back from now, rounded up).
pub fn incremental_jql(project: &str, since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "project = {} AND updated >= \"{}\" ORDER BY updated ASC",
        jql_string(project),
        jql_minutes_ago(since, now)
    )
}

pub(super) async fn run(
    run: &mut Run<'_>,
    connection_id: &ConnectionId,
    side: Side,
) -> Result<(), RunError> {
    let ctx = run.ctx;
    let connection = ctx.connection(connection_id)?;
    let endpoint = &connection.side(side).endpoint;
    let client = ctx.jira(endpoint)?;
    let poller = &ctx.settings.poller;
    let name = cursor_name(connection_id, side);
    let stored = ctx.store.cursor(&name).await?;
    let cursor = stored.as_deref().and_then(parse_cursor);
    if stored.is_some() && cursor.is_none() {
        tracing::warn!(cursor = %name, "unreadable cursor; starting from now");
    }
    let overlap = chrono::Duration::from_std(poller.jira_overlap).unwrap_or_default();
    let since = cursor.unwrap_or_else(Utc::now) - overlap;
    let jql = incremental_jql(&connection.side(side).project, since, Utc::now());
    let scope = format!("{connection_id}/{side}");
    // Issues last enqueued before the window will not be seen again.
    ctx.enqueued
        .forget_before(&scope, since - chrono::Duration::hours(1));
    let mut token = None;
    loop {
        run.checkpoint().await?;
        let page = client
            .search_jql(&SearchRequest {
                jql: jql.clone(),
                fields: vec!["updated".to_owned()],
                max_results: poller.jira_page_size,
                next_page_token: token.take(),
                ..SearchRequest::default()
            })
            .await?;
        let mut links: Vec<Option<Link>> = Vec::with_capacity(page.issues.len());
        for chunk in page.issues.chunks(LOOKUPS) {
            let found = futures::future::try_join_all(
                chunk
                    .iter()
                    .map(|issue| ctx.store.find_link(connection_id, side, &issue.id)),
            )
            .await?;
            links.extend(found);
        }
        let due: Vec<&Issue> = page
            .issues
            .iter()
            .zip(&links)
            .filter(|(issue, link)| changed_since_sync(issue, link.as_ref()))
            .filter(|(issue, _)| !ctx.enqueued.already(&scope, &issue.id, issue.updated()))
            .map(|(issue, _)| issue)
            .collect();
        let requests: Vec<_> = (due.iter())
            .map(|issue| request(connection_id, endpoint, &issue.id, Some(&issue.key)))
            .collect();
        run.counted(page.issues.len() as u64, requests.len() as u64);
        let enqueued = run.publish(&requests).await?;
        for issue in &due {
            ctx.enqueued.record(&scope, &issue.id, issue.updated());
        }
        if let Some(newest) = page.issues.iter().filter_map(Issue::updated).max() {
            ctx.store
                .advance_cursor(&name, &cursor_text(newest))
                .await?;
        }
        run.page_done(jql.clone(), page.issues.len(), enqueued);
        match page.next_page_token {
            Some(next) if !page.is_last => token = Some(next),
            _ => break,
        }
    }
    if cursor.is_none() {
        // A first run that found nothing still leaves a starting point, so that a poller
        // stopped before the first change does not skip what happens meanwhile. Monotonic:
        // ignored when a page already moved the cursor further.
        ctx.store.advance_cursor(&name, &cursor_text(since)).await?;
    }
    Ok(())
}

/// Whether an issue needs a reconcile: unlinked, never synced, changed after its last sync,
/// or without a readable `updated` (when in doubt, reconcile: it is idempotent).
pub fn changed_since_sync(issue: &Issue, link: Option<&Link>) -> bool {
    let Some(link) = link else {
        return true;
    };
    match (issue.updated(), link.last_synced_at) {
        (Some(updated), Some(synced)) => synced < updated,
        _ => true,
    }
}
