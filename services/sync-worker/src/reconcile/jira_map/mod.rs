//! Jira issues <-> the canonical document, and the origin marker twins carry.
//!
//! Canonical values are in the LEFT side's terms: names of priorities, statuses, components,
//! versions and options map through the connection's value maps, people through the user map
//! or e-mail ([`people`]), mentions inside rich text the same way. Descriptions are ADF and
//! pass through with only their mentions rewritten (a plain string, as Data Center or an old
//! webhook sends it, becomes ADF). Which fields are synced and in which direction is the
//! merge's business, not this module's.

mod mapper;
pub mod people;
mod plan;

use jira_sync_domain::{ConnectionId, EndpointId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use mapper::{MapError, Mapper, jira_field};
pub use plan::{Planned, edit_fields};

/// The issue property that marks a twin created by jira-sync with where it came from; the
/// comment property of the same name marks a comment copy.
pub const ORIGIN_PROPERTY: &str = "jira-sync.origin";

/// The Jira fields to read for a reconcile on one side: the synced ones (`ids`), plus what
/// twins, scope checks and the merge look at.
pub fn read_fields(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut fields: Vec<String> = ids.into_iter().collect();
    for extra in [
        "summary",
        "status",
        "project",
        "updated",
        "issuetype",
        "labels",
    ] {
        if !fields.iter().any(|f| f == extra) {
            fields.push(extra.to_owned());
        }
    }
    fields
}

/// The project key of an issue read with the `project` field.
pub fn project_key(fields: &Map<String, Value>) -> Option<&str> {
    fields.get("project")?.get("key")?.as_str()
}

/// The status name and category key of an issue read with the `status` field.
pub fn status_of(fields: &Map<String, Value>) -> (Option<&str>, Option<&str>) {
    let status = fields.get("status");
    let name = status.and_then(|s| s.get("name")).and_then(Value::as_str);
    let category = status
        .and_then(|s| s.pointer("/statusCategory/key"))
        .and_then(Value::as_str);
    (name, category)
}

/// The value of the [`ORIGIN_PROPERTY`] on a twin: which entity it was created from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginMarker {
    /// The connection that created the twin.
    pub connection: String,
    /// The endpoint the origin lives on.
    pub endpoint: String,
    /// The origin's issue id.
    pub id: String,
    /// The origin's key when the twin was created, for people.
    #[serde(default)]
    pub key: Option<String>,
}

impl OriginMarker {
    /// The marker of a twin of issue `id` (`key`) on `endpoint`, created by `connection`.
    pub fn new(connection: &ConnectionId, endpoint: &EndpointId, id: &str, key: &str) -> Self {
        Self {
            connection: connection.to_string(),
            endpoint: endpoint.to_string(),
            id: id.to_owned(),
            key: Some(key.to_owned()),
        }
    }

    /// The marker among an issue's properties, if it has one that parses.
    pub fn of(properties: &Map<String, Value>) -> Option<Self> {
        serde_json::from_value(properties.get(ORIGIN_PROPERTY)?.clone()).ok()
    }

    /// Whether this marker says "created by `connection` from an entity on `endpoint`".
    pub fn is_from(&self, connection: &ConnectionId, endpoint: &EndpointId) -> bool {
        self.connection == connection.as_str() && self.endpoint == endpoint.as_str()
    }

    /// The property value to store on the twin.
    pub fn to_value(&self) -> Value {
        json!({
            "connection": self.connection,
            "endpoint": self.endpoint,
            "id": self.id,
            "key": self.key,
        })
    }
}

#[cfg(test)]
mod tests;
