//! Jira issue fields <-> [`CanonicalIssue`], and the origin marker twins carry.
//!
//! Canonical priority names are the LEFT side's names: a right-side priority is mapped through
//! the connection's `priority_map` on the way in and back on the way out. Description is ADF and
//! passes through untouched (a plain string, as Data Center or an old webhook sends it, becomes a
//! one-paragraph ADF document). Which fields are synced and in which direction is the merge's
//! business, not this module's.

use jira_sync_domain::document::{FieldValueError, Snapshot};
use jira_sync_domain::{CanonicalIssue, ConnectionId, EndpointId, Field, Side};
use jira_sync_settings::ConnectionSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The issue property that marks a twin created by jira-sync with where it came from.
pub const ORIGIN_PROPERTY: &str = "jira-sync.origin";

/// The Jira field id of a canonical field.
pub fn jira_field(field: Field) -> &'static str {
    match field {
        Field::Summary => "summary",
        Field::Description => "description",
        Field::Labels => "labels",
        Field::Priority => "priority",
        Field::DueDate => "duedate",
    }
}

/// The Jira fields to read for a reconcile: the synced ones, the summary (a twin needs it),
/// and what scope checks and the merge look at.
pub fn read_fields(synced: &[Field]) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = synced.iter().map(|f| jira_field(*f)).collect();
    for extra in ["summary", "status", "project", "updated"] {
        if !fields.contains(&extra) {
            fields.push(extra);
        }
    }
    fields
}

/// Maps the fields of an issue read from `side` to the canonical document.
pub fn to_canonical(
    fields: &Map<String, Value>,
    side: Side,
    connection: &ConnectionSettings,
) -> Result<CanonicalIssue, FieldValueError> {
    let mut issue = CanonicalIssue::default();
    let get = |name: &str| fields.get(name).unwrap_or(&Value::Null);
    match get("summary") {
        Value::Null => {}
        other => issue.set(Field::Summary, other)?,
    }
    let description = match get("description") {
        Value::String(text) => adf_from_text(text),
        other => other.clone(),
    };
    if !(description.is_null() || description.is_object()) {
        return Err(shape_error(Field::Description, &description));
    }
    issue.set(Field::Description, &description)?;
    match get("labels") {
        Value::Null => {}
        other => issue.set(Field::Labels, other)?,
    }
    issue.priority = match get("priority") {
        Value::Null => None,
        Value::Object(priority) => match priority.get("name") {
            Some(Value::String(name)) => Some(match side {
                Side::Left => name.clone(),
                Side::Right => connection.map_priority(Side::Right, name),
            }),
            _ => return Err(shape_error(Field::Priority, get("priority"))),
        },
        other => return Err(shape_error(Field::Priority, other)),
    };
    issue.set(Field::DueDate, get("duedate"))?;
    Ok(issue.normalized())
}

/// Maps canonical snapshot values to the Jira fields of an edit (or create) on `target`.
/// Only the fields present in `values` are written.
pub fn to_jira_fields(
    values: &Snapshot,
    target: Side,
    connection: &ConnectionSettings,
) -> Result<Map<String, Value>, FieldValueError> {
    let mut out = Map::new();
    let mut scratch = CanonicalIssue::default();
    for (name, value) in values {
        let Some(field) = Field::parse(name) else {
            continue;
        };
        // Checks the value's shape (a date that parses, labels that are strings...).
        scratch.set(field, value)?;
        let jira_value = match (field, value) {
            (Field::Priority, Value::String(name)) => {
                let name = match target {
                    Side::Left => name.clone(),
                    Side::Right => connection.map_priority(Side::Left, name),
                };
                json!({ "name": name })
            }
            (Field::Description, Value::Object(_) | Value::Null) => value.clone(),
            (Field::Description, _) => return Err(shape_error(field, value)),
            _ => value.clone(),
        };
        out.insert(jira_field(field).to_owned(), jira_value);
    }
    Ok(out)
}

/// The project key of an issue read with the `project` field.
pub fn project_key(fields: &Map<String, Value>) -> Option<&str> {
    fields.get("project")?.get("key")?.as_str()
}

/// A one-paragraph ADF document holding `text` (`null` for empty text).
fn adf_from_text(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    json!({
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]
    })
}

fn shape_error(field: Field, value: &Value) -> FieldValueError {
    let mut text = value.to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    FieldValueError {
        field: field.as_str(),
        value: text,
    }
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
