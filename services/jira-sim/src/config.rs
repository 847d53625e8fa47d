//! The simulator's configuration: sites, their users, projects, workflow and limits.
//!
//! Everything here is plain data with defaults, usable from Rust (`SimConfig::single_site`) and
//! from a TOML file (the `jira-sim` binary). Validation of cross references (a transition naming
//! an unknown status, two sites with one name) lives in [`SimConfig::validate`]; the runtime
//! state built from it lives in `state`.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::limits::{LatencyRange, Limits, PerIssueWrites, TokenBucket, WriteWindow};
pub use crate::workflow::{StatusCategory, StatusDef, TransitionDef, Workflow};

/// Why a configuration cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `sites` is empty.
    #[error("no site is configured")]
    NoSites,
    /// Two sites share a name.
    #[error("two sites are named `{0}`")]
    DuplicateSite(String),
    /// A site's own settings are inconsistent.
    #[error("site `{site}`: {detail}")]
    Site {
        /// The site.
        site: String,
        /// What is wrong.
        detail: String,
    },
}

/// The whole simulator: one or more Jira Cloud sites, each on its own port.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// The sites, each served on its own port.
    pub sites: Vec<SiteConfig>,
    /// Delay between webhook delivery attempts (Jira waits minutes; 500 ms here).
    #[serde(rename = "webhook_retry_delay_ms", with = "millis")]
    pub webhook_retry_delay: Duration,
    /// Retries after the first attempt (Jira: 5).
    pub webhook_max_retries: u32,
    /// Per-attempt timeout of an outgoing webhook request.
    #[serde(rename = "webhook_timeout_ms", with = "millis")]
    pub webhook_timeout: Duration,
    /// First attempts in flight at once per site. 1 keeps deliveries in event order.
    pub webhook_concurrency: usize,
    /// Address every site binds (127.0.0.1; 0.0.0.0 in containers).
    pub bind: IpAddr,
    /// actix-web worker threads per site.
    pub workers: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            sites: Vec::new(),
            webhook_retry_delay: Duration::from_millis(500),
            webhook_max_retries: 5,
            webhook_timeout: Duration::from_secs(10),
            webhook_concurrency: 8,
            bind: IpAddr::from([127, 0, 0, 1]),
            workers: 1,
        }
    }
}

impl SimConfig {
    /// One site with the default users, workflow and the given project keys.
    pub fn single_site(name: &str, projects: &[&str]) -> Self {
        let mut site = SiteConfig::named(name);
        site.projects = projects.iter().map(|p| (*p).to_owned()).collect();
        Self {
            sites: vec![site],
            ..Self::default()
        }
    }

    /// Checks cross references; the error names the site and the offending item.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sites.is_empty() {
            return Err(ConfigError::NoSites);
        }
        let mut names = std::collections::HashSet::new();
        for site in &self.sites {
            if !names.insert(site.name.as_str()) {
                return Err(ConfigError::DuplicateSite(site.name.clone()));
            }
            site.validate().map_err(|detail| ConfigError::Site {
                site: site.name.clone(),
                detail,
            })?;
        }
        Ok(())
    }
}

/// One Jira Cloud site (tenant), or a Jira Data Center instance (`data_center`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteConfig {
    /// Unique name, used by `Simulator::site`.
    pub name: String,
    /// Simulate Jira Data Center instead of Cloud: REST v2 under `/rest/api/2` (rich text in
    /// wiki markup, users by `name`/`key`, `/search` paged by `startAt`), `deploymentType:
    /// "Server"`, authentication by user name and password or a personal access token, and
    /// webhooks in Data Center's shape. Each user's `account_id` is then their user name.
    pub data_center: bool,
    /// Fixed port; `None` (or 0) picks a free one.
    pub port: Option<u16>,
    /// Base URL written into `self` links when clients reach the site through another address.
    pub public_url: Option<String>,
    /// Who can authenticate.
    pub users: Vec<SimUser>,
    /// Project keys, e.g. `["ALPHA"]`.
    pub projects: Vec<String>,
    /// Issue type names; ids are 10001, 10002, ...
    pub issue_types: Vec<String>,
    /// Statuses and transitions.
    pub workflow: Workflow,
    /// Priority names, highest first; ids are "1", "2", ... as in Jira.
    pub priorities: Vec<String>,
    /// Priority given to issues created without one.
    pub default_priority: Option<String>,
    /// Resolution names; ids are 10000, 10001, ...
    pub resolutions: Vec<String>,
    /// Custom fields listed by `GET /field` and accepted on issues.
    pub custom_fields: Vec<CustomFieldDef>,
    /// The account the sync engine writes as; rendered with `accountType: "app"`.
    pub bot_account_id: Option<String>,
    /// Rate limits and latency in force at start (and after `/_sim/reset`).
    pub limits: Limits,
    /// Seed for every random choice (fault probabilities, latency jitter).
    pub seed: u64,
}

