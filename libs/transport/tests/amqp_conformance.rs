//! The transport conformance suite against RabbitMQ (needs a broker on 127.0.0.1:5672 or
//! `JIRA_SYNC_TEST_AMQP_ADDR`; fails loudly without one), then what is specific to RabbitMQ.

use jira_sync_transport::conformance::rabbitmq::RabbitMqFactory;

jira_sync_transport::transport_conformance_tests!(RabbitMqFactory::from_env());

/// Behaviour only the RabbitMQ backend has: names, headers, depths, self-healing topology.
/// Each test owns a `RabbitMqBackend`, which deletes its queues even when the test fails.
mod rabbitmq {
    use std::time::Duration;

    use jira_sync_transport::amqp::headers;
    use jira_sync_transport::conformance::rabbitmq::{ADDR_ENV, RabbitMqBackend, RabbitMqFactory};
    use jira_sync_transport::conformance::{Profile, eventually};
    use jira_sync_transport::{AmqpTransport, Envelope, Failure, TransportError};
    use lapin::options::{BasicGetOptions, BasicPublishOptions};
    use lapin::types::AMQPValue;
    use lapin::{BasicProperties, Connection, ConnectionProperties};

    const DEADLINE: Duration = Duration::from_secs(10);

    async fn backend(profile: Profile) -> RabbitMqBackend {
        RabbitMqFactory::from_env().backend(profile).await
    }

    async fn raw_connection() -> Connection {
        let addr = std::env::var(ADDR_ENV).unwrap_or_else(|_| "127.0.0.1:5672".to_owned());
        Connection::connect(
            &format!("amqp://guest:guest@{addr}/%2f"),
            ConnectionProperties::default(),
        )
        .await
        .expect("RabbitMQ must be running for these tests")
    }

