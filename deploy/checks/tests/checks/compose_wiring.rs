//! docker-compose.yml against the code: environment variables name real settings keys, the
//! mounted config file with that environment loads and validates as `Settings`, listen ports
//! match what compose publishes and checks, and the simulated sites serve what the endpoints
//! point at (users, tokens, projects, priorities, webhook secrets).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jira_sync_jira_sim::SimConfig;
use jira_sync_settings::Settings;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::compose::{bind_mounts, command, environment, ports, services};
use crate::support::settings::{Schema, default_keys, env_to_key, load, toml_keys};
use crate::support::{read, scalar};

/// The services that run a jira-sync binary (not the simulator).
fn jira_sync_services() -> BTreeMap<String, Value> {
    services()
        .into_iter()
        .filter(|(_, s)| {
            command(s)
                .first()
                .is_some_and(|c| c.starts_with("jira-sync-"))
        })
        .collect()
}

/// The settings a service would load: its JIRA_SYNC_CONFIG file (through its bind mount) and its
/// environment.
fn settings_of(name: &str, service: &Value) -> Settings {
    let env = environment(service);
    let target = env
        .get("JIRA_SYNC_CONFIG")
        .unwrap_or_else(|| panic!("{name} sets no JIRA_SYNC_CONFIG"));
    let (source, _) = bind_mounts(service)
        .into_iter()
        .find(|(_, t)| t == target)
        .unwrap_or_else(|| panic!("{name}: JIRA_SYNC_CONFIG={target} is not a mounted file"));
    let env: HashMap<String, String> = env.into_iter().collect();
    load(&read(&source), &env).unwrap_or_else(|e| panic!("{name}: the settings do not load: {e}"))
}

#[test]
fn the_settings_schema_read_from_the_code_knows_every_default_key_and_section() {
    let schema = Schema::from_code();
    let defaults = default_keys();
    assert!(defaults.len() >= 20, "defaults.toml keys: {defaults:?}");
    for key in &defaults {
        assert!(
            schema.is_key(key),
            "the schema read from model.rs does not know {key}"
        );
    }
    let sections: std::collections::BTreeSet<String> = defaults
        .iter()
        .filter_map(|k| k.split('.').next())
        .map(str::to_owned)
        .collect();
    let mut fields = schema.fields("Settings");
    fields.remove("endpoints");
    fields.remove("connections");
    assert_eq!(
        fields, sections,
        "Settings sections vs defaults.toml sections"
    );
    for key in [
        "endpoints.jira-a.api_token",
        "endpoints.x.webhook.secret",
        "connections.c.left.project",
        "connections.c.fields.summary.direction",
    ] {
        assert!(schema.is_key(key), "{key}");
    }
    for key in [
        "amqp",
        "amqp.nope",
        "endpoints.x",
        "endpoints.x.token",
        "worker.listen.port",
    ] {
        assert!(!schema.is_key(key), "{key} must not be a key");
    }
}

