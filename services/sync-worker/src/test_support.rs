//! Fixtures shared by the unit tests of this crate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jira_sync_domain::ConnectionId;
use jira_sync_settings::Settings;
use jira_sync_transport::{Consumer, Delivery, Envelope, TransportError};
use tokio::sync::mpsc;

/// Two sites, `jira-a` (left, project ACME) and `jira-b` (right, project PART), with
/// `High` <-> `P1` and `Low` <-> `P4` in the priority map.
pub(crate) const TWO_SITES: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "http://127.0.0.1:1"
email = "bot@a.example"
api_token = "token-a"

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "http://127.0.0.1:2"
email = "bot@b.example"
api_token = "token-b"

[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART", issue_type = "Bug" }
priority_map = [{ left = "High", right = "P1" }, { left = "Low", right = "P4" }]
"#;

pub(crate) fn settings() -> Settings {
    Settings::from_toml(TWO_SITES).unwrap_or_else(|e| panic!("test settings: {e}"))
}

pub(crate) fn connection_id() -> ConnectionId {
    ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}"))
}

/// How a fake delivery was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    Ack,
    Retry(std::time::Duration, jira_sync_transport::Failure),
    DeadLetter(jira_sync_transport::Failure),
}

/// Settlements by message id, shared between the fakes and the test.
pub(crate) type SettledLog = Arc<Mutex<Vec<(String, Settled)>>>;

/// An in-memory delivery that records how it was settled.
pub(crate) struct FakeDelivery {
    pub envelope: Envelope,
    pub log: SettledLog,
}

impl FakeDelivery {
    fn settle(&self, how: Settled) {
        if let Ok(mut log) = self.log.lock() {
            log.push((self.envelope.message_id.clone(), how));
        }
    }
}

#[async_trait]
impl Delivery for FakeDelivery {
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    async fn ack(self: Box<Self>) -> Result<(), TransportError> {
        self.settle(Settled::Ack);
        Ok(())
    }

    async fn retry(
        self: Box<Self>,
        delay: std::time::Duration,
        failure: jira_sync_transport::Failure,
    ) -> Result<(), TransportError> {
        self.settle(Settled::Retry(delay, failure));
        Ok(())
    }

    async fn dead_letter(
        self: Box<Self>,
        failure: jira_sync_transport::Failure,
    ) -> Result<(), TransportError> {
        self.settle(Settled::DeadLetter(failure));
        Ok(())
    }
}

/// An in-memory consumer fed through a channel; `closed` turns true on `close`.
pub(crate) struct FakeConsumer {
    pub deliveries: mpsc::UnboundedReceiver<Box<dyn Delivery>>,
    pub closed: Arc<AtomicBool>,
}

#[async_trait]
impl Consumer for FakeConsumer {
    async fn next(&mut self) -> Result<Box<dyn Delivery>, TransportError> {
        self.deliveries.recv().await.ok_or(TransportError::Closed)
    }

    async fn close(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        self.deliveries.close();
    }
}

/// A fake consumer, the sender that feeds it, its `closed` flag and the settlement log.
pub(crate) fn fake_queue() -> (
    FakeConsumer,
    mpsc::UnboundedSender<Box<dyn Delivery>>,
    Arc<AtomicBool>,
    SettledLog,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let closed = Arc::new(AtomicBool::new(false));
    let consumer = FakeConsumer {
        deliveries: rx,
        closed: closed.clone(),
    };
    (consumer, tx, closed, SettledLog::default())
}

/// A delivery of `payload` on `attempt`, recording into `log`.
pub(crate) fn delivery(
    id: &str,
    payload: &[u8],
    attempt: u32,
    log: &SettledLog,
) -> Box<dyn Delivery> {
    let mut envelope = Envelope::new(id, payload.to_vec());
    envelope.attempt = attempt;
    Box::new(FakeDelivery {
        envelope,
        log: log.clone(),
    })
}

/// The settlements recorded so far.
pub(crate) fn settled(log: &SettledLog) -> Vec<(String, Settled)> {
    log.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Polls `check` every 10 ms until it holds, panicking with `what` after `timeout`.
pub(crate) async fn eventually(timeout: std::time::Duration, what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
