//! The Helm chart's rendered objects against the code: hardened pods with probes, environment
//! variables that name settings keys and carry credentials only from Secrets, a ConfigMap that
//! loads as `Settings` with each pod's environment, and selectors that reach their pods.

use std::collections::HashMap;

use serde_json::Value;

use crate::helm::{VALUES, manifests};
use crate::support::settings::{Schema, env_to_key, is_secret_key, load};
use crate::support::{scalar, str_at, yaml};

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn component(object: &Value) -> String {
    scalar(&object["metadata"]["labels"]["app.kubernetes.io/component"])
}

/// Whether every `matchLabels` pair is among `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| &labels[k] == v))
}

#[test]
fn every_component_runs_non_root_read_only_without_capabilities_and_with_probes() {
    for values in VALUES {
        let docs = manifests(values);
        let deployments = of_kind(&docs, "Deployment");
        assert_eq!(
            deployments.iter().map(|d| component(d)).collect::<Vec<_>>(),
            ["ingress", "worker", "poller"]
        );
        for deployment in deployments {
            let name = str_at(deployment, "/metadata/name");
            let pod = &deployment["spec"]["template"]["spec"];
            let c = container(deployment);
            assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
            assert_eq!(
                pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
                "{name}"
            );
            assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
            assert_eq!(
                c["securityContext"]["allowPrivilegeEscalation"], false,
                "{name}"
            );
            assert_eq!(
                c["securityContext"]["readOnlyRootFilesystem"], true,
                "{name}"
            );
            assert_eq!(
                c["securityContext"]["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{name}"
            );
            assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{name}");
            assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{name}");
            assert!(
                c["resources"]["requests"].is_object()
                    && c["resources"]["limits"]["memory"].is_string(),
                "{name}: resources"
            );
            assert!(
                c["image"].as_str().is_some_and(|i| i.contains("jira-sync")),
                "{name}: image"
            );
        }
    }
}

/// The environment of a container, with Secret references replaced by sample values the way
/// the kubelet would resolve them, and `$(VAR)` references expanded.
fn resolved_env(c: &Value) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = HashMap::new();
    for var in c["env"].as_array().into_iter().flatten() {
        let name = scalar(&var["name"]);
        let value = if var["valueFrom"]["secretKeyRef"].is_object() {
            match name.as_str() {
                "JIRA_SYNC__DATABASE__URL" => "postgres://app:pw@db:5432/app".to_owned(),
                "JIRA_SYNC__AMQP__URL" => "amqp://u:pw@mq:5672/%2f".to_owned(),
                _ => format!("sample-{}", name.to_lowercase()),
            }
        } else {
            let mut value = scalar(&var["value"]);
            for (k, v) in &env {
                value = value.replace(&format!("$({k})"), v);
            }
            value
        };
        env.insert(name, value);
    }
    env
}

#[test]
fn environment_variables_name_settings_keys_and_credentials_come_only_from_secrets() {
    let schema = Schema::from_code();
    for values in VALUES {
        for deployment in of_kind(&manifests(values), "Deployment") {
            let name = str_at(deployment, "/metadata/name");
            for var in container(deployment)["env"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let env_name = scalar(&var["name"]);
                let Some(key) = env_to_key(&env_name) else {
                    continue;
                };
                assert!(
                    schema.is_key(&key),
                    "{name}: {env_name} names no settings key"
                );
                if is_secret_key(&key) {
                    let from_secret = var["valueFrom"]["secretKeyRef"]["name"].is_string();
                    let composed = scalar(&var["value"]).contains("$(AMQP_PASSWORD)");
                    assert!(
                        from_secret || composed,
                        "{name}: {env_name} must come from a Secret, not a literal value"
                    );
                }
            }
        }
    }
}

