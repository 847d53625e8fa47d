//! The measured phases: each runs one load against the ingress or the ceiling publisher,
//! samples the CPU time of the ingress, the broker and this process exactly over the
//! measurement window, and empties the queue it filled.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jira_sync_transport::amqp::Names;

use super::ceiling::{Message, Publisher};
use super::http::{Conn, IngressTarget};
use super::load::{Outcome, Phase, closed_loop, open_loop};
use super::setup::{AMQP_URL, Fixture, World};
use super::{Closed, Plan, Run, Usage};
use crate::process::{MachineCpu, ProcSample, broker_pid, wait_for_quiet};

/// The routing key of the work queue's binding (`jira-sync-transport`'s topology).
const WORK_ROUTING_KEY: &str = "work";
/// A phase waits for the machine to be at most this busy (other processes: ours are idle).
const QUIET: f64 = 0.08;
/// A phase during which other processes took more of the machine than this is repeated.
const MAX_OTHERS: f64 = 0.15;
/// Runs of one phase at most.
const ATTEMPTS: usize = 3;
/// Time given to a phase's connections to open before its schedule starts.
const LEAD_IN: Duration = Duration::from_millis(300);

/// The load generator and the ceiling publisher, with what they send.
pub struct Bench {
    port: u16,
    requests: Arc<Vec<Vec<u8>>>,
    publisher: Publisher,
    /// What the ingress published for each fixture, captured by [`Bench::capture`].
    messages: Arc<Vec<Message>>,
    ingress_queue: String,
    ceiling_exchange: Arc<str>,
    ceiling_queue: String,
    routing_key: Arc<str>,
    broker: Option<u32>,
    /// Time spent waiting for a quiet machine and repeating disturbed phases.
    spent: Cell<Duration>,
    repeated: Cell<u32>,
}

/// The share of the machine other processes took during `run`.
fn others_share(run: &Run) -> f64 {
    run.usage.others.as_secs_f64() / run.usage.capacity.as_secs_f64().max(1e-9)
}

impl Bench {
    pub async fn connect(
        world: &World,
        port: u16,
        requests: Arc<Vec<Vec<u8>>>,
    ) -> anyhow::Result<Self> {
        let names = |prefix: &str| Names::new(prefix, &world.amqp.retry_delays);
        let (ingress, ceiling) = (
            names(&world.amqp.prefix)?,
            names(&world.ceiling_amqp.prefix)?,
        );
        Ok(Self {
            port,
            requests,
            publisher: Publisher::connect(AMQP_URL).await?,
            messages: Arc::new(Vec::new()),
            ingress_queue: ingress.work_queue,
            ceiling_exchange: ceiling.work_exchange.into(),
            ceiling_queue: ceiling.work_queue,
            routing_key: WORK_ROUTING_KEY.into(),
            broker: broker_pid(),
            spent: Cell::new(Duration::ZERO),
            repeated: Cell::new(0),
        })
    }

