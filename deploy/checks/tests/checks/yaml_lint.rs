//! yamllint over the hand-written YAML (Helm templates are not YAML before rendering).

use crate::support::tools::{command, run};

#[test]
fn yamllint_accepts_the_hand_written_yaml() {
    run(command("yamllint").args([
        "--strict",
        "-c",
        "deploy/checks/yamllint.yml",
        "docker-compose.yml",
        "deploy/checks/yamllint.yml",
        "deploy/prometheus",
        "deploy/grafana/provisioning",
        "k8s/jira-sync/Chart.yaml",
        "k8s/jira-sync/values.yaml",
        "k8s/jira-sync/values-production.yaml",
        "k8s/jira-sync/files",
    ]));
}
