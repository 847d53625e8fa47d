//! Webhook faults: drop or duplicate the next n events (or each with a seeded probability),
//! delay every delivery, and reorder events that arrive close together.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Webhook fault settings, as `POST /_sim/webhook-faults` takes them (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookFaultSpec {
    /// Drop the next n events (never sent).
    pub drop_next: u32,
    /// Send each of the next n successfully delivered events twice (same identifier).
    pub duplicate_next: u32,
    /// Wait this long before the first attempt of every delivery.
    pub delay_ms: u64,
    /// Collect events for `reorder_window_ms` (default 100) and send each batch in reverse.
    pub reorder: bool,
    /// Batch window of `reorder` (ms).
    pub reorder_window_ms: Option<u64>,
    /// Drop each event with this probability.
    pub drop_probability: f64,
    /// Duplicate each event with this probability.
    pub duplicate_probability: f64,
    /// Seed of the probability draws.
    pub seed: u64,
}

/// What happens to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Fate {
    pub drop: bool,
    pub duplicate: bool,
}

/// Webhook faults in force, with their remaining budgets.
#[derive(Debug)]
pub(crate) struct WebhookFaults {
    pub spec: WebhookFaultSpec,
    rng: StdRng,
}

impl Default for WebhookFaults {
    fn default() -> Self {
        Self::new(WebhookFaultSpec::default())
    }
}

impl WebhookFaults {
    pub fn new(spec: WebhookFaultSpec) -> Self {
        let rng = StdRng::seed_from_u64(spec.seed);
        Self { spec, rng }
    }

    pub fn decide(&mut self) -> Fate {
        let s = &mut self.spec;
        let drop = if s.drop_next > 0 {
            s.drop_next -= 1;
            true
        } else {
            s.drop_probability > 0.0 && self.rng.random::<f64>() < s.drop_probability
        };
        if drop {
            return Fate {
                drop,
                duplicate: false,
            };
        }
        let duplicate = if s.duplicate_next > 0 {
            s.duplicate_next -= 1;
            true
        } else {
            s.duplicate_probability > 0.0 && self.rng.random::<f64>() < s.duplicate_probability
        };
        Fate { drop, duplicate }
    }

    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.spec.delay_ms)
    }

    /// The batching window when reordering is on.
    pub fn reorder_window(&self) -> Option<Duration> {
        self.spec
            .reorder
            .then(|| Duration::from_millis(self.spec.reorder_window_ms.unwrap_or(100)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_drops_come_before_duplicates_and_run_out() {
        let mut f = WebhookFaults::new(WebhookFaultSpec {
            drop_next: 1,
            duplicate_next: 1,
            ..Default::default()
        });
        assert_eq!(
            f.decide(),
            Fate {
                drop: true,
                duplicate: false
            }
        );
        assert_eq!(
            f.decide(),
            Fate {
                drop: false,
                duplicate: true
            }
        );
        assert_eq!(f.decide(), Fate::default());
    }

    #[test]
    fn seeded_probabilities_repeat_exactly() {
        let spec = WebhookFaultSpec {
            drop_probability: 0.5,
            seed: 9,
            ..Default::default()
        };
        let run = |spec: &WebhookFaultSpec| {
            let mut f = WebhookFaults::new(spec.clone());
            (0..40).map(|_| f.decide().drop).collect::<Vec<_>>()
        };
        assert_eq!(run(&spec), run(&spec));
        assert!(run(&spec).contains(&true) && run(&spec).contains(&false));
    }
}
