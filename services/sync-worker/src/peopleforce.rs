//! The PeopleForce clients the worker talks through: one per `kind = "peopleforce"` endpoint,
//! built from settings, and the per-connection choice of which side creates twins.
//!
//! This is the only module that names the peopleforce-client crate's types; the reconcile
//! engine imports them from here. HTTP details (pagination, retries, the classification of
//! errors) belong to the client.

use std::collections::BTreeMap;

use jira_sync_domain::EndpointId;
use jira_sync_settings::{EndpointKind, Settings};

pub use jira_sync_peopleforce_client::{
    Employee, NewTask, PeopleForceClient, PeopleForceConfig, PeopleForceError, Task,
};

/// One [`PeopleForceClient`] per PeopleForce endpoint.
#[derive(Clone, Default)]
pub struct PeopleforceClients {
    clients: BTreeMap<EndpointId, PeopleForceClient>,
}

impl PeopleforceClients {
    /// Builds a client for every `kind = "peopleforce"` endpoint in `settings.endpoints`, with
    /// the timeouts and retries of `[jira]` and the page size of `poller.peopleforce_page_size`.
    pub fn from_settings(settings: &Settings) -> Result<Self, PeopleForceError> {
        let clients = (settings.endpoints.iter())
            .filter(|(_, e)| e.kind == EndpointKind::Peopleforce)
            .map(|(id, endpoint)| {
                let config = PeopleForceConfig::from_endpoint(id, endpoint, &settings.jira)
                    .with_page_size(settings.poller.peopleforce_page_size);
                PeopleForceClient::new(config).map(|client| (id.clone(), client))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { clients })
    }

    /// Adds or replaces the client of one endpoint (for tests that point at a simulator).
    pub fn insert(&mut self, endpoint: EndpointId, client: PeopleForceClient) {
        self.clients.insert(endpoint, client);
    }

    /// The client of `endpoint`, if it is a configured PeopleForce endpoint.
    pub fn get(&self, endpoint: &EndpointId) -> Option<&PeopleForceClient> {
        self.clients.get(endpoint)
    }
}

impl std::fmt::Debug for PeopleforceClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clients.keys()).finish()
    }
}

pub use jira_sync_settings::CreateFrom;
