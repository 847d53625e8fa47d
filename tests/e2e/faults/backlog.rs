//! [`Backlog`]: what a fault leaves behind and how long the installation takes to work it
//! off. The time to recover of every scenario is measured with it, in a task of its own so that
//! the load goes on meanwhile.

use std::time::{Duration, Instant};

use jira_sync_jira_sim::SiteHandle;
use jira_sync_transport::amqp::AmqpTransport;
use tokio::task::JoinHandle;

/// The backlog a fault leaves: ready messages in the work queue and the retry tiers, and
/// webhooks the sites are still trying to deliver.
#[derive(Clone)]
pub struct Backlog {
    pub(super) direct: AmqpTransport,
    pub(super) sites: [SiteHandle; 2],
}

impl Backlog {
    /// (work, retry tiers, webhooks pending); `None` while the broker is unreachable.
    pub async fn now(&self) -> Option<(u64, u64, u64)> {
        let depths = self.direct.queue_depths().await.ok()?;
        let retry = depths.retry.iter().map(|t| u64::from(t.messages)).sum();
        let pending: u64 = (self.sites.iter())
            .map(|site| {
                let w = site.stats().webhooks;
                w.events.saturating_sub(w.delivered + w.failed + w.dropped)
            })
            .sum();
        Some((u64::from(depths.work), retry, pending))
    }

    /// Measures, in a task of its own, how long after `since` the backlog was first empty
    /// (sampled every 100 ms, for at most five minutes).
    pub fn drained_after(&self, since: Instant) -> JoinHandle<Option<Duration>> {
        let backlog = self.clone();
        tokio::spawn(async move {
            while since.elapsed() < Duration::from_secs(300) {
                if backlog.now().await == Some((0, 0, 0)) {
                    return Some(since.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            None
        })
    }
}
