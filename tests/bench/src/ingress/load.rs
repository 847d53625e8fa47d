//! Load against the ingress: closed loop (N workers, each sending its next webhook as soon as
//! the previous one was answered: the maximum throughput at concurrency N) and open loop (a
//! fixed arrival schedule spread over a pool of connections, latency measured from each
//! request's scheduled time so that a slow answer is not hidden by the requests it delayed).
//!
//! Each figure counts only what happens inside the measurement window, after a warm-up. The
//! same loops drive the ingress (over HTTP) and the ceiling publisher (straight to the broker):
//! both are a [`Target`].

use std::time::{Duration, Instant};

use super::http::Reply;

/// What one load phase saw inside its measurement window.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// The window's length.
    pub window: Duration,
    /// 202 with `"status":"accepted"`: published and confirmed.
    pub accepted: u64,
    /// Latencies of the accepted ones.
    pub accepted_latency: Vec<Duration>,
    /// 503 answers, and their latencies.
    pub unavailable: u64,
    pub unavailable_latency: Vec<Duration>,
    /// 503 answers without `Retry-After`.
    pub unavailable_without_retry_after: u64,
    /// Any other status, or a 202 that was not `accepted`.
    pub unexpected: u64,
    /// Connection errors (the connection is reopened).
    pub io_errors: u64,
    /// Open loop only: requests still unsent one window after the schedule ended (the
    /// generator gives up on them; their latency would have been longer than a window).
    pub abandoned: u64,
    /// Open loop only: answers that arrived inside the window (whenever they were scheduled),
    /// 202 accepted and 503: the rates the server actually sustained.
    pub accepted_done_in_window: u64,
    pub unavailable_done_in_window: u64,
    /// Open loop only: how late the generator sent requests whose connection was idle at
    /// their scheduled time (its own timer and scheduling delay, not the server's).
    pub send_lag: Vec<Duration>,
}

impl Outcome {
    /// Accepted webhooks per second.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.window.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: Outcome) {
        self.accepted += other.accepted;
        self.accepted_latency.extend(other.accepted_latency);
        self.unavailable += other.unavailable;
        self.unavailable_latency.extend(other.unavailable_latency);
        self.unavailable_without_retry_after += other.unavailable_without_retry_after;
        self.unexpected += other.unexpected;
        self.io_errors += other.io_errors;
        self.abandoned += other.abandoned;
        self.accepted_done_in_window += other.accepted_done_in_window;
        self.unavailable_done_in_window += other.unavailable_done_in_window;
        self.send_lag.extend(other.send_lag);
    }

    fn record(&mut self, reply: std::io::Result<Reply>, latency: Duration) {
        match reply {
            Ok(Reply {
                status: 202,
                accepted: true,
                ..
            }) => {
                self.accepted += 1;
                self.accepted_latency.push(latency);
            }
            Ok(Reply {
                status: 503,
                retry_after,
                ..
            }) => {
                self.unavailable += 1;
                self.unavailable_latency.push(latency);
                if !retry_after {
                    self.unavailable_without_retry_after += 1;
                }
            }
            Ok(_) => self.unexpected += 1,
            Err(_) => self.io_errors += 1,
        }
    }
}

/// The timing of one phase: it starts at `start`, measures from `start + warmup` for `window`.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub warmup: Duration,
    pub window: Duration,
}

impl Phase {
    /// The measurement window of a phase starting at `start`.
    pub fn window_from(&self, start: Instant) -> (Instant, Instant) {
        let from = start + self.warmup;
        (from, from + self.window)
    }
}

/// Something requests are sent to, one at a time per instance: an HTTP connection to the
/// ingress, or a publisher on the broker's channel.
pub trait Target: Send + 'static {
    /// Gets ready (connects) before the phase starts.
    fn prepare(&mut self) -> impl Future<Output = std::io::Result<()>> + Send;
    /// Sends request number `i` (taken round robin from a fixed set) and waits for its answer.
    fn send(&mut self, i: usize) -> impl Future<Output = std::io::Result<Reply>> + Send;
}

/// `concurrency` targets, each sending back to back (its next request as soon as the previous
/// one was answered), each from its own offset in the request set.
pub async fn closed_loop<T: Target>(
    mut make: impl FnMut(usize) -> T,
    concurrency: usize,
    phase: Phase,
    start: Instant,
) -> anyhow::Result<Outcome> {
    let (from, until) = phase.window_from(start);
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let mut target = make(worker);
        workers.spawn(async move {
            let mut outcome = Outcome::default();
            target.prepare().await?;
            tokio::time::sleep_until(start.into()).await;
            let mut i = worker * 7;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let reply = target.send(i).await;
                i += 1;
                let done = Instant::now();
                if done >= from && done < until {
                    outcome.record(reply, done - sent);
                }
            }
            Ok::<_, std::io::Error>(outcome)
        });
    }
    collect(workers, phase.window).await
}

/// Sends at `rate` per second on a fixed schedule, spread round robin over `connections`
/// targets. A request whose target is still busy at its scheduled time waits for it, and that
/// wait counts in its latency (measured from the scheduled time); a request whose target was
/// idle is measured from when it was actually sent, so that the generator's own timer
/// granularity (about 1 ms) does not count against the server.
pub async fn open_loop<T: Target>(
    mut make: impl FnMut(usize) -> T,
    connections: usize,
    rate: f64,
    phase: Phase,
    start: Instant,
) -> anyhow::Result<Outcome> {
    let (from, until) = phase.window_from(start);
    let interval = Duration::from_secs_f64(1.0 / rate.max(1e-3));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..connections {
        let mut target = make(worker);
        workers.spawn(async move {
            let mut outcome = Outcome::default();
            target.prepare().await?;
            let mut previous_done = start;
            for k in 0u64.. {
                let slot = k * connections as u64 + worker as u64;
                let scheduled = start + interval.mul_f64(slot as f64);
                if scheduled >= until {
                    break;
                }
                let now = Instant::now();
                if now >= until + phase.window {
                    let left = (until - scheduled).as_secs_f64() / interval.as_secs_f64();
                    outcome.abandoned += (left / connections as f64).ceil() as u64;
                    break;
                }
                if now < scheduled {
                    tokio::time::sleep_until(scheduled.into()).await;
                }
                let sent = Instant::now();
                let busy_at_schedule = previous_done > scheduled;
                let origin = if busy_at_schedule { scheduled } else { sent };
                let reply = target.send(slot as usize).await;
                let done = Instant::now();
                previous_done = done;
                if done >= from && done < until {
                    match &reply {
                        Ok(Reply {
                            status: 202,
                            accepted: true,
                            ..
                        }) => outcome.accepted_done_in_window += 1,
                        Ok(Reply { status: 503, .. }) => outcome.unavailable_done_in_window += 1,
                        _ => {}
                    }
                }
                if scheduled >= from {
                    outcome.record(reply, done - origin);
                    if !busy_at_schedule {
                        outcome.send_lag.push(sent - scheduled);
                    }
                }
            }
            Ok::<_, std::io::Error>(outcome)
        });
    }
    collect(workers, phase.window).await
}

async fn collect(
    mut workers: tokio::task::JoinSet<std::io::Result<Outcome>>,
    window: Duration,
) -> anyhow::Result<Outcome> {
    let mut total = Outcome {
        window,
        ..Outcome::default()
    };
    while let Some(joined) = workers.join_next().await {
        total.merge(joined??);
    }
    Ok(total)
}
