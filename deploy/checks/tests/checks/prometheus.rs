//! deploy/prometheus: promtool accepts the configuration and rules, the alert unit tests pass
//! and cover every alert, alerts name only catalog series, and scrape targets exist in compose.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::compose::{ports, services};
use crate::support::metrics::series;
use crate::support::promql::problems;
use crate::support::tools::{command, run};
use crate::support::{read, scalar, yaml};

/// Every rule of alerts.yml.
fn rules() -> Vec<Value> {
    let alerts = yaml("deploy/prometheus/alerts.yml");
    alerts["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn promtool_accepts_the_configuration_and_the_rules() {
    let out =
        run(command("promtool").args(["check", "config", "deploy/prometheus/prometheus.yml"]));
    assert!(
        out.contains("alerts.yml"),
        "prometheus.yml must load alerts.yml: {out}"
    );
    run(command("promtool").args([
        "check",
        "rules",
        "deploy/prometheus/alerts.yml",
        "k8s/jira-sync/files/alerts.yml",
    ]));
}

#[test]
fn the_alert_unit_tests_pass() {
    run(command("promtool").args(["test", "rules", "deploy/prometheus/alerts_test.yml"]));
}

#[test]
fn every_alert_has_a_unit_test_in_which_it_fires() {
    let tests = yaml("deploy/prometheus/alerts_test.yml");
    let firing: BTreeSet<String> = tests["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["alert_rule_test"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty()))
        .map(|c| scalar(&c["alertname"]))
        .collect();
    for rule in rules() {
        let name = scalar(&rule["alert"]);
        assert!(
            firing.contains(&name),
            "alerts_test.yml has no case in which {name} fires"
        );
    }
}

#[test]
fn alerts_name_only_series_and_labels_of_the_metric_catalog() {
    let allowed = series();
    let found: Vec<String> = rules()
        .iter()
        .flat_map(|r| problems(&scalar(&r["expr"]), &allowed))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_alert_has_a_severity_a_summary_and_a_description() {
    let rules = rules();
    assert!(
        rules.len() >= 8,
        "expected the jira-sync alerts, found {}",
        rules.len()
    );
    for rule in rules {
        let name = scalar(&rule["alert"]);
        let severity = scalar(&rule["labels"]["severity"]);
        assert!(
            ["warning", "critical"].contains(&severity.as_str()),
            "{name}: severity {severity}"
        );
        for key in ["summary", "description"] {
            assert!(
                rule["annotations"][key]
                    .as_str()
                    .is_some_and(|s| s.len() > 10),
                "{name} lacks annotations.{key}"
            );
        }
        assert!(
            rule.get("for").is_some(),
            "{name} fires on a single evaluation: give it `for`"
        );
    }
}

#[test]
fn the_helm_chart_ships_the_same_alerts() {
    assert_eq!(
        read("k8s/jira-sync/files/alerts.yml"),
        read("deploy/prometheus/alerts.yml"),
        "copy deploy/prometheus/alerts.yml to k8s/jira-sync/files/"
    );
}

#[test]
fn scrape_targets_are_compose_services_and_jira_sync_targets_carry_a_component() {
    let config = yaml("deploy/prometheus/prometheus.yml");
    let services = services();
    for job in config["scrape_configs"].as_array().into_iter().flatten() {
        let name = scalar(&job["job_name"]);
        for static_config in job["static_configs"].as_array().into_iter().flatten() {
            for target in static_config["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(scalar)
            {
                let (host, port) = target
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{target}: host:port"));
                if host == "localhost" {
                    continue;
                }
                let service = services.get(host).unwrap_or_else(|| {
                    panic!("job {name} scrapes {host}, which is no compose service")
                });
                let port: u16 = port.parse().unwrap_or_else(|_| panic!("{target}"));
                assert!(
                    ports(service).iter().any(|p| p.container == port),
                    "job {name}: {host} does not serve {port}"
                );
                if name.starts_with("jira-sync-") {
                    assert!(
                        static_config["labels"]["component"].is_string(),
                        "job {name} sets no component label"
                    );
                }
            }
        }
    }
}
