//! Admission control: at `ingress.max_in_flight` publishes waiting for the broker, one more
//! webhook is refused at once with 503 and `Retry-After`, and the refusal is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_ingress::IngressDeps;
use jira_sync_transport::{Envelope, Publisher, TransportError};
use tokio::sync::Semaphore;

use crate::helpers::{FakeReadiness, SECRET, eventually, start, test_settings};

const ISSUE_UPDATED: &str = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
    "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;

/// A broker whose confirms wait until the test lets one through.
struct GatedPublisher {
    started: AtomicUsize,
    gate: Semaphore,
}

impl Default for GatedPublisher {
    fn default() -> Self {
        Self {
            started: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

#[async_trait]
impl Publisher for GatedPublisher {
    async fn publish(&self, _envelope: Envelope) -> Result<(), TransportError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| TransportError::Closed)?;
        permit.forget();
        Ok(())
    }

    async fn is_ready(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_webhook_beyond_max_in_flight_is_refused_with_503_and_retry_after() {
    let mut settings = test_settings();
    settings.ingress.max_in_flight = 1;
    let publisher = Arc::new(GatedPublisher::default());
    let deps = IngressDeps {
        publisher: publisher.clone(),
        readiness: Arc::new(FakeReadiness(AtomicBool::new(true))),
    };
    let app = start(settings, deps);

    let first = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send();
    let second = async {
        let waiting = eventually(Duration::from_secs(10), || async {
            (publisher.started.load(Ordering::SeqCst) == 1).then_some(())
        })
        .await;
        assert!(
            waiting.is_some(),
            "the first webhook never reached the broker"
        );
        let reply = app
            .post_webhook("jira-a", ISSUE_UPDATED)
            .signed_with(SECRET)
            .send()
            .await;
        // Only now may the first publish be confirmed.
        publisher.gate.add_permits(1);
        reply
    };
    let (first, second) = tokio::join!(first, second);

    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(second.status, 503, "{second:?}");
    assert_eq!(second.code(), "overloaded");
    assert_eq!(second.retry_after.as_deref(), Some("7"), "{second:?}");
    assert_eq!(
        publisher.started.load(Ordering::SeqCst),
        1,
        "the refused webhook must not reach the broker"
    );

    // The permit came back with the first confirm: the next webhook goes through.
    publisher.gate.add_permits(1);
    let third = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(third.status, 202, "{third:?}");

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"events_rejected_total{reason="overloaded"} 1"#),
        "{metrics}"
    );
    app.stop().await;
}
