//! Reading the worker's own account of a run from its Prometheus page: how many reconciles it
//! settled, how long they took on average, how many went to a retry tier. The recorder is
//! process-wide, so a run reads the difference between two scrapes.

use std::collections::BTreeMap;

/// The sums of the counters and histograms a benchmark reads, by metric name.
#[derive(Debug, Clone, Default)]
pub struct Scrape(BTreeMap<String, f64>);

const WANTED: &[&str] = &[
    "reconcile_duration_seconds_sum",
    "reconcile_duration_seconds_count",
    "events_retried_total",
];

impl Scrape {
    /// Scrapes `<worker_url>/metrics`; an unreachable page reads as zeros.
    pub async fn worker(http: &reqwest::Client, worker_url: &str) -> Self {
        let page = match http.get(format!("{worker_url}/metrics")).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let mut sums = BTreeMap::new();
        for line in page.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let name = series.split('{').next().unwrap_or(series);
            if let (true, Ok(value)) = (WANTED.contains(&name), value.parse::<f64>()) {
                *sums.entry(name.to_owned()).or_insert(0.0) += value;
            }
        }
        Self(sums)
    }

    fn get(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(0.0)
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Scrape) -> Delta {
        let d = |name: &str| (self.get(name) - earlier.get(name)).max(0.0);
        Delta {
            reconciles: d("reconcile_duration_seconds_count"),
            busy_seconds: d("reconcile_duration_seconds_sum"),
            retried: d("events_retried_total"),
        }
    }
}

/// The worker's work between two scrapes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delta {
    /// Deliveries settled.
    pub reconciles: f64,
    /// Their total time, receive to settle.
    pub busy_seconds: f64,
    /// Deliveries sent to a retry tier.
    pub retried: f64,
}

impl Delta {
    /// Mean time of one reconcile in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        if self.reconciles > 0.0 {
            self.busy_seconds * 1000.0 / self.reconciles
        } else {
            0.0
        }
    }
}
