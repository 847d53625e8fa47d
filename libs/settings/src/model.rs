//! The settings model: one struct per section of `defaults.toml`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use jira_sync_domain::merge::{ConflictPolicy, Direction, FieldRule};
use jira_sync_domain::{ConnectionId, EndpointId, Field, Side};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    AdminSettings, PollerSettings, RuntimeSettings, SettingsError, SideOptions, SyncOptions,
    duration,
};

/// Everything a jira-sync service reads at start-up.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub amqp: AmqpSettings,
    pub ingress: IngressSettings,
    pub worker: WorkerSettings,
    pub telemetry: TelemetrySettings,
    pub jira: JiraClientSettings,
    pub poller: PollerSettings,
    /// Which transport and store the all-in-one binary runs on.
    pub runtime: RuntimeSettings,
    /// The operator's admin API (`jira-sync-admin`).
    pub admin: AdminSettings,
    #[serde(default)]
    pub endpoints: BTreeMap<EndpointId, EndpointSettings>,
    #[serde(default)]
    pub connections: BTreeMap<ConnectionId, ConnectionSettings>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May hold a password: kept secret.
    pub url: SecretString,
    pub max_connections: u32,
    #[serde(with = "duration")]
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AmqpSettings {
    /// Holds the broker credentials: kept secret.
    pub url: SecretString,
    pub prefix: String,
    pub prefetch: u16,
    #[serde(with = "duration::list")]
    pub retry_delays: Vec<Duration>,
    pub max_attempts: u32,
    #[serde(with = "duration")]
    pub confirm_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressSettings {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    #[serde(with = "duration")]
    pub unavailable_retry_after: Duration,
    /// Publishes waiting for the broker's confirm at once; one more is refused with 503 and
    /// `Retry-After` straight away, so that overload pushes back on the sender instead of
    /// slowing every answer down.
    pub max_in_flight: usize,
    /// How long a client may take to send a request's headers (slow clients, "slow loris",
    /// are answered 408 and disconnected after it). Never zero: zero would wait forever.
    #[serde(with = "duration")]
    pub client_request_timeout: Duration,
    /// How long a connection is kept for the client to close it after the response, before
    /// it is dropped.
    #[serde(with = "duration")]
    pub client_disconnect_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub listen: SocketAddr,
    #[serde(with = "duration")]
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Base URL of the OTLP collector that spans are exported to (`http://collector:4317` for
    /// gRPC, `http://collector:4318` for HTTP, where `/v1/traces` is appended). Empty: spans are
    /// exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else not at all.
    #[serde(default)]
    pub otlp_endpoint: String,
    /// How spans reach the collector.
    #[serde(default)]
    pub otlp_protocol: OtlpProtocol,
    /// Share of new traces recorded and exported, 0.0 to 1.0; a trace continued from a caller
    /// follows the caller's decision (parent-based sampling).
    #[serde(default = "full_sampling")]
    pub sampling_ratio: f64,
}

/// The OTLP transport of span export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    /// OTLP/gRPC, plain text (a collector agent or sidecar; use `http` for TLS).
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies; `https://` works.
    Http,
}

fn full_sampling() -> f64 {
    1.0
}

impl TelemetrySettings {
    fn validate(&self) -> Result<(), SettingsError> {
        if !(0.0..=1.0).contains(&self.sampling_ratio) {
            return Err(SettingsError::invalid(
                "telemetry.sampling_ratio",
                "must be between 0.0 and 1.0",
            ));
        }
        let endpoint = self.otlp_endpoint.trim();
        if endpoint.is_empty() {
            return Ok(());
        }
        let scheme = url::Url::parse(endpoint).map(|url| url.scheme().to_owned());
        match (scheme.as_deref(), self.otlp_protocol) {
            (Ok("http"), _) | (Ok("https"), OtlpProtocol::Http) => Ok(()),
            (Ok("https"), OtlpProtocol::Grpc) => Err(SettingsError::invalid(
                "telemetry.otlp_endpoint",
                "https needs otlp_protocol = \"http\" (gRPC export is plain text)",
            )),
            _ => Err(SettingsError::invalid(
                "telemetry.otlp_endpoint",
                "must be an http:// or https:// URL",
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JiraClientSettings {
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    pub max_retries: u32,
    #[serde(with = "duration")]
    pub retry_budget: Duration,
    /// A budget of requests per second to each Jira endpoint, per process (a token bucket of
    /// `burst`): requests beyond it wait instead of drawing 429s. Unset: no budget; Jira's 429s
    /// and their `Retry-After` pace the process.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// The requests the budget allows at once after idling.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_burst() -> u32 {
    10
}

/// The kind of system an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// Jira Cloud, REST v3, e-mail + API token over Basic auth.
    JiraCloud,
    /// Jira Data Center (or Server), REST v2 with wiki markup and users by name: a personal
    /// access token (`pat`, sent as `Authorization: Bearer`) or `username` + `password` (Basic).
    JiraDataCenter,
    /// PeopleForce, REST `/api/public/v3`, `X-API-KEY` header (`api_key`). Its webhooks, if
    /// any, use `webhook = { method = "hub_signature", secret = ... }`: the same HMAC-SHA256 of
    /// the raw body, sent as `X-PeopleForce-Signature`.
    Peopleforce,
}

impl EndpointKind {
    /// Whether the endpoint is a Jira site (Cloud or Data Center): it has projects, issues
    /// and Jira webhooks.
    pub fn is_jira(self) -> bool {
        matches!(self, Self::JiraCloud | Self::JiraDataCenter)
    }
}

/// How the ingress authenticates webhooks for an endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum WebhookAuth {
    /// `X-Hub-Signature: sha256=<hex>` over the raw body, as Jira admin webhooks send it.
    HubSignature { secret: SecretString },
    /// `Authorization: Bearer <key>`, for senders that cannot sign.
    ApiKey { key: SecretString },
}

/// One system jira-sync talks to.
#[derive(Debug, Clone, Deserialize)]
pub struct EndpointSettings {
    pub kind: EndpointKind,
    /// `https://<site>.atlassian.net`; for PeopleForce `https://app.peopleforce.io`.
    pub base_url: url::Url,
    /// The Jira account e-mail (required for Jira, unused for PeopleForce).
    #[serde(default)]
    pub email: String,
    /// The Jira API token, or the PeopleForce API key (`api_key` is accepted as an alias).
    /// Unused for Data Center, which takes `pat` or `username` + `password`.
    #[serde(alias = "api_key", default = "no_secret")]
    pub api_token: SecretString,
    /// Data Center: a personal access token, sent as `Authorization: Bearer`.
    #[serde(default)]
    pub pat: Option<SecretString>,
    /// Data Center: the user name of Basic auth (with `password`), when no `pat` is given.
    #[serde(default)]
    pub username: String,
    /// Data Center: the password of `username`.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// How incoming webhooks are verified; an endpoint without it accepts none.
    #[serde(default)]
    pub webhook: Option<WebhookAuth>,
    /// The name people know the site by, used in synced comments ("Alice wrote in <name>:").
    /// Defaults to the endpoint id.
    #[serde(default)]
    pub site_name: Option<String>,
}

fn no_secret() -> SecretString {
    SecretString::from("")
}

/// One side of a connection.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionSide {
    pub endpoint: EndpointId,
    /// The Jira project key issues are synced in, and twins are created in. Required on Jira
    /// sides; a PeopleForce side has no projects and leaves it out.
    #[serde(default)]
    pub project: String,
    /// The issue type of twins created on this side.
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// Default user, scope filter and transition values of this side (see [`SideOptions`]).
    #[serde(flatten)]
    pub options: SideOptions,
}

fn default_issue_type() -> String {
    "Task".to_owned()
}

/// A priority name on the left paired with one on the right.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ValuePair {
    pub left: String,
    pub right: String,
}

/// A configured pair of endpoints with its scope and field mappings.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionSettings {
    pub left: ConnectionSide,
    pub right: ConnectionSide,
    /// Synced fields with their direction and conflict policy. Defaults to all fields, both
    /// ways, latest change wins.
    #[serde(default = "default_fields")]
    pub fields: BTreeMap<String, FieldRule>,
    /// Priority names that differ between the sites; unmapped names pass through unchanged.
    #[serde(default)]
    pub priority_map: Vec<ValuePair>,
    /// Overrides `poller.jira_interval` and `poller.peopleforce_interval` for this connection.
    #[serde(default, with = "duration::option")]
    pub poll_interval: Option<Duration>,
    /// Status, people, custom fields, comments, deletes (see [`SyncOptions`]).
    #[serde(flatten)]
    pub sync: SyncOptions,
}

fn default_fields() -> BTreeMap<String, FieldRule> {
    Field::ALL
        .into_iter()
        .map(|f| {
            (
                f.as_str().to_owned(),
                FieldRule {
                    direction: Direction::Both,
                    conflict: ConflictPolicy::LatestWins,
                },
            )
        })
        .collect()
}

impl ConnectionSettings {
    pub fn side(&self, side: Side) -> &ConnectionSide {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// Which side of this connection an endpoint and project are on, if any.
    pub fn side_of(&self, endpoint: &EndpointId, project: Option<&str>) -> Option<Side> {
        [Side::Left, Side::Right].into_iter().find(|s| {
            let cs = self.side(*s);
            &cs.endpoint == endpoint && project.is_none_or(|p| p.eq_ignore_ascii_case(&cs.project))
        })
    }

    /// Maps a priority name from `from` to the name used on the other side.
    pub fn map_priority(&self, from: Side, name: &str) -> String {
        self.priority_map
            .iter()
            .find_map(|pair| match from {
                Side::Left if pair.left == name => Some(pair.right.clone()),
                Side::Right if pair.right == name => Some(pair.left.clone()),
                _ => None,
            })
            .unwrap_or_else(|| name.to_owned())
    }

    /// The synced fields, parsed.
    pub fn synced_fields(&self) -> Vec<Field> {
        self.fields.keys().filter_map(|f| Field::parse(f)).collect()
    }
}

impl Settings {
    /// Checks the cross-references and ranges that types alone cannot express.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.telemetry.validate()?;
        if self.amqp.prefix.is_empty() || !self.amqp.prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SettingsError::invalid(
                "amqp.prefix",
                "must be non-empty printable ASCII",
            ));
        }
        if self.amqp.retry_delays.is_empty() {
            return Err(SettingsError::invalid(
                "amqp.retry_delays",
                "needs at least one delay",
            ));
        }
        if self.amqp.prefetch == 0 {
            return Err(SettingsError::invalid(
                "amqp.prefetch",
                "must be at least 1",
            ));
        }
        if self.amqp.max_attempts == 0 {
            return Err(SettingsError::invalid(
                "amqp.max_attempts",
                "must be at least 1",
            ));
        }
        if self.ingress.client_request_timeout.is_zero() {
            return Err(SettingsError::invalid(
                "ingress.client_request_timeout",
                "must be longer than zero",
            ));
        }
        if self.ingress.max_in_flight == 0 {
            return Err(SettingsError::invalid(
                "ingress.max_in_flight",
                "must be at least 1",
            ));
        }
        if let Some(rate) = self.jira.requests_per_second
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(SettingsError::invalid(
                "jira.requests_per_second",
                "must be a number above zero (leave it unset for no budget)",
            ));
        }
        if self.jira.burst == 0 {
            return Err(SettingsError::invalid("jira.burst", "must be at least 1"));
        }
        if self.worker.concurrency == 0 {
            return Err(SettingsError::invalid(
                "worker.concurrency",
                "must be at least 1",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(SettingsError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        for (id, endpoint) in &self.endpoints {
            let path = format!("endpoints.{id}");
            if !matches!(endpoint.base_url.scheme(), "http" | "https") {
                return Err(SettingsError::invalid(
                    format!("{path}.base_url"),
                    "must be an http(s) URL",
                ));
            }
            endpoint.validate_credentials(&path)?;
            let secret_empty = match &endpoint.webhook {
                Some(WebhookAuth::HubSignature { secret }) => secret.expose_secret().is_empty(),
                Some(WebhookAuth::ApiKey { key }) => key.expose_secret().is_empty(),
                None => false,
            };
            if secret_empty {
                return Err(SettingsError::invalid(
                    format!("{path}.webhook"),
                    "secret or key is empty",
                ));
            }
        }
        self.poller.validate()?;
        self.runtime.validate()?;
        self.admin.validate()?;
        for (id, connection) in &self.connections {
            self.validate_connection(id, connection)?;
        }
        Ok(())
    }

    fn validate_connection(
        &self,
        id: &ConnectionId,
        connection: &ConnectionSettings,
    ) -> Result<(), SettingsError> {
        let path = format!("connections.{id}");
        for side in [Side::Left, Side::Right] {
            let cs = connection.side(side);
            let Some(endpoint) = self.endpoints.get(&cs.endpoint) else {
                return Err(SettingsError::invalid(
                    format!("{path}.{side}.endpoint"),
                    format!("unknown endpoint `{}`", cs.endpoint),
                ));
            };
            if endpoint.kind == EndpointKind::JiraDataCenter {
                crate::endpoint::validate_data_center_users(&path, side, &connection.sync.users)?;
            }
            if endpoint.kind.is_jira() && cs.project.is_empty() {
                return Err(SettingsError::invalid(
                    format!("{path}.{side}.project"),
                    "is empty",
                ));
            }
        }
        if connection.left.endpoint == connection.right.endpoint
            && connection
                .left
                .project
                .eq_ignore_ascii_case(&connection.right.project)
        {
            return Err(SettingsError::invalid(
                format!("{path}.right"),
                "is the same endpoint and project as the left side",
            ));
        }
        if connection.poll_interval.is_some_and(|d| d.is_zero()) {
            return Err(SettingsError::invalid(
                format!("{path}.poll_interval"),
                "must be longer than zero",
            ));
        }
        connection.sync.validate(&path, connection.fields.keys())?;
        Ok(())
    }

    /// The kind of a configured endpoint.
    pub fn endpoint_kind(&self, endpoint: &EndpointId) -> Option<EndpointKind> {
        self.endpoints.get(endpoint).map(|e| e.kind)
    }

    /// The connections an endpoint takes part in, with its side in each.
    pub fn connections_of<'a>(
        &'a self,
        endpoint: &'a EndpointId,
        project: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ConnectionId, &'a ConnectionSettings, Side)> + 'a {
        self.connections
            .iter()
            .filter_map(move |(id, c)| c.side_of(endpoint, project).map(|s| (id, c, s)))
    }
}
