//! A circuit breaker per Jira endpoint. After `threshold` consecutive outage-like failures
//! (5xx, timeouts, connection errors) it opens: calls fail fast without touching the network for
//! `cooldown`. Then it is half-open: exactly one probe goes through; its success closes the
//! breaker, its failure opens it for another cool-down. Any answer that proves Jira is up (a 2xx,
//! a 4xx, a 429) counts as success.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The breaker's shared state.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// Leave to send one request. Settle it with the outcome; dropping it unsettled (the call was
/// cancelled) frees the half-open probe slot without changing the state.
#[must_use]
pub(crate) struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    settled: bool,
}

impl CircuitBreaker {
    /// `threshold == 0` disables the breaker.
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a plain store.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A permit to send, or how long to wait before asking again.
    pub(crate) fn admit(&self) -> Result<Permit<'_>, Duration> {
        let now = Instant::now();
        let mut state = self.lock();
        let probe = match state.open_until {
            None => false,
            Some(until) if now < until => return Err(until - now),
            // Half-open while another caller's probe is in flight: it ends within one request.
            Some(_) if state.probing => return Err(self.cooldown.min(Duration::from_secs(1))),
            Some(_) => {
                state.probing = true;
                true
            }
        };
        Ok(Permit {
            breaker: self,
            probe,
            settled: false,
        })
    }
}

impl Permit<'_> {
    /// Jira answered (whatever it said): close the breaker.
    pub(crate) fn success(mut self) {
        self.settled = true;
        let mut state = self.breaker.lock();
        if state.open_until.is_some() {
            tracing::info!("Jira answered again: circuit closed");
        }
        *state = State::default();
    }

    /// An outage-like failure: count it, and open the breaker at the threshold or when the
    /// half-open probe failed.
    pub(crate) fn failure(mut self) {
        self.settled = true;
        let breaker = self.breaker;
        if breaker.threshold == 0 {
            return;
        }
        let mut state = breaker.lock();
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        let trip = if self.probe {
            state.probing = false;
            true
        } else {
            state.open_until.is_none() && state.consecutive_failures >= breaker.threshold
        };
        if trip {
            state.open_until = Some(Instant::now() + breaker.cooldown);
            tracing::warn!(
                failures = state.consecutive_failures,
                cooldown_ms = breaker.cooldown.as_millis() as u64,
                "Jira keeps failing: circuit open"
            );
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            self.breaker.lock().probing = false;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Panicking on a broken fixture is the point of a test.
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_threshold_and_lets_one_probe_through_after_the_cooldown() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(30));
        breaker.admit().unwrap().failure();
        breaker.admit().unwrap().failure();
        assert!(breaker.admit().is_err(), "open after two failures");

        std::thread::sleep(Duration::from_millis(40));
        let probe = breaker.admit().expect("half-open admits a probe");
        assert!(breaker.admit().is_err(), "only one probe at a time");
        probe.failure();
        assert!(breaker.admit().is_err(), "a failed probe reopens");

        std::thread::sleep(Duration::from_millis(40));
        breaker.admit().unwrap().success();
        breaker.admit().unwrap().success();
    }

    #[test]
    fn a_success_resets_the_count_and_a_cancelled_probe_frees_its_slot() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(10));
        breaker.admit().unwrap().failure();
        breaker.admit().unwrap().success();
        breaker.admit().unwrap().failure();
        assert!(breaker.admit().is_ok(), "count restarted after success");

        let breaker = CircuitBreaker::new(1, Duration::from_millis(10));
        breaker.admit().unwrap().failure();
        std::thread::sleep(Duration::from_millis(20));
        drop(breaker.admit().unwrap());
        assert!(breaker.admit().is_ok(), "dropped probe released the slot");
    }
}
