//! The Jira clients the worker talks through: one per configured endpoint, built from settings.
//!
//! This is the only module that names the jira-client crate's types; the rest of the worker
//! imports them from here. HTTP details (timeouts, in-call retries, classification of errors
//! into transient and permanent) belong to the client, not to the worker.

use std::collections::BTreeMap;

use http::header::{HeaderMap, HeaderValue};
use jira_sync_domain::EndpointId;
use jira_sync_settings::Settings;
use jira_sync_telemetry::{TRACEPARENT, TRACESTATE};

pub use jira_sync_jira_client::{
    Comment, CreateIssue, EntityProperty, FieldMeta, Issue, JiraClient, JiraClientConfig,
    JiraError, SearchRequest, Transition,
};

/// One [`JiraClient`] per configured endpoint.
#[derive(Clone, Default)]
pub struct JiraClients {
    clients: BTreeMap<EndpointId, JiraClient>,
}

impl JiraClients {
    /// Builds a client for every endpoint in `settings.endpoints`; each request carries the
    /// W3C trace context of its `jira_request` span ([`inject_trace_context`]).
    pub fn from_settings(settings: &Settings) -> Result<Self, JiraError> {
        let clients = settings
            .endpoints
            .iter()
            .map(|(id, endpoint)| {
                let config = JiraClientConfig::from_endpoint(id, endpoint, &settings.jira)
                    .with_header_injector(inject_trace_context);
                JiraClient::new(config).map(|client| (id.clone(), client))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { clients })
    }

    /// Adds or replaces the client of one endpoint (for tests that point at a simulator).
    pub fn insert(&mut self, endpoint: EndpointId, client: JiraClient) {
        self.clients.insert(endpoint, client);
    }

    /// The client of `endpoint`, if it is configured.
    pub fn get(&self, endpoint: &EndpointId) -> Option<&JiraClient> {
        self.clients.get(endpoint)
    }
}

/// Adds `traceparent` (and `tracestate`) of the current span to an outgoing request, so that
/// Jira-side logs (and the simulator) can be tied to the trace. The client calls it inside its
/// request span.
pub fn inject_trace_context(headers: &mut HeaderMap) {
    let context = jira_sync_telemetry::current_trace_context();
    for key in [TRACEPARENT, TRACESTATE] {
        if let Some(value) = context.get(key).and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(key, value);
        }
    }
}

impl std::fmt::Debug for JiraClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clients.keys()).finish()
    }
}
