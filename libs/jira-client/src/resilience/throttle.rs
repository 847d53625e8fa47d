//! Client-side rate limiting for one Jira endpoint.
//!
//! - A token bucket (`requests_per_second`, `burst`) spaces all requests; a reservation may go
//!   negative, so concurrent callers queue in arrival order instead of spinning.
//! - Pauses Jira asked for: a 429 for the per-issue write limit (`RateLimit-Reason:
//!   jira-per-issue-on-write`) pauses writes to that issue only; any other 429 with
//!   `Retry-After` (burst or quota) pauses the whole endpoint. A pause that outlasts the caller's
//!   remaining retry budget is not waited out: the caller gets the remaining pause back and
//!   returns a transient error, so the worker can park the message.
//!
//! State is per process; workers in other processes learn the same pauses from their own 429s.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries kept before expired per-issue pauses are swept.
const SWEEP_ABOVE: usize = 1024;

#[derive(Debug)]
pub(crate) struct Throttle {
    bucket: Option<Mutex<Bucket>>,
    pauses: Mutex<Pauses>,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

#[derive(Debug, Default)]
struct Pauses {
    endpoint_until: Option<Instant>,
    issue_until: HashMap<String, Instant>,
}

/// Why a request may not be sent yet, and for how long.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Paused {
    pub(crate) target: String,
    pub(crate) remaining: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is a plain store, so a panicked holder leaves consistent state behind.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn issue_slot(issue: &str) -> String {
    issue.to_ascii_uppercase()
}

impl Throttle {
    /// `rate` in requests per second (`None` or a non-positive rate: unlimited).
    pub(crate) fn new(rate: Option<f64>, burst: u32) -> Self {
        let bucket = rate.filter(|r| r.is_finite() && *r > 0.0).map(|rate| {
            let capacity = f64::from(burst.max(1));
            Mutex::new(Bucket {
                rate,
                capacity,
                tokens: capacity,
                last: Instant::now(),
            })
        });
        Self {
            bucket,
            pauses: Mutex::new(Pauses::default()),
        }
    }

    /// Pauses every request to the endpoint for `pause`.
    pub(crate) fn pause_endpoint(&self, pause: Duration) {
        let until = Instant::now() + pause;
        let mut pauses = lock(&self.pauses);
        pauses.endpoint_until = Some(pauses.endpoint_until.map_or(until, |u| u.max(until)));
    }

    /// Pauses writes to one issue for `pause`.
    pub(crate) fn pause_issue(&self, issue: &str, pause: Duration) {
        let now = Instant::now();
        let until = now + pause;
        let mut pauses = lock(&self.pauses);
        if pauses.issue_until.len() >= SWEEP_ABOVE {
            pauses.issue_until.retain(|_, u| *u > now);
        }
        let slot = pauses.issue_until.entry(issue_slot(issue)).or_insert(until);
        *slot = (*slot).max(until);
    }

    /// The longest pause that applies to a request (a write to `issue`, if given).
    fn pending(&self, issue: Option<&str>) -> Option<Paused> {
        let now = Instant::now();
        let pauses = lock(&self.pauses);
        let endpoint = pauses.endpoint_until.filter(|u| *u > now).map(|u| Paused {
            target: "this Jira endpoint".to_owned(),
            remaining: u - now,
        });
        let issue = issue.and_then(|key| {
            pauses
                .issue_until
                .get(&issue_slot(key))
                .filter(|u| **u > now)
                .map(|u| Paused {
                    target: format!("issue {key}"),
                    remaining: *u - now,
                })
        });
        match (endpoint, issue) {
            (Some(a), Some(b)) => Some(if a.remaining >= b.remaining { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Waits for any pause and for a token. Returns the pause instead of waiting when it
    /// outlasts `budget`.
    pub(crate) async fn acquire(
        &self,
        issue: Option<&str>,
        budget: Duration,
    ) -> Result<(), Paused> {
        if let Some(paused) = self.pending(issue) {
            if paused.remaining > budget {
                return Err(paused);
            }
            tokio::time::sleep(paused.remaining).await;
        }
        let wait = self.reserve_token();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    fn reserve_token(&self) -> Duration {
        let Some(bucket) = &self.bucket else {
            return Duration::ZERO;
        };
        let mut b = lock(bucket);
        let now = Instant::now();
        let refill = now.saturating_duration_since(b.last).as_secs_f64() * b.rate;
        b.tokens = (b.tokens + refill).min(b.capacity);
        b.last = now;
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / b.rate)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Panicking on a broken fixture is the point of a test.
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_spaces_requests_at_the_rate() {
        let throttle = Throttle::new(Some(10.0), 2);
        assert!(throttle.reserve_token().is_zero());
        assert!(throttle.reserve_token().is_zero());
        let third = throttle.reserve_token();
        assert!(third > Duration::from_millis(80) && third <= Duration::from_millis(100));
        let fourth = throttle.reserve_token();
        assert!(fourth > Duration::from_millis(180), "{fourth:?}");
        assert!(Throttle::new(None, 1).reserve_token().is_zero());
    }

    #[tokio::test]
    async fn an_issue_pause_holds_writes_to_that_issue_only() {
        let throttle = Throttle::new(None, 1);
        throttle.pause_issue("abc-1", Duration::from_secs(30));
        let paused = throttle
            .acquire(Some("ABC-1"), Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(paused.target, "issue ABC-1");
        assert!(paused.remaining > Duration::from_secs(29));
        assert!(
            throttle
                .acquire(Some("ABC-2"), Duration::ZERO)
                .await
                .is_ok()
        );
        assert!(throttle.acquire(None, Duration::ZERO).await.is_ok());
    }

    #[tokio::test]
    async fn a_short_endpoint_pause_is_waited_out_within_the_budget() {
        let throttle = Throttle::new(None, 1);
        throttle.pause_endpoint(Duration::from_millis(50));
        let started = Instant::now();
        assert!(throttle.acquire(None, Duration::from_secs(1)).await.is_ok());
        assert!(started.elapsed() >= Duration::from_millis(45));
        throttle.pause_endpoint(Duration::from_secs(60));
        assert!(
            throttle
                .acquire(None, Duration::from_secs(1))
                .await
                .is_err()
        );
    }
}
