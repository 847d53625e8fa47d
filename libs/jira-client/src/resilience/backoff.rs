//! Retry delays: exponential from a base, capped, multiplied by a random jitter in 0.7–1.3
//! (Atlassian's recommendation) so that many workers do not retry in lock-step, and never
//! shorter than a `Retry-After` Jira sent.

use std::time::Duration;

use rand::Rng;

/// Jitter bounds around the nominal delay.
const JITTER: (f64, f64) = (0.7, 1.3);

/// The delay before retry number `retry` (0 for the first retry).
pub(crate) fn retry_delay(
    retry: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let factor = rand::rng().random_range(JITTER.0..=JITTER.1);
    let nominal = base
        .saturating_mul(2u32.saturating_pow(retry.min(16)))
        .min(max);
    let jittered = nominal.mul_f64(factor);
    retry_after.map_or(jittered, |after| jittered.max(after))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Panicking on a broken fixture is the point of a test.
mod tests {
    use super::*;

    #[test]
    fn delays_double_stay_within_jitter_and_respect_the_cap() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(350);
        for _ in 0..200 {
            let first = retry_delay(0, base, max, None);
            assert!((70..=130).contains(&first.as_millis()), "{first:?}");
            let second = retry_delay(1, base, max, None);
            assert!((140..=260).contains(&second.as_millis()), "{second:?}");
            let capped = retry_delay(30, base, max, None);
            assert!(capped <= max.mul_f64(1.3) + Duration::from_millis(1));
        }
    }

    #[test]
    fn retry_after_is_the_minimum_delay() {
        let after = Duration::from_secs(5);
        let delay = retry_delay(
            0,
            Duration::from_millis(10),
            Duration::from_secs(1),
            Some(after),
        );
        assert_eq!(delay, after);
    }
}
