//! How a finished delivery is settled: ack, retry after a delay tier, or dead-letter. Pure, so
//! the policy can be tested without a broker.

use std::time::Duration;

use jira_sync_domain::Disposition;
use jira_sync_settings::AmqpSettings;
use jira_sync_transport::Failure;

/// Longest failure message put on a message (it travels in AMQP headers).
const MAX_MESSAGE_CHARS: usize = 1000;

/// The retry settings of the work queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// A delivery on this attempt that fails transiently is dead-lettered as `exhausted`.
    pub max_attempts: u32,
    /// Delay tiers: attempt n waits at least `delays[min(n, len) - 1]`.
    pub delays: Vec<Duration>,
}

impl RetryPolicy {
    /// The policy of `amqp.max_attempts` and `amqp.retry_delays`.
    pub fn from_settings(amqp: &AmqpSettings) -> Self {
        Self {
            max_attempts: amqp.max_attempts,
            delays: amqp.retry_delays.clone(),
        }
    }

    /// The delay before the retry of a delivery that failed on `attempt` (1-based): its tier,
    /// or longer when the other side asked for it with `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        let tier = (self.delays.get(index))
            .or(self.delays.last())
            .copied()
            .unwrap_or_default();
        tier.max(retry_after.unwrap_or_default())
    }

    /// The retry queue a delay lands in, as the transport picks it: the first tier at least as
    /// long, else the longest.
    pub fn tier_for(&self, delay: Duration) -> Duration {
        (self.delays.iter().find(|tier| **tier >= delay))
            .or(self.delays.last())
            .copied()
            .unwrap_or(delay)
    }
}

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Done: remove the message.
    Ack,
    /// Deliver again after `delay` (the transport rounds it up to a tier).
    Retry { delay: Duration, failure: Failure },
    /// Park in the dead-letter queue.
    DeadLetter { failure: Failure },
}

/// Settles a failed delivery on `attempt`: transient failures are retried until
/// `max_attempts`, then dead-lettered as `exhausted`; permanent ones are dead-lettered at once
/// under their class.
pub fn decide(
    disposition: Disposition,
    messages: &[String],
    attempt: u32,
    policy: &RetryPolicy,
) -> Settlement {
    let message = truncate(&messages.join(" | "));
    match disposition {
        Disposition::Transient { .. } if attempt >= policy.max_attempts => Settlement::DeadLetter {
            failure: Failure::new(
                "exhausted",
                truncate(&format!("gave up after {attempt} attempts: {message}")),
            ),
        },
        Disposition::Transient { retry_after } => Settlement::Retry {
            delay: policy.delay(attempt, retry_after),
            failure: Failure::new("transient", message),
        },
        Disposition::Permanent { class } => Settlement::DeadLetter {
            failure: Failure::new(class, message),
        },
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            delays: [1, 10, 60].map(Duration::from_secs).to_vec(),
        }
    }

    fn transient(retry_after: Option<u64>) -> Disposition {
        Disposition::Transient {
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn each_attempt_waits_for_its_own_tier_and_later_ones_for_the_last() {
        let p = policy();
        let delays: Vec<u64> = (1..=5).map(|a| p.delay(a, None).as_secs()).collect();
        assert_eq!(delays, vec![1, 10, 60, 60, 60]);
    }

    #[test]
    fn a_retry_after_longer_than_the_tier_wins_and_a_shorter_one_does_not() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(30))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn an_attempt_zero_or_an_empty_tier_list_does_not_panic() {
        assert_eq!(policy().delay(0, None), Duration::from_secs(1));
        let empty = RetryPolicy {
            max_attempts: 1,
            delays: vec![],
        };
        assert_eq!(
            empty.delay(3, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn a_delay_is_counted_under_the_tier_the_transport_puts_it_in() {
        let p = policy();
        assert_eq!(p.tier_for(Duration::from_secs(10)), Duration::from_secs(10));
        assert_eq!(p.tier_for(Duration::from_secs(20)), Duration::from_secs(60));
        assert_eq!(
            p.tier_for(Duration::from_secs(900)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_transient_failure_is_retried_with_its_delay_and_reason() {
        let settled = decide(transient(Some(20)), &["Jira said 429".into()], 2, &policy());
        assert_eq!(
            settled,
            Settlement::Retry {
                delay: Duration::from_secs(20),
                failure: Failure::new("transient", "Jira said 429"),
            }
        );
    }

    #[test]
    fn a_transient_failure_on_the_last_attempt_is_dead_lettered_as_exhausted() {
        let settled = decide(transient(None), &["timeout".into()], 4, &policy());
        assert_eq!(
            settled,
            Settlement::DeadLetter {
                failure: Failure::new("exhausted", "gave up after 4 attempts: timeout"),
            }
        );
    }

    #[test]
    fn a_permanent_failure_is_dead_lettered_at_once_with_its_class_and_messages() {
        let messages = vec![
            "Jira `jira-b` failed to edit PART-1".to_owned(),
            "priority: Specify a valid priority".to_owned(),
        ];
        let settled = decide(
            Disposition::Permanent {
                class: "jira_rejected",
            },
            &messages,
            1,
            &policy(),
        );
        assert_eq!(
            settled,
            Settlement::DeadLetter {
                failure: Failure::new(
                    "jira_rejected",
                    "Jira `jira-b` failed to edit PART-1 | priority: Specify a valid priority"
                ),
            }
        );
    }

    #[test]
    fn long_messages_are_cut_to_fit_a_header() {
        let long = "é".repeat(5000);
        let Settlement::Retry { failure, .. } = decide(transient(None), &[long], 1, &policy())
        else {
            panic!("not a retry");
        };
        assert_eq!(failure.message.chars().count(), MAX_MESSAGE_CHARS + 3);
    }
}