    fn header<'a>(properties: &'a BasicProperties, key: &str) -> Option<&'a AMQPValue> {
        properties.headers().as_ref()?.inner().get(key)
    }

    fn text(value: Option<&AMQPValue>) -> String {
        match value {
            Some(AMQPValue::LongString(s)) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            other => panic!("expected a string header, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn debug_output_never_shows_the_broker_credentials() {
        let settings = RabbitMqFactory::settings("127.0.0.1:1", "test-debug", &Profile::default());
        let transport = AmqpTransport::new(&settings).expect("new does not connect");
        let debug = format!("{transport:?}");
        assert!(!debug.contains("guest"), "{debug}");
        assert!(debug.contains("test-debug.work"), "{debug}");
    }

    #[tokio::test]
    async fn a_malformed_url_is_refused_without_echoing_its_credentials() {
        let mut settings = RabbitMqFactory::settings("h", "test-url", &Profile::default());
        settings.url = "amqp//admin:s3cret@host:5672".to_owned().into();
        let error = AmqpTransport::new(&settings).expect_err("malformed URL");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transport_created_while_the_broker_is_down_connects_once_it_is_up() {
        let backend = backend(Profile::default()).await;
        backend.proxy().cut().await;
        // `new` connects lazily: a transport made now behaves like this one.
        let transport = AmqpTransport::new(&RabbitMqFactory::settings(
            &backend.proxy().addr().to_string(),
            &backend.direct_settings().prefix,
            &Profile::default(),
        ))
        .expect("new must not need the broker");
        let publisher = transport.publisher();

        let result = publisher.publish(Envelope::new("early", vec![])).await;
        assert!(
            matches!(result, Err(TransportError::Unavailable(_))),
            "{result:?}"
        );
        assert!(transport.consumer().await.is_err());

        backend.proxy().restore();
        publisher
            .publish(Envelope::new("late", vec![]))
            .await
            .expect("publish once the broker is up");
        assert_eq!(transport.queue_depths().await.expect("depths").work, 1);
        backend.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_depths_count_work_retry_and_dead_messages_until_the_topology_is_deleted() {
        let backend = backend(Profile {
            retry_delays: vec![Duration::from_millis(200), Duration::from_secs(60)],
            ..Profile::default()
        })
        .await;
        let transport = &backend.transport;
        transport.declare_topology().await.expect("declare");
        let prefix = &backend.direct_settings().prefix;
        assert_eq!(
            transport.names().retry_tiers[1].queue,
            format!("{prefix}.retry.1m")
        );
        let publisher = transport.publisher();
        let mut consumer = transport.consumer().await.expect("consumer");

        publisher
            .publish(Envelope::new("parked", vec![]))
            .await
            .expect("publish");
        let delivery = consumer.next().await.expect("delivery");
        delivery
            .dead_letter(Failure::new("undecodable", "not JSON"))
            .await
            .expect("dead_letter");
        publisher
            .publish(Envelope::new("waiting", vec![]))
            .await
            .expect("publish");
        let delivery = consumer.next().await.expect("delivery");
        delivery
            .retry(Duration::from_secs(30), Failure::new("transient", "429"))
            .await
            .expect("retry");
        consumer.close().await;
        publisher
            .publish(Envelope::new("ready", vec![]))
            .await
            .expect("publish");

        let depths = transport.queue_depths().await.expect("depths");
        assert_eq!(depths.work, 1);
        let tiers: Vec<_> = depths.retry.iter().map(|t| t.messages).collect();
        assert_eq!(tiers, [0, 1], "the 30 s retry waits in the 1 m tier");
        assert_eq!(depths.dead, 1);

        transport.delete_topology().await.expect("delete");
        assert!(
            transport.queue_depths().await.is_err(),
            "queues must be gone"
        );
        backend.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_letter_explains_itself_in_readable_headers() {
        let backend = backend(Profile::default()).await;
        let transport = &backend.transport;
        let mut sent = Envelope::new("explained", b"{}".to_vec())
            .with_label("endpoint", "acme-cloud")
            .with_label("entity", "PROJ-9");
        sent.attempt = 4;
        transport
            .publisher()
            .publish(sent.clone())
            .await
            .expect("publish");
        let mut consumer = transport.consumer().await.expect("consumer");
        let delivery = consumer.next().await.expect("delivery");
        let failure = Failure::new("jira_rejected", "400 Bad Request: summary is required");
        delivery
            .dead_letter(failure.clone())
            .await
            .expect("dead_letter");
        consumer.close().await;

        let connection = raw_connection().await;
        let channel = connection.create_channel().await.expect("channel");
        let dlq = transport.names().dead_queue.as_str();
        let message = channel
            .basic_get(dlq.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
            .expect("a dead letter");
        let properties = &message.delivery.properties;
        assert_eq!(properties.delivery_mode(), &Some(2), "persistent");
        assert_eq!(
            properties.message_id().as_ref().map(|id| id.as_str()),
            Some("explained")
        );
        assert_eq!(
            text(header(properties, headers::ERROR_CLASS)),
            failure.class
        );
        assert_eq!(
            text(header(properties, headers::ERROR_MESSAGE)),
            failure.message
        );
        assert_eq!(
            header(properties, headers::ATTEMPT),
            Some(&AMQPValue::LongLongInt(4))
        );
        assert!(text(header(properties, headers::FIRST_SEEN)).ends_with('Z'));
        assert_eq!(text(header(properties, "x-label-endpoint")), "acme-cloud");
        assert_eq!(text(header(properties, "x-label-entity")), "PROJ-9");
        backend.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_published_by_hand_without_headers_is_consumed_with_defaults() {
        let backend = backend(Profile::default()).await;
        let transport = &backend.transport;
        transport.declare_topology().await.expect("declare");
        let connection = raw_connection().await;
        let channel = connection.create_channel().await.expect("channel");
        channel
            .basic_publish(
                transport.names().work_exchange.as_str().into(),
                "work".into(),
                BasicPublishOptions::default(),
                b"typed in the console",
                BasicProperties::default(),
            )
            .await
            .expect("publish by hand");

        let mut consumer = transport.consumer().await.expect("consumer");
        let delivery = consumer.next().await.expect("delivery");
        let envelope = delivery.envelope().clone();
        assert_eq!(envelope.payload, b"typed in the console");
        assert_eq!((envelope.attempt, envelope.failure), (1, None));
        delivery
            .dead_letter(Failure::new("undecodable", "not JSON"))
            .await
            .expect("dead_letter");
        let parked = transport.dead_letters().peek(10).await.expect("peek");
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].payload, b"typed in the console");
        consumer.close().await;
        backend.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publisher_and_consumer_redeclare_a_topology_deleted_under_them() {
        let backend = backend(Profile::default()).await;
        let transport = &backend.transport;
        let publisher = transport.publisher();
        let mut consumer = transport.consumer().await.expect("consumer");
        publisher
            .publish(Envelope::new("before", vec![]))
            .await
            .expect("publish");
        consumer
            .next()
            .await
            .expect("delivery")
            .ack()
            .await
            .expect("ack");

        transport.delete_topology().await.expect("delete");
        eventually(DEADLINE, "publishing to heal the topology", || {
            let publisher = publisher.clone();
            async move { publisher.publish(Envelope::new("after", vec![])).await.ok() }
        })
        .await;
        let delivery = tokio::time::timeout(DEADLINE, consumer.next())
            .await
            .expect("the consumer resubscribes")
            .expect("delivery");
        assert_eq!(delivery.envelope().message_id, "after");
        delivery.ack().await.expect("ack");
        consumer.close().await;
        backend.cleanup().await;
    }
}