    /// Sends each fixture once and takes what the ingress published off its queue: the
    /// messages the ceiling publisher republishes. Fails unless each webhook became exactly
    /// one message.
    pub async fn capture(&mut self) -> anyhow::Result<()> {
        let n = self.requests.len();
        let mut conn = Conn::new(self.port);
        for (i, request) in self.requests.iter().enumerate() {
            let reply = conn.send(request).await?;
            anyhow::ensure!(
                reply.status == 202 && reply.accepted,
                "fixture {i} was not accepted: {reply:?}"
            );
        }
        let mut messages = Vec::new();
        for _ in 0..50 {
            let wanted = n - messages.len();
            messages.extend(self.publisher.take(&self.ingress_queue, wanted).await?);
            if messages.len() == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::ensure!(
            messages.len() == n,
            "expected one message per fixture ({n}), found {}",
            messages.len()
        );
        let extra = self.publisher.purge(&self.ingress_queue).await?;
        anyhow::ensure!(extra == 0, "{extra} messages more than fixtures");
        self.messages = Arc::new(messages);
        Ok(())
    }

    /// The captured messages with the webhook bodies as payloads (the same properties): what
    /// the ceiling would be if the ingress forwarded whole webhooks.
    pub fn raw_messages(&self, fixtures: &[Fixture]) -> Vec<Message> {
        fixtures
            .iter()
            .zip(self.messages.iter())
            .map(|(f, m)| Message {
                payload: f.body.clone(),
                properties: m.properties.clone(),
            })
            .collect()
    }

    /// The smallest and largest payload the ingress published.
    pub fn message_bytes(&self) -> (usize, usize) {
        let sizes = self.messages.iter().map(|m| m.payload.len());
        (sizes.clone().min().unwrap_or(0), sizes.max().unwrap_or(0))
    }

    /// Every concurrency of the plan, `reps` times, ingress and ceiling alternating which goes
    /// first so that neither always runs on a fresher broker.
    pub async fn closed_loops(&self, plan: &Plan, pid: u32) -> anyhow::Result<Vec<Closed>> {
        let mut closed: Vec<Closed> = plan
            .concurrencies
            .iter()
            .map(|&concurrency| Closed {
                concurrency,
                ingress: Vec::new(),
                ceiling: Vec::new(),
            })
            .collect();
        for rep in 0..plan.reps {
            for entry in &mut closed {
                let c = entry.concurrency;
                if rep % 2 == 0 {
                    entry
                        .ceiling
                        .push(self.ceiling_closed(plan, pid, &self.messages, c).await?);
                    entry.ingress.push(
                        self.ingress_closed(plan, pid, c, plan.closed.window)
                            .await?,
                    );
                } else {
                    entry.ingress.push(
                        self.ingress_closed(plan, pid, c, plan.closed.window)
                            .await?,
                    );
                    entry
                        .ceiling
                        .push(self.ceiling_closed(plan, pid, &self.messages, c).await?);
                }
                eprintln!(
                    "    c={c:<4} ingress {:>7.0}/s  ceiling {:>7.0}/s",
                    entry.ingress.last().map_or(0.0, |r| r.outcome.rate()),
                    entry.ceiling.last().map_or(0.0, |r| r.outcome.rate()),
                );
            }
        }
        Ok(closed)
    }

    fn ingress_target(&self) -> impl FnMut(usize) -> IngressTarget + use<> {
        let (port, requests) = (self.port, self.requests.clone());
        move |_| IngressTarget {
            conn: Conn::new(port),
            requests: requests.clone(),
        }
    }

    /// The ingress at `concurrency` for a window of `window`.
    pub async fn ingress_closed_once(
        &self,
        plan: &Plan,
        pid: u32,
        concurrency: usize,
        window: Duration,
    ) -> anyhow::Result<Run> {
        let phase = Phase {
            window,
            ..plan.closed
        };
        let start = Instant::now() + LEAD_IN;
        let load = closed_loop(self.ingress_target(), concurrency, phase, start);
        let run = self.measured(pid, phase, start, load).await;
        self.publisher.purge(&self.ingress_queue).await?;
        run
    }

    /// The ceiling publisher with `concurrency` publishes in flight, publishing `messages`.
    async fn ceiling_closed_once(
        &self,
        plan: &Plan,
        pid: u32,
        messages: &Arc<Vec<Message>>,
        concurrency: usize,
    ) -> anyhow::Result<Run> {
        let start = Instant::now() + LEAD_IN;
        let make = |_| {
            self.publisher
                .target(&self.ceiling_exchange, &self.routing_key, messages)
        };
        let load = closed_loop(make, concurrency, plan.closed, start);
        let run = self.measured(pid, plan.closed, start, load).await;
        self.publisher.purge(&self.ceiling_queue).await?;
        run
    }

    /// The ingress at `rate` per second on a fixed schedule.
    async fn ingress_open_once(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        let start = Instant::now() + LEAD_IN;
        let load = open_loop(
            self.ingress_target(),
            plan.open_connections,
            rate,
            plan.open,
            start,
        );
        let run = self.measured(pid, plan.open, start, load).await;
        self.publisher.purge(&self.ingress_queue).await?;
        run
    }

    /// The ceiling publisher at `rate` per second on the same schedule.
    async fn ceiling_open_once(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        let start = Instant::now() + LEAD_IN;
        let make = |_| {
            self.publisher
                .target(&self.ceiling_exchange, &self.routing_key, &self.messages)
        };
        let load = open_loop(make, plan.open_connections, rate, plan.open, start);
        let run = self.measured(pid, plan.open, start, load).await;
        self.publisher.purge(&self.ceiling_queue).await?;
        run
    }

    /// The ingress at `rate` per second from the plan's (many) overload connections.
    async fn overload_once(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        let start = Instant::now() + LEAD_IN + Duration::from_millis(500);
        let load = open_loop(
            self.ingress_target(),
            plan.overload_connections,
            rate,
            plan.overload,
            start,
        );
        let run = self.measured(pid, plan.overload, start, load).await;
        self.publisher.purge(&self.ingress_queue).await?;
        run
    }

    /// The ingress at `concurrency` for a window of `window`.
    pub async fn ingress_closed(
        &self,
        plan: &Plan,
        pid: u32,
        concurrency: usize,
        window: Duration,
    ) -> anyhow::Result<Run> {
        self.settled(plan, || {
            self.ingress_closed_once(plan, pid, concurrency, window)
        })
        .await
    }

    /// The ceiling publisher with `concurrency` publishes in flight, publishing `messages`.
    pub async fn ceiling_closed(
        &self,
        plan: &Plan,
        pid: u32,
        messages: &Arc<Vec<Message>>,
        concurrency: usize,
    ) -> anyhow::Result<Run> {
        self.settled(plan, || {
            self.ceiling_closed_once(plan, pid, messages, concurrency)
        })
        .await
    }

    /// The ingress at `rate` per second on a fixed schedule.
    pub async fn ingress_open(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        self.settled(plan, || self.ingress_open_once(plan, pid, rate))
            .await
    }

    /// The ceiling publisher at `rate` per second on the same schedule.
    pub async fn ceiling_open(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        self.settled(plan, || self.ceiling_open_once(plan, pid, rate))
            .await
    }

    /// The ingress at `rate` per second from the plan's (many) overload connections.
    pub async fn overload(&self, plan: &Plan, pid: u32, rate: f64) -> anyhow::Result<Run> {
        self.settled(plan, || self.overload_once(plan, pid, rate))
            .await
    }

    /// Runs `phase` once the machine is quiet, and again (up to [`ATTEMPTS`] times in all)
    /// while other processes took more than [`MAX_OTHERS`] of the machine during it, keeping
    /// the run they disturbed least. Waiting and repeating stop when the plan's budget for
    /// them is spent.
    async fn settled<F, Fut>(&self, plan: &Plan, mut phase: F) -> anyhow::Result<Run>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Run>>,
    {
        let mut best: Option<Run> = None;
        for attempt in 0..ATTEMPTS {
            let waited = Instant::now();
            if self.spent.get() < plan.quiet_budget {
                wait_for_quiet(plan.quiet_wait, QUIET).await;
            }
            let run = phase().await?;
            let disturbed = others_share(&run);
            if best.as_ref().is_none_or(|b| disturbed < others_share(b)) {
                best = Some(run);
            }
            self.spent.set(self.spent.get() + waited.elapsed());
            if disturbed <= MAX_OTHERS || self.spent.get() >= plan.quiet_budget {
                break;
            }
            if attempt + 1 < ATTEMPTS {
                self.repeated.set(self.repeated.get() + 1);
                eprintln!(
                    "    other processes took {:.0}% of the machine: repeating the phase",
                    disturbed * 100.0
                );
            }
        }
        best.ok_or_else(|| anyhow::anyhow!("no attempt ran"))
    }

    /// How many phases were repeated because other processes disturbed them.
    pub fn repeated(&self) -> u32 {
        self.repeated.get()
    }

    /// Runs `load`, sampling CPU times at the edges of its measurement window.
    async fn measured(
        &self,
        pid: u32,
        phase: Phase,
        start: Instant,
        load: impl Future<Output = anyhow::Result<Outcome>>,
    ) -> anyhow::Result<Run> {
        let (from, until) = phase.window_from(start);
        let broker = self.broker;
        let sampler = tokio::spawn(async move {
            tokio::time::sleep_until(from.into()).await;
            let first = Snapshot::take(pid, broker);
            tokio::time::sleep_until(until.into()).await;
            (first, Snapshot::take(pid, broker))
        });
        let outcome = load.await?;
        let (first, last) = sampler.await?;
        Ok(Run {
            outcome,
            usage: first.until(&last),
        })
    }
}

/// CPU counters at one moment.
struct Snapshot {
    ingress: ProcSample,
    broker: ProcSample,
    generator: ProcSample,
    machine: MachineCpu,
}

impl Snapshot {
    fn take(pid: u32, broker: Option<u32>) -> Self {
        Self {
            ingress: ProcSample::read(pid).unwrap_or_default(),
            broker: broker
                .and_then(|b| ProcSample::read(b).ok())
                .unwrap_or_default(),
            generator: ProcSample::of_self().unwrap_or_default(),
            machine: MachineCpu::read().unwrap_or_default(),
        }
    }

    fn until(&self, later: &Self) -> Usage {
        let ingress = later.ingress.cpu.saturating_sub(self.ingress.cpu);
        let broker = later.broker.cpu.saturating_sub(self.broker.cpu);
        let generator = later.generator.cpu.saturating_sub(self.generator.cpu);
        let busy = self.machine.busy_until(&later.machine);
        let capacity = later.machine.total.saturating_sub(self.machine.total);
        Usage {
            ingress,
            broker,
            generator,
            machine: self.machine.busy_share(&later.machine),
            others: busy.saturating_sub(ingress + broker + generator),
            capacity,
        }
    }
}
