//! Creates whose outcome is unknown. A create that timed out (or lost its connection, or got a
//! 5xx) may still be applied by Jira after we gave up on it: a request stuck in a queue on the
//! way, or one Jira is still processing. If the reconcile returned at once, its retry could look
//! for the new entity before Jira made it, find nothing, and create a second one. So, still
//! holding the entity's lock, it looks again for a while (as long as one request may take),
//! and adopts what appears; only then does the failure go to the retry queue.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep};
use tracing::info;

use super::Reconciler;
use crate::error::ReconcileError;

/// The first look-up comes this long after the failure; each next one waits twice as long.
const FIRST_LOOK: Duration = Duration::from_millis(250);
/// The longest wait between two look-ups.
const MAX_GAP: Duration = Duration::from_secs(2);

impl Reconciler {
    /// How long a create that failed with `error` is watched for. When the service itself
    /// answered (a 500), whatever it did is done: one look. Otherwise (a timeout, a broken connection, a
    /// gateway's 502/503/504) the request may still be on its way or in progress: the Jira
    /// request timeout, as a request Jira took before our timeout is applied within about as
    /// long again.
    fn unknown_outcome_window(&self, error: &ReconcileError) -> Duration {
        if error.answered_by_service() {
            Duration::ZERO
        } else {
            self.settings.jira.request_timeout
        }
    }

    /// After a create failed with `error` (whose outcome is unknown), runs `look` (a search for
    /// what the create would have made) until it finds it or the window ends. `Ok(None)` when it
    /// never appeared: the caller returns `error`, and the retry looks once more before creating
    /// again.
    pub(super) async fn await_unknown_outcome<T, F, Fut>(
        &self,
        error: &ReconcileError,
        what: &str,
        mut look: F,
    ) -> Result<Option<T>, ReconcileError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, ReconcileError>>,
    {
        let deadline = Instant::now() + self.unknown_outcome_window(error);
        let mut gap = FIRST_LOOK;
        loop {
            let wait = gap.min(deadline.saturating_duration_since(Instant::now()));
            if !wait.is_zero() {
                sleep(wait).await;
            }
            if let Some(found) = look().await? {
                info!(
                    what,
                    "a create with an unknown outcome was applied; adopting its result"
                );
                return Ok(Some(found));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            gap = (gap * 2).min(MAX_GAP);
        }
    }
}
