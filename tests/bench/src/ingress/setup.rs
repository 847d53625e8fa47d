//! The ingress benchmark's world: the webhook fixtures, a fresh database, uniquely named
//! queues (deleted afterwards), the config file, and the release `jira-sync-ingress` process.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jira_sync_settings::{AmqpSettings, Settings};
use jira_sync_store::testing::TestDatabase;
use jira_sync_transport::amqp::AmqpTransport;

use crate::process::{Scratch, Service, free_port, release_binary, wait_for_200};
use crate::report::workspace_root;

/// The webhook secret of the benchmark's endpoint.
pub const SECRET: &str = "bench-webhook-secret-0123456789";
/// The endpoint the webhooks are posted to.
pub const ENDPOINT: &str = "jira-a";
/// The broker, as the services reach it.
pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// Payload sizes the benchmark uses: realistic webhook bodies.
const SIZES: std::ops::RangeInclusive<usize> = 2048..=20 * 1024;

/// One webhook fixture.
pub struct Fixture {
    pub name: String,
    pub body: Vec<u8>,
    pub project: String,
}

/// The fixtures of `tests/fixtures/jira-webhooks` that are 2-20 KB and name their project (so
/// that each is routed to exactly one connection: one webhook, one message), and the names
/// of the ones left out with the reason.
pub fn fixtures() -> anyhow::Result<(Vec<Fixture>, Vec<String>)> {
    let dir = workspace_root().join("tests/fixtures/jira-webhooks");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("read {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    paths.sort();
    let (mut used, mut left_out) = (Vec::new(), Vec::new());
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let body = std::fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        let hook = jira_sync_domain::JiraWebhook::parse(&body)
            .with_context(|| format!("{name} does not parse"))?;
        match hook.project_key {
            _ if !SIZES.contains(&body.len()) => {
                left_out.push(format!("`{name}` ({} bytes: outside 2-20 KB)", body.len()));
            }
            None => left_out.push(format!(
                "`{name}` (names no project, so it would fan out to every connection)"
            )),
            Some(project) => used.push(Fixture {
                name,
                body,
                project,
            }),
        }
    }
    if used.is_empty() {
        bail!("no usable fixture in {}", dir.display());
    }
    Ok((used, left_out))
}

/// A fresh database and queue prefix, with the config text the ingress runs on.
pub struct World {
    pub scratch: Scratch,
    pub db: TestDatabase,
    /// The ingress's settings (queues `{prefix}.*`).
    pub amqp: AmqpSettings,
    /// The ceiling publisher's own topology (`{prefix}-ceiling.*`), same declaration.
    pub ceiling_amqp: AmqpSettings,
    projects: Vec<String>,
}

impl World {
    pub async fn create(fixtures: &[Fixture]) -> anyhow::Result<Self> {
        let mut projects: Vec<String> = fixtures.iter().map(|f| f.project.clone()).collect();
        projects.sort();
        projects.dedup();
        let prefix = format!("bench-ingress-{}", uuid::Uuid::new_v4().simple());
        let db = TestDatabase::create()
            .await
            .context("create a database (is PostgreSQL up on 127.0.0.1:5432?)")?;
        let settings = |prefix: &str| {
            Settings::from_toml(&config(&db.url, &projects, 0, None, prefix))
                .context("the benchmark's ingress config is invalid")
        };
        let (amqp, ceiling_amqp) = match (settings(&prefix), settings(&format!("{prefix}-ceiling")))
        {
            (Ok(a), Ok(c)) => (a.amqp, c.amqp),
            (Err(e), _) | (_, Err(e)) => {
                db.cleanup().await;
                return Err(e);
            }
        };
        let world = Self {
            scratch: Scratch::new("ingress")?,
            db,
            amqp,
            ceiling_amqp,
            projects,
        };
        let declared = match AmqpTransport::new(&world.ceiling_amqp) {
            Ok(transport) => transport.declare_topology().await,
            Err(e) => Err(e),
        };
        if let Err(e) = declared {
            world.cleanup().await;
            return Err(anyhow::Error::new(e)
                .context("declare the ceiling's queues (is RabbitMQ up on 127.0.0.1:5672?)"));
        }
        Ok(world)
    }

