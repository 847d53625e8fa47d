//! The services as the benchmarks run them: the release binaries started as separate processes
//! with a config file, waited for on their HTTP endpoints, and observed through `/proc` (CPU
//! time, peak and current resident memory). Used by the `ingress`, `footprint` and `startup`
//! benchmarks.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::report::workspace_root;

/// Where the binaries come from instead of `target/release` (to compare two builds).
pub const BIN_DIR_ENV: &str = "JIRA_SYNC_BENCH_BIN_DIR";

/// A release binary of the workspace, which must have been built first; from
/// [`BIN_DIR_ENV`] when that is set.
pub fn release_binary(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os(BIN_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("release"));
    let path = dir.join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build it first with `cargo build --release -p jira-sync \
             -p jira-sync-ingress -p jira-sync-worker -p jira-sync-poller -p jira-sync-admin \
             -p jira-sync-jira-sim -p jira-sync-bench`",
            path.display()
        );
    }
    Ok(path)
}

/// A port that was free a moment ago (the kernel picks it; released before returning).
pub fn free_port() -> anyhow::Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").context("bind a probe port")?;
    Ok(probe.local_addr().context("probe address")?.port())
}

/// A private directory for config files and data, removed on drop.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "jira-sync-bench-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(Self { dir })
    }

    /// Writes `text` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running service process, killed when dropped if it was not stopped.
pub struct Service {
    pub name: String,
    pub pid: u32,
    child: tokio::process::Child,
}

impl Service {
    /// Starts `binary args...` with `env` and stdout and stderr discarded (logs cost what they
    /// cost in production, minus the collector); `JIRA_SYNC_CONFIG` and `RUST_LOG` are not
    /// inherited.
    pub fn spawn(
        name: &str,
        binary: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let child = tokio::process::Command::new(binary)
            .args(args)
            .env_remove("JIRA_SYNC_CONFIG")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let pid = child.id().context("the child has no pid")?;
        Ok(Self {
            name: name.to_owned(),
            pid,
            child,
        })
    }

    /// `/proc` counters of the process now.
    pub fn sample(&self) -> anyhow::Result<ProcSample> {
        ProcSample::read(self.pid).with_context(|| format!("read /proc of {}", self.name))
    }

    /// Fails when the process has exited (it should be serving).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early with {status}", self.name);
        }
        Ok(())
    }

    /// SIGTERM, then waits up to 30 s for a clean exit (SIGKILL after that).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
                Ok(())
            }
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("{} did not stop within 30 s of SIGTERM", self.name)
            }
        }
    }
}

/// CPU time and memory of one process at one moment, from `/proc/<pid>/{stat,status}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User plus system CPU time so far.
    pub cpu: Duration,
    /// Resident set size now, in KiB.
    pub rss_kib: u64,
    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub hwm_kib: u64,
    /// Of the resident set: anonymous memory (heap, stacks) and file-backed pages (the
    /// binary's code and read-only data, shared and reclaimable), in KiB.
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    /// Threads now.
    pub threads: u64,
}

impl ProcSample {
    /// Reads the counters of `pid` (`"self"` is read through [`ProcSample::of_self`]).
    pub fn read(pid: u32) -> anyhow::Result<Self> {
        Self::read_path(&format!("/proc/{pid}"))
    }

    /// The counters of this process (the load generator).
    pub fn of_self() -> anyhow::Result<Self> {
        Self::read_path("/proc/self")
    }

    fn read_path(dir: &str) -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string(format!("{dir}/stat"))?;
        // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .context("unexpected /proc stat format")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, 11 and 12 after the state (field 3).
        let ticks = |i: usize| -> anyhow::Result<u64> {
            fields
                .get(i)
                .context("short /proc stat")?
                .parse::<u64>()
                .context("/proc stat field")
        };
        let cpu_ticks = ticks(11)? + ticks(12)?;
        let status = std::fs::read_to_string(format!("{dir}/status"))?;
        // "VmHWM:     12345 kB", "Threads:   9".
        let number = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(Self {
            cpu: Duration::from_secs_f64(cpu_ticks as f64 / clock_ticks_per_second()),
            rss_kib: number("VmRSS:"),
            hwm_kib: number("VmHWM:"),
            rss_anon_kib: number("RssAnon:"),
            rss_file_kib: number("RssFile:"),
            threads: number("Threads:"),
        })
    }
}

