//! The sync worker as a real process: `jira-sync worker --config FILE` (the `jira-sync-e2e`
//! binary of this package is the `jira-sync` command line), with JSON logs in one file per
//! run. The test kills it with SIGKILL and starts it again; a supervisor task restarts it after
//! an exit the test did not cause, as Kubernetes would, and counts those exits.
//!
//! The logs are also the worker's ledger: every delivery it settles is logged (inside the
//! delivery's span, which carries the message id) *before* it is acknowledged, so a delivery
//! acknowledged by a process that was then killed is never missing from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How a delivery of a message ended, as the worker logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Reconciled,
    Retried,
    DeadLettered { class: String },
}

/// What the worker's logs say about every message id: how each of its deliveries ended, in
/// order.
#[derive(Debug, Default)]
pub struct Ledger {
    pub messages: BTreeMap<String, Vec<Settled>>,
}

impl Ledger {
    /// How the message's last delivery ended, unless it is still waiting for a retry.
    pub fn outcome(&self, id: &str) -> Option<&Settled> {
        self.messages
            .get(id)?
            .last()
            .filter(|s| **s != Settled::Retried)
    }

    /// Deliveries settled, all outcomes.
    pub fn settlements(&self) -> usize {
        self.messages.values().map(Vec::len).sum()
    }

    /// Deliveries that failed transiently and were sent to a retry tier.
    pub fn retries(&self) -> usize {
        let retried = |s: &&Settled| **s == Settled::Retried;
        self.messages
            .values()
            .map(|s| s.iter().filter(retried).count())
            .sum()
    }

    /// Messages reconciled (successfully) more than once: redelivered after a kill or a cut.
    pub fn reconciled_twice(&self) -> usize {
        let twice = |s: &&Vec<Settled>| s.iter().filter(|s| **s == Settled::Reconciled).count() > 1;
        self.messages.values().filter(twice).count()
    }
}

struct Inner {
    child: Option<Child>,
    /// False while the test holds the worker down (killed, or stopping it).
    wanted: bool,
    runs: u32,
    logs: Vec<PathBuf>,
    port: Option<u16>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Never leave a worker running behind a failed test.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The worker process and its supervisor.
pub struct WorkerProcess {
    config: PathBuf,
    dir: PathBuf,
    inner: Mutex<Inner>,
    stop: CancellationToken,
    /// Exits the test did not cause, with the end of that run's log.
    pub crashes: Mutex<Vec<String>>,
    pub kills: std::sync::atomic::AtomicU32,
}

impl WorkerProcess {
    /// Starts `jira-sync worker --config <config>` with its logs in `dir`, and its supervisor.
    pub async fn start(config: PathBuf, dir: PathBuf) -> Arc<Self> {
        let worker = Arc::new(Self {
            config,
            dir,
            inner: Mutex::new(Inner {
                child: None,
                wanted: true,
                runs: 0,
                logs: Vec::new(),
                port: None,
            }),
            stop: CancellationToken::new(),
            crashes: Mutex::new(Vec::new()),
            kills: std::sync::atomic::AtomicU32::new(0),
        });
        worker.spawn(&mut *worker.inner.lock().await);
        tokio::spawn(supervise(worker.clone()));
        worker
    }

