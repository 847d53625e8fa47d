//! Where each change's lag goes, from the simulators' own records: A's webhook delivery log
//! (stamped once the ingress answered, i.e. once the broker confirmed the message) and both
//! sites' request logs (stamped when the answer left, after the injected latency). For a change
//! applied in A at `t_a` and written to B at `t_b`:
//!
//! - webhook: `t_a` to the delivery of its webhook (simulator dispatch, ingress, publish with
//!   confirm);
//! - to reads done: from there to the later of the bot's reads of both issues (queue, worker
//!   pick-up, lock, link look-up, the reads themselves);
//! - write: from the reads to `t_b` (merge, the write itself).
//!
//! Only meaningful while changes to one issue do not overlap (low rates) and the request logs
//! kept everything (10,000 records each).

use std::collections::HashMap;
use std::time::Duration;

use jira_sync_jira_sim::{RequestRecord, SiteHandle};

use crate::drive::Arrival;

/// Median durations of the phases of the changes that arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub webhook: Duration,
    pub reads: Duration,
    pub write: Duration,
    /// Changes whose three phases could be told apart.
    pub samples: usize,
}

const ISSUE_ROUTE: &str = "/rest/api/3/issue/{id}";

/// The phases of `arrivals` (changes in `a` copied to their twins in `b`), or `None` when a
/// request log overflowed or no change could be followed.
pub fn phases(
    a: &SiteHandle,
    b: &SiteHandle,
    twins: &HashMap<String, String>,
    arrivals: &[Arrival],
) -> Option<Phases> {
    let reads_a = bot_issue_reads(a)?;
    let reads_b = bot_issue_reads(b)?;
    let mut hooks: HashMap<String, Vec<i64>> = HashMap::new();
    for d in a.webhook_deliveries(usize::MAX) {
        if let (Some(issue), "delivered") = (d.issue_id, d.outcome.as_str()) {
            hooks.entry(issue).or_default().push(d.at);
        }
    }
    let (mut webhook, mut reads, mut write) = (Vec::new(), Vec::new(), Vec::new());
    for arrival in arrivals {
        let (Some(t_b), Some(twin)) = (arrival.arrived_ms, twins.get(&arrival.issue)) else {
            continue;
        };
        let t_a = arrival.applied_ms;
        let hook = hooks
            .get(&arrival.issue)
            .and_then(|at| at.iter().copied().filter(|t| *t >= t_a).min());
        let last_read = |log: &HashMap<String, Vec<i64>>, id: &str| {
            log.get(id)
                .and_then(|at| at.iter().copied().filter(|t| *t >= t_a && *t <= t_b).max())
        };
        let (Some(hook), Some(ra), Some(rb)) = (
            hook,
            last_read(&reads_a, &arrival.issue),
            last_read(&reads_b, twin),
        ) else {
            continue;
        };
        let read = ra.max(rb);
        if hook > read {
            continue;
        }
        webhook.push(hook - t_a);
        reads.push(read - hook);
        write.push(t_b - read);
    }
    let samples = webhook.len();
    (samples > 0).then(|| Phases {
        webhook: median_ms(&mut webhook),
        reads: median_ms(&mut reads),
        write: median_ms(&mut write),
        samples,
    })
}

/// When the bot's reads of each issue were answered, by issue id; `None` when the log
/// overflowed.
fn bot_issue_reads(site: &SiteHandle) -> Option<HashMap<String, Vec<i64>>> {
    let bot = site.bot()?.account_id.clone();
    let stats = site.stats();
    let log: Vec<RequestRecord> = site.recent_requests(usize::MAX);
    if (log.len() as u64) < stats.reads + stats.writes {
        return None;
    }
    let mut reads: HashMap<String, Vec<i64>> = HashMap::new();
    for r in log {
        if r.account.as_deref() == Some(bot.as_str())
            && r.method == "GET"
            && r.route == ISSUE_ROUTE
            && r.status == 200
            && let Some(id) = r.path.rsplit('/').next()
        {
            reads.entry(id.to_owned()).or_default().push(r.at);
        }
    }
    Some(reads)
}

fn median_ms(values: &mut [i64]) -> Duration {
    values.sort_unstable();
    let mid = values.get(values.len() / 2).copied().unwrap_or(0);
    Duration::from_millis(u64::try_from(mid).unwrap_or(0))
}
