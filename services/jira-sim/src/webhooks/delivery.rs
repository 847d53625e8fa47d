//! The webhook sender of one site: takes planned jobs in order, applies webhook faults, and
//! POSTs them with Jira's headers. Retries follow Jira's policy: 408, 409, 425, 429, 5xx and
//! connection errors are retried up to `max_retries` times after `retry_delay`; other answers
//! are final. At most `concurrency` first attempts are in flight; with 1, events are sent in
//! the order they happened.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::Job;
use crate::site::Site;
use crate::stats::DeliveryRecord;

/// Delivery settings shared by all sites.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryConfig {
    pub retry_delay: Duration,
    pub max_retries: u32,
    pub timeout: Duration,
    pub concurrency: usize,
}

/// `sha256=<hex>` of the body under `secret`, as Jira's `X-Hub-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Runs until `cancel` fires or the queue closes.
pub(crate) async fn run(
    site: Arc<Site>,
    mut rx: UnboundedReceiver<Job>,
    cfg: DeliveryConfig,
    cancel: CancellationToken,
) {
    let client = match reqwest::Client::builder().timeout(cfg.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; webhooks are off");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(cfg.concurrency.max(1)));
    loop {
        let first = tokio::select! {
            () = cancel.cancelled() => return,
            job = rx.recv() => match job { Some(j) => j, None => return },
        };
        let mut batch = vec![first];
        let reorder = site.lock().webhook_faults.reorder_window();
        if let Some(window) = reorder {
            let deadline = tokio::time::Instant::now() + window;
            while let Ok(Some(job)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                batch.push(job);
            }
            batch.reverse();
        }
        for job in batch {
            let (fate, delay) = {
                let mut st = site.lock();
                let fate = st.webhook_faults.decide();
                if fate.drop {
                    st.stats.counters.webhooks.dropped += 1;
                    let now = st.clock.now_ms();
                    st.stats
                        .record_delivery(record(&job, 0, None, "dropped", None, now));
                }
                (fate, st.webhook_faults.delay())
            };
            if fate.drop {
                continue;
            }
            let permit = tokio::select! {
                () = cancel.cancelled() => return,
                p = Arc::clone(&slots).acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let task = Delivery {
                site: Arc::clone(&site),
                client: client.clone(),
                cfg: cfg.clone(),
                cancel: cancel.clone(),
            };
            tokio::spawn(task.deliver(job, fate.duplicate, delay, permit));
        }
    }
}

fn record(
    job: &Job,
    attempt: u32,
    status: Option<u16>,
    outcome: &str,
    error: Option<String>,
    at: i64,
) -> DeliveryRecord {
    DeliveryRecord {
        webhook_id: job.webhook_id,
        identifier: job.identifier.clone(),
        event: job.event.to_owned(),
        issue_id: job.issue_id.clone(),
        attempt,
        status,
        outcome: outcome.to_owned(),
        error,
        at,
    }
}

enum Answer {
    Delivered(u16),
    Retryable(Option<u16>, Option<String>),
    Final(u16),
}

struct Delivery {
    site: Arc<Site>,
    client: reqwest::Client,
    cfg: DeliveryConfig,
    cancel: CancellationToken,
}

impl Delivery {
    async fn deliver(
        self,
        job: Job,
        duplicate: bool,
        delay: Duration,
        permit: OwnedSemaphorePermit,
    ) {
        let mut permit = Some(permit);
        if !delay.is_zero() && !self.sleep(delay).await {
            return;
        }
        for attempt in 0..=self.cfg.max_retries {
            if attempt > 0 && !self.sleep(self.cfg.retry_delay).await {
                return;
            }
            let answer = tokio::select! {
                () = self.cancel.cancelled() => return,
                a = self.send(&job, attempt) => a,
            };
            let last = attempt == self.cfg.max_retries;
            let (delivered, done) = self.account(&job, attempt, answer, last);
            if delivered && duplicate {
                // Still holding the slot, so with concurrency 1 the copy comes before later events.
                self.send_duplicate(&job, attempt).await;
            }
            drop(permit.take());
            if done {
                return;
            }
        }
    }

    /// Counts and logs one attempt; returns (delivered, done).
    fn account(&self, job: &Job, attempt: u32, answer: Answer, last: bool) -> (bool, bool) {
        let mut st = self.site.lock();
        let now = st.clock.now_ms();
        let w = &mut st.stats.counters.webhooks;
        w.sent += 1;
        w.retried += u64::from(attempt > 0);
        let (outcome, status, error, done) = match answer {
            Answer::Delivered(s) => {
                w.delivered += 1;
                ("delivered", Some(s), None, true)
            }
            Answer::Final(s) => {
                w.failed += 1;
                ("failed", Some(s), None, true)
            }
            Answer::Retryable(s, e) if last => {
                w.failed += 1;
                ("failed", s, e, true)
            }
            Answer::Retryable(s, e) => ("retrying", s, e, false),
        };
        st.stats
            .record_delivery(record(job, attempt, status, outcome, error, now));
        (outcome == "delivered", done)
    }

    /// Sleeps unless cancelled first; `false` when cancelled.
    async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            () = self.cancel.cancelled() => false,
            () = tokio::time::sleep(d) => true,
        }
    }

    async fn send_duplicate(&self, job: &Job, attempt: u32) {
        let answer = self.send(job, attempt).await;
        let status = match answer {
            Answer::Delivered(s) | Answer::Final(s) => Some(s),
            Answer::Retryable(s, _) => s,
        };
        let mut st = self.site.lock();
        st.stats.counters.webhooks.sent += 1;
        st.stats.counters.webhooks.duplicated += 1;
        let now = st.clock.now_ms();
        st.stats
            .record_delivery(record(job, attempt, status, "duplicate", None, now));
    }

    async fn send(&self, job: &Job, attempt: u32) -> Answer {
        let mut req = self
            .client
            .post(&job.url)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(job.body.as_ref().clone());
        // Data Center documents no delivery id, flow or retry headers: it sends none here.
        if !self.site.cat.data_center {
            req = req
                .header("User-Agent", "Atlassian Webhook HTTP Client")
                .header("X-Atlassian-Webhook-Identifier", &job.identifier)
                .header("X-Atlassian-Webhook-Flow", "Primary");
            if attempt > 0 {
                req = req.header("X-Atlassian-Webhook-Retry", attempt.to_string());
            }
        }
        if let Some(secret) = &job.secret {
            req = req.header("X-Hub-Signature", signature(secret, &job.body));
        }
        match req.send().await {
            Ok(resp) => {
                let s = resp.status().as_u16();
                match s {
                    200..=299 => Answer::Delivered(s),
                    408 | 409 | 425 | 429 | 500..=599 => Answer::Retryable(Some(s), None),
                    _ => Answer::Final(s),
                }
            }
            Err(e) => Answer::Retryable(None, Some(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn the_signature_matches_atlassians_test_vector() {
        assert_eq!(
            signature("It's a Secret to Everybody", b"Hello World!"),
            "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
        );
    }
}
