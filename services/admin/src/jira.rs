//! Issue-key look-ups on the Jira sites of the configured endpoints.
//!
//! Links, intents and reconcile requests know issues by their stable id; operators know them
//! by key. This module turns a key into the id (and the project it is in now) through the Jira
//! client of the endpoint. Timeouts, retries and the classification of Jira's answers belong
//! to the client.

use std::collections::BTreeMap;

use http::header::{HeaderMap, HeaderValue};
use jira_sync_domain::{EndpointId, IssueKey};
use jira_sync_jira_client::{JiraClient, JiraClientConfig, JiraError};
use jira_sync_settings::Settings;
use jira_sync_telemetry::{TRACEPARENT, TRACESTATE};

/// An issue as found by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoundIssue {
    pub id: String,
    /// The current key (it differs from the one asked for after a move).
    pub key: String,
    /// The key of the project the issue is in now.
    pub project: String,
}

/// One client per Jira endpoint.
#[derive(Clone, Default)]
pub(crate) struct JiraDirectory {
    clients: BTreeMap<EndpointId, JiraClient>,
}

impl std::fmt::Debug for JiraDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clients.keys()).finish()
    }
}

impl JiraDirectory {
    /// A client for every Jira endpoint of `settings` (other kinds have no issue keys).
    pub fn from_settings(settings: &Settings) -> Result<Self, JiraError> {
        let clients = settings
            .endpoints
            .iter()
            .filter(|(_, endpoint)| endpoint.kind.is_jira())
            .map(|(id, endpoint)| {
                let config = JiraClientConfig::from_endpoint(id, endpoint, &settings.jira)
                    .with_header_injector(inject_trace_context);
                JiraClient::new(config).map(|client| (id.clone(), client))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { clients })
    }

    /// Whether `endpoint` is a Jira site this directory can ask.
    pub fn knows(&self, endpoint: &EndpointId) -> bool {
        self.clients.contains_key(endpoint)
    }

    /// The issue with `key` on `endpoint`; `Ok(None)` when Jira does not know it (or the
    /// endpoint is not a Jira site).
    #[tracing::instrument(name = "admin.find_issue", skip_all, fields(%endpoint, %key))]
    pub async fn find(
        &self,
        endpoint: &EndpointId,
        key: &IssueKey,
    ) -> Result<Option<FoundIssue>, JiraError> {
        let Some(client) = self.clients.get(endpoint) else {
            return Ok(None);
        };
        match client.get_issue(key.as_str(), &["project"], &[]).await {
            Ok(issue) => {
                let project = issue
                    .field("project")
                    .and_then(|p| p.get("key"))
                    .and_then(|k| k.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| key.project().to_owned());
                Ok(Some(FoundIssue {
                    id: issue.id,
                    key: issue.key,
                    project,
                }))
            }
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Adds `traceparent` (and `tracestate`) of the current span to a Jira request.
fn inject_trace_context(headers: &mut HeaderMap) {
    let context = jira_sync_telemetry::current_trace_context();
    for key in [TRACEPARENT, TRACESTATE] {
        if let Some(value) = context.get(key).and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(key, value);
        }
    }
}
