//! A throw-away RabbitMQ node booted with the docker-compose configuration
//! (`deploy/rabbitmq/rabbitmq.conf`, `enabled_plugins`, `definitions.json`) on free local ports,
//! under its own node name, home and data directory. It never touches the shared broker on 5672,
//! and stops (by its own node name) when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, path, read};

/// A running private node.
pub struct RabbitNode {
    pub amqp_port: u16,
    pub management_port: u16,
    pub prometheus_port: u16,
    node: String,
    dir: TempDir,
    child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free local port: {e}"))
}

/// The broker's own start script: Debian's /usr/sbin wrapper would switch to the rabbitmq user,
/// which cannot read the temporary directory's cookie.
fn server_script() -> PathBuf {
    let debian = PathBuf::from("/usr/lib/rabbitmq/bin/rabbitmq-server");
    if debian.is_file() {
        return debian;
    }
    super::tools::tool("rabbitmq-server")
}

fn ctl_script() -> PathBuf {
    let debian = PathBuf::from("/usr/lib/rabbitmq/bin/rabbitmqctl");
    if debian.is_file() {
        return debian;
    }
    super::tools::tool("rabbitmqctl")
}

/// Replaces the line starting with `key =` (which must exist in the compose configuration).
fn set_key(conf: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key} =");
    assert!(
        conf.lines().any(|l| l.starts_with(&prefix)),
        "deploy/rabbitmq/rabbitmq.conf has no `{key} = ...` line"
    );
    conf.lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                format!("{key} = {value}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl RabbitNode {
    /// Boots the node and waits (up to 120 s) until its management API answers.
    pub fn start() -> Self {
        let dir = TempDir::new("rabbitmq");
        let (amqp_port, management_port, prometheus_port, dist_port) =
            (free_port(), free_port(), free_port(), free_port());
        let mut conf = read("deploy/rabbitmq/rabbitmq.conf");
        let definitions = path("deploy/rabbitmq/definitions.json");
        conf = set_key(
            &conf,
            "load_definitions",
            &definitions.display().to_string(),
        );
        conf = set_key(&conf, "management.tcp.port", &management_port.to_string());
        conf = set_key(&conf, "prometheus.tcp.port", &prometheus_port.to_string());
        conf.push_str(&format!(
            "\nlisteners.tcp.default = 127.0.0.1:{amqp_port}\nmanagement.tcp.ip = 127.0.0.1\nprometheus.tcp.ip = 127.0.0.1\n"
        ));
        let conf_path = dir.write("rabbitmq.conf", &conf);
        let node = format!("deploychecks-{}@localhost", uuid::Uuid::new_v4().simple());
        let log = std::fs::File::create(dir.path().join("server.log"))
            .unwrap_or_else(|e| panic!("log file: {e}"));
        let log_err = log.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let child = Command::new(server_script())
            .envs(Self::env_for(&node, &dir))
            .env("RABBITMQ_CONFIG_FILE", &conf_path)
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                path("deploy/rabbitmq/enabled_plugins"),
            )
            .env("RABBITMQ_MNESIA_BASE", dir.path().join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.path().join("log"))
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_PID_FILE", dir.path().join("pid"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (install rabbitmq-server)",
                    server_script().display()
                )
            });
        let mut node = Self {
            amqp_port,
            management_port,
            prometheus_port,
            node,
            dir,
            child,
        };
        node.wait_until_up(Duration::from_secs(120));
        node
    }

    fn env_for(node: &str, dir: &TempDir) -> Vec<(String, String)> {
        vec![
            ("HOME".to_owned(), dir.path().display().to_string()),
            ("RABBITMQ_NODENAME".to_owned(), node.to_owned()),
        ]
    }

    fn wait_until_up(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let url = format!("http://127.0.0.1:{}/api/overview", self.management_port);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the RabbitMQ node exited with {status} while starting:\n{}",
                    self.logs()
                );
            }
            // The management API answers before the boot (and the definitions import) is over;
            // await_startup then waits for the rest.
            if http_get(&url).is_ok() {
                let out = Command::new(ctl_script())
                    .envs(Self::env_for(&self.node, &self.dir))
                    .args(["-n", &self.node, "await_startup", "--timeout", "60"])
                    .output()
                    .unwrap_or_else(|e| panic!("rabbitmqctl: {e}"));
                assert!(
                    out.status.success(),
                    "await_startup: {}\n{}",
                    String::from_utf8_lossy(&out.stderr),
                    self.logs()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the RabbitMQ node did not come up in {timeout:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The server's output and log file, for failure messages.
    pub fn logs(&self) -> String {
        let mut out =
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        if let Ok(entries) = std::fs::read_dir(self.dir.path().join("log")) {
            for entry in entries.flatten() {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    /// A management API resource (`queues/%2f`, ...) as JSON, as guest.
    pub fn api(&self, resource: &str) -> serde_json::Value {
        let body = http_get(&format!(
            "http://127.0.0.1:{}/api/{resource}",
            self.management_port
        ))
        .unwrap_or_else(|e| panic!("GET /api/{resource}: {e}"));
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/api/{resource} is not JSON: {e}"))
    }

    /// The Prometheus exposition of the node.
    pub fn scrape(&self) -> String {
        http_get(&format!(
            "http://127.0.0.1:{}/metrics",
            self.prometheus_port
        ))
        .unwrap_or_else(|e| panic!("scrape: {e}"))
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        let _ = Command::new(ctl_script())
            .envs(Self::env_for(&self.node, &self.dir))
            .args(["-n", &self.node, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // Our own child only: never a broad kill.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET over plain HTTP/1.0 (no chunking to decode) with guest's basic auth.
fn http_get(url: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(authority).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    // base64("guest:guest")
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP header")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(body.to_owned())
    } else {
        Err(format!("{status}: {body}"))
    }
}
