//! The ingress against the real RabbitMQ and PostgreSQL of this machine: a unique queue prefix
//! and a fresh database per test, removed afterwards. Fails loudly when either is down.

use std::collections::BTreeSet;
use std::time::Duration;

use jira_sync_domain::ReconcileRequest;
use jira_sync_ingress::Application;
use jira_sync_settings::Settings;
use jira_sync_store::testing::{TestDatabase, fresh_postgres};
use jira_sync_transport::amqp::AmqpTransport;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::helpers::{Reply, SECRET, TestApp, eventually, fixtures, test_settings};
use crate::proxy::Proxy;

const BROKER: &str = "127.0.0.1:5672";
const ISSUE_UPDATED: &str = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
    "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;

/// An ingress built by [`Application::build`] on real dependencies, with a transport of the
/// same prefix (straight to the broker) to inspect the queues.
struct RealApp {
    app: TestApp,
    queues: AmqpTransport,
    db: TestDatabase,
}

/// `amqp_port`: where the ingress connects (the broker, or a proxy in front of it).
async fn spawn_app(amqp_port: u16) -> RealApp {
    let db = fresh_postgres().await;
    let mut settings: Settings = test_settings();
    settings.amqp.prefix = format!("ingress-test-{}", uuid::Uuid::new_v4().simple());
    settings.database = db.settings();
    let mut direct = settings.amqp.clone();
    direct.url = SecretString::from(format!("amqp://guest:guest@{BROKER}/%2f"));
    settings.amqp.url = SecretString::from(format!("amqp://guest:guest@127.0.0.1:{amqp_port}/%2f"));
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("ingress must start (are RabbitMQ and PostgreSQL up?): {e:?}"));
    let queues = AmqpTransport::new(&direct).expect("transport");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    RealApp {
        app: TestApp {
            address,
            client: reqwest::Client::new(),
            shutdown,
            server,
        },
        queues,
        db,
    }
}

impl RealApp {
    /// Waits until the work queue holds exactly `n` ready messages.
    async fn assert_work_queue_holds(&self, n: u32) {
        let reached = eventually(Duration::from_secs(10), || {
            let queues = self.queues.clone();
            async move {
                let depth = queues.queue_depths().await.ok()?.work;
                (depth == n).then_some(())
            }
        })
        .await;
        if reached.is_none() {
            let depths = self.queues.queue_depths().await;
            panic!("expected {n} messages in the work queue, found {depths:?}");
        }
    }

    /// Consumes and acknowledges `n` messages, returning their message ids and requests.
    async fn consume(&self, n: usize) -> Vec<(String, ReconcileRequest)> {
        let mut consumer = self.queues.consumer().await.expect("consumer");
        let mut out = Vec::new();
        for _ in 0..n {
            let delivery = tokio::time::timeout(Duration::from_secs(10), consumer.next())
                .await
                .expect("a message arrives in time")
                .expect("a delivery");
            let envelope = delivery.envelope().clone();
            let request = serde_json::from_slice(&envelope.payload).expect("a reconcile request");
            out.push((envelope.message_id, request));
            delivery.ack().await.expect("ack");
        }
        consumer.close().await;
        out
    }

    async fn cleanup(self) {
        self.app.stop().await;
        self.queues
            .delete_topology()
            .await
            .expect("topology deleted");
        self.db.cleanup().await;
    }
}

#[tokio::test]
async fn every_fixture_signed_is_accepted_and_published_to_the_work_queue() {
    let real = spawn_app(5672).await;
    let mut expected = BTreeSet::new();
    for (i, (name, body)) in fixtures().into_iter().enumerate() {
        let delivery = format!("fixture-{i}");
        let reply = real
            .app
            .post_webhook("jira-a", body)
            .signed_with(SECRET)
            .delivery(&delivery)
            .send()
            .await;
        assert_eq!(reply.status, 202, "{name}: {reply:?}");
        let n = reply.json["messages"].as_u64().expect("a message count");
        assert!(n >= 1, "{name}");
        for connection in 0..n {
            expected.insert((delivery.clone(), connection));
        }
    }
    real.assert_work_queue_holds(expected.len() as u32).await;
    let consumed = real.consume(expected.len()).await;
    let ids: BTreeSet<String> = consumed.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), expected.len(), "message ids are unique");
    for (id, request) in &consumed {
        assert_eq!(&request.delivery_id.as_str(), id);
        assert_eq!(request.endpoint.as_str(), "jira-a");
    }
    real.assert_work_queue_holds(0).await;
    real.cleanup().await;
}

#[tokio::test]
async fn rejected_and_ignored_webhooks_publish_nothing() {
    let real = spawn_app(5672).await;
    let app = &real.app;
    let bad = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with("wrong")
        .send()
        .await;
    assert_eq!(bad.status, 401);
    let unsigned = app.post_webhook("jira-a", ISSUE_UPDATED).send().await;
    assert_eq!(unsigned.status, 401);
    let malformed = app
        .post_webhook("jira-a", "{")
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(malformed.status, 400);
    let unknown = app
        .post_webhook("nope", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    let sprint = r#"{"webhookEvent":"sprint_started","sprint":{"id":1}}"#;
    let ignored = app
        .post_webhook("jira-a", sprint)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(
        (ignored.status, ignored.json["status"].as_str()),
        (202, Some("ignored"))
    );
    real.assert_work_queue_holds(0).await;

    let good = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .delivery("the-good-one")
        .send()
        .await;
    assert_eq!(good.status, 202, "still serving after errors: {good:?}");
    real.assert_work_queue_holds(1).await;
    let consumed = real.consume(1).await;
    assert_eq!(consumed[0].0, "the-good-one");
    real.cleanup().await;
}

#[tokio::test]
async fn readyz_is_200_with_the_broker_and_database_up_and_metrics_count_accepted_events() {
    let real = spawn_app(5672).await;
    assert_eq!(real.app.get("/readyz").await.status().as_u16(), 200);
    let reply = real
        .app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202);
    let metrics = real.app.metrics().await;
    assert!(
        metrics.contains(r#"events_received_total{endpoint="jira-a"}"#),
        "{metrics}"
    );
    real.cleanup().await;
}

#[tokio::test]
async fn with_the_broker_down_webhooks_get_503_and_nothing_is_published_until_it_returns() {
    let proxy = Proxy::start(BROKER.parse().expect("address")).await;
    let real = spawn_app(proxy.port()).await;
    let app = &real.app;
    let before = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .delivery("before-outage")
        .send()
        .await;
    assert_eq!(before.status, 202, "{before:?}");

    proxy.cut();
    let started = tokio::time::Instant::now();
    let during = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .delivery("during-outage")
        .send()
        .await;
    assert_eq!(during.status, 503, "{during:?}");
    assert_eq!(during.code(), "unavailable");
    assert_eq!(during.retry_after.as_deref(), Some("7"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered only after {:?}",
        started.elapsed()
    );
    let ready = Reply::read(app.get("/readyz").await).await;
    assert_eq!((ready.status, ready.detail()), (503, "not ready: broker"));

    proxy.restore();
    let after = eventually(Duration::from_secs(30), || async {
        let reply = app
            .post_webhook("jira-a", ISSUE_UPDATED)
            .signed_with(SECRET)
            .delivery("after-outage")
            .send()
            .await;
        (reply.status == 202).then_some(reply)
    })
    .await;
    assert!(
        after.is_some(),
        "the ingress recovers once the broker is back"
    );

    let ids: BTreeSet<String> = real
        .consume(2)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["after-outage".to_owned(), "before-outage".to_owned()])
    );
    real.assert_work_queue_holds(0).await;
    real.cleanup().await;
}
