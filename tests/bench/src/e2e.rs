//! A whole installation as separate processes, for the `footprint` and `startup` benchmarks:
//! two simulated Jira Cloud sites (the `jira-sim` binary, sites `a` and `b`), a fresh
//! PostgreSQL database, uniquely named queues, and one config file for every role (the
//! distributed deployment on RabbitMQ and PostgreSQL, or `serve` on its embedded queue and
//! store). Everything is removed by [`World::cleanup`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use jira_sync_settings::Settings;
use jira_sync_store::testing::TestDatabase;
use jira_sync_transport::amqp::AmqpTransport;

use crate::process::{Scratch, Service, free_port, release_binary, wait_for_200};

/// The broker, as the services reach it.
const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// The admin API key of the config (the admin API starts only with one).
const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef";

/// Where each role listens.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub ingress: u16,
    pub worker: u16,
    pub poller: u16,
    pub admin: u16,
    /// Site `a`; site `b` is on the next port.
    pub sites: u16,
}

/// The simulated sites, the database, the queues and the config files.
pub struct World {
    pub scratch: Scratch,
    pub db: TestDatabase,
    pub prefix: String,
    pub ports: Ports,
    pub sites: Service,
}

impl World {
    /// Starts the simulator and creates the database; the queues are declared by the first
    /// service that starts.
    pub async fn create(label: &str) -> anyhow::Result<Self> {
        let scratch = Scratch::new(label)?;
        let sites_port = consecutive_free_ports()?;
        let binary = release_binary("jira-sim")?;
        let base = sites_port.to_string();
        let started = Instant::now();
        let mut sites = Service::spawn(
            "jira-sim",
            &binary,
            &["--names", "a,b", "--base-port", &base],
            &[],
        )?;
        for port in [sites_port, sites_port + 1] {
            wait_for_200(
                &mut sites,
                port,
                "/_sim/info",
                started,
                Duration::from_millis(5),
                Duration::from_secs(20),
            )
            .await?;
        }
        let db = TestDatabase::create()
            .await
            .context("create a database (is PostgreSQL up on 127.0.0.1:5432?)")?;
        Ok(Self {
            scratch,
            db,
            prefix: format!("bench-{label}-{}", uuid::Uuid::new_v4().simple()),
            ports: Ports {
                ingress: free_port()?,
                worker: free_port()?,
                poller: free_port()?,
                admin: free_port()?,
                sites: sites_port,
            },
            sites,
        })
    }

    /// The config of every role: RabbitMQ and PostgreSQL, or with `embedded` the SQLite queue
    /// and store in that directory (for `serve`). JSON logs at `info`, as deployed.
    pub fn config(&self, embedded: Option<&Path>) -> String {
        let p = self.ports;
        let runtime = match embedded {
            None => "transport = \"amqp\"\nstore = \"postgres\"\n".to_owned(),
            Some(dir) => format!(
                "transport = \"embedded\"\nstore = \"sqlite\"\ndata_dir = \"{}\"\n",
                dir.display()
            ),
        };
        let mut text = format!(
            "[database]\nurl = \"{db}\"\n\n\
             [amqp]\nurl = \"{AMQP_URL}\"\nprefix = \"{prefix}\"\n\n\
             [ingress]\nlisten = \"127.0.0.1:{ingress}\"\n\n\
             [worker]\nlisten = \"127.0.0.1:{worker}\"\n\n\
             [poller]\nlisten = \"127.0.0.1:{poller}\"\njira_interval = \"5s\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin}\"\napi_keys = [\"{ADMIN_KEY}\"]\n\n\
             [telemetry]\nlog_format = \"json\"\n\n\
             [runtime]\n{runtime}\n",
            db = self.db.url,
            prefix = self.prefix,
            ingress = p.ingress,
            worker = p.worker,
            poller = p.poller,
            admin = p.admin,
        );
        for (site, port) in [("a", p.sites), ("b", p.sites + 1)] {
            text.push_str(&format!(
                "[endpoints.jira-{site}]\nkind = \"jira_cloud\"\n\
                 base_url = \"http://127.0.0.1:{port}\"\nemail = \"bot@{site}.example.com\"\n\
                 api_token = \"{site}-bot-token\"\n\
                 webhook = {{ method = \"hub_signature\", secret = \"{}\" }}\n\n",
                secret(site)
            ));
        }
        text.push_str(
            "[connections.a-to-b]\nleft = { endpoint = \"jira-a\", project = \"A\" }\n\
             right = { endpoint = \"jira-b\", project = \"B\" }\n",
        );
        text
    }

    /// Writes `config(embedded)` to `name`, checked by the settings loader first.
    pub fn write_config(&self, name: &str, embedded: Option<&Path>) -> anyhow::Result<PathBuf> {
        let text = self.config(embedded);
        Settings::from_toml(&text).context("the benchmark's config is invalid")?;
        self.scratch.write(name, &text)
    }

    /// The base URL of site `a` or `b`.
    pub fn site_url(&self, site: &str) -> String {
        let port = if site == "a" {
            self.ports.sites
        } else {
            self.ports.sites + 1
        };
        format!("http://127.0.0.1:{port}")
    }

    /// Registers the ingress as both sites' webhook receiver.
    pub async fn register_webhooks(&self, client: &reqwest::Client) -> anyhow::Result<()> {
        for site in ["a", "b"] {
            let body = serde_json::json!({
                "url": format!("http://127.0.0.1:{}/webhooks/jira/jira-{site}", self.ports.ingress),
                "secret": secret(site),
                "events": ["*"],
            });
            let response = client
                .post(format!("{}/_sim/webhooks", self.site_url(site)))
                .json(&body)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "webhook registration on site {site}: {}",
                response.status()
            );
        }
        Ok(())
    }

    /// Waits until the work queue has been empty for two checks in a row, half a second
    /// apart (the edits after the last create are synced too).
    pub async fn wait_for_empty_work_queue(&self, timeout: Duration) -> anyhow::Result<()> {
        let settings = Settings::from_toml(&self.config(None))?;
        let transport = AmqpTransport::new(&settings.amqp)?;
        let deadline = Instant::now() + timeout;
        let mut empty_before = false;
        while Instant::now() < deadline {
            let empty = transport.queue_depths().await?.work == 0;
            if empty && empty_before {
                return Ok(());
            }
            empty_before = empty;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        anyhow::bail!("the work queue did not drain within {timeout:?}")
    }

    /// Stops the simulator, deletes the queues and drops the database.
    pub async fn cleanup(self) {
        let config = self.config(None);
        if let Err(e) = self.sites.stop().await {
            eprintln!("warning: {e:#}");
        }
        let deleted = Settings::from_toml(&config)
            .map_err(anyhow::Error::from)
            .and_then(|s| Ok(AmqpTransport::new(&s.amqp)?));
        match deleted {
            Ok(transport) => {
                if let Err(e) = transport.delete_topology().await {
                    eprintln!("warning: queues {}.* not deleted: {e}", self.prefix);
                }
            }
            Err(e) => eprintln!("warning: queues {}.* not deleted: {e:#}", self.prefix),
        }
        self.db.cleanup().await;
    }
}

/// The webhook secret of site `a` or `b`.
fn secret(site: &str) -> String {
    format!("bench-secret-{site}-0123456789")
}

/// Two free consecutive ports (the simulator takes a base port).
fn consecutive_free_ports() -> anyhow::Result<u16> {
    for _ in 0..50 {
        let first = free_port()?;
        if first < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", first + 1)).is_ok() {
            return Ok(first);
        }
    }
    anyhow::bail!("no two consecutive free ports found")
}
