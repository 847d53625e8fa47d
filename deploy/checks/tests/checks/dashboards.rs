//! deploy/grafana: dashboards are well-formed, query Prometheus through their `datasource`
//! variable, use only catalog series and labels and defined variables, and parse as PromQL;
//! the provisioning matches the compose mounts.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::compose::{bind_mounts, services};
use crate::support::metrics::series;
use crate::support::promql::{grafana_variables, problems, substitute_grafana_variables};
use crate::support::tools::{command, run};
use crate::support::{TempDir, json, scalar, yaml};

const DASHBOARDS: &[&str] = &[
    "deploy/grafana/dashboards/overview.json",
    "deploy/grafana/dashboards/per-connection.json",
];

fn panels(dashboard: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel.clone());
        out.extend(panel["panels"].as_array().cloned().unwrap_or_default());
    }
    out
}

/// (dashboard, panel title, expression) of every query.
fn queries() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for file in DASHBOARDS {
        for panel in panels(&json(file)) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                out.push((
                    (*file).to_owned(),
                    scalar(&panel["title"]),
                    scalar(&target["expr"]),
                ));
            }
        }
    }
    out
}

#[test]
fn dashboards_have_unique_uids_unique_panel_ids_and_fit_the_grid() {
    let mut uids = BTreeSet::new();
    for file in DASHBOARDS {
        let dashboard = json(file);
        assert!(
            uids.insert(scalar(&dashboard["uid"])),
            "{file}: duplicate uid"
        );
        assert!(
            dashboard["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("jira-sync")),
            "{file}: title"
        );
        let mut ids = BTreeSet::new();
        for panel in panels(&dashboard) {
            assert!(
                ids.insert(panel["id"].as_u64().unwrap_or(0)),
                "{file}: duplicate panel id {}",
                panel["id"]
            );
            let (x, w) = (
                panel["gridPos"]["x"].as_u64().unwrap_or(99),
                panel["gridPos"]["w"].as_u64().unwrap_or(99),
            );
            assert!(
                x + w <= 24,
                "{file}: panel {} overflows the 24-column grid",
                panel["title"]
            );
        }
    }
}

#[test]
fn every_panel_queries_prometheus_through_the_datasource_variable() {
    for file in DASHBOARDS {
        let dashboard = json(file);
        let variables: Vec<&Value> = dashboard["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        assert!(
            variables.iter().any(|v| v["name"] == "datasource"
                && v["type"] == "datasource"
                && v["query"] == "prometheus"),
            "{file}: no datasource variable"
        );
        for panel in panels(&dashboard)
            .into_iter()
            .filter(|p| p["type"] != "row")
        {
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{file}: panel {}",
                panel["title"]
            );
            assert!(
                panel["targets"].as_array().is_some_and(|t| !t.is_empty()),
                "{file}: panel {} has no query",
                panel["title"]
            );
        }
    }
}

#[test]
fn dashboard_queries_name_only_series_and_labels_of_the_metric_catalog() {
    let allowed = series();
    let mut found = Vec::new();
    for (file, title, expr) in queries() {
        found.extend(
            problems(&expr, &allowed)
                .into_iter()
                .map(|p| format!("{file} / {title}: {p}")),
        );
    }
    for file in DASHBOARDS {
        for variable in json(file)["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(query) = variable["definition"].as_str() else {
                continue;
            };
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{file}: variable query {query}"));
            let (metric, label) = inner
                .split_once(',')
                .unwrap_or_else(|| panic!("{file}: {query}"));
            let labels = allowed.get(metric.trim()).unwrap_or_else(|| {
                panic!(
                    "{file}: variable {} reads unknown {metric}",
                    variable["name"]
                )
            });
            assert!(
                labels.contains(label.trim()),
                "{file}: {metric} has no label {label}"
            );
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn dashboard_queries_use_only_defined_variables() {
    for file in DASHBOARDS {
        let dashboard = json(file);
        let defined: BTreeSet<String> = dashboard["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| scalar(&v["name"]))
            .collect();
        for (_, title, expr) in queries().into_iter().filter(|(f, ..)| f == file) {
            for variable in grafana_variables(&expr) {
                assert!(
                    defined.contains(&variable),
                    "{file} / {title}: ${variable} is not defined"
                );
            }
        }
    }
}

#[test]
fn dashboard_queries_are_valid_promql() {
    let mut rules = String::from("groups:\n  - name: dashboards\n    rules:\n");
    for (i, (_, _, expr)) in queries().into_iter().enumerate() {
        let expr = substitute_grafana_variables(&expr);
        rules.push_str(&format!(
            "      - record: dashboard_query_{i}\n        expr: {}\n",
            serde_json::to_string(&expr).unwrap_or_default()
        ));
    }
    let dir = TempDir::new("dashboards");
    let file = dir.write("queries.yml", &rules);
    run(command("promtool").arg("check").arg("rules").arg(&file));
}

#[test]
fn provisioning_loads_the_mounted_dashboards_from_the_compose_prometheus() {
    let services = services();
    let grafana = &services["grafana"];
    let mounts = bind_mounts(grafana);
    let target = |source: &str| {
        mounts
            .iter()
            .find(|(s, _)| s == source)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("grafana does not mount {source}"))
    };
    assert_eq!(
        target("deploy/grafana/provisioning"),
        "/etc/grafana/provisioning"
    );
    let providers = yaml("deploy/grafana/provisioning/dashboards/dashboards.yml");
    assert_eq!(
        scalar(&providers["providers"][0]["options"]["path"]),
        target("deploy/grafana/dashboards")
    );
    let datasources = yaml("deploy/grafana/provisioning/datasources/datasources.yml");
    let prometheus = datasources["datasources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["type"] == "prometheus")
        .cloned()
        .unwrap_or_default();
    let url = url::Url::parse(&scalar(&prometheus["url"])).unwrap_or_else(|e| panic!("{e}"));
    let host = url.host_str().unwrap_or_default();
    let service = services.get(host).unwrap_or_else(|| {
        panic!("the Prometheus data source points at {host}, which is no service")
    });
    assert!(
        crate::compose::ports(service)
            .iter()
            .any(|p| Some(p.container) == url.port()),
        "{host} does not serve {url}"
    );
}
