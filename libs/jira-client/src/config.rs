//! The client's configuration: where Jira is, how to authenticate, and how patient to be.
//!
//! [`JiraClientConfig`] is plain data built from the shared settings ([`JiraClientConfig::from_settings`])
//! or by hand in tests. The tuning knobs that the settings file does not (yet) carry live in
//! [`ClientPolicy`] with sensible defaults. The secrets ([`Credentials`]) stay `SecretString`s
//! and the `Debug` output of the config never shows them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::EndpointId;
use jira_sync_settings::{EndpointKind, EndpointSettings, JiraClientSettings};
use reqwest::header::HeaderMap;
use secrecy::SecretString;

/// A hook that adds headers to every outgoing request, called once per attempt inside the
/// request's tracing span. The telemetry crate uses it to inject W3C `traceparent`/`tracestate`
/// without this crate depending on OpenTelemetry. (`reqwest::header::HeaderMap` is `http::HeaderMap`.)
pub type HeaderInjector = Arc<dyn Fn(&mut HeaderMap) + Send + Sync>;

/// Which Jira API the site speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiFlavor {
    /// Jira Cloud: REST v3, rich text in ADF, users by account id, enhanced JQL search.
    #[default]
    Cloud,
    /// Jira Data Center (or Server): REST v2, rich text in wiki markup, users by name, search
    /// paged by offset. The client converts at its boundary (see `crate::dc`), so callers see
    /// the Cloud shapes either way.
    DataCenter,
}

/// How the client authenticates. The secrets are never logged.
#[derive(Clone)]
pub enum Credentials {
    /// HTTP Basic: a Cloud account e-mail and API token, or a Data Center user name and
    /// password.
    Basic { user: String, secret: SecretString },
    /// `Authorization: Bearer`: a Data Center personal access token.
    Bearer { token: SecretString },
}

impl Credentials {
    /// Who the credentials name, for `Debug` and logs (never the secret).
    pub fn user(&self) -> &str {
        match self {
            Self::Basic { user, .. } => user,
            Self::Bearer { .. } => "(personal access token)",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not spelled like an auth header ("Basic ...") so that a leak check can look for one.
        let scheme = match self {
            Self::Basic { .. } => "basic",
            Self::Bearer { .. } => "bearer",
        };
        f.debug_struct("Credentials")
            .field("scheme", &scheme)
            .field("user", &self.user())
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Everything a [`crate::JiraClient`] needs.
#[derive(Clone)]
pub struct JiraClientConfig {
    /// Label of this endpoint in metrics and errors: the endpoint id, or the base URL's host.
    pub name: String,
    /// `https://<site>.atlassian.net`, or `https://api.atlassian.com/ex/jira/<cloudId>` for scoped
    /// tokens; a Data Center base URL with its context path. A path prefix is kept;
    /// `/rest/api/3/...` (Data Center: `/rest/api/2/...`) is appended to it.
    pub base_url: url::Url,
    /// Cloud or Data Center.
    pub flavor: ApiFlavor,
    /// The account and its secret. Never logged.
    pub credentials: Credentials,
    /// Upper bound of one attempt, from sending the request to reading the whole body.
    pub request_timeout: Duration,
    /// Upper bound of establishing a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Retries of transient failures inside one call (attempts = 1 + `max_retries`).
    pub max_retries: u32,
    /// Wall-clock bound of one call including its retries and waits. A wait that would overrun it
    /// is not started: the error is returned so the caller can park the message instead.
    pub retry_budget: Duration,
    /// Sent as `User-Agent`.
    pub user_agent: String,
    /// Rate limiting, circuit breaker and back-off tuning.
    pub policy: ClientPolicy,
    /// Optional hook adding headers (trace context) to each request.
    pub header_injector: Option<HeaderInjector>,
}

/// Tuning of the client's self-protection. The defaults suit Jira Cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPolicy {
    /// Client-side token bucket refill rate in requests per second; `None` means unlimited.
    pub requests_per_second: Option<f64>,
    /// Token bucket capacity (the burst allowed after idling). At least 1.
    pub burst: u32,
    /// Consecutive outage-like failures (5xx, timeouts, connection errors) that open the breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker fails fast before letting one probe through (half-open).
    pub breaker_cooldown: Duration,
    /// First retry delay; doubled for each further retry, then jittered by 0.7–1.3.
    pub backoff_base: Duration,
    /// Cap of the un-jittered retry delay.
    pub backoff_max: Duration,
    /// Pause of writes to one issue after Jira's per-issue write limit answered 429 without a
    /// `Retry-After` (Jira's shortest per-issue window is 2 s).
    pub per_issue_pause: Duration,
    /// Page size when listing comments (Jira's maximum is 100).
    pub comment_page_size: u32,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        Self {
            requests_per_second: None,
            burst: 10,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            per_issue_pause: Duration::from_secs(2),
            comment_page_size: 100,
        }
    }
}

/// The default `User-Agent`.
pub fn default_user_agent() -> String {
    format!("jira-sync/{}", env!("CARGO_PKG_VERSION"))
}

impl JiraClientConfig {
    /// A config with the given site and credentials and default timeouts and policy
    /// (20 s request, 5 s connect, 2 retries, 10 s budget). `name` is the base URL's host.
    pub fn new(base_url: url::Url, email: impl Into<String>, api_token: SecretString) -> Self {
        let credentials = Credentials::Basic {
            user: email.into(),
            secret: api_token,
        };
        Self {
            name: host_name(&base_url),
            base_url,
            flavor: ApiFlavor::Cloud,
            credentials,
            request_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            max_retries: 2,
            retry_budget: Duration::from_secs(10),
            user_agent: default_user_agent(),
            policy: ClientPolicy::default(),
            header_injector: None,
        }
    }

