//! The end-to-end harness: two simulated Jira Cloud sites, the ingress and the sync worker
//! running in-process against the real RabbitMQ (through a cuttable TCP proxy, so one test can
//! take "the broker" away without disturbing the others) and a fresh PostgreSQL database, with
//! the simulators' webhooks registered on the ingress.
//!
//! Every [`TestEnv`] has its own database, queue prefix and ports, so tests run in parallel and
//! leave nothing behind ([`TestEnv::stop`] removes the queues and the database).

mod env;
mod jira;
mod queues;

use std::future::Future;
use std::time::{Duration, Instant};

pub use env::{EnvOptions, TestEnv};
pub use jira::{SiteActor, bot_writes};
pub use queues::QueueProbe;

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `read` returns the same value for `quiet` in a row (the system settled), and
/// returns it. Panics after `timeout`.
pub async fn settled<T, F, Fut>(timeout: Duration, quiet: Duration, what: &str, mut read: F) -> T
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = Instant::now() + timeout;
    let mut last = read().await;
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = read().await;
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return last;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not settle within {timeout:?}; last value {last:?}"
        );
    }
}

/// Signs a body as Jira signs webhooks: `sha256=<hex HMAC-SHA256 of the raw body>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(e) => panic!("HMAC accepts keys of any length: {e}"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
