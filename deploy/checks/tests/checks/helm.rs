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

/// The names of the environment variables the ingress gets.
fn ingress_env_names(docs: &[serde_json::Value]) -> Vec<String> {
    let ingress = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "jira-sync-ingress")
        .unwrap_or_else(|| panic!("no ingress Deployment rendered"));
    let env = ingress["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap_or_else(|| panic!("the ingress container has no env"));
    env.iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_data_center_endpoint_takes_a_personal_access_token_or_a_password_from_secrets() {
    let dc = [
        "--set",
        "config.endpoints.dc.kind=jira_data_center",
        "--set",
        "config.endpoints.dc.base_url=https://jira.example.com",
    ];
    let with_pat = [
        "--set",
        "secrets.endpoints.dc.pat.name=jira-dc",
        "--set",
        "secrets.endpoints.dc.pat.key=pat",
    ];
    let names = ingress_env_names(&manifests(&[&dc[..], &with_pat[..]].concat()));
    assert!(
        names.iter().any(|n| n == "JIRA_SYNC__ENDPOINTS__DC__PAT"),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n == "JIRA_SYNC__ENDPOINTS__DC__API_TOKEN"),
        "{names:?}"
    );

    let with_password = [
        "--set",
        "config.endpoints.dc.username=jira-sync",
        "--set",
        "secrets.endpoints.dc.password.name=jira-dc",
        "--set",
        "secrets.endpoints.dc.password.key=password",
    ];
    let names = ingress_env_names(&manifests(&[&dc[..], &with_password[..]].concat()));
    assert!(
        names
            .iter()
            .any(|n| n == "JIRA_SYNC__ENDPOINTS__DC__PASSWORD"),
        "{names:?}"
    );

    let refused = [
        (
            vec![],
            "secrets.endpoints.dc.pat (a personal access token) or .password",
        ),
        (
            vec![
                "--set",
                "secrets.endpoints.dc.password.name=jira-dc",
                "--set",
                "secrets.endpoints.dc.password.key=password",
            ],
            "config.endpoints.dc.username is required",
        ),
        (
            [
                &with_pat[..],
                &["--set", "config.endpoints.dc.pat=secret"][..],
            ]
            .concat(),
            "config.endpoints.dc.pat must not be set",
        ),
    ];
    for (extra, message) in refused {
        let out = run_failing(
            command("helm")
                .args(["template", "jira-sync", "k8s/jira-sync"])
                .args(dc)
                .args(&extra),
        );
        assert!(out.contains(message), "{extra:?}: {out}");
    }
}
