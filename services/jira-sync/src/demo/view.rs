//! The live view while the scenario runs. Every figure is read from the running installation,
//! never counted by the script: the worker's and the ingress's Prometheus metrics (received,
//! synced, retried, lag), the transport's dead-letter queue, the store's links and open
//! conflicts, and the sites' own counters (429s served, webhooks dropped). On a terminal a
//! small table is redrawn in place with ANSI escapes; otherwise a plain line is printed each
//! time a figure changes.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jira_sync_jira_sim::SiteHandle;
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_telemetry::names;
use jira_sync_transport::DeadLetters;
use tokio_util::sync::CancellationToken;

/// How often the view is refreshed.
const REFRESH: Duration = Duration::from_millis(300);

/// Where the figures come from.
pub struct Source {
    pub store: Arc<dyn Store>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub a: SiteHandle,
    pub b: SiteHandle,
}

/// One reading of the installation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Webhooks the ingress accepted (`events_received_total`).
    pub received: u64,
    /// Reconciles the worker completed (`events_succeeded_total`).
    pub synced: u64,
    /// Deliveries sent to a retry queue (`events_retried_total`).
    pub retried: u64,
    /// Messages in the dead-letter queue.
    pub dead_lettered: usize,
    /// Open conflicts in the store.
    pub conflicts: usize,
    /// Links in the store.
    pub links: usize,
    /// Mean time from a source event to its write on the other side, in seconds.
    pub lag_secs: Option<f64>,
    /// 429s the sites answered (their rate limits and injected faults).
    pub rate_limited: u64,
    /// Webhooks the sites dropped on purpose.
    pub dropped: u64,
}

/// Sums the samples of metric `name` (every label set) in a Prometheus text exposition.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let metric = series.split('{').next()?;
            (metric == name).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// A counter's value as a whole number (counters are whole; the cast only drops ".0").
fn count(text: &str, name: &str) -> u64 {
    let sum = metric_sum(text, name);
    if sum.is_finite() && sum > 0.0 {
        sum.round() as u64
    } else {
        0
    }
}

impl Figures {
    /// Reads every figure now.
    pub async fn read(source: &Source) -> Self {
        let metrics = jira_sync_telemetry::render_metrics();
        let lag_count = metric_sum(&metrics, &format!("{}_count", names::SYNC_LAG));
        let lag_sum = metric_sum(&metrics, &format!("{}_sum", names::SYNC_LAG));
        let open = source
            .store
            .list_conflicts(None, Some(ConflictStatus::Open), 1000)
            .await
            .map(|c| c.len())
            .unwrap_or_default();
        let links = source
            .store
            .list_links(None, 10_000)
            .await
            .map(|l| l.len())
            .unwrap_or_default();
        let dead_lettered = source
            .dead_letters
            .peek(1000)
            .await
            .map(|d| d.len())
            .unwrap_or_default();
        let (sa, sb) = (source.a.stats(), source.b.stats());
        Self {
            received: count(&metrics, names::EVENTS_RECEIVED),
            synced: count(&metrics, names::EVENTS_SUCCEEDED),
            retried: count(&metrics, names::EVENTS_RETRIED),
            dead_lettered,
            conflicts: open,
            links,
            lag_secs: (lag_count > 0.0).then(|| lag_sum / lag_count),
            rate_limited: sa.rate_limited
                + sb.rate_limited
                + sa.faults_injected
                + sb.faults_injected,
            dropped: sa.webhooks.dropped + sb.webhooks.dropped,
        }
    }

    fn lag(&self) -> String {
        self.lag_secs
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}s"))
    }

    /// One progress line.
    pub fn line(&self, step: &str) -> String {
        format!(
            "[{step}] received {} synced {} retried {} dead-lettered {} conflicts {} links {} \
             lag {} (sites: {} x 429/fault, {} webhooks dropped)",
            self.received,
            self.synced,
            self.retried,
            self.dead_lettered,
            self.conflicts,
            self.links,
            self.lag(),
            self.rate_limited,
            self.dropped
        )
    }

    /// The table of the live view, one string per line.
    pub fn table(&self, step: &str) -> Vec<String> {
        let row =
            |name: &str, value: String, from: &str| format!("  {name:<15}{value:>8}   {from}");
        vec![
            format!("  step: {step}\x1b[K"),
            row(
                "received",
                self.received.to_string(),
                "ingress: webhooks accepted",
            ),
            row("synced", self.synced.to_string(), "worker: reconciles done"),
            row(
                "retried",
                self.retried.to_string(),
                "worker: sent to a retry queue",
            ),
            row(
                "dead-lettered",
                self.dead_lettered.to_string(),
                "transport: dead-letter queue",
            ),
            row(
                "conflicts",
                self.conflicts.to_string(),
                "store: open, held for a person",
            ),
            row("links", self.links.to_string(), "store: linked pairs"),
            row("lag", self.lag(), "worker: mean event-to-write time"),
            row(
                "429s served",
                self.rate_limited.to_string(),
                "sites: 429s and injected faults",
            ),
            row(
                "dropped",
                self.dropped.to_string(),
                "sites: webhooks never sent",
            ),
        ]
    }
}

/// Shows the figures until `done` is cancelled, then once more.
pub async fn watch(
    source: &Source,
    step: &Mutex<String>,
    live: bool,
    done: &CancellationToken,
    out: &mut (dyn Write + Send),
) {
    let mut drawn = 0usize;
    let mut last = String::new();
    loop {
        let finished = done.is_cancelled();
        let figures = Figures::read(source).await;
        let current = step.lock().map(|s| s.clone()).unwrap_or_default();
        if live {
            let mut frame = String::new();
            if drawn > 0 {
                frame.push_str(&format!("\x1b[{drawn}A"));
            }
            let lines = figures.table(&current);
            for line in &lines {
                frame.push_str("\r\x1b[2K");
                frame.push_str(line);
                frame.push('\n');
            }
            drawn = lines.len();
            let _ = write!(out, "{frame}");
        } else {
            let line = figures.line(&current);
            if line != last {
                let _ = writeln!(out, "{line}");
                last = line;
            }
        }
        let _ = out.flush();
        if finished {
            return;
        }
        tokio::select! {
            () = done.cancelled() => {}
            () = tokio::time::sleep(REFRESH) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sum_adds_every_label_set_of_one_metric_only() {
        let text = "# TYPE events_retried_total counter\n\
                    events_retried_total{tier=\"200ms\"} 2\n\
                    events_retried_total{tier=\"1s\"} 3\n\
                    events_retried_total_other 9\n\
                    sync_lag_seconds_sum 1.5\n";
        assert_eq!(metric_sum(text, "events_retried_total"), 5.0);
        assert_eq!(metric_sum(text, "sync_lag_seconds_sum"), 1.5);
        assert_eq!(metric_sum(text, "absent"), 0.0);
    }
}
