//! Operator access to the embedded dead letters: peek reads without consuming; replay moves
//! the selected ones back to the work queue as first attempts, in one transaction.

use std::sync::Arc;

use async_trait::async_trait;

use super::queue::{Queue, now_ms};
use super::sql;
use crate::{DeadLetters, Envelope, TransportError};

pub(crate) struct EmbeddedDeadLetters {
    pub(crate) queue: Arc<Queue>,
}

#[async_trait]
impl DeadLetters for EmbeddedDeadLetters {
    #[tracing::instrument(name = "embedded.dlq.peek", skip_all, fields(limit))]
    async fn peek(&self, limit: usize) -> Result<Vec<Envelope>, TransportError> {
        sql::peek(&self.queue.reader, limit).await
    }

    #[tracing::instrument(name = "embedded.dlq.replay", skip_all, fields(selected = ids.map(<[String]>::len)))]
    async fn replay(&self, ids: Option<&[String]>) -> Result<usize, TransportError> {
        let moved = sql::replay(&self.queue.writer, ids, now_ms()).await?;
        if moved > 0 {
            self.queue.wake.notify_waiters();
        }
        tracing::info!(moved, "dead letters replayed");
        Ok(usize::try_from(moved).unwrap_or(usize::MAX))
    }
}