impl SiteConfig {
    /// A site with the default users (`admin` and `sync-bot`), one project `<NAME>` and the
    /// default workflow.
    pub fn named(name: &str) -> Self {
        let project: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        let project =
            if project.is_empty() || !project.starts_with(|c: char| c.is_ascii_alphabetic()) {
                format!("P{project}")
            } else {
                project
            };
        let slug = name.to_ascii_lowercase();
        Self {
            name: name.to_owned(),
            users: vec![
                SimUser::new(
                    &format!("{slug}-admin-0001"),
                    "Admin User",
                    &format!("admin@{slug}.example.com"),
                    &format!("{slug}-admin-token"),
                ),
                SimUser::new(
                    &format!("{slug}-bot-0001"),
                    "jira-sync bot",
                    &format!("bot@{slug}.example.com"),
                    &format!("{slug}-bot-token"),
                ),
            ],
            bot_account_id: Some(format!("{slug}-bot-0001")),
            projects: vec![project],
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("a site needs a name".into());
        }
        if self.projects.is_empty() {
            return Err("at least one project key is needed".into());
        }
        for key in &self.projects {
            let ok = key.starts_with(|c: char| c.is_ascii_uppercase())
                && key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(format!(
                    "project key `{key}` must be upper-case letters, digits or _"
                ));
            }
        }
        if self.issue_types.is_empty() || self.priorities.is_empty() {
            return Err("issue types and priorities must not be empty".into());
        }
        if let Some(p) = &self.default_priority
            && !self.priorities.iter().any(|x| x == p)
        {
            return Err(format!("default priority `{p}` is not in priorities"));
        }
        let mut emails = std::collections::HashSet::new();
        for user in &self.users {
            if !emails.insert(user.email.to_ascii_lowercase()) {
                return Err(format!("two users have the e-mail `{}`", user.email));
            }
        }
        for field in &self.custom_fields {
            if !field.id.starts_with("customfield_") {
                return Err(format!(
                    "custom field id `{}` must start with customfield_",
                    field.id
                ));
            }
        }
        self.workflow.validate(&self.resolutions)
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        let names = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            name: String::new(),
            data_center: false,
            port: None,
            public_url: None,
            users: Vec::new(),
            projects: Vec::new(),
            issue_types: names(&["Task", "Bug", "Story"]),
            workflow: Workflow::default(),
            priorities: names(&["Highest", "High", "Medium", "Low", "Lowest"]),
            default_priority: Some("Medium".to_owned()),
            resolutions: names(&["Done", "Won't Do", "Duplicate", "Cannot Reproduce"]),
            custom_fields: vec![
                CustomFieldDef::new("customfield_10010", "Team", CustomFieldKind::Text),
                CustomFieldDef::new(
                    "customfield_10016",
                    "Story point estimate",
                    CustomFieldKind::Number,
                ),
            ],
            bot_account_id: None,
            limits: Limits::default(),
            seed: 0,
        }
    }
}

/// A user who can authenticate with `email:api_token` over Basic auth (on a Data Center site:
/// `account_id:api_token`, or `api_token` as a Bearer personal access token).
#[derive(Clone, Serialize, Deserialize)]
pub struct SimUser {
    /// Jira Cloud account id; on a Data Center site, the user name.
    pub account_id: String,
    /// Shown in user objects.
    pub display_name: String,
    /// The Basic-auth user name.
    pub email: String,
    /// The Basic-auth password.
    pub api_token: String,
    /// Whether REST user objects show the e-mail (Jira hides it unless the user's profile
    /// visibility allows it).
    #[serde(default = "visible")]
    pub email_visible: bool,
}

fn visible() -> bool {
    true
}

impl SimUser {
    /// Builds a user from borrowed parts.
    pub fn new(account_id: &str, display_name: &str, email: &str, api_token: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            display_name: display_name.to_owned(),
            email: email.to_owned(),
            api_token: api_token.to_owned(),
            email_visible: true,
        }
    }

    /// The same user with the e-mail hidden from REST user objects.
    pub fn with_hidden_email(mut self) -> Self {
        self.email_visible = false;
        self
    }
}

impl std::fmt::Debug for SimUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimUser")
            .field("account_id", &self.account_id)
            .field("display_name", &self.display_name)
            .field("email", &self.email)
            .field("api_token", &"<redacted>")
            .field("email_visible", &self.email_visible)
            .finish()
    }
}

/// A custom field the site knows (`GET /field` lists it; issues accept it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomFieldDef {
    /// `customfield_NNNNN`.
    pub id: String,
    /// Display name (also the changelog's `field`).
    pub name: String,
    /// Value type.
    pub kind: CustomFieldKind,
    /// The options of select, multi-select and cascading fields (ids 10100, 10101, ...).
    #[serde(default)]
    pub options: Vec<String>,
}

impl CustomFieldDef {
    /// A field without options.
    pub fn new(id: &str, name: &str, kind: CustomFieldKind) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            options: Vec::new(),
        }
    }

    /// A select-like field with `options`.
    pub fn with_options(mut self, options: &[&str]) -> Self {
        self.options = options.iter().map(|o| (*o).to_owned()).collect();
        self
    }
}

/// The value type of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldKind {
    /// Single-line text: a plain string.
    Text,
    /// A number.
    Number,
    /// Multi-line text: an ADF document in REST v3 (wiki markup on Data Center).
    Textarea,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// One option: `{"value": ..}` or `{"id": ..}`.
    Select,
    /// Several options.
    Multiselect,
    /// One user: `{"accountId": ..}`.
    User,
    /// Labels: strings without spaces.
    Labels,
    /// A parent option with a child option: `{"value": .., "child": {"value": ..}}`.
    Cascading,
}

pub(crate) mod millis {
    //! Serde for `Duration` as whole milliseconds.
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
