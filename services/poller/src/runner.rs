//! Driving one schedule: win (or wait for) its leader lock, run it every interval while
//! leading, and give the lock up on shutdown.
//!
//! A replica that does not lead tries again every `leader_lock_retry` (never less often than
//! the schedule's interval), so when the leader dies another takes over within one interval.
//! The leader checks its lock at every wake and before every page of a run. The time of the
//! last complete run is a store cursor, so a new leader (or a restarted one) keeps the rhythm
//! instead of starting a daily full pass at every takeover. A failed run is tried again at the
//! next interval; the failure is logged and counted.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, warn};

use crate::error::{RunError, chain};
use crate::jobs::{Ctx, Run};
use crate::leader::{Elector, Leadership};
use crate::metrics;
use crate::observe::{PollerHandle, RunOutcome};
use crate::schedule::Schedule;
use crate::timefmt::{cursor_text, parse_cursor};

/// The store cursor holding the start of a schedule's last complete run.
fn last_run_cursor(schedule: &Schedule) -> String {
    format!("poller/last-run/{}", schedule.id)
}

/// Drives `schedule` until `shutdown` is cancelled.
pub(crate) async fn drive(
    ctx: Arc<Ctx>,
    elector: Elector,
    schedule: Schedule,
    handle: PollerHandle,
    shutdown: CancellationToken,
) {
    let span = tracing::info_span!("schedule", schedule = %schedule.id);
    Driver {
        ctx,
        elector,
        schedule,
        handle,
        shutdown,
    }
    .drive()
    .instrument(span)
    .await;
}

struct Driver {
    ctx: Arc<Ctx>,
    elector: Elector,
    schedule: Schedule,
    handle: PollerHandle,
    shutdown: CancellationToken,
}

impl Driver {
    async fn drive(self) {
        let retry = self
            .ctx
            .settings
            .poller
            .leader_lock_retry
            .min(self.schedule.interval);
        let mut leadership: Option<Leadership> = None;
        // When the next run is due, and when the last complete one started (for the lag).
        let mut due = tokio::time::Instant::now();
        let mut last_complete: Option<chrono::DateTime<Utc>> = None;
        while !self.shutdown.is_cancelled() {
            if let Some(held) = leadership.as_mut()
                && held.check().await.is_err()
            {
                warn!("leader lock lost");
                self.leading(false);
                leadership = None;
            }
            if leadership.is_none() {
                match self.elector.try_lead(&self.schedule.id).await {
                    Ok(Some(won)) => {
                        info!("leading");
                        leadership = Some(won);
                        self.leading(true);
                        last_complete = self.last_run().await;
                        due = self.due_after(last_complete);
                    }
                    Ok(None) => {}
                    Err(e) => warn!(error = %chain(&e), "cannot ask for the leader lock"),
                }
            }
            let Some(held) = leadership.as_mut() else {
                self.sleep(retry).await;
                continue;
            };
            if tokio::time::Instant::now() >= due {
                let started = Utc::now();
                due = tokio::time::Instant::now() + self.schedule.interval;
                if self.run(held).await {
                    last_complete = Some(started);
                }
            }
            if let Some(at) = last_complete {
                metrics::lag(
                    &self.schedule.id,
                    (Utc::now() - at).to_std().unwrap_or_default(),
                );
            }
            let until_due = due.saturating_duration_since(tokio::time::Instant::now());
            self.sleep(until_due.min(retry)).await;
        }
        if let Some(held) = leadership {
            held.release().await;
            info!("leadership released");
        }
        self.leading(false);
    }

    fn leading(&self, leading: bool) {
        self.handle.set_leading(&self.schedule.id, leading);
        metrics::leader(&self.schedule.id, leading);
    }

    async fn sleep(&self, duration: Duration) {
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            () = tokio::time::sleep(duration) => {}
        }
    }

    /// The start of the last complete run, from the store (any replica's).
    async fn last_run(&self) -> Option<chrono::DateTime<Utc>> {
        match self
            .ctx
            .store
            .cursor(&last_run_cursor(&self.schedule))
            .await
        {
            Ok(text) => text.as_deref().and_then(parse_cursor),
            Err(e) => {
                warn!(error = %chain(&e), "cannot read the last run time; running now");
                None
            }
        }
    }

    /// When the next run is due after a complete run that started at `last`.
    fn due_after(&self, last: Option<chrono::DateTime<Utc>>) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        let Some(last) = last else {
            return now;
        };
        let elapsed = (Utc::now() - last).to_std().unwrap_or_default();
        now + self.schedule.interval.saturating_sub(elapsed)
    }

    /// One run; `true` when it completed.
    async fn run(&self, leadership: &mut Leadership) -> bool {
        let id = &self.schedule.id;
        let started = Utc::now();
        self.ctx.observer.run_started(id);
        let mut run = Run::new(&self.ctx, &self.schedule, leadership, &self.shutdown);
        // One trace per run: the requests it publishes carry this span's context, so the
        // worker's reconciles show up under the run that found them.
        let result = run
            .execute()
            .instrument(tracing::info_span!("poll_run"))
            .await;
        let report = run.report;
        let outcome = match result {
            Ok(()) => RunOutcome::Completed(report),
            Err(RunError::LostLeadership) => RunOutcome::LostLeadership(report),
            Err(RunError::Cancelled) => RunOutcome::Cancelled(report),
            Err(e) => RunOutcome::Failed {
                report,
                error: chain(&e),
            },
        };
        let completed = matches!(outcome, RunOutcome::Completed(_));
        match &outcome {
            RunOutcome::Completed(r) => {
                info!(
                    pages = r.pages,
                    scanned = r.scanned,
                    changed = r.changed,
                    enqueued = r.enqueued,
                    "run complete"
                );
                let cursor = last_run_cursor(&self.schedule);
                if let Err(e) = self
                    .ctx
                    .store
                    .advance_cursor(&cursor, &cursor_text(started))
                    .await
                {
                    warn!(error = %chain(&e), "cannot record the run time");
                }
                metrics::last_run(id, Utc::now().timestamp_millis() as f64 / 1000.0);
            }
            RunOutcome::Failed { error, report } => {
                warn!(%error, pages = report.pages, enqueued = report.enqueued, "run failed; retrying at the next interval");
            }
            RunOutcome::LostLeadership(_) => warn!("run stopped: leadership lost"),
            RunOutcome::Cancelled(_) => info!("run stopped: shutting down"),
        }
        metrics::run_finished(id, outcome.label());
        self.ctx.observer.run_finished(id, &outcome);
        self.handle.finished(id, outcome);
        completed
    }
}
