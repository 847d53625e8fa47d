//! The HTTP side of the admin commands: one request to the admin API, its JSON answer, or its
//! `{"code","detail"}` error as a [`CliError::Api`].

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::CliError;
use crate::API_PREFIX;

/// How long one call may take (a replay of many dead letters is the slowest).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of one admin API.
pub(crate) struct ApiClient {
    http: reqwest::Client,
    base: Url,
    key: SecretString,
}

impl ApiClient {
    /// A client of the admin API at `base` (`http://host:8081`, or with a path prefix when it
    /// is mounted behind a proxy).
    pub fn new(base: &str, key: SecretString) -> Result<Self, CliError> {
        let base = Url::parse(base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "the admin URL must be an http(s) URL, not {base:?}"
                ))
            })?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(CliError::Request)?;
        Ok(Self { http, base, key })
    }

    /// `base` + `/api/v1` + the segments (each escaped), with `query`.
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(API_PREFIX.trim_start_matches('/').split('/'));
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// `GET` with a query; the JSON answer.
    pub async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Value, CliError> {
        self.send(Method::GET, self.url(segments, query), None)
            .await
    }

    /// `POST` with a JSON body; the JSON answer.
    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, CliError> {
        self.send(Method::POST, self.url(segments, &[]), Some(body))
            .await
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.key.expose_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(CliError::Request)?;
        let status = response.status();
        let text = response.text().await.map_err(CliError::Request)?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return json.ok_or_else(|| {
                CliError::Decode(format!("the admin API answered {status} with no JSON"))
            });
        }
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Err(CliError::Api {
            status: status.as_u16(),
            code: field("code").unwrap_or_else(|| "unknown".to_owned()),
            detail: field("detail")
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("no detail").to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ApiClient {
        match ApiClient::new(base, SecretString::from("k")) {
            Ok(client) => client,
            Err(e) => panic!("{base}: {e}"),
        }
    }

    #[test]
    fn urls_keep_a_path_prefix_and_escape_their_segments() {
        let url = client("http://h:8081").url(&["links", "a-to-b", "ACME 1/x"], &[]);
        assert_eq!(
            url.as_str(),
            "http://h:8081/api/v1/links/a-to-b/ACME%201%2Fx"
        );
        let url = client("https://h/admin/").url(&["links"], &[("limit", "5".to_owned())]);
        assert_eq!(url.as_str(), "https://h/admin/api/v1/links?limit=5");
    }

    #[test]
    fn a_url_that_is_not_http_is_a_usage_error() {
        for bad in ["h:8081", "ftp://h", "mailto:x@y"] {
            assert!(
                matches!(
                    ApiClient::new(bad, SecretString::from("k")),
                    Err(CliError::Usage(_))
                ),
                "{bad}"
            );
        }
    }
}
