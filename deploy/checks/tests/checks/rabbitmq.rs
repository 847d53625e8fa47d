//! deploy/rabbitmq: the definitions equal the topology the services declare (names from
//! `jira_sync_transport::amqp::Names`, arguments proven on a real broker booted with the compose
//! configuration), and that broker exports the series the alerts and dashboards use.

use std::collections::BTreeSet;

use jira_sync_settings::{AmqpSettings, Settings};
use jira_sync_transport::AmqpTransport;
use jira_sync_transport::amqp::Names;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::support::metrics::catalog;
use crate::support::rabbit::RabbitNode;
use crate::support::{json, str_at};

/// The AMQP settings of the compose services (file + environment).
fn compose_amqp() -> AmqpSettings {
    let services = crate::compose::services();
    let env = crate::compose::environment(&services["worker"])
        .into_iter()
        .collect();
    let file = crate::support::read("deploy/compose/jira-sync.toml");
    let settings: Settings =
        crate::support::settings::load(&file, &env).unwrap_or_else(|e| panic!("{e}"));
    settings.amqp
}

fn names_of(list: &Value, key: &str) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|v| str_at(v, &format!("/{key}")).to_owned())
        .collect()
}

#[test]
fn definitions_declare_exactly_the_topology_of_the_compose_settings() {
    let amqp = compose_amqp();
    let names = Names::new(&amqp.prefix, &amqp.retry_delays).unwrap_or_else(|e| panic!("{e}"));
    let defs = json("deploy/rabbitmq/definitions.json");

    let exchanges = defs["exchanges"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        names_of(&defs["exchanges"], "name"),
        names.exchanges().map(str::to_owned).collect()
    );
    for exchange in &exchanges {
        assert_eq!(
            (
                exchange["type"].as_str(),
                exchange["durable"].as_bool(),
                exchange["auto_delete"].as_bool()
            ),
            (Some("direct"), Some(true), Some(false)),
            "{exchange}"
        );
    }

    // Routing keys "work" and "dead" are the transport's WORK_ROUTING_KEY and DEAD_ROUTING_KEY.
    let mut expected = vec![(
        names.work_queue.clone(),
        json!({"x-dead-letter-exchange": names.dead_exchange, "x-dead-letter-routing-key": "dead"}),
    )];
    for tier in &names.retry_tiers {
        let ttl = u64::try_from(tier.delay.as_millis()).unwrap_or(u64::MAX);
        expected.push((tier.queue.clone(), json!({"x-message-ttl": ttl, "x-dead-letter-exchange": names.work_exchange, "x-dead-letter-routing-key": "work"})));
    }
    expected.push((names.dead_queue.clone(), json!({})));
    let queues = defs["queues"].as_array().cloned().unwrap_or_default();
    assert_eq!(queues.len(), expected.len(), "queues: {queues:?}");
    for (name, arguments) in expected {
        let queue = queues
            .iter()
            .find(|q| q["name"] == name.as_str())
            .unwrap_or_else(|| panic!("definitions lack queue {name}"));
        assert_eq!(queue["arguments"], arguments, "arguments of {name}");
        assert_eq!(
            (
                queue["durable"].as_bool(),
                queue["auto_delete"].as_bool(),
                queue["vhost"].as_str()
            ),
            (Some(true), Some(false), Some("/")),
            "{name}"
        );
    }

    let mut bindings: Vec<(String, String, String)> = vec![(
        names.work_exchange.clone(),
        names.work_queue.clone(),
        "work".into(),
    )];
    bindings.extend(names.retry_tiers.iter().map(|t| {
        (
            names.retry_exchange.clone(),
            t.queue.clone(),
            t.routing_key.clone(),
        )
    }));
    bindings.push((
        names.dead_exchange.clone(),
        names.dead_queue.clone(),
        "dead".into(),
    ));
    let actual: BTreeSet<(String, String, String)> = defs["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            (
                str_at(b, "/source").to_owned(),
                str_at(b, "/destination").to_owned(),
                str_at(b, "/routing_key").to_owned(),
            )
        })
        .collect();
    assert_eq!(actual, bindings.into_iter().collect());

    assert_eq!(defs["users"][0]["name"], "guest");
    assert_eq!(defs["vhosts"], json!([{"name": "/"}]));
    assert_eq!(defs["permissions"][0]["user"], "guest");
}

/// Queue, exchange and binding names on the node (defaults like amq.* left out).
fn topology(node: &RabbitNode) -> (BTreeSet<String>, BTreeSet<String>, usize) {
    let queues = names_of(&node.api("queues/%2f"), "name");
    let exchanges = names_of(&node.api("exchanges/%2f"), "name")
        .into_iter()
        .filter(|e| !e.is_empty() && !e.starts_with("amq."))
        .collect();
    let bindings = node
        .api("bindings/%2f")
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["source"] != "")
        .count();
    (queues, exchanges, bindings)
}

#[test]
fn a_broker_booted_with_the_compose_configuration_accepts_the_services_declarations_and_exports_queue_series()
 {
    let node = RabbitNode::start();
    let defs = json("deploy/rabbitmq/definitions.json");
    let loaded = topology(&node);
    assert_eq!(
        loaded.0,
        names_of(&defs["queues"], "name"),
        "queues loaded at boot:\n{}",
        node.logs()
    );
    assert_eq!(loaded.1, names_of(&defs["exchanges"], "name"));
    assert_eq!(
        loaded.2,
        defs["bindings"].as_array().map(Vec::len).unwrap_or(0)
    );

    // The services declare the topology on every channel: with arguments that differ from the
    // definitions RabbitMQ refuses (406 PRECONDITION_FAILED); with names that differ it creates
    // new queues beside them. Both would show here.
    let mut amqp = compose_amqp();
    amqp.url = SecretString::from(node.amqp_url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let transport = AmqpTransport::new(&amqp).unwrap_or_else(|e| panic!("{e}"));
        transport.declare_topology().await.unwrap_or_else(|e| {
            panic!("the services' declarations conflict with the definitions: {e}")
        });
    });
    assert_eq!(
        topology(&node),
        loaded,
        "declaring the topology changed what the definitions created"
    );

    let scrape = node.scrape();
    let dlq = format!("{}.dlq", amqp.prefix);
    for metric in catalog().values().filter(|m| m.exporter == "rabbitmq") {
        let line = scrape
            .lines()
            .find(|l| {
                l.starts_with(&format!("{}{{", metric.name))
                    && l.contains(&format!("queue=\"{dlq}\""))
            })
            .unwrap_or_else(|| panic!("RabbitMQ exports no {}{{queue=\"{dlq}\"}}", metric.name));
        for label in &metric.labels {
            assert!(
                line.contains(&format!("{label}=\"")),
                "{line} lacks label {label}"
            );
        }
    }
}
