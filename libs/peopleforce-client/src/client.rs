//! [`PeopleForceClient`]: the shared handle, its construction from a [`PeopleForceConfig`], and
//! the description of one call that the API methods hand to the retry loop in `request`.

use std::fmt;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{API_PATH, PeopleForceConfig};
use crate::error::PeopleForceError;

/// A PeopleForce client for one account. Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct PeopleForceClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: url::Url,
    pub(crate) config: PeopleForceConfig,
}

/// Whether a request may be sent again after a failure whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Reads and PUTs (complete, incomplete): repeating them converges.
    Idempotent,
    /// Creates: repeated only when the request provably did not arrive (connection refused)
    /// or was refused unprocessed (429).
    Once,
}

/// One logical call, before retries.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) replay: Replay,
}

impl Call {
    /// A call to `/api/public/v3/<segments>`.
    pub(crate) fn new(method: Method, segments: &[&str]) -> Self {
        let replay = if method == Method::POST {
            Replay::Once
        } else {
            Replay::Idempotent
        };
        Self {
            method,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
            replay,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, PeopleForceError> {
        self.body = Some(serde_json::to_vec(body).map_err(PeopleForceError::Encode)?);
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
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, PeopleForceError> {
        serde_json::from_slice(&self.body).map_err(|source| PeopleForceError::Decode {
            method: self.method.clone(),
            path: self.path.clone(),
            source,
        })
    }
}

/// Rejects ids that would change the meaning of the URL path.
pub(crate) fn path_arg<'a>(
    what: &'static str,
    value: &'a str,
) -> Result<&'a str, PeopleForceError> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(PeopleForceError::InvalidInput {
            what,
            value: value.to_owned(),
        });
    }
    Ok(value)
}

impl PeopleForceClient {
    /// Builds the client: checks the base URL, prepares the `X-API-KEY` header (marked
    /// sensitive, so it never shows in logs) and the connection pool with the configured
    /// timeouts. Redirects are not followed: they must not carry the key elsewhere.
    pub fn new(config: PeopleForceConfig) -> Result<Self, PeopleForceError> {
        let base = &config.base_url;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(PeopleForceError::Config {
                reason: format!(
                    "base_url `{}` is not an http(s) URL",
                    base.origin().ascii_serialization()
                ),
            });
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(PeopleForceError::Config {
                reason: "base_url must not carry credentials; use api_key".into(),
            });
        }
        let mut key = HeaderValue::from_str(config.api_key.expose_secret()).map_err(|_| {
            PeopleForceError::Config {
                reason: "api_key does not fit an HTTP header".into(),
            }
        })?;
        key.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("X-API-KEY", key);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(format!("jira-sync/{}", env!("CARGO_PKG_VERSION")))
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(PeopleForceError::Build)?;
        let mut base_url = config.base_url.clone();
        base_url
            .path_segments_mut()
            .map_err(|()| PeopleForceError::Config {
                reason: "base_url cannot take a path".into(),
            })?
            .pop_if_empty()
            .extend(API_PATH);
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                config,
            }),
        })
    }

    /// The label used in metrics and errors.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The API root, `<base_url>/api/public/v3`.
    pub fn api_url(&self) -> &url::Url {
        &self.inner.base_url
    }

    pub(crate) fn url(&self, call: &Call) -> Result<url::Url, PeopleForceError> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| PeopleForceError::Config {
                reason: "base_url cannot take a path".into(),
            })?
            .extend(&call.segments);
        if !call.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }
}

impl fmt::Debug for PeopleForceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeopleForceClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