/// The machine's CPU time so far, busy and total, summed over every core (`/proc/stat`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    pub busy: Duration,
    pub total: Duration,
}

impl MachineCpu {
    pub fn read() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let line = stat
            .lines()
            .find(|l| l.starts_with("cpu "))
            .context("no cpu line in /proc/stat")?;
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        if ticks.len() < 8 {
            bail!("short cpu line in /proc/stat");
        }
        let total: u64 = ticks.iter().sum();
        let idle = ticks[3] + ticks[4];
        let secs = |t: u64| Duration::from_secs_f64(t as f64 / clock_ticks_per_second());
        Ok(Self {
            busy: secs(total - idle),
            total: secs(total),
        })
    }

    /// The CPU time all processes used between `self` and `later`.
    pub fn busy_until(&self, later: &Self) -> Duration {
        later.busy.saturating_sub(self.busy)
    }

    /// The share of the machine's CPU capacity used between `self` and `later` (0.0-1.0).
    pub fn busy_share(&self, later: &Self) -> f64 {
        let total = later.total.saturating_sub(self.total).as_secs_f64();
        if total <= 0.0 {
            return 0.0;
        }
        later.busy.saturating_sub(self.busy).as_secs_f64() / total
    }
}

/// Waits until the machine has been at most `threshold` busy (0.0-1.0) over half a second, or
/// until `max` has passed; the last busy share seen. The benchmarks call it between phases
/// (with their own processes idle), so that a phase starts when nothing else is running.
pub async fn wait_for_quiet(max: Duration, threshold: f64) -> f64 {
    let began = Instant::now();
    loop {
        let Ok(before) = MachineCpu::read() else {
            return 0.0;
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(after) = MachineCpu::read() else {
            return 0.0;
        };
        let share = before.busy_share(&after);
        if share <= threshold || began.elapsed() >= max {
            return share;
        }
    }
}

/// `sysconf(_SC_CLK_TCK)` through `getconf` (no libc calls here: unsafe is forbidden);
/// 100 on every Linux this runs on.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The pid of the machine's RabbitMQ node (`beam.smp` running as the `rabbitmq` user, where
/// the Debian package runs it; other nodes, such as private ones that tests start, run as
/// other users), to account for the broker's CPU time.
pub fn broker_pid() -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let rabbit_uid = passwd
        .lines()
        .find_map(|l| l.strip_prefix("rabbitmq:"))
        .and_then(|rest| rest.split(':').nth(1))
        .map(str::to_owned);
    let nodes: Vec<(u32, Option<String>)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            if comm.trim() != "beam.smp" || !String::from_utf8_lossy(&cmdline).contains("rabbit") {
                return None;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            let uid = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next())
                .map(str::to_owned);
            Some((pid, uid))
        })
        .collect();
    nodes
        .iter()
        .find(|(_, uid)| rabbit_uid.is_some() && *uid == rabbit_uid)
        .or_else(|| nodes.first())
        .map(|(pid, _)| *pid)
}

/// One `GET path` on a fresh connection; the status code, or the I/O error (refused while the
/// process is still starting).
pub async fn http_get_status(port: u16, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut head[read..]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        read += n;
    }
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::ErrorKind::InvalidData.into())
}

/// Polls `GET path` every `every` until it answers 200; the time from `since` to that answer.
pub async fn wait_for_200(
    service: &mut Service,
    port: u16,
    path: &str,
    since: Instant,
    every: Duration,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    loop {
        if let Ok(200) = http_get_status(port, path).await {
            return Ok(since.elapsed());
        }
        service.check_alive()?;
        if since.elapsed() > timeout {
            bail!(
                "{} did not answer 200 on {path} within {timeout:?}",
                service.name
            );
        }
        tokio::time::sleep(every).await;
    }
}
