//! Private, throw-away servers that a scenario may stop and start: a RabbitMQ node and a
//! PostgreSQL cluster, each in a scratch directory on free local ports under names of their
//! own. They never touch the machine's shared broker (5672) or database (5432), which other
//! tests are using; each is stopped (by its own node name or data directory) when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory under the system's temporary directory, removed when dropped (kept when the
/// test failed, for its logs).
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "jira-sync-faults-{what}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for its logs", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free local port: {e}"))
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Runs a command to completion; panics with its output when it fails.
fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

/// A RabbitMQ node of our own, without plugins (it boots in a few seconds).
pub struct PrivateRabbit {
    pub port: u16,
    dist_port: u16,
    node: String,
    dir: Scratch,
    child: Option<Child>,
}

impl PrivateRabbit {
    /// Boots the node and waits until it accepts AMQP connections.
    pub async fn start() -> Self {
        let dir = Scratch::new("rabbitmq");
        std::fs::write(dir.path().join("enabled_plugins"), "[].\n")
            .unwrap_or_else(|e| panic!("write enabled_plugins: {e}"));
        let port = free_port();
        let conf = format!("listeners.tcp.default = 127.0.0.1:{port}\n");
        std::fs::write(dir.path().join("rabbitmq.conf"), conf)
            .unwrap_or_else(|e| panic!("write rabbitmq.conf: {e}"));
        let mut node = Self {
            port,
            dist_port: free_port(),
            node: format!(
                "jira-sync-faults-{}@localhost",
                uuid::Uuid::new_v4().simple()
            ),
            dir,
            child: None,
        };
        node.boot().await;
        node
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        let dir = self.dir.path();
        vec![
            ("HOME", dir.to_owned()),
            ("RABBITMQ_NODENAME", PathBuf::from(&self.node)),
            ("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins")),
            ("RABBITMQ_MNESIA_BASE", dir.join("mnesia")),
            ("RABBITMQ_LOG_BASE", dir.join("log")),
            ("RABBITMQ_PID_FILE", dir.join("pid")),
            (
                "RABBITMQ_DIST_PORT",
                PathBuf::from(self.dist_port.to_string()),
            ),
            // The start script then execs the Erlang VM instead of running it as a child: the
            // process we hold is the broker, and killing it (when `rabbitmqctl stop` cannot)
            // leaves nothing behind.
            ("RUNNING_UNDER_SYSTEMD", PathBuf::from("true")),
        ]
    }

    /// Starts the node on its data directory (again, after [`PrivateRabbit::stop`]) and waits
    /// until it accepts connections.
    pub async fn boot(&mut self) {
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .unwrap_or_else(|e| panic!("RabbitMQ log file: {e}"));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("RabbitMQ log file: {e}"));
        // The broker's own script: Debian's /usr/sbin wrapper would switch to the rabbitmq
        // user, which cannot read the scratch directory's cookie.
        let child = Command::new(rabbit_script("rabbitmq-server"))
            .envs(self.env())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rabbitmq-server (install it): {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !port_open(self.port) {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "the RabbitMQ node exited with {status} while starting:\n{}",
                    self.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the RabbitMQ node did not come up:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (node, env) = (self.node.clone(), self.env());
        blocking(move || {
            run(
                Command::new(rabbit_script("rabbitmqctl")).envs(env).args([
                    "-n",
                    &node,
                    "await_startup",
                    "--timeout",
                    "60",
                ]),
                "rabbitmqctl await_startup",
            )
        })
        .await;
    }

    /// Stops the node (as `rabbitmqctl stop` does in a restart: clients are disconnected) and
    /// waits until its process is gone.
    pub async fn stop(&mut self) {
        let (node, env) = (self.node.clone(), self.env());
        let child = self.child.take();
        blocking(move || {
            let _ = Command::new(rabbit_script("rabbitmqctl"))
                .envs(env)
                .args(["-n", &node, "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if let Some(mut child) = child {
                wait_or_kill(&mut child, Duration::from_secs(30));
            }
        })
        .await;
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new(rabbit_script("rabbitmqctl"))
                .envs(self.env())
                .args(["-n", &self.node, "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            wait_or_kill(&mut child, Duration::from_secs(20));
        }
    }
}

fn rabbit_script(name: &str) -> PathBuf {
    let debian = Path::new("/usr/lib/rabbitmq/bin").join(name);
    if debian.is_file() {
        debian
    } else {
        PathBuf::from(name)
    }
}

/// Waits for our own child to exit; kills it (and only it) after `timeout`.
fn wait_or_kill(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| panic!("blocking task: {e}"))
}

/// A PostgreSQL cluster of our own (trust authentication on 127.0.0.1, fsync off: it is thrown
/// away). PostgreSQL refuses to run as root, so as root its commands run as `postgres`.
pub struct PrivatePostgres {
    pub port: u16,
    dir: Scratch,
    running: bool,
}

impl PrivatePostgres {
    /// Creates the cluster and starts it.
    pub async fn start() -> Self {
        let dir = Scratch::new("postgres");
        if as_root() {
            run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(dir.path()),
                "chown the cluster directory to postgres",
            );
        }
        let mut pg = Self {
            port: free_port(),
            dir,
            running: false,
        };
        let data = pg.data();
        blocking(move || {
            run(
                pg_command("initdb").arg("-D").arg(&data).args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]),
                "initdb",
            )
        })
        .await;
        pg.boot().await;
        pg
    }

    /// The server URL, without a database: `postgres://postgres@127.0.0.1:<port>`.
    pub fn server_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the cluster and waits until it accepts connections.
    pub async fn boot(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let (data, log) = (self.data(), self.dir.path().join("server.log"));
        blocking(move || {
            run(
                pg_command("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(&log)
                    .args(["-o", &options, "-w", "-t", "60", "start"]),
                "pg_ctl start",
            )
        })
        .await;
        self.running = true;
    }

    /// Stops the cluster the way a restart does (`-m fast`: sessions are disconnected, open
    /// transactions rolled back).
    pub async fn stop(&mut self) {
        let data = self.data();
        blocking(move || {
            run(
                pg_command("pg_ctl")
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", "fast", "-w", "-t", "60", "stop"]),
                "pg_ctl stop",
            )
        })
        .await;
        self.running = false;
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.running {
            let _ = pg_command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL server program (the newest installed version's), run as `postgres` when we
/// are root.
fn pg_command(program: &str) -> Command {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        name.and_then(|n| n.parse::<u32>().ok()).unwrap_or(0)
    });
    let path = versions
        .last()
        .map(|v| v.join("bin").join(program))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(program));
    if as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}
