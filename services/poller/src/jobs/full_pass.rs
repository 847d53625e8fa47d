//! The full pass of a connection: every issue in scope on each Jira side, compared with the
//! connection's links, to repair whatever the increments missed (an issue moved into the
//! project, an edit older than a lost cursor, a missed delete).
//!
//! Enqueued: each linked pair whose either side changed after its last sync (once per pair),
//! each unlinked issue in scope (a missed create), and each linked issue the search no longer
//! finds (deleted or moved out of scope: the worker reads it and decides). The links are read
//! once, in full, and matched in memory; the issues are read page by page with only `updated`.

use std::collections::{HashMap, HashSet};

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_client::SearchRequest;
use jira_sync_store::Link;

use super::Run;
use super::jira_incremental::changed_since_sync;
use crate::enqueue::request;
use crate::error::RunError;
use crate::timefmt::jql_string;

pub(super) async fn run(run: &mut Run<'_>, connection_id: &ConnectionId) -> Result<(), RunError> {
    let ctx = run.ctx;
    let connection = ctx.connection(connection_id)?;
    let links = ctx.store.list_links(Some(connection_id), i64::MAX).await?;
    let mut enqueued_links = HashSet::new();
    for side in ctx.jira_sides(connection) {
        let by_id: HashMap<&str, &Link> = links.iter().map(|l| (l.id_on(side), l)).collect();
        let mut seen: HashSet<String> = HashSet::new();
        let endpoint = &connection.side(side).endpoint;
        let client = ctx.jira(endpoint)?;
        // By key, not by `updated`: the order must not shift while issues change mid-pass.
        let jql = format!(
            "project = {} ORDER BY key ASC",
            jql_string(&connection.side(side).project)
        );
        let mut token = None;
        loop {
            run.checkpoint().await?;
            let page = client
                .search_jql(&SearchRequest {
                    jql: jql.clone(),
                    fields: vec!["updated".to_owned()],
                    max_results: ctx.settings.poller.jira_page_size,
                    next_page_token: token.take(),
                    ..SearchRequest::default()
                })
                .await?;
            let mut requests = Vec::new();
            for issue in &page.issues {
                seen.insert(issue.id.clone());
                let link = by_id.get(issue.id.as_str()).copied();
                if !changed_since_sync(issue, link) {
                    continue;
                }
                if let Some(link) = link
                    && !enqueued_links.insert(link.id)
                {
                    continue;
                }
                requests.push(request(
                    connection_id,
                    endpoint,
                    &issue.id,
                    Some(&issue.key),
                ));
            }
            run.counted(page.issues.len() as u64, requests.len() as u64);
            let enqueued = run.publish(&requests).await?;
            run.page_done(jql.clone(), page.issues.len(), enqueued);
            match page.next_page_token {
                Some(next) if !page.is_last => token = Some(next),
                _ => break,
            }
        }
        let missing: Vec<_> = links
            .iter()
            .filter(|l| !seen.contains(l.id_on(side)) && enqueued_links.insert(l.id))
            .map(|l| request(connection_id, endpoint, l.id_on(side), key_on(l, side)))
            .collect();
        run.counted(0, missing.len() as u64);
        run.publish(&missing).await?;
    }
    Ok(())
}

fn key_on(link: &Link, side: Side) -> Option<&str> {
    match side {
        Side::Left => link.left_key.as_deref(),
        Side::Right => link.right_key.as_deref(),
    }
}
