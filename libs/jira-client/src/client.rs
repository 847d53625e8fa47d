//! [`JiraClient`]: the shared handle (an `Arc` inside), its construction from a
//! [`JiraClientConfig`], and the request description the API methods hand to the retry loop in
//! [`crate::request`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{
    ApiFlavor, ClientPolicy, Credentials, HeaderInjector, JiraClientConfig, redacted,
};
use crate::error::JiraError;
use crate::resilience::breaker::CircuitBreaker;
use crate::resilience::throttle::Throttle;

/// A Jira client for one endpoint (site + credentials): REST v3 on Cloud, REST v2 on Data
/// Center (see [`ApiFlavor`]). Cheap to clone: clones share the connection pool, the rate
/// limiter and the circuit breaker.
#[derive(Clone)]
pub struct JiraClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: url::Url,
    pub(crate) name: String,
    pub(crate) flavor: ApiFlavor,
    /// Who the credentials name (never the secret), for `Debug`.
    pub(crate) user: String,
    /// Data Center: the ids of the site's multi-line text custom fields (wiki markup there,
    /// ADF for callers), read once from `GET /field` when first needed.
    pub(crate) textareas: tokio::sync::OnceCell<std::collections::BTreeSet<String>>,
    pub(crate) max_retries: u32,
    pub(crate) retry_budget: Duration,
    pub(crate) policy: ClientPolicy,
    pub(crate) injector: Option<HeaderInjector>,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) throttle: Throttle,
}

/// Whether a request may be sent again after a failure whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads, PUTs and DELETEs: repeating them converges.
    Idempotent,
    /// Creates (issue, comment) and transitions: repeated only when the request provably did
    /// not reach Jira (connection refused) or was refused unprocessed (429).
    Once,
}

/// One logical call, before retries.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) segments: Vec<&'a str>,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) replay: Replay,
    /// The issue this call writes to, for Jira's per-issue write limit.
    pub(crate) writes_issue: Option<&'a str>,
}

impl<'a> Call<'a> {
    /// A call to `/rest/api/<version>/<segments>` (the version is the client's flavor's).
    pub(crate) fn new(method: Method, segments: &[&'a str]) -> Self {
        let replay = if method == Method::POST {
            Replay::Once
        } else {
            Replay::Idempotent
        };
        Self {
            method,
            segments: segments.to_vec(),
            query: Vec::new(),
            body: None,
            replay,
            writes_issue: None,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// A POST that only reads (search): safe to repeat.
    pub(crate) fn idempotent(mut self) -> Self {
        self.replay = Replay::Idempotent;
        self
    }

    pub(crate) fn writes(mut self, issue: &'a str) -> Self {
        self.writes_issue = Some(issue);
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, JiraError> {
        let bytes = serde_json::to_vec(body).map_err(|source| JiraError::Encode { source })?;
        self.body = Some(bytes);
        Ok(self)
    }
}

/// A successful answer.
pub(crate) struct Answer {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, JiraError> {
        serde_json::from_slice(&self.body).map_err(|source| self.decode_error(source))
    }

    /// Decodes the body after `adjust` edited it as JSON (the Data Center conversions).
    pub(crate) fn json_with<T: DeserializeOwned>(
        &self,
        adjust: impl FnOnce(&mut serde_json::Value),
    ) -> Result<T, JiraError> {
        let mut value: serde_json::Value = self.json()?;
        adjust(&mut value);
        serde_json::from_value(value).map_err(|source| self.decode_error(source))
    }

    fn decode_error(&self, source: serde_json::Error) -> JiraError {
        JiraError::Decode {
            method: self.method.clone(),
            path: self.path.clone(),
            source,
        }
    }
}

/// Rejects identifiers that would change the meaning of the URL path.
pub(crate) fn path_arg<'a>(what: &'static str, value: &'a str) -> Result<&'a str, JiraError> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(JiraError::InvalidInput {
            what,
            value: value.to_owned(),
        });
    }
    Ok(value)
}

impl JiraClient {
    /// Builds the client: validates the base URL, prepares the auth header (Basic, or Bearer
    /// for a personal access token; marked sensitive) and the connection pool with the
    /// configured timeouts. Redirects are not followed: Jira's REST API does not redirect, and
    /// a redirect must not carry the credentials.
    pub fn new(config: JiraClientConfig) -> Result<Self, JiraError> {
        let base = &config.base_url;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(JiraError::Config {
                reason: format!("base_url `{}` is not an http(s) URL", redacted(base)),
            });
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(JiraError::Config {
                reason: "base_url must not carry credentials; use email and api_token".into(),
            });
        }
        let auth = match &config.credentials {
            Credentials::Basic { user, secret } => {
                let pair = format!("{user}:{}", secret.expose_secret());
                format!("Basic {}", STANDARD.encode(pair))
            }
            Credentials::Bearer { token } => format!("Bearer {}", token.expose_secret()),
        };
        let mut auth = HeaderValue::from_str(&auth).map_err(|_| JiraError::Config {
            reason: "credentials do not fit an HTTP header".into(),
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(config.user_agent.as_str())
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(JiraError::Build)?;
        let policy = config.policy;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url,
                name: config.name,
                flavor: config.flavor,
                user: config.credentials.user().to_owned(),
                textareas: tokio::sync::OnceCell::new(),
                max_retries: config.max_retries,
                retry_budget: config.retry_budget,
                breaker: CircuitBreaker::new(policy.breaker_threshold, policy.breaker_cooldown),
                throttle: Throttle::new(policy.requests_per_second, policy.burst),
                policy,
                injector: config.header_injector,
            }),
        })
    }

    /// The endpoint label used in metrics and errors.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The site this client talks to.
    pub fn base_url(&self) -> &url::Url {
        &self.inner.base_url
    }

    /// Which API the site speaks.
    pub fn flavor(&self) -> ApiFlavor {
        self.inner.flavor
    }

    pub(crate) fn is_data_center(&self) -> bool {
        self.inner.flavor == ApiFlavor::DataCenter
    }

    fn api_version(&self) -> &'static str {
        match self.inner.flavor {
            ApiFlavor::Cloud => "3",
            ApiFlavor::DataCenter => "2",
        }
    }

    pub(crate) fn url(&self, call: &Call<'_>) -> Result<url::Url, JiraError> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| JiraError::Config {
                reason: "base_url cannot take a path".into(),
            })?
            .pop_if_empty()
            .extend(["rest", "api", self.api_version()])
            .extend(&call.segments);
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraClient")
            .field("name", &self.inner.name)
            .field("base_url", &self.inner.base_url.as_str())
            .field("flavor", &self.inner.flavor)
            .field("user", &self.inner.user)
            .field("max_retries", &self.inner.max_retries)
            .field("retry_budget", &self.inner.retry_budget)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}
