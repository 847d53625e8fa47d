//! The client's configuration: where PeopleForce is, the API key, and how patient to be.
//! The key stays a `SecretString` and the `Debug` output never shows it.

use std::fmt;
use std::time::Duration;

use jira_sync_domain::EndpointId;
use jira_sync_settings::{EndpointSettings, JiraClientSettings};
use secrecy::SecretString;

/// The API version, pinned here and only here: paths changed between v1, v2 and v3.
pub const API_PATH: [&str; 3] = ["api", "public", "v3"];

/// Everything a [`crate::PeopleForceClient`] needs.
#[derive(Clone)]
pub struct PeopleForceConfig {
    /// Label in metrics and errors: the endpoint id, or the base URL's host.
    pub name: String,
    /// `https://app.peopleforce.io` (or a tenant host); [`API_PATH`] is appended to its path.
    pub base_url: url::Url,
    /// Sent as `X-API-KEY`. Never logged.
    pub api_key: SecretString,
    /// Upper bound of one attempt, from sending the request to reading the whole body.
    pub request_timeout: Duration,
    /// Upper bound of establishing a connection.
    pub connect_timeout: Duration,
    /// Retries of transient failures inside one call (attempts = 1 + `max_retries`).
    pub max_retries: u32,
    /// Wall-clock bound of one call with its retries and waits; a wait that would overrun it
    /// is not started and the error goes back with its `Retry-After`.
    pub retry_budget: Duration,
    /// First retry delay, doubled per retry, jittered by 0.7-1.3.
    pub backoff_base: Duration,
    /// Cap of the un-jittered retry delay.
    pub backoff_max: Duration,
    /// `per_page` when listing (PeopleForce allows at most 100).
    pub page_size: u32,
}

impl PeopleForceConfig {
    /// A config with default timeouts (20 s request, 5 s connect, 3 retries in a 30 s budget,
    /// back-off from 1 s to 30 s, pages of 100). `name` is the base URL's host.
    pub fn new(base_url: url::Url, api_key: SecretString) -> Self {
        Self {
            name: base_url.host_str().unwrap_or("peopleforce").to_owned(),
            base_url,
            api_key,
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            retry_budget: Duration::from_secs(30),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            page_size: 100,
        }
    }

    /// The config of a `kind = "peopleforce"` endpoint: its `base_url` and `api_key`, with the
    /// timeouts, retries and budget of the shared HTTP client settings (`[jira]`).
    pub fn from_endpoint(
        id: &EndpointId,
        endpoint: &EndpointSettings,
        client: &JiraClientSettings,
    ) -> Self {
        Self {
            name: id.as_str().to_owned(),
            request_timeout: client.request_timeout,
            connect_timeout: client.connect_timeout,
            max_retries: client.max_retries,
            retry_budget: client.retry_budget,
            ..Self::new(endpoint.base_url.clone(), endpoint.api_token.clone())
        }
    }

    /// Sets the page size (clamped to 1..=100 when used).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Sets the back-off bounds (tests use short ones).
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }
}

impl fmt::Debug for PeopleForceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeopleForceConfig")
            .field("name", &self.name)
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &"[REDACTED]")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_budget", &self.retry_budget)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("page_size", &self.page_size)
            .finish()
    }
}
