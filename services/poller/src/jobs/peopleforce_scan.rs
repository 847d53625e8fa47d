//! The full scan of a PeopleForce side. PeopleForce has no "updated since" filter, so every
//! task is read, page by page, and its content hash (title, description, due date, assignee,
//! completion) compared with the one stored at the last scan; only tasks whose hash differs
//! are enqueued (endpoint = the PeopleForce endpoint, entity id = the task id).
//!
//! The first scan knows no hashes, so it enqueues every task: a task never reconciled is
//! unknown, and reconciling it is how it gets its Jira twin. Hashes are written only after the
//! page's requests are confirmed. A task known before but not found by a complete scan is
//! enqueued too (the worker finds it gone) and its hash forgotten. Page-number pagination over
//! a list that changes during the scan can show a task twice or skip one until the next scan;
//! both only cause a harmless extra reconcile.

use std::collections::HashSet;

use jira_sync_domain::{ConnectionId, Side};

use super::Run;
use crate::enqueue::request;
use crate::error::RunError;
use crate::hashes::content_hash;

/// The hash scope of one PeopleForce side of a connection.
pub fn hash_scope(connection: &ConnectionId, side: Side) -> String {
    format!("peopleforce-scan/{connection}/{side}/task")
}

pub(super) async fn run(
    run: &mut Run<'_>,
    connection_id: &ConnectionId,
    side: Side,
) -> Result<(), RunError> {
    let ctx = run.ctx;
    let connection = ctx.connection(connection_id)?;
    let endpoint = &connection.side(side).endpoint;
    let client = ctx.peopleforce(endpoint)?;
    let scope = hash_scope(connection_id, side);
    let known = ctx.store.content_hashes(&scope).await?;
    let mut seen: HashSet<String> = HashSet::with_capacity(known.len());
    let mut number = 1;
    let mut unreadable = 0;
    loop {
        run.checkpoint().await?;
        let page = client.tasks_page(number).await?;
        let mut requests = Vec::new();
        let mut hashes = Vec::new();
        for task in &page.items {
            seen.insert(task.id.clone());
            let hash = content_hash(task);
            if known.get(&task.id) != Some(&hash) {
                requests.push(request(connection_id, endpoint, &task.id, None));
                hashes.push((task.id.clone(), hash));
            }
        }
        unreadable += page.skipped;
        run.counted(page.items.len() as u64, requests.len() as u64);
        let enqueued = run.publish(&requests).await?;
        ctx.store.set_content_hashes(&scope, &hashes).await?;
        run.page_done(format!("page={number}"), page.items.len(), enqueued);
        if page.is_last() || (page.items.is_empty() && page.skipped == 0) {
            break;
        }
        number += 1;
    }
    if unreadable > 0 {
        // Some tasks could not be read: which ones vanished cannot be told apart from them.
        tracing::warn!(
            unreadable,
            "PeopleForce tasks skipped; not looking for vanished ones"
        );
        return Ok(());
    }
    let vanished: Vec<String> = known.into_keys().filter(|id| !seen.contains(id)).collect();
    let requests: Vec<_> = vanished
        .iter()
        .map(|id| request(connection_id, endpoint, id, None))
        .collect();
    run.counted(0, requests.len() as u64);
    run.publish(&requests).await?;
    ctx.store.forget_content_hashes(&scope, &vanished).await?;
    Ok(())
}