    /// Starts `jira-sync-ingress` with `JIRA_SYNC_CONFIG=FILE`, listening on `port`, and waits
    /// until `/readyz` answers 200.
    /// `max_in_flight`: `None` keeps the default.
    pub async fn start_ingress(
        &self,
        port: u16,
        max_in_flight: Option<usize>,
    ) -> anyhow::Result<Service> {
        let text = config(
            &self.db.url,
            &self.projects,
            port,
            max_in_flight,
            &self.amqp.prefix,
        );
        Settings::from_toml(&text).context("the benchmark's ingress config is invalid")?;
        let file = self.scratch.write(&format!("ingress-{port}.toml"), &text)?;
        // The binary the Docker image and the Helm chart run (`jira-sync ingress` runs the same
        // `Application` from the all-in-one binary).
        let binary = release_binary("jira-sync-ingress")?;
        let file = file.to_string_lossy().into_owned();
        let started = Instant::now();
        let mut service = Service::spawn(
            "jira-sync-ingress",
            &binary,
            &[],
            &[("JIRA_SYNC_CONFIG", &file)],
        )?;
        wait_for_200(
            &mut service,
            port,
            "/readyz",
            started,
            Duration::from_millis(5),
            Duration::from_secs(30),
        )
        .await?;
        Ok(service)
    }

    /// Deletes both topologies and the database.
    pub async fn cleanup(self) {
        for amqp in [&self.amqp, &self.ceiling_amqp] {
            match AmqpTransport::new(amqp) {
                Ok(transport) => {
                    if let Err(e) = transport.delete_topology().await {
                        eprintln!("warning: queues {}.* not deleted: {e}", amqp.prefix);
                    }
                }
                Err(e) => eprintln!("warning: queues {}.* not deleted: {e}", amqp.prefix),
            }
        }
        self.db.cleanup().await;
    }
}

/// A free port for an ingress.
pub fn port() -> anyhow::Result<u16> {
    free_port()
}

/// The config file text: the distributed deployment (RabbitMQ and PostgreSQL, JSON logs at
/// `info`, defaults otherwise), this run's database and queue prefix, one endpoint, one
/// connection per fixture project.
fn config(
    db_url: &str,
    projects: &[String],
    port: u16,
    max_in_flight: Option<usize>,
    prefix: &str,
) -> String {
    let limit = max_in_flight
        .map(|n| format!("max_in_flight = {n}\n"))
        .unwrap_or_default();
    let mut text = format!(
        "[database]\nurl = \"{db_url}\"\n\n\
         [amqp]\nurl = \"{AMQP_URL}\"\nprefix = \"{prefix}\"\n\n\
         [ingress]\nlisten = \"127.0.0.1:{port}\"\n{limit}\n\
         [telemetry]\nlog_format = \"json\"\n\n\
         [runtime]\ntransport = \"amqp\"\nstore = \"postgres\"\n\n\
         [endpoints.{ENDPOINT}]\nkind = \"jira_cloud\"\nbase_url = \"http://127.0.0.1:9\"\n\
         email = \"bot@a.example.com\"\napi_token = \"unused\"\n\
         webhook = {{ method = \"hub_signature\", secret = \"{SECRET}\" }}\n\n\
         [endpoints.jira-b]\nkind = \"jira_cloud\"\nbase_url = \"http://127.0.0.1:9\"\n\
         email = \"bot@b.example.com\"\napi_token = \"unused\"\n"
    );
    for project in projects {
        let slug = project.to_ascii_lowercase();
        text.push_str(&format!(
            "\n[connections.{slug}]\n\
             left = {{ endpoint = \"{ENDPOINT}\", project = \"{project}\" }}\n\
             right = {{ endpoint = \"jira-b\", project = \"{project}\" }}\n"
        ));
    }
    text
}
