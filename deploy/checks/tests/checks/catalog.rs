//! deploy/metrics.txt against the code: what is recorded, with which labels, and how the
//! telemetry recorder renders histograms.

use std::collections::BTreeSet;

use crate::support::metrics::{catalog, recorded, telemetry_names};

#[test]
fn every_telemetry_name_constant_is_in_the_catalog() {
    let catalog = catalog();
    let names = telemetry_names();
    assert!(
        names.len() >= 7,
        "expected the names::* constants of libs/telemetry, found {names:?}"
    );
    for (ident, name) in names {
        assert!(
            catalog.contains_key(&name),
            "names::{ident} = {name:?} is missing from deploy/metrics.txt"
        );
    }
}

#[test]
fn every_metric_the_code_records_is_in_the_catalog_with_its_labels() {
    let catalog = catalog();
    let recorded = recorded();
    assert!(
        !recorded.is_empty(),
        "no metric recordings found in libs/ and services/"
    );
    for r in &recorded {
        let Some(entry) = catalog.get(&r.name) else {
            panic!(
                "{} records {} ({}!) but deploy/metrics.txt does not list it",
                r.at, r.name, r.macro_kind
            );
        };
        let kind_ok = match r.macro_kind.as_str() {
            "histogram" => matches!(entry.kind.as_str(), "histogram" | "summary"),
            other => entry.kind == other,
        };
        assert!(
            kind_ok,
            "{}: {} is a {}! but the catalog says {}",
            r.at, r.name, r.macro_kind, entry.kind
        );
        assert_eq!(
            r.labels, entry.labels,
            "{}: labels of {} differ from deploy/metrics.txt",
            r.at, r.name
        );
    }
}

#[test]
fn every_catalog_metric_of_jira_sync_is_recorded_unless_planned() {
    let recorded: BTreeSet<String> = recorded().into_iter().map(|r| r.name).collect();
    for metric in catalog().values().filter(|m| m.is_rust()) {
        if metric.is_planned() {
            assert!(
                !recorded.contains(&metric.name),
                "{} is recorded now: drop `planned:` from its exporter in deploy/metrics.txt",
                metric.name
            );
        } else {
            assert!(
                recorded.contains(&metric.name),
                "deploy/metrics.txt lists {} but no code records it",
                metric.name
            );
        }
    }
}

#[test]
fn histograms_are_rendered_the_way_the_catalog_says() {
    jira_sync_telemetry::install_metrics();
    let distributions: Vec<_> = catalog()
        .into_values()
        .filter(|m| m.is_rust() && !m.is_planned() && m.kind != "counter" && m.kind != "gauge")
        .collect();
    assert!(!distributions.is_empty());
    for metric in &distributions {
        metrics::histogram!(metric.name.clone()).record(0.25);
    }
    let text = jira_sync_telemetry::render_metrics();
    for metric in &distributions {
        let summary = text.contains(&format!("{}{{quantile=\"0.95\"}}", metric.name));
        let histogram = text.contains(&format!("{}_bucket{{", metric.name));
        let rendered = match (summary, histogram) {
            (true, false) => "summary",
            (false, true) => "histogram",
            _ => panic!(
                "{} is rendered as neither a summary nor a histogram:\n{text}",
                metric.name
            ),
        };
        assert_eq!(
            rendered, metric.kind,
            "{} is rendered as a {rendered}: update deploy/metrics.txt, the dashboards and the alerts",
            metric.name
        );
        assert!(
            text.contains(&format!("{}_count", metric.name)),
            "{}_count missing:\n{text}",
            metric.name
        );
    }
}
