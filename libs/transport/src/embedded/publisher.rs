//! The [`Publisher`] of the embedded work queue: `publish` returns once the row is committed
//! (and, with `synchronous = FULL`, on disk), within `busy_timeout`.

use std::sync::Arc;

use async_trait::async_trait;

use super::queue::{Queue, now_ms};
use super::sql;
use crate::{Envelope, Publisher, TransportError};

pub(crate) struct EmbeddedPublisher {
    pub(crate) queue: Arc<Queue>,
}

#[async_trait]
impl Publisher for EmbeddedPublisher {
    #[tracing::instrument(
        name = "embedded.publish",
        skip_all,
        fields(message_id = %envelope.message_id, attempt = envelope.attempt)
    )]
    async fn publish(&self, envelope: Envelope) -> Result<(), TransportError> {
        let timeout = self.queue.settings.busy_timeout;
        // Bounded as a whole (waiting for the write connection included), like a confirm
        // timeout. Cut short, the insert may still commit: a duplicate, never a loss.
        let insert = sql::insert(&self.queue.writer, &envelope, now_ms());
        let result = tokio::time::timeout(timeout, insert)
            .await
            .unwrap_or_else(|_| {
                Err(TransportError::Unavailable(format!(
                    "the queue database did not take the message within {timeout:?}"
                )))
            });
        match &result {
            Ok(()) => self.queue.wake.notify_waiters(),
            Err(error) => tracing::warn!(%error, "publish not stored"),
        }
        result
    }

    /// Whether a write could be made now: takes SQLite's write lock and gives it back.
    async fn is_ready(&self) -> bool {
        let probe = async {
            let tx = self.queue.writer.begin_with("BEGIN IMMEDIATE").await?;
            tx.rollback().await
        };
        matches!(
            tokio::time::timeout(self.queue.settings.busy_timeout, probe).await,
            Ok(Ok(()))
        )
    }
}
