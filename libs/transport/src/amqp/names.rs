//! The names of every exchange, queue and routing key of one installation, derived from the
//! configured prefix and retry delays. Pure: no I/O, so the naming rules are unit-tested.

use std::time::Duration;

use lapin::types::ShortString;

use crate::TransportError;

/// Routing key binding the work queue to the work exchange (and used by the retry tiers when
/// they dead-letter back).
pub(crate) const WORK_ROUTING_KEY: &str = "work";
/// Routing key binding the dead-letter queue to the dead exchange.
pub(crate) const DEAD_ROUTING_KEY: &str = "dead";

/// One retry tier: a queue whose messages wait `delay`, then go back to the work exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryTier {
    /// How long a message waits in this tier (the queue's `x-message-ttl`).
    pub delay: Duration,
    /// `{prefix}.retry.{delay}`, e.g. `jira-sync.retry.10s`.
    pub queue: String,
    /// The routing key binding the queue to the retry exchange: the delay label, e.g. `10s`.
    pub routing_key: String,
}

/// Every exchange and queue name of one installation, for people and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `{prefix}.work`: direct exchange the publishers write to.
    pub work_exchange: String,
    /// `{prefix}.work`: the queue the workers consume.
    pub work_queue: String,
    /// `{prefix}.retry`: direct exchange routing retried copies to their tier.
    pub retry_exchange: String,
    /// The delay tiers, shortest first, without duplicates.
    pub retry_tiers: Vec<RetryTier>,
    /// `{prefix}.dead`: direct exchange for parked messages.
    pub dead_exchange: String,
    /// `{prefix}.dlq`: parked messages, waiting for an operator.
    pub dead_queue: String,
}

impl Names {
    /// Derives the names; fails when one would exceed AMQP's 255-byte limit or no tier is given.
    pub fn new(prefix: &str, retry_delays: &[Duration]) -> Result<Self, TransportError> {
        if prefix.is_empty() {
            return Err(TransportError::Unexpected("amqp.prefix is empty".into()));
        }
        let mut delays = retry_delays.to_vec();
        delays.sort();
        delays.dedup();
        if delays.is_empty() {
            return Err(TransportError::Unexpected(
                "amqp.retry_delays needs at least one delay".into(),
            ));
        }
        let names = Self {
            work_exchange: format!("{prefix}.work"),
            work_queue: format!("{prefix}.work"),
            retry_exchange: format!("{prefix}.retry"),
            retry_tiers: delays
                .into_iter()
                .map(|delay| {
                    let label = format_delay(delay);
                    RetryTier {
                        delay,
                        queue: format!("{prefix}.retry.{label}"),
                        routing_key: label,
                    }
                })
                .collect(),
            dead_exchange: format!("{prefix}.dead"),
            dead_queue: format!("{prefix}.dlq"),
        };
        if let Some(long) = names.all().find(|n| ShortString::try_new(*n).is_err()) {
            return Err(TransportError::Unexpected(
                format!("AMQP name `{long}` is longer than 255 bytes: shorten amqp.prefix").into(),
            ));
        }
        Ok(names)
    }

    /// The tier a retry after `delay` goes to: the first one at least as long, else the longest.
    pub fn tier_for(&self, delay: Duration) -> &RetryTier {
        self.retry_tiers
            .iter()
            .find(|tier| tier.delay >= delay)
            .or_else(|| self.retry_tiers.last())
            // `new` refuses an empty tier list, so this is never reached.
            .unwrap_or_else(|| unreachable!("Names always has at least one retry tier"))
    }

    /// Every queue name: work, the tiers, the DLQ.
    pub fn queues(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.work_queue.as_str())
            .chain(self.retry_tiers.iter().map(|t| t.queue.as_str()))
            .chain(std::iter::once(self.dead_queue.as_str()))
    }

    /// Every exchange name: work, retry, dead.
    pub fn exchanges(&self) -> impl Iterator<Item = &str> {
        [
            self.work_exchange.as_str(),
            self.retry_exchange.as_str(),
            self.dead_exchange.as_str(),
        ]
        .into_iter()
    }

    fn all(&self) -> impl Iterator<Item = &str> {
        self.queues().chain(self.exchanges())
    }
}

/// Formats a delay the way people write it: `250ms`, `10s`, `1m`, `1h` (the largest exact unit).
pub fn format_delay(delay: Duration) -> String {
    let millis = delay.as_millis();
    match millis {
        0 => "0s".to_owned(),
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1_000 == 0 => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}

/// Turns a name that [`Names::new`] checked (or a constant) into an AMQP short string.
pub(crate) fn short(name: &str) -> ShortString {
    ShortString::try_new(name).unwrap_or_else(|_| {
        // Only reached for names that `Names::new` already checked against the limit.
        unreachable!("AMQP name longer than 255 bytes slipped past Names::new")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn delays_are_formatted_in_the_largest_exact_unit() {
        assert_eq!(format_delay(ms(250)), "250ms");
        assert_eq!(format_delay(ms(1_000)), "1s");
        assert_eq!(format_delay(ms(90_000)), "90s");
        assert_eq!(format_delay(ms(600_000)), "10m");
        assert_eq!(format_delay(ms(7_200_000)), "2h");
        assert_eq!(format_delay(ms(1_500)), "1500ms");
    }

    #[test]
    fn names_carry_the_prefix_and_tiers_are_sorted_without_duplicates() {
        let names = Names::new("acme", &[ms(60_000), ms(1_000), ms(60_000)]).expect("valid");
        assert_eq!(names.work_exchange, "acme.work");
        assert_eq!(names.work_queue, "acme.work");
        assert_eq!(names.dead_exchange, "acme.dead");
        assert_eq!(names.dead_queue, "acme.dlq");
        let tiers: Vec<_> = names.retry_tiers.iter().map(|t| t.queue.as_str()).collect();
        assert_eq!(tiers, ["acme.retry.1s", "acme.retry.1m"]);
        assert_eq!(names.queues().count(), 4);
    }

    #[test]
    fn a_retry_goes_to_the_first_tier_not_shorter_than_its_delay_else_the_longest() {
        let names = Names::new("p", &[ms(1_000), ms(10_000)]).expect("valid");
        assert_eq!(names.tier_for(ms(0)).routing_key, "1s");
        assert_eq!(names.tier_for(ms(1_000)).routing_key, "1s");
        assert_eq!(names.tier_for(ms(1_001)).routing_key, "10s");
        assert_eq!(names.tier_for(ms(3_600_000)).routing_key, "10s");
    }

    #[test]
    fn names_longer_than_amqp_allows_and_empty_tiers_are_refused() {
        assert!(Names::new(&"x".repeat(250), &[ms(1_000)]).is_err());
        assert!(Names::new("p", &[]).is_err());
        assert!(Names::new("", &[ms(1_000)]).is_err());
    }
}
