//! The consume loop: up to `concurrency` deliveries in flight, and a graceful drain on shutdown.
//!
//! On shutdown the loop stops taking deliveries, gives in-flight ones `drain_timeout` to finish
//! and settle, abandons the rest (unsettled, the broker returns them to the queue when the
//! consumer closes) and closes the consumer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_transport::{Consumer, Delivery, TransportError};
use tokio::sync::Semaphore;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::error::chain;

/// Pause after a failed receive, so a broken consumer does not spin.
const RECEIVE_BACKOFF: Duration = Duration::from_secs(1);

/// Runs `handle` on each delivery until `shutdown` is cancelled or the consumer closes, then
/// drains. `handle` must settle the delivery and must not fail.
pub(crate) async fn run<H, F>(
    mut consumer: Box<dyn Consumer>,
    handle: H,
    concurrency: usize,
    drain_timeout: Duration,
    shutdown: CancellationToken,
) where
    H: Fn(Box<dyn Delivery>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut in_flight = JoinSet::new();
    loop {
        while let Some(done) = in_flight.try_join_next() {
            report(done);
        }
        let permit = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let next = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = consumer.next() => next,
        };
        match next {
            Ok(delivery) => {
                let work = handle(delivery);
                in_flight.spawn(async move {
                    work.await;
                    drop(permit);
                });
            }
            Err(TransportError::Closed) => {
                info!("consumer closed");
                break;
            }
            Err(e) => {
                warn!(error = %chain(&e), "receiving failed; trying again");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(RECEIVE_BACKOFF) => {}
                }
            }
        }
    }
    drain(&mut in_flight, drain_timeout).await;
    consumer.close().await;
    info!("consumer stopped");
}

/// Waits up to `timeout` for in-flight deliveries, then abandons the rest.
async fn drain(in_flight: &mut JoinSet<()>, timeout: Duration) {
    if in_flight.is_empty() {
        return;
    }
    info!(in_flight = in_flight.len(), "draining in-flight deliveries");
    let finished = tokio::time::timeout(timeout, async {
        while let Some(done) = in_flight.join_next().await {
            report(done);
        }
    })
    .await;
    if finished.is_err() {
        warn!(
            abandoned = in_flight.len(),
            "drain timed out; unsettled deliveries go back to the queue"
        );
        in_flight.abort_all();
        while in_flight.join_next().await.is_some() {}
    }
}

fn report(done: Result<(), JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        // A bug, not a bad message: the delivery stays unsettled and is redelivered.
        error!(error = %e, "a delivery handler panicked");
    }
}

#[cfg(test)]
mod tests;
