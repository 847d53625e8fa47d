//! `jira-sync demo --exit-after-scenario`, the real binary: with RabbitMQ and PostgreSQL URLs
//! pointing at a closed port (so it can use neither), it runs its scenario on simulated sites
//! and exits 0 with a summary saying every check held.

use std::process::Command;
use std::time::{Duration, Instant};

/// Nothing listens here.
const CLOSED_PORT: u16 = 1;

#[test]
fn demo_runs_its_scenario_without_a_broker_or_a_database_and_every_check_holds() {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_jira-sync"))
        .args(["demo", "--exit-after-scenario"])
        .env(
            "JIRA_SYNC__AMQP__URL",
            format!("amqp://guest:guest@127.0.0.1:{CLOSED_PORT}/%2f"),
        )
        .env(
            "JIRA_SYNC__DATABASE__URL",
            format!("postgres://postgres@127.0.0.1:{CLOSED_PORT}/never_used"),
        )
        .env_remove("JIRA_SYNC_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("run jira-sync demo: {e}"));
    let elapsed = started.elapsed();
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "demo failed\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    for expected in [
        "ok   scenario: 8 of 8 steps completed",
        "linked pairs equal on both sites",
        "ok   conflict held: 1 open conflict(s) on the description, both versions kept",
        "ok   DLQ holds the poisoned message demo-poison-",
        "ok   nothing lost: 3 issues on a, 3 on b",
        "all checks hold",
        "/_sim/issues",
        "/api/v1/",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("  ok   3 linked pairs equal on both sites")),
        "the three pairs are equal\n{out}"
    );
    assert!(!out.contains("FAIL"), "{out}");
    assert!(
        elapsed < Duration::from_secs(60),
        "the scenario took {elapsed:?}"
    );
}
