//! Injected REST faults: rules that match a method and path prefix and answer with a status, a
//! 429, extra latency or a hang, for the next `times` matching requests or with a seeded
//! probability.
//!
//! The rules only decide; the request guard (`guard`) carries the decision out.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a matching rule does to the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and a Jira error body. `{"status": 500}`
    Status(u16),
    /// Answer 429 with `Retry-After`. `{"rate_limit": {"retry_after_secs": 3}}`
    RateLimit {
        /// Value of `Retry-After`.
        retry_after_secs: u64,
        /// `RateLimit-Reason`; `jira-burst-based` when absent.
        #[serde(default)]
        reason: Option<String>,
    },
    /// Delay the request, then serve it normally. `{"latency_ms": 250}`
    LatencyMs(u64),
    /// Hang for the site's `hang_ms`, then answer 504. `{"timeout": true}`
    Timeout(bool),
    /// Serve the request (its changes happen), then answer with this status instead, as when
    /// Jira commits a write but the response is lost. `{"lost_response": 504}`
    LostResponse(u16),
}

/// A fault rule as given to `POST /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/rest/api/3/issue` (any when absent).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// What to do.
    pub kind: FaultKind,
    /// Apply to the next `times` matching requests, then retire.
    #[serde(default)]
    pub times: Option<u32>,
    /// Apply to each matching request with this probability (0..=1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Seed of the probability draw (deterministic runs).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A rule in force, with its id and remaining budget.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    /// Rule id.
    pub id: u64,
    /// The rule as given.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many more requests it will hit (`null`: unlimited).
    pub remaining: Option<u32>,
    /// Requests it has hit so far.
    pub hits: u64,
    #[serde(skip)]
    rng: Option<StdRng>,
}

/// What the matching rules decided for one request.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FaultDecision {
    pub extra_latency_ms: u64,
    pub terminal: Option<FaultKind>,
    pub injected: u64,
}

/// The rules of one site, applied in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) -> FaultRule {
        self.next_id += 1;
        let rng = spec
            .probability
            .map(|_| StdRng::seed_from_u64(spec.seed.unwrap_or(self.next_id)));
        let rule = FaultRule {
            id: self.next_id,
            remaining: spec.times,
            spec,
            hits: 0,
            rng,
        };
        self.rules.push(rule.clone());
        rule
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// Applies the rules to one request: latency rules add up, the first status, rate-limit or
    /// timeout rule ends the search.
    pub fn decide(&mut self, method: &str, path: &str) -> FaultDecision {
        let mut decision = FaultDecision::default();
        for rule in &mut self.rules {
            if decision.terminal.is_some() {
                break;
            }
            if !matches(&rule.spec, method, path) || rule.remaining == Some(0) {
                continue;
            }
            if let (Some(p), Some(rng)) = (rule.spec.probability, rule.rng.as_mut())
                && rng.random::<f64>() >= p
            {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.hits += 1;
            decision.injected += 1;
            match &rule.spec.kind {
                FaultKind::LatencyMs(ms) => decision.extra_latency_ms += ms,
                FaultKind::Timeout(false) => {}
                kind => decision.terminal = Some(kind.clone()),
            }
        }
        self.rules.retain(|r| r.remaining != Some(0));
        decision
    }
}

fn matches(spec: &FaultSpec, method: &str, path: &str) -> bool {
    spec.method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method))
        && spec
            .path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind) -> FaultSpec {
        FaultSpec {
            method: None,
            path_prefix: None,
            kind,
            times: None,
            probability: None,
            seed: None,
        }
    }

    #[test]
    fn a_rule_with_times_retires_after_that_many_hits() {
        let mut faults = Faults::default();
        faults.add(FaultSpec {
            times: Some(2),
            method: Some("PUT".into()),
            ..spec(FaultKind::Status(500))
        });
        assert_eq!(faults.decide("GET", "/x").terminal, None);
        assert_eq!(
            faults.decide("PUT", "/x").terminal,
            Some(FaultKind::Status(500))
        );
        assert_eq!(
            faults.decide("PUT", "/x").terminal,
            Some(FaultKind::Status(500))
        );
        assert_eq!(faults.decide("PUT", "/x").terminal, None);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn the_same_seed_injects_the_same_requests() {
        let run = || {
            let mut faults = Faults::default();
            faults.add(FaultSpec {
                probability: Some(0.3),
                seed: Some(42),
                ..spec(FaultKind::Status(503))
            });
            (0..50)
                .map(|_| faults.decide("GET", "/").terminal.is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|h| **h).count();
        assert!((5..=25).contains(&hits), "about 30% of 50, got {hits}");
    }

    #[test]
    fn latency_rules_add_up_and_do_not_stop_the_request() {
        let mut faults = Faults::default();
        faults.add(spec(FaultKind::LatencyMs(10)));
        faults.add(FaultSpec {
            path_prefix: Some("/rest".into()),
            ..spec(FaultKind::LatencyMs(5))
        });
        let d = faults.decide("GET", "/rest/api/3/myself");
        assert_eq!((d.extra_latency_ms, d.terminal), (15, None));
    }
}