#[test]
fn each_component_loads_the_config_map_with_its_environment_and_listens_on_its_container_port() {
    for values in VALUES {
        let docs = manifests(values);
        let config_map = of_kind(&docs, "ConfigMap")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no ConfigMap"));
        let toml = str_at(config_map, "/data/jira-sync.toml");
        for deployment in of_kind(&docs, "Deployment") {
            let name = str_at(deployment, "/metadata/name");
            let c = container(deployment);
            let env = resolved_env(c);
            assert_eq!(
                env.get("JIRA_SYNC_CONFIG").map(String::as_str),
                Some("/etc/jira-sync/jira-sync.toml"),
                "{name}"
            );
            let mount = c["volumeMounts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["name"] == "config")
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                mount["mountPath"], "/etc/jira-sync",
                "{name}: the ConfigMap must be mounted where JIRA_SYNC_CONFIG points"
            );
            let settings = load(toml, &env).unwrap_or_else(|e| {
                panic!("{name} {values:?}: the settings do not load: {e}\n{toml}")
            });
            let port = c["ports"][0]["containerPort"].as_u64().unwrap_or(0);
            let listen = env
                .iter()
                .find(|(k, _)| k.ends_with("__LISTEN"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            assert_eq!(
                listen,
                format!("0.0.0.0:{port}"),
                "{name}: listen address vs containerPort"
            );
            if component(deployment) == "worker" {
                let grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
                    .as_u64()
                    .unwrap_or(0);
                assert!(
                    grace > settings.worker.drain_timeout.as_secs() + 5,
                    "{name}: grace {grace}s vs drain {:?}",
                    settings.worker.drain_timeout
                );
            }
            let listen_port = match component(deployment).as_str() {
                "ingress" => settings.ingress.listen.port(),
                "poller" => settings.poller.listen.port(),
                _ => settings.worker.listen.port(),
            };
            assert_eq!(
                listen_port,
                u16::try_from(port).unwrap_or(0),
                "{name}: the settings listen elsewhere"
            );
        }
    }
}

#[test]
fn services_budgets_autoscalers_and_network_policies_reach_their_pods() {
    for values in VALUES {
        let docs = manifests(values);
        let deployments = of_kind(&docs, "Deployment");
        let pod_labels = |c: &str| {
            deployments
                .iter()
                .find(|d| component(d) == c)
                .map(|d| d["spec"]["template"]["metadata"]["labels"].clone())
                .unwrap_or_default()
        };
        for service in of_kind(&docs, "Service") {
            assert!(
                selects(
                    &service["spec"]["selector"],
                    &pod_labels(&component(service))
                ),
                "Service {} selects no pod",
                service["metadata"]["name"]
            );
            assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
        }
        for kind in ["PodDisruptionBudget", "NetworkPolicy"] {
            for object in of_kind(&docs, kind) {
                let selector = if kind == "NetworkPolicy" {
                    &object["spec"]["podSelector"]["matchLabels"]
                } else {
                    &object["spec"]["selector"]["matchLabels"]
                };
                assert!(
                    selects(selector, &pod_labels(&component(object))),
                    "{kind} {} selects no pod",
                    object["metadata"]["name"]
                );
            }
        }
        let hpas = of_kind(&docs, "HorizontalPodAutoscaler");
        assert!(
            hpas.iter().any(|h| component(h) == "worker"),
            "the worker has an HPA"
        );
        for hpa in hpas {
            let target = scalar(&hpa["spec"]["scaleTargetRef"]["name"]);
            let deployment = deployments
                .iter()
                .find(|d| d["metadata"]["name"] == target.as_str())
                .unwrap_or_else(|| panic!("HPA targets missing {target}"));
            assert!(
                deployment["spec"]["replicas"].is_null(),
                "{target}: replicas must be left to the HPA"
            );
        }
    }
}

#[test]
fn the_service_monitor_scrapes_every_component_and_the_prometheus_rule_carries_the_alerts() {
    let docs = manifests(VALUES[1]);
    let monitor = of_kind(&docs, "ServiceMonitor")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("production values enable a ServiceMonitor"));
    for service in of_kind(&docs, "Service") {
        assert!(
            selects(
                &monitor["spec"]["selector"]["matchLabels"],
                &service["metadata"]["labels"]
            ),
            "ServiceMonitor misses {}",
            service["metadata"]["name"]
        );
        assert_eq!(
            service["spec"]["ports"][0]["name"],
            monitor["spec"]["endpoints"][0]["port"]
        );
    }
    let relabel = &monitor["spec"]["endpoints"][0]["relabelings"][0];
    assert_eq!(
        relabel["targetLabel"], "component",
        "alerts select on `component`"
    );
    let rule = of_kind(&docs, "PrometheusRule")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("production values enable a PrometheusRule"));
    assert_eq!(
        rule["spec"]["groups"],
        yaml("deploy/prometheus/alerts.yml")["groups"]
    );
    let defaults = manifests(VALUES[0]);
    assert!(
        of_kind(&defaults, "ServiceMonitor").is_empty()
            && of_kind(&defaults, "PrometheusRule").is_empty(),
        "monitoring.coreos.com objects are opt-in"
    );
}
