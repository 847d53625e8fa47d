//! The fuzzing loop: a proptest strategy (seed input + a list of mutations, so that a failure
//! shrinks to the fewest, smallest mutations of the smallest seed) run against a target until a
//! time budget is spent, in batches of deterministic runners so that a run can be replayed.
//!
//! `JIRA_SYNC_FUZZ_SECS` is the budget of each target (default 5 s: the suite's normal run);
//! `JIRA_SYNC_FUZZ_SEED` replays a run (the summary line names its seed). A panic or a failed
//! invariant fails the test with the shrunk input and the seed; the summary counts cases.
//!
//! Shared by the fuzz tests of several crates (included with `#[path]`), so it depends on
//! proptest and the standard library only.

use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseResult, TestRng, TestRunner};

/// Seconds each target runs for unless `JIRA_SYNC_FUZZ_SECS` says otherwise.
const DEFAULT_SECS: f64 = 5.0;
/// Cases per deterministic runner; the deadline is checked between batches.
const BATCH: u32 = 64;

/// What one target's run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub cases: u64,
    pub elapsed: Duration,
    pub slowest: Duration,
    pub seed: u64,
}

fn budget() -> Duration {
    let secs = std::env::var("JIRA_SYNC_FUZZ_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_SECS);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("JIRA_SYNC_FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            // Only needs to differ between runs.
            now.as_secs() ^ u64::from(now.subsec_nanos()).rotate_left(32)
        })
}

/// The 32-byte ChaCha seed of batch `batch` of run `seed`.
fn batch_seed(seed: u64, batch: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&batch.to_le_bytes());
    bytes[16..24].copy_from_slice(b"jirasync");
    bytes
}

/// Runs `target` on values of `strategy` for the time budget; panics with the shrunk failing
/// input if the target fails or panics. Prints and returns the summary.
pub fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    target: impl Fn(S::Value) -> TestCaseResult,
) -> Summary
where
    S::Value: std::fmt::Debug,
{
    let budget = budget();
    let seed = seed();
    let started = Instant::now();
    let cases = Cell::new(0u64);
    let slowest = Cell::new(Duration::ZERO);
    let mut batch = 0u64;
    while batch == 0 || started.elapsed() < budget {
        let config = Config {
            cases: BATCH,
            failure_persistence: None,
            max_shrink_iters: 4096,
            max_shrink_time: 120_000,
            ..Config::default()
        };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &batch_seed(seed, batch));
        let mut runner = TestRunner::new_with_rng(config, rng);
        let result = runner.run(&strategy, |value| {
            let one = Instant::now();
            let outcome = target(value);
            slowest.set(slowest.get().max(one.elapsed()));
            cases.set(cases.get() + 1);
            outcome
        });
        if let Err(failure) = result {
            panic!(
                "fuzz {name}: failed after {} cases (JIRA_SYNC_FUZZ_SEED={seed}, batch {batch}): \
                 {failure}",
                cases.get()
            );
        }
        batch += 1;
    }
    let summary = Summary {
        cases: cases.get(),
        elapsed: started.elapsed(),
        slowest: slowest.get(),
        seed,
    };
    println!(
        "fuzz {name}: {} cases in {:.1?}, no failure (slowest case {:.1?}; JIRA_SYNC_FUZZ_SEED={})",
        summary.cases, summary.elapsed, summary.slowest, summary.seed
    );
    assert!(summary.cases > 0, "fuzz {name}: no case ran");
    summary
}
