//! The Helm chart through its tools: `helm lint`, `helm template` with the default and the
//! production values validated by kubernetes-validate against Kubernetes 1.32, and the chart's
//! own refusals (secrets in the ConfigMap, a grace period shorter than the drain).

use crate::support::tools::{command, run, run_failing};
use crate::support::{TempDir, yaml_docs};

/// The values files the chart is checked with: the defaults and the production example.
pub const VALUES: &[&[&str]] = &[&[], &["-f", "k8s/jira-sync/values-production.yaml"]];

/// `helm template` of the chart as release `jira-sync` in namespace `jira-sync`.
pub fn render(args: &[&str]) -> String {
    run(command("helm")
        .args([
            "template",
            "jira-sync",
            "k8s/jira-sync",
            "--namespace",
            "jira-sync",
        ])
        .args(args))
}

/// The rendered documents.
pub fn manifests(args: &[&str]) -> Vec<serde_json::Value> {
    yaml_docs(&render(args))
}

#[test]
fn helm_lint_passes_with_the_default_and_the_production_values() {
    for values in VALUES {
        run(command("helm")
            .args(["lint", "--strict", "k8s/jira-sync"])
            .args(*values));
    }
}

#[test]
fn rendered_manifests_are_valid_kubernetes_1_32_objects() {
    for values in VALUES {
        let dir = TempDir::new("helm");
        let file = dir.write("manifests.yaml", &render(values));
        let out = run(command("kubernetes-validate")
            .args(["--strict", "-k", "1.32.0"])
            .arg(&file));
        let passed = out
            .lines()
            .filter(|l| l.contains(" passed for resource "))
            .count();
        assert!(passed >= 12, "expected every object validated, got:\n{out}");
        for line in out.lines().filter(|l| !l.contains(" passed for resource ")) {
            // Custom resources have no schema here; their shape is checked in helm_manifests.
            assert!(
                line.contains("with api version monitoring.coreos.com/v1"),
                "kubernetes-validate {values:?}: {line}"
            );
        }
    }
}

#[test]
fn the_chart_refuses_credentials_in_its_config_map() {
    for (set, message) in [
        (
            "config.database.url=postgres://app:pw@db/app",
            "config.database.url must not be set",
        ),
        (
            "config.amqp.url=amqp://u:pw@mq/",
            "config.amqp.url must not be set",
        ),
    ] {
        let out = run_failing(command("helm").args(["template", "k8s/jira-sync", "--set", set]));
        assert!(out.contains(message), "--set {set}: {out}");
    }
    let out = run_failing(command("helm").args([
        "template",
        "k8s/jira-sync",
        "-f",
        "k8s/jira-sync/values-production.yaml",
        "--set",
        "config.endpoints.acme.api_token=abc",
    ]));
    assert!(
        out.contains("config.endpoints.acme.api_token must not be set"),
        "{out}"
    );
}

#[test]
fn the_chart_refuses_endpoints_it_cannot_wire() {
    let cases = [
        (
            vec!["--set", "config.endpoints.Acme.kind=jira_cloud"],
            "endpoint ids must be lower-case",
        ),
        (
            vec!["--set", "config.endpoints.acme.kind=jira_cloud"],
            "secrets.endpoints.acme.apiToken is required",
        ),
        (
            vec!["--set", "secrets.endpoints.ghost.apiToken.name=x"],
            "secrets.endpoints.ghost names no endpoint",
        ),
    ];
    for (args, message) in cases {
        let out = run_failing(
            command("helm")
                .args(["template", "k8s/jira-sync"])
                .args(&args),
        );
        assert!(out.contains(message), "{args:?}: {out}");
    }
}

#[test]
fn the_chart_refuses_a_worker_grace_period_not_longer_than_the_drain_timeout() {
    let out = run_failing(command("helm").args([
        "template",
        "k8s/jira-sync",
        "--set",
        "worker.terminationGracePeriodSeconds=25",
    ]));
    assert!(
        out.contains("must be longer than config.worker.drain_timeout"),
        "{out}"
    );
    let out = run_failing(command("helm").args([
        "template",
        "k8s/jira-sync",
        "--set",
        "config.worker.drain_timeout=2m",
    ]));
    assert!(
        out.contains("must be longer than config.worker.drain_timeout (2m)"),
        "{out}"
    );
}