#[test]
fn every_jira_sync_environment_variable_names_a_real_settings_key() {
    let schema = Schema::from_code();
    let mut checked = 0;
    for (name, service) in services() {
        for var in environment(&service).keys() {
            if let Some(key) = env_to_key(var) {
                assert!(
                    schema.is_key(&key),
                    "{name}: {var} names no settings key ({key})"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 10,
        "expected the services' JIRA_SYNC__ variables, checked {checked}"
    );
}

#[test]
fn the_mounted_config_file_names_only_real_settings_keys() {
    let schema = Schema::from_code();
    for key in toml_keys(&read("deploy/compose/jira-sync.toml")) {
        assert!(
            schema.is_key(&key),
            "deploy/compose/jira-sync.toml: `{key}` is not a settings key"
        );
    }
}

#[test]
fn ingress_and_worker_load_and_validate_their_settings_from_the_file_and_environment() {
    let all = services();
    let runners = jira_sync_services();
    assert_eq!(
        runners.keys().collect::<Vec<_>>(),
        ["ingress", "poller", "worker"]
    );
    for (name, service) in &runners {
        let settings = settings_of(name, service);
        assert_eq!(
            settings.endpoints.len(),
            2,
            "{name}: endpoints jira-a and jira-b"
        );
        assert_eq!(settings.connections.len(), 1, "{name}: one connection");
        assert_eq!(
            settings.amqp.prefix, "jira-sync",
            "{name}: deploy/rabbitmq/definitions.json is for prefix jira-sync"
        );
        for url in [
            settings.database.url.expose_secret(),
            settings.amqp.url.expose_secret(),
        ] {
            let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{name}: bad URL: {e}"));
            let host = url.host_str().unwrap_or_default().to_owned();
            let target = all
                .get(&host)
                .cloned()
                .unwrap_or_else(|| panic!("{name} connects to {host}, which is no service"));
            let port = url.port().unwrap_or(0);
            assert!(
                ports(&target).iter().any(|p| p.container == port),
                "{name} connects to {host}:{port}, which {host} does not serve"
            );
        }
    }
}

/// The port a service's own listen setting uses, and that it publishes and health-checks it.
#[test]
fn services_listen_on_the_ports_compose_publishes_health_checks_and_prometheus_scrapes() {
    let prometheus = read("deploy/prometheus/prometheus.yml");
    for (name, service) in jira_sync_services() {
        let settings = settings_of(&name, &service);
        let listen = match name.as_str() {
            "ingress" => settings.ingress.listen,
            "poller" => settings.poller.listen,
            _ => settings.worker.listen,
        };
        assert!(
            listen.ip().is_unspecified(),
            "{name} listens on {listen}: unreachable from other containers"
        );
        let port = listen.port();
        assert!(
            ports(&service).iter().any(|p| p.container == port),
            "{name} listens on {port} but does not publish it"
        );
        let check = service
            .pointer("/healthcheck/test")
            .map(|t| t.to_string())
            .unwrap_or_default();
        assert!(
            check.contains(&format!("/dev/tcp/127.0.0.1/{port}")) && check.contains("/readyz"),
            "{name}'s healthcheck must GET /readyz on {port}: {check}"
        );
        assert!(
            prometheus.contains(&format!("\"{name}:{port}\"")),
            "prometheus.yml does not scrape {name}:{port}"
        );
    }
}

#[test]
fn the_worker_gets_longer_to_stop_than_its_drain_timeout() {
    let services = services();
    let worker = &services["worker"];
    let settings = settings_of("worker", worker);
    let grace = worker
        .get("stop_grace_period")
        .map(scalar)
        .unwrap_or_else(|| "10s".to_owned());
    let grace = jira_sync_settings::parse_duration(&grace)
        .unwrap_or_else(|e| panic!("stop_grace_period {grace}: {e}"));
    assert!(
        grace > settings.worker.drain_timeout + Duration::from_secs(5),
        "stop_grace_period {grace:?} vs drain {:?}",
        settings.worker.drain_timeout
    );
}

/// The simulator configuration a sim service runs with.
fn sim_config(name: &str, service: &Value) -> SimConfig {
    let cmd = command(service);
    assert_eq!(
        cmd.first().map(String::as_str),
        Some("jira-sim"),
        "{name} does not run jira-sim"
    );
    let at = cmd
        .iter()
        .position(|a| a == "--config")
        .unwrap_or_else(|| panic!("{name}: jira-sim needs --config"));
    let target = &cmd[at + 1];
    let (source, _) = bind_mounts(service)
        .into_iter()
        .find(|(_, t)| t == target)
        .unwrap_or_else(|| panic!("{name}: {target} is not mounted"));
    let config: SimConfig =
        toml::from_str(&read(&source)).unwrap_or_else(|e| panic!("{source}: {e}"));
    config
        .validate()
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    config
}

#[test]
fn simulated_sites_serve_the_users_projects_and_priorities_the_endpoints_expect() {
    let services = services();
    let settings = settings_of("worker", &services["worker"]);
    for (id, endpoint) in &settings.endpoints {
        let host = endpoint.base_url.host_str().unwrap_or_default();
        let sim = services
            .get(host)
            .unwrap_or_else(|| panic!("endpoint {id} points at {host}, which is no service"));
        let config = sim_config(host, sim);
        assert!(
            config.bind.is_unspecified(),
            "{host} binds {}: unreachable from other containers",
            config.bind
        );
        let site = config
            .sites
            .iter()
            .find(|s| s.port == endpoint.base_url.port())
            .unwrap_or_else(|| panic!("{host} runs no site on the port endpoint {id} uses"));
        assert!(
            ports(sim).iter().any(|p| Some(p.container) == site.port),
            "{host} does not publish its site port"
        );
        let user = site
            .users
            .iter()
            .find(|u| u.email == endpoint.email)
            .unwrap_or_else(|| panic!("{host} has no user {}", endpoint.email));
        assert_eq!(
            user.api_token,
            endpoint.api_token.expose_secret(),
            "endpoint {id}: the API token is not {}'s",
            user.email
        );
        assert_eq!(
            site.public_url.as_deref(),
            Some(endpoint.base_url.as_str().trim_end_matches('/')),
            "{host}: public_url"
        );
        for (cid, connection) in &settings.connections {
            for (side, cs) in [("left", &connection.left), ("right", &connection.right)] {
                if &cs.endpoint != id {
                    continue;
                }
                assert!(
                    site.projects.contains(&cs.project),
                    "connection {cid}: {host} has no project {}",
                    cs.project
                );
                assert!(
                    site.issue_types.contains(&cs.issue_type),
                    "connection {cid}: {host} has no issue type {}",
                    cs.issue_type
                );
                for pair in &connection.priority_map {
                    let name = if side == "left" {
                        &pair.left
                    } else {
                        &pair.right
                    };
                    assert!(
                        site.priorities.contains(name),
                        "connection {cid}: {host} has no priority {name}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_webhook_registrations_point_each_site_at_its_endpoint_with_its_secret() {
    let services = services();
    let setup = &services["webhooks"];
    let script = command(setup).join(" ");
    let setup_env = environment(setup);
    let ingress_env = environment(&services["ingress"]);
    let settings = settings_of("ingress", &services["ingress"]);
    for (id, endpoint) in &settings.endpoints {
        let host = endpoint.base_url.host_str().unwrap_or_default();
        let port = endpoint.base_url.port().unwrap_or(80);
        assert!(
            script.contains(&format!("http://{host}:{port}/_sim/webhooks")),
            "no registration on {host}"
        );
        assert!(
            script.contains(&format!("http://ingress:8080/webhooks/jira/{id}")),
            "no registration for endpoint {id}"
        );
        let var = format!(
            "{}_WEBHOOK_SECRET",
            id.as_str().to_uppercase().replace('-', "_")
        );
        assert!(
            script.contains(&format!("$${var}")),
            "the registration of {id} does not use ${var}"
        );
        let secret = ingress_env.get(&format!(
            "JIRA_SYNC__ENDPOINTS__{}__WEBHOOK__SECRET",
            id.as_str().to_uppercase()
        ));
        assert_eq!(
            setup_env.get(&var),
            secret,
            "{id}: the registered secret differs from the ingress's"
        );
        assert!(secret.is_some(), "{id}: the ingress has no webhook secret");
    }
}