    /// A Data Center config with the given site and credentials, and the defaults of
    /// [`JiraClientConfig::new`].
    pub fn data_center(base_url: url::Url, credentials: Credentials) -> Self {
        Self {
            flavor: ApiFlavor::DataCenter,
            credentials,
            ..Self::new(base_url, "", SecretString::from(""))
        }
    }

    /// Builds the config of one endpoint from the shared settings: the flavor and credentials
    /// follow the endpoint's kind (`jira_data_center`: `pat` as Bearer, else `username` and
    /// `password` as Basic; anything else: `email` and `api_token` as Basic). `name` is the
    /// base URL's host; prefer [`JiraClientConfig::from_endpoint`] when the endpoint id is at
    /// hand.
    pub fn from_settings(endpoint: &EndpointSettings, client: &JiraClientSettings) -> Self {
        let base_url = endpoint.base_url.clone();
        let base = match endpoint.kind {
            EndpointKind::JiraDataCenter => {
                let credentials = match &endpoint.pat {
                    Some(token) => Credentials::Bearer {
                        token: token.clone(),
                    },
                    None => Credentials::Basic {
                        user: endpoint.username.clone(),
                        secret: (endpoint.password.clone())
                            .unwrap_or_else(|| SecretString::from("")),
                    },
                };
                Self::data_center(base_url, credentials)
            }
            EndpointKind::JiraCloud | EndpointKind::Peopleforce => {
                Self::new(base_url, endpoint.email.clone(), endpoint.api_token.clone())
            }
        };
        Self {
            request_timeout: client.request_timeout,
            connect_timeout: client.connect_timeout,
            max_retries: client.max_retries,
            retry_budget: client.retry_budget,
            policy: ClientPolicy {
                requests_per_second: client.requests_per_second,
                burst: client.burst.max(1),
                ..base.policy
            },
            ..base
        }
    }

    /// Like [`JiraClientConfig::from_settings`], labelled with the endpoint id.
    pub fn from_endpoint(
        id: &EndpointId,
        endpoint: &EndpointSettings,
        client: &JiraClientSettings,
    ) -> Self {
        Self::from_settings(endpoint, client).with_name(id.as_str())
    }

    /// Sets the metrics/error label.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the hook that adds headers (such as `traceparent`) to every outgoing request.
    pub fn with_header_injector(
        mut self,
        injector: impl Fn(&mut HeaderMap) + Send + Sync + 'static,
    ) -> Self {
        self.header_injector = Some(Arc::new(injector));
        self
    }

    /// Replaces the policy.
    pub fn with_policy(mut self, policy: ClientPolicy) -> Self {
        self.policy = policy;
        self
    }
}

fn host_name(url: &url::Url) -> String {
    url.host_str().unwrap_or("jira").to_owned()
}

/// The URL without any user-info, for display.
pub(crate) fn redacted(url: &url::Url) -> url::Url {
    let mut url = url.clone();
    // Both fail only for URLs that cannot carry user-info at all, which is then already absent.
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url
}

impl fmt::Debug for JiraClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraClientConfig")
            .field("name", &self.name)
            .field("base_url", &redacted(&self.base_url).as_str())
            .field("flavor", &self.flavor)
            .field("credentials", &self.credentials)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_budget", &self.retry_budget)
            .field("user_agent", &self.user_agent)
            .field("policy", &self.policy)
            .field("header_injector", &self.header_injector.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use jira_sync_settings::Settings;

    use super::*;

    #[test]
    fn the_request_budget_of_the_settings_reaches_the_client_policy()
    -> Result<(), Box<dyn std::error::Error>> {
        let endpoint = "[endpoints.jira-a]\nkind = \"jira_cloud\"\n\
             base_url = \"https://a.example.net\"\nemail = \"bot@example.net\"\napi_token = \"t\"\n";
        let budgeted = Settings::from_toml(&format!(
            "[jira]\nrequests_per_second = 50\nburst = 3\n{endpoint}"
        ))?;
        let id = EndpointId::parse("jira-a")?;
        let config = JiraClientConfig::from_endpoint(&id, &budgeted.endpoints[&id], &budgeted.jira);
        assert_eq!(config.policy.requests_per_second, Some(50.0));
        assert_eq!(config.policy.burst, 3);

        let plain = Settings::from_toml(endpoint)?;
        let config = JiraClientConfig::from_endpoint(&id, &plain.endpoints[&id], &plain.jira);
        assert_eq!(config.policy, ClientPolicy::default());
        Ok(())
    }
}
