//! Built-in rate limits and latency: Jira's per-issue write limit, a global requests-per-second
//! token bucket and a latency range applied to every REST request.
//!
//! Only the arithmetic lives here; the request guard (`guard`) decides when to consult it and
//! turns a refusal into a 429 with `Retry-After` and `RateLimit-Reason`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

/// Limits in force for a site. Missing fields in JSON take the defaults (per-issue limit on,
/// global bucket and latency off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Jira's per-issue write limit; `null` turns it off.
    pub per_issue_writes: Option<PerIssueWrites>,
    /// A global requests-per-second token bucket; `null` (the default) is off.
    pub global_rps: Option<TokenBucket>,
    /// Latency added to every REST request, uniformly drawn in `min..=max` ms.
    pub latency_ms: Option<LatencyRange>,
    /// How long a `timeout` fault hangs before answering 504.
    pub hang_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_issue_writes: Some(PerIssueWrites::default()),
            global_rps: None,
            latency_ms: None,
            hang_ms: 120_000,
        }
    }
}

/// Two sliding windows, as Jira documents: 20 writes per 2 s and 100 per 30 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerIssueWrites {
    /// The short window (20 writes per 2 s).
    pub short: WriteWindow,
    /// The long window (100 writes per 30 s).
    pub long: WriteWindow,
}

impl Default for PerIssueWrites {
    fn default() -> Self {
        Self {
            short: WriteWindow {
                limit: 20,
                window_ms: 2_000,
            },
            long: WriteWindow {
                limit: 100,
                window_ms: 30_000,
            },
        }
    }
}

/// At most `limit` writes in any `window_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteWindow {
    /// Writes allowed in the window.
    pub limit: u32,
    /// Window length.
    pub window_ms: u64,
}

/// A token bucket refilled at `rate` tokens per second, holding at most `burst`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Tokens added per second.
    pub rate: f64,
    /// Bucket size.
    pub burst: u32,
}

/// Latency bounds in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRange {
    /// Lower bound (ms).
    pub min: u64,
    /// Upper bound (ms).
    pub max: u64,
}

/// Runtime state of the limits of one site.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub limits: Limits,
    writes: HashMap<u64, VecDeque<Instant>>,
    tokens: f64,
    refilled: Instant,
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        let tokens = limits
            .global_rps
            .as_ref()
            .map_or(0.0, |b| f64::from(b.burst));
        Self {
            limits,
            writes: HashMap::new(),
            tokens,
            refilled: Instant::now(),
        }
    }

    /// Takes one token from the global bucket; `Err(retry_after)` when empty.
    pub fn take_global(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(bucket) = &self.limits.global_rps else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * bucket.rate).min(f64::from(bucket.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = if bucket.rate > 0.0 {
            (1.0 - self.tokens) / bucket.rate
        } else {
            60.0
        };
        Err(Duration::from_secs_f64(wait.clamp(0.001, 3600.0)))
    }

    /// Records a write on `issue`; `Err(retry_after)` when a window is full (nothing recorded).
    pub fn write(&mut self, issue: u64, now: Instant) -> Result<(), Duration> {
        let Some(rule) = &self.limits.per_issue_writes else {
            return Ok(());
        };
        let longest = Duration::from_millis(rule.short.window_ms.max(rule.long.window_ms));
        let log = self.writes.entry(issue).or_default();
        while log
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= longest)
        {
            log.pop_front();
        }
        for window in [&rule.short, &rule.long] {
            let span = Duration::from_millis(window.window_ms);
            let inside: Vec<&Instant> = log
                .iter()
                .filter(|t| now.saturating_duration_since(**t) < span)
                .collect();
            if inside.len() >= window.limit as usize {
                // The oldest write inside the window must age out before another fits.
                let idx = inside.len() - window.limit as usize;
                let oldest = inside.get(idx).map_or(now, |t| **t);
                return Err(span.saturating_sub(now.saturating_duration_since(oldest)));
            }
        }
        log.push_back(now);
        Ok(())
    }

    /// Latency to add to one request.
    pub fn latency(&self, rng: &mut StdRng) -> Duration {
        match &self.limits.latency_ms {
            Some(r) if r.max > 0 => {
                let (lo, hi) = (r.min.min(r.max), r.max.max(r.min));
                Duration::from_millis(rng.random_range(lo..=hi))
            }
            _ => Duration::ZERO,
        }
    }
}

/// Whole seconds for a `Retry-After` header: rounded up, at least 1.
pub(crate) fn retry_after_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twenty_first_write_within_two_seconds_is_refused() {
        let mut limiter = Limiter::new(Limits::default());
        let start = Instant::now();
        for i in 0..20 {
            assert!(limiter.write(7, start + Duration::from_millis(i)).is_ok());
        }
        let refused = limiter.write(7, start + Duration::from_millis(100));
        assert!(refused.is_err_and(|d| d <= Duration::from_secs(2) && d > Duration::from_secs(1)));
        assert!(
            limiter.write(8, start + Duration::from_millis(100)).is_ok(),
            "other issues are not limited"
        );
        assert!(
            limiter
                .write(7, start + Duration::from_millis(2_001))
                .is_ok(),
            "the window slides"
        );
    }

    #[test]
    fn an_empty_bucket_refuses_until_it_refills() {
        let limits = Limits {
            global_rps: Some(TokenBucket {
                rate: 10.0,
                burst: 2,
            }),
            ..Limits::default()
        };
        let mut limiter = Limiter::new(limits);
        let t = Instant::now();
        assert!(limiter.take_global(t).is_ok());
        assert!(limiter.take_global(t).is_ok());
        assert!(limiter.take_global(t).is_err());
        assert!(limiter.take_global(t + Duration::from_millis(150)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1_500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }
}
