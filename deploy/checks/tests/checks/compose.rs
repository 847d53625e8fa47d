//! docker-compose.yml on its own: it parses, every service can start (image or build, known
//! keys, existing mounts), ports do not collide, and dependencies wait for real healthchecks.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::{entries, repo_root, scalar, yaml};

/// The compose file's services by name.
pub fn services() -> BTreeMap<String, Value> {
    let compose = yaml("docker-compose.yml");
    entries(compose.get("services"))
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One published port: `[ip:]host:container`.
#[derive(Debug)]
pub struct Port {
    pub ip: Option<String>,
    pub host: u16,
    pub container: u16,
}

/// The published ports of a service.
pub fn ports(service: &Value) -> Vec<Port> {
    service
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let text = scalar(p);
            let parts: Vec<&str> = text.split(':').collect();
            let number = |s: &str| {
                s.split('/')
                    .next()
                    .and_then(|n| n.parse::<u16>().ok())
                    .unwrap_or_else(|| panic!("bad port {text}"))
            };
            match parts.as_slice() {
                [ip, host, container] => Port {
                    ip: Some((*ip).to_owned()),
                    host: number(host),
                    container: number(container),
                },
                [host, container] => Port {
                    ip: None,
                    host: number(host),
                    container: number(container),
                },
                _ => panic!("use the `[ip:]host:container` form for published ports, not {text}"),
            }
        })
        .collect()
}

/// The environment of a service (mapping form).
pub fn environment(service: &Value) -> BTreeMap<String, String> {
    match service.get("environment") {
        None => BTreeMap::new(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        Some(other) => panic!("write `environment` as a mapping, not {other}"),
    }
}

/// Bind mounts of a service: (source relative to the repository, target).
pub fn bind_mounts(service: &Value) -> Vec<(String, String)> {
    service
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let text = scalar(v);
            let mut parts = text.split(':');
            let source = parts.next()?.to_owned();
            let target = parts.next()?.to_owned();
            source
                .starts_with("./")
                .then(|| (source.trim_start_matches("./").to_owned(), target))
        })
        .collect()
}

/// The command of a service as a list.
pub fn command(service: &Value) -> Vec<String> {
    match service.get("command") {
        Some(Value::Array(items)) => items.iter().map(scalar).collect(),
        Some(other) => panic!("write `command` as a list, not {other}"),
        None => Vec::new(),
    }
}

const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "depends_on",
    "healthcheck",
    "restart",
    "hostname",
    "stop_grace_period",
    "stop_signal",
    "user",
    "working_dir",
    "networks",
    "labels",
    "deploy",
    "ulimits",
    "read_only",
    "tmpfs",
    "cap_drop",
    "security_opt",
    "init",
    "profiles",
    "pull_policy",
    "logging",
    "configs",
    "secrets",
];

#[test]
fn compose_file_parses_and_every_service_has_an_image_or_a_build() {
    let compose = yaml("docker-compose.yml");
    for (key, _) in entries(Some(&compose)) {
        assert!(
            [
                "name", "services", "volumes", "networks", "configs", "secrets"
            ]
            .contains(&key.as_str())
                || key.starts_with("x-"),
            "unknown top-level key `{key}` in docker-compose.yml"
        );
    }
    let services = services();
    assert!(
        services.len() >= 10,
        "expected the full stack, found {:?}",
        services.keys()
    );
    for (name, service) in &services {
        assert!(
            service.get("image").is_some() || service.get("build").is_some(),
            "service {name} has neither image nor build"
        );
        for (key, _) in entries(Some(service)) {
            assert!(
                SERVICE_KEYS.contains(&key.as_str()),
                "service {name} has an unknown key `{key}`"
            );
        }
        if let Some(build) = service.get("build") {
            let dockerfile = build
                .get("dockerfile")
                .map(scalar)
                .unwrap_or_else(|| "Dockerfile".to_owned());
            assert!(
                repo_root().join(&dockerfile).is_file(),
                "service {name} builds from missing {dockerfile}"
            );
        }
    }
}

#[test]
fn published_ports_are_unique_local_and_clear_of_the_hosts_postgres_and_rabbitmq() {
    let mut seen: BTreeMap<u16, String> = BTreeMap::new();
    for (name, service) in services() {
        for port in ports(&service) {
            assert_eq!(
                port.ip.as_deref(),
                Some("127.0.0.1"),
                "{name} publishes {} beyond localhost",
                port.host
            );
            if let Some(other) = seen.insert(port.host, name.clone()) {
                panic!(
                    "host port {} is published by both {other} and {name}",
                    port.host
                );
            }
            // The test command runs PostgreSQL and RabbitMQ on the host's standard ports.
            assert!(
                ![5432, 5672].contains(&port.host),
                "{name} publishes {} which the host's own server uses",
                port.host
            );
        }
    }
}

#[test]
fn dependencies_exist_and_healthy_conditions_wait_for_a_real_healthcheck() {
    let services = services();
    for (name, service) in &services {
        let deps: Vec<(String, Option<String>)> = match service.get("depends_on") {
            None => Vec::new(),
            Some(Value::Array(list)) => list.iter().map(|d| (scalar(d), None)).collect(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.get("condition").map(scalar)))
                .collect(),
            Some(other) => panic!("{name}: bad depends_on {other}"),
        };
        for (dep, condition) in deps {
            let target = services
                .get(&dep)
                .unwrap_or_else(|| panic!("{name} depends on unknown service {dep}"));
            if condition.as_deref() == Some("service_healthy") {
                let test = target.pointer("/healthcheck/test").unwrap_or_else(|| {
                    panic!("{name} waits for {dep} to be healthy, but {dep} has no healthcheck")
                });
                assert!(
                    test.as_array()
                        .is_some_and(|t| t.first().map(scalar).as_deref() == Some("CMD")),
                    "{dep}: healthcheck.test must be a CMD list"
                );
            }
        }
    }
}

#[test]
fn every_mount_source_exists_and_every_named_volume_is_declared() {
    let compose = yaml("docker-compose.yml");
    let declared: BTreeSet<&String> = entries(compose.get("volumes"))
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for (name, service) in services() {
        for volume in service
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = scalar(volume);
            let source = text.split(':').next().unwrap_or_default();
            if let Some(relative) = source.strip_prefix("./") {
                assert!(
                    repo_root().join(relative).exists(),
                    "{name} mounts missing {relative}"
                );
            } else {
                assert!(
                    declared.contains(&source.to_owned()),
                    "{name} uses undeclared volume {source}"
                );
            }
        }
    }
}
