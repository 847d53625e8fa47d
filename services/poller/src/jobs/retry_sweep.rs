//! The retry sweep of a connection: every link whose last sync failed (`last_error` set) is
//! enqueued again from its left side, in batches of a page, checking leadership between them.
//!
//! The store has no "links with errors" query yet, so all links of the connection are listed
//! and filtered here; a `Store::links_with_errors(connection)` method would move the filter
//! into SQL (an index on `last_error IS NOT NULL`).

use jira_sync_domain::{ConnectionId, Side};

use super::Run;
use crate::enqueue::request;
use crate::error::RunError;

pub(super) async fn run(run: &mut Run<'_>, connection_id: &ConnectionId) -> Result<(), RunError> {
    let ctx = run.ctx;
    let connection = ctx.connection(connection_id)?;
    let endpoint = &connection.side(Side::Left).endpoint;
    let links = ctx.store.list_links(Some(connection_id), i64::MAX).await?;
    let scanned = links.len() as u64;
    let failed: Vec<_> = links
        .into_iter()
        .filter(|l| l.last_error.is_some())
        .map(|l| request(connection_id, endpoint, &l.left_id, l.left_key.as_deref()))
        .collect();
    run.counted(scanned, failed.len() as u64);
    let batch = ctx.settings.poller.jira_page_size.max(1) as usize;
    for chunk in failed.chunks(batch) {
        run.checkpoint().await?;
        let enqueued = run.publish(chunk).await?;
        run.page_done("links with last_error".to_owned(), chunk.len(), enqueued);
    }
    Ok(())
}
