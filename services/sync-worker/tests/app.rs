//! The worker as a process sees it: built from `Settings` against the real RabbitMQ and
//! PostgreSQL, fed through the real work queue, settling into the real retry and dead-letter
//! queues, with its HTTP endpoints on a random port.

mod support;

use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::Side::{Left, Right};
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_store::testing::fresh_postgres;
use jira_sync_transport::Envelope;
use jira_sync_transport::amqp::AmqpTransport;
use jira_sync_worker::Application;
use serde_json::json;
use support::{Env, field};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

/// Two Jira endpoints that refuse connections, a fast retry tier and two attempts.
fn settings(prefix: &str) -> Result<Settings, Box<dyn std::error::Error>> {
    let toml = format!(
        r#"
[amqp]
prefix = "{prefix}"
retry_delays = ["1s"]
max_attempts = 2

[worker]
listen = "127.0.0.1:0"
concurrency = 2
drain_timeout = "5s"

[jira]
max_retries = 0
request_timeout = "2s"
connect_timeout = "1s"
retry_budget = "1s"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "http://127.0.0.1:1"
email = "bot@a.example"
api_token = "token-a"

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "http://127.0.0.1:1"
email = "bot@b.example"
api_token = "token-b"

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "ACME" }}
right = {{ endpoint = "jira-b", project = "PART" }}
"#
    );
    Ok(Settings::from_toml(&toml)?)
}

fn request(connection: &str) -> Vec<u8> {
    json!({
        "connection": connection,
        "endpoint": "jira-a",
        "entity_id": "10001",
        "trigger": {"kind": "poll"},
        "delivery_id": format!("d-{connection}")
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn bad_messages_are_dead_lettered_with_their_reason_and_jira_outages_retried_until_exhausted()
-> Result<(), Box<dyn std::error::Error>> {
    let db = fresh_postgres().await;
    let prefix = format!("jsw-test-{}", uuid::Uuid::new_v4().simple());
    let mut settings = settings(&prefix)?;
    settings.database = db.settings();
    let transport = AmqpTransport::new(&settings.amqp)?;

    let app = Application::build(settings).await?;
    let port = app.port();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let publisher = transport.publisher();
    publisher
        .publish(Envelope::new("garbage", b"not json".to_vec()))
        .await?;
    publisher
        .publish(Envelope::new("unknown", request("nope")))
        .await?;
    // Jira refuses connections: transient, retried once after 1 s, then exhausted.
    publisher
        .publish(Envelope::new("outage", request("a-to-b")))
        .await?;

    let dead_letters = transport.dead_letters();
    let deadline = tokio::time::Instant::now() + WAIT;
    let parked = loop {
        let parked = dead_letters.peek(10).await?;
        if parked.len() == 3 || tokio::time::Instant::now() > deadline {
            break parked;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut reasons: Vec<(String, String, u32)> = parked
        .iter()
        .map(|e| {
            let class = e.failure.as_ref().map(|f| f.class.clone());
            (e.message_id.clone(), class.unwrap_or_default(), e.attempt)
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("garbage".to_owned(), "undecodable".to_owned(), 1),
            ("outage".to_owned(), "exhausted".to_owned(), 2),
            ("unknown".to_owned(), "config".to_owned(), 1),
        ]
    );
    let outage = parked.iter().find(|e| e.message_id == "outage");
    let message = outage
        .and_then(|e| e.failure.as_ref())
        .map(|f| f.message.as_str());
    assert!(
        message.is_some_and(
            |m| m.starts_with("gave up after 2 attempts: Jira `jira-a` failed to read 10001")
        ),
        "{message:?}"
    );

    let http = reqwest::Client::new();
    let health = http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await?;
    assert_eq!(health.status(), 200);
    let ready = http
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await?;
    assert_eq!(ready.status(), 200);
    let metrics = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for line in [
        r#"events_dlq_total{class="undecodable",connection="unknown"}"#,
        r#"events_dlq_total{class="exhausted",connection="a-to-b"}"#,
        r#"events_retried_total{tier="1s",connection="a-to-b"}"#,
        r#"events_failed_total{class="transient",connection="a-to-b"}"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }

    shutdown.cancel();
    tokio::time::timeout(WAIT, running).await???;
    transport.delete_topology().await?;
    db.cleanup().await;
    Ok(())
}

#[tokio::test]
async fn a_request_on_the_work_queue_creates_the_twin_and_its_echo_changes_nothing()
-> Result<(), Box<dyn std::error::Error>> {
    let env = Env::start().await?;
    let mut settings = Settings::clone(&env.settings);
    settings.amqp.prefix = format!("jsw-test-{}", uuid::Uuid::new_v4().simple());
    settings.worker.listen = "127.0.0.1:0".parse()?;
    let transport = AmqpTransport::new(&settings.amqp)?;
    transport.declare_topology().await?;
    let store = Arc::new(env.db.store.clone());
    let app = Application::build_with(settings, store, transport.consumer().await?)?;
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let (id, _) = env
        .create(Left, json!({"summary": "Through the queue"}), None)
        .await?;
    let request = serde_json::to_vec(&env.request(Left, &id))?;
    let publisher = transport.publisher();
    publisher.publish(Envelope::new("create", request)).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    while env.issues(Right).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let twins = env.issues(Right);
    assert_eq!(twins.len(), 1);
    assert_eq!(field(&twins[0], "summary"), "Through the queue");

    // The twin's webhook comes back as a request: it settles without writing to either side.
    let twin_id = twins[0]["id"].as_str().unwrap_or_default().to_owned();
    // The twin shows in the simulator before its link is stored (the worker reads it back,
    // then links): wait for the link.
    let mut link = None;
    while link.is_none() && tokio::time::Instant::now() < deadline {
        link = (env.db.store)
            .find_link(&support::connection(), Right, &twin_id)
            .await?;
        if link.is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(link.is_some(), "the twin is not linked");
    let reads = |side| env.site(side).stats().reads;
    let writes = |side| env.site(side).stats().writes;
    let (reads_before, writes_before) = (reads(Left), [writes(Left), writes(Right)]);
    let echo = serde_json::to_vec(&env.request(Right, &twin_id))?;
    publisher.publish(Envelope::new("echo", echo)).await?;
    // The echo's reconcile reads the left issue; a drained shutdown then lets it settle.
    while reads(Left) == reads_before && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(WAIT, running).await???;
    assert!(reads(Left) > reads_before, "the echo was never reconciled");
    assert_eq!([writes(Left), writes(Right)], writes_before);
    // Settled: nothing went back to the work queue on close, nothing was dead-lettered.
    let depths = transport.queue_depths().await?;
    assert_eq!((depths.work, depths.dead), (0, 0), "{depths:?}");
    assert_eq!(env.issues(Right).len(), 1);
    transport.delete_topology().await?;
    env.stop().await;
    Ok(())
}