    fn spawn(&self, inner: &mut Inner) {
        inner.runs += 1;
        let log = self.dir.join(format!("worker-{}.log", inner.runs));
        let open = || {
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap_or_else(|e| panic!("open {}: {e}", log.display()))
        };
        let child = Command::new(env!("CARGO_BIN_EXE_jira-sync-e2e"))
            .args(["worker", "--config"])
            .arg(&self.config)
            .env_remove("JIRA_SYNC_CONFIG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(open())
            .stderr(open())
            .spawn()
            .unwrap_or_else(|e| panic!("start jira-sync worker: {e}"));
        inner.child = Some(child);
        inner.logs.push(log);
        inner.port = None;
        inner.wanted = true;
    }

    /// SIGKILL: no drain, no acknowledgement, no goodbye. The worker stays down until
    /// [`WorkerProcess::restart`].
    pub async fn kill(&self) {
        let mut inner = self.inner.lock().await;
        inner.wanted = false;
        if let Some(mut child) = inner.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.kills.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Starts it again (after [`WorkerProcess::kill`] or [`WorkerProcess::terminate`]).
    pub async fn restart(&self) {
        let mut inner = self.inner.lock().await;
        if inner.child.is_none() {
            self.spawn(&mut inner);
        }
    }

    /// SIGTERM, as an orderly restart or shutdown: in-flight work drains, then it exits.
    pub async fn terminate(&self) {
        let child = {
            let mut inner = self.inner.lock().await;
            inner.wanted = false;
            inner.child.take()
        };
        if let Some(mut child) = child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the supervisor and the worker (at the end of a test).
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.terminate().await;
    }

    /// Waits until the running worker answers `/healthz` (the port comes from its banner).
    pub async fn wait_healthy(&self, http: &reqwest::Client, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(port) = self.port().await {
                let url = format!("http://127.0.0.1:{port}/healthz");
                let ok = http
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the worker did not become healthy within {timeout:?}:\n{}",
                self.last_log_lines(30).await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn port(&self) -> Option<u16> {
        let mut inner = self.inner.lock().await;
        if inner.port.is_none() {
            let log = inner.logs.last()?;
            inner.port = banner_port(&std::fs::read_to_string(log).unwrap_or_default());
        }
        inner.port
    }

    /// Reads every run's log, in order.
    pub async fn ledger(&self) -> Ledger {
        let logs = self.inner.lock().await.logs.clone();
        let mut ledger = Ledger::default();
        for log in logs {
            read_ledger(&log, &mut ledger);
        }
        ledger
    }

    pub async fn last_log_lines(&self, n: usize) -> String {
        let log = self.inner.lock().await.logs.last().cloned();
        log.map(|l| tail(&l, n)).unwrap_or_default()
    }
}

/// Restarts the worker a second after an exit nobody asked for.
async fn supervise(worker: Arc<WorkerProcess>) {
    loop {
        tokio::select! {
            () = worker.stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        let mut inner = worker.inner.lock().await;
        let exited = match inner.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(status),
            _ => None,
        };
        if let (Some(status), true) = (exited, inner.wanted) {
            inner.child = None;
            let log = inner.logs.last().map(|l| tail(l, 15)).unwrap_or_default();
            worker
                .crashes
                .lock()
                .await
                .push(format!("exited with {status}:\n{log}"));
            drop(inner);
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut inner = worker.inner.lock().await;
            if inner.wanted && inner.child.is_none() && !worker.stop.is_cancelled() {
                worker.spawn(&mut inner);
            }
        }
    }
}

/// The worker's port from the banner line `worker:   http://127.0.0.1:<port>/healthz ...`.
fn banner_port(log: &str) -> Option<u16> {
    log.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("worker:")?.trim();
        let rest = rest.strip_prefix("http://")?;
        let (_, port) = rest.split('/').next()?.rsplit_once(':')?;
        port.parse().ok()
    })
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Adds the settlements logged in one run's log. A line cut short by a SIGKILL is skipped: its
/// delivery was not acknowledged yet.
fn read_ledger(path: &Path, ledger: &mut Ledger) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let message = entry["fields"]["message"].as_str().unwrap_or_default();
        let settled = match message {
            "reconciled" => Settled::Reconciled,
            "reconcile failed; will retry" => Settled::Retried,
            "reconcile failed; dead-lettering" => Settled::DeadLettered {
                class: entry["fields"]["class"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            _ => continue,
        };
        let Some(id) = entry["span"]["message_id"].as_str() else {
            continue;
        };
        ledger
            .messages
            .entry(id.to_owned())
            .or_default()
            .push(settled);
    }
}
