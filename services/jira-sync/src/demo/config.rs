//! The demo's installation: two simulated sites (`a`, project A; `b`, project B, with the
//! simulator's default users and its To Do -> In Progress -> Done workflow, where To Do to Done
//! takes two hops), and the jira-sync configuration of `deploy/examples/two-sims.toml` pointed
//! at them, with short retry delays and a one-second poll so that the scenario fits in seconds.

use std::path::Path;
use std::time::Duration;

use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle, WebhookSpec};

use super::{DataDir, DemoError};
use crate::serve::Serve;

/// The webhook secrets the sites sign with.
const SECRET_A: &str = "demo-secret-a";
const SECRET_B: &str = "demo-secret-b";

/// Two sites; failed webhook deliveries are retried quickly, as Jira retries them.
pub fn sim_config() -> SimConfig {
    SimConfig {
        sites: vec![SiteConfig::named("a"), SiteConfig::named("b")],
        webhook_retry_delay: Duration::from_millis(300),
        webhook_max_retries: 5,
        ..SimConfig::default()
    }
}

/// The two running sites.
pub struct Sites {
    /// Site `a`, project `A` (the connection's left side).
    pub a: SiteHandle,
    /// Site `b`, project `B` (the right side).
    pub b: SiteHandle,
}

impl Sites {
    /// The sites of a simulator started with [`sim_config`].
    pub fn of(sim: &Simulator) -> Result<Self, DemoError> {
        let site = |name: &str| {
            sim.site(name).cloned().ok_or_else(|| DemoError::Webhook {
                site: name.to_owned(),
                detail: "the simulator did not start it".to_owned(),
            })
        };
        Ok(Self {
            a: site("a")?,
            b: site("b")?,
        })
    }
}

/// The ports `serve` listens on (0 when a role is not running).
pub struct Ports {
    pub ingress: u16,
    pub worker: u16,
    pub poller: u16,
    pub admin: u16,
}

impl Ports {
    /// The ports of a built `serve`.
    pub fn of(serve: &Serve) -> Self {
        Self {
            ingress: serve.ports().ingress.unwrap_or_default(),
            worker: serve.ports().worker.unwrap_or_default(),
            poller: serve.ports().poller.unwrap_or_default(),
            admin: serve.ports().admin.unwrap_or_default(),
        }
    }
}

/// A fresh admin API key for this run (printed with the URLs; nothing else needs it).
pub fn admin_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    format!("demo-{nanos:x}{:x}", std::process::id())
}

/// The configuration: two-sims.toml's connection on the simulated sites, every listener on a
/// free port, embedded queue and store under `data_dir`.
pub fn settings_toml(sites: &Sites, data_dir: &Path, admin_key: &str) -> String {
    let (a, b) = (sites.a.base_url(), sites.b.base_url());
    let data_dir = data_dir.display().to_string().replace('\\', "/");
    format!(
        r#"# Written by `jira-sync demo`; the same connection as deploy/examples/two-sims.toml.
[runtime]
data_dir = "{data_dir}"
lease_timeout = "2s"

[amqp]
retry_delays = ["200ms", "500ms", "1s"]
max_attempts = 20

[ingress]
listen = "127.0.0.1:0"

[worker]
listen = "127.0.0.1:0"
concurrency = 4
drain_timeout = "2s"

[poller]
listen = "127.0.0.1:0"
# A lost webhook is repaired within a second or two.
jira_interval = "1s"
retry_sweep_interval = "2s"

[admin]
listen = "127.0.0.1:0"
api_keys = ["{admin_key}"]

[jira]
request_timeout = "5s"
connect_timeout = "1s"
max_retries = 1
retry_budget = "2s"

[telemetry]
log_filter = "off"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "{a}"
email = "bot@a.example.com"
api_token = "a-bot-token"
webhook = {{ method = "hub_signature", secret = "{SECRET_A}" }}

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "{b}"
email = "bot@b.example.com"
api_token = "b-bot-token"
webhook = {{ method = "hub_signature", secret = "{SECRET_B}" }}

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-b", project = "B" }}
priority_map = [{{ left = "High", right = "Highest" }}]
status_map = [{{ left = "In Progress", right = "In Progress" }}]
transition_fields = {{ resolution = {{ name = "Done" }} }}
users = [{{ left = "a-admin-0001", right = "b-admin-0001" }}]
custom_fields = [{{ left = "customfield_10010", right = "customfield_10010", type = "text" }}]
sync_comments = true
sync_internal_comments = false
on_delete = "comment"

[connections.a-to-b.fields]
summary = {{ direction = "both", conflict = "latest_wins" }}
description = {{ direction = "both", conflict = "hold" }}
labels = {{ direction = "both", conflict = "latest_wins" }}
priority = {{ direction = "left_to_right", conflict = "left_wins" }}
due_date = {{ direction = "both", conflict = "latest_wins" }}
status = {{ direction = "both", conflict = "latest_wins" }}
assignee = {{ direction = "both", conflict = "latest_wins" }}
reporter = {{ direction = "left_to_right", conflict = "left_wins" }}
components = {{ direction = "both", conflict = "latest_wins" }}
fix_versions = {{ direction = "both", conflict = "latest_wins" }}
customfield_10010 = {{ direction = "both", conflict = "latest_wins" }}
"#
    )
}

/// Registers both sites' webhooks (every event) on the ingress.
pub fn register_webhooks(sites: &Sites, ingress_port: u16) -> Result<(), DemoError> {
    for (site, endpoint, secret) in [
        (&sites.a, "jira-a", SECRET_A),
        (&sites.b, "jira-b", SECRET_B),
    ] {
        let spec = WebhookSpec {
            url: format!("http://127.0.0.1:{ingress_port}/webhooks/jira/{endpoint}"),
            secret: Some(secret.to_owned()),
            events: vec!["*".to_owned()],
            jql: None,
        };
        site.register_webhook(spec)
            .map_err(|e| DemoError::Webhook {
                site: site.name().to_owned(),
                detail: format!("{e:?}"),
            })?;
    }
    Ok(())
}

/// Where to look next.
pub(super) fn urls(sites: &Sites, ports: &Ports, admin_key: &str, dir: &DataDir) -> String {
    let admin = format!("http://127.0.0.1:{}", ports.admin);
    let mut text = String::from("\nwhere to look:\n");
    text.push_str(&format!(
        "  admin API   {admin}/api/v1/links, /api/v1/conflicts, /api/v1/dead-letters\n\
         \x20             curl -H 'Authorization: Bearer {admin_key}' {admin}/api/v1/conflicts\n\
         \x20             jira-sync conflicts --url {admin} --key {admin_key}\n"
    ));
    text.push_str(&format!(
        "  metrics     http://127.0.0.1:{}/metrics (worker), http://127.0.0.1:{}/metrics \
         (ingress), http://127.0.0.1:{}/metrics (poller)\n",
        ports.worker, ports.ingress, ports.poller
    ));
    for site in [&sites.a, &sites.b] {
        text.push_str(&format!(
            "  site {}      {}/_sim/issues (as {} / {})\n",
            site.name(),
            site.base_url(),
            site.users().first().map_or("", |u| u.email.as_str()),
            site.users().first().map_or("", |u| u.api_token.as_str()),
        ));
    }
    let kept = if dir.temporary {
        "removed at exit"
    } else {
        "kept"
    };
    text.push_str(&format!("  data dir    {} ({kept})\n", dir.path.display()));
    text
}
