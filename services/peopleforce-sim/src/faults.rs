//! Injected faults: rules that match a method and path prefix and answer with a status, a 429
//! with `Retry-After`, or extra latency, for the next `times` matching requests (or forever).
//! The rules only decide; the request guard carries the decision out.

use serde::{Deserialize, Serialize};

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status. `{"status": 503}`
    Status(u16),
    /// Answer 429 with `Retry-After`. `{"rate_limit": {"retry_after_secs": 2}}`
    RateLimit {
        /// Value of `Retry-After`, in seconds.
        retry_after_secs: u64,
    },
    /// Delay the request, then serve it. `{"latency_ms": 200}`
    LatencyMs(u64),
}

/// A rule as given to `POST /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/api/public/v3/tasks` (any when absent).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// What to do.
    pub kind: FaultKind,
    /// Apply to the next `times` matching requests, then retire (forever when absent).
    #[serde(default)]
    pub times: Option<u32>,
}

impl FaultSpec {
    /// A rule for every request.
    pub fn always(kind: FaultKind) -> Self {
        Self {
            method: None,
            path_prefix: None,
            kind,
            times: None,
        }
    }

    /// Restricts the rule to the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Restricts the rule to one method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Restricts the rule to paths starting with `prefix`.
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }
}

/// A rule in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultRule {
    /// Rule id.
    pub id: u64,
    /// The rule as given.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many more requests it will hit (`null`: unlimited).
    pub remaining: Option<u32>,
    /// Requests hit so far.
    pub hits: u64,
}

/// What the rules decided for one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub latency_ms: u64,
    pub terminal: Option<FaultKind>,
    pub injected: u64,
}

/// The rules, applied in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) -> FaultRule {
        self.next_id += 1;
        let rule = FaultRule {
            id: self.next_id,
            remaining: spec.times,
            spec,
            hits: 0,
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

    /// Latency rules add up; the first status or rate-limit rule ends the search.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let mut decision = Decision::default();
        for rule in &mut self.rules {
            if decision.terminal.is_some() {
                break;
            }
            if rule.remaining == Some(0) || !matches(&rule.spec, method, path) {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.hits += 1;
            decision.injected += 1;
            match &rule.spec.kind {
                FaultKind::LatencyMs(ms) => decision.latency_ms += ms,
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

    #[test]
    fn a_rule_with_times_retires_after_that_many_hits() {
        let mut faults = Faults::default();
        faults.add(
            FaultSpec::always(FaultKind::Status(503))
                .times(2)
                .method("GET"),
        );
        assert_eq!(faults.decide("PUT", "/x").terminal, None);
        assert_eq!(
            faults.decide("GET", "/x").terminal,
            Some(FaultKind::Status(503))
        );
        assert_eq!(
            faults.decide("GET", "/x").terminal,
            Some(FaultKind::Status(503))
        );
        assert_eq!(faults.decide("GET", "/x").terminal, None);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn latency_adds_up_and_a_path_prefix_limits_a_rule() {
        let mut faults = Faults::default();
        faults.add(FaultSpec::always(FaultKind::LatencyMs(10)));
        faults.add(FaultSpec::always(FaultKind::LatencyMs(5)).path_prefix("/api"));
        assert_eq!(faults.decide("GET", "/api/x").latency_ms, 15);
        assert_eq!(faults.decide("GET", "/_sim/x").latency_ms, 10);
    }
}
