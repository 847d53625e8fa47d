//! The canonical issue document: the normalized field values every connector maps to and from,
//! and the snapshot form (field name -> JSON value) that merges and bases are made of.
//!
//! Values that name things per site (priorities, statuses, people, options) are kept in the
//! LEFT side's terms: connectors map the right side's values in on read and back out on write.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::Side;

/// A synced field. The snapshot key is [`Field::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Summary,
    Description,
    Labels,
    Priority,
    DueDate,
    /// The workflow status, by name; written through transitions, not edits.
    Status,
    Assignee,
    Reporter,
    Components,
    FixVersions,
}

impl Field {
    /// Every system field jira-sync can sync.
    pub const ALL: [Field; 10] = [
        Field::Summary,
        Field::Description,
        Field::Labels,
        Field::Priority,
        Field::DueDate,
        Field::Status,
        Field::Assignee,
        Field::Reporter,
        Field::Components,
        Field::FixVersions,
    ];

    /// The snapshot key (and config name) of the field.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::Description => "description",
            Field::Labels => "labels",
            Field::Priority => "priority",
            Field::DueDate => "due_date",
            Field::Status => "status",
            Field::Assignee => "assignee",
            Field::Reporter => "reporter",
            Field::Components => "components",
            Field::FixVersions => "fix_versions",
        }
    }

    /// The field of a snapshot key.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The canonical form of an issue's synced fields. Priority and status are canonical (mapped)
/// names; description is an ADF document passed through as JSON (mentions in canonical ids);
/// labels, components and versions are sorted and deduplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalIssue {
    pub summary: String,
    #[serde(default)]
    pub description: Option<Value>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub assignee: Option<Person>,
    #[serde(default)]
    pub reporter: Option<Person>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub fix_versions: Vec<String>,
}

/// Field values by field name: what a base, a merge input and a write are made of.
pub type Snapshot = BTreeMap<String, Value>;

impl CanonicalIssue {
    /// Normalizes set-like values so that equal content compares equal.
    pub fn normalized(mut self) -> Self {
        for list in [
            &mut self.labels,
            &mut self.components,
            &mut self.fix_versions,
        ] {
            list.sort();
            list.dedup();
        }
        self.description = self.description.filter(|d| !is_empty_adf(d));
        self
    }

    /// The value of one field, as it appears in snapshots.
    pub fn get(&self, field: Field) -> Value {
        match field {
            Field::Summary => Value::String(self.summary.clone()),
            Field::Description => self.description.clone().unwrap_or(Value::Null),
            Field::Labels => strings(&self.labels),
            Field::Components => strings(&self.components),
            Field::FixVersions => strings(&self.fix_versions),
            Field::Priority => self.priority.clone().map_or(Value::Null, Value::String),
            Field::Status => self.status.clone().map_or(Value::Null, Value::String),
            Field::DueDate => self.due_date.map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            }),
            Field::Assignee => Person::to_value(self.assignee.as_ref()),
            Field::Reporter => Person::to_value(self.reporter.as_ref()),
        }
    }

    /// Sets one field from its snapshot value; a value of the wrong shape is an error.
    pub fn set(&mut self, field: Field, value: &Value) -> Result<(), FieldValueError> {
        let bad = || FieldValueError {
            field: field.as_str(),
            value: truncate(value),
        };
        match field {
            Field::Summary => self.summary = value.as_str().ok_or_else(bad)?.to_owned(),
            Field::Description => {
                self.description = (!value.is_null()).then(|| value.clone());
            }
            Field::Labels => self.labels = string_set(value).ok_or_else(bad)?,
            Field::Components => self.components = string_set(value).ok_or_else(bad)?,
            Field::FixVersions => self.fix_versions = string_set(value).ok_or_else(bad)?,
            Field::Priority => self.priority = optional_string(value).ok_or_else(bad)?,
            Field::Status => self.status = optional_string(value).ok_or_else(bad)?,
            Field::Assignee => self.assignee = Person::from_value(value).ok_or_else(bad)?,
            Field::Reporter => self.reporter = Person::from_value(value).ok_or_else(bad)?,
            Field::DueDate => {
                self.due_date = match value {
                    Value::Null => None,
                    Value::String(s) => {
                        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?)
                    }
                    _ => return Err(bad()),
                }
            }
        }
        Ok(())
    }

    /// The snapshot of the given fields.
    pub fn snapshot(&self, fields: &[Field]) -> Snapshot {
        fields
            .iter()
            .map(|f| (f.as_str().to_owned(), self.get(*f)))
            .collect()
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|l| Value::String(l.clone())).collect())
}

/// A sorted, deduplicated list of strings from a JSON array (`null` is empty).
fn string_set(value: &Value) -> Option<Vec<String>> {
    let mut items: Vec<String> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    items.sort();
    items.dedup();
    Some(items)
}

/// `Some(None)` for `null`, `Some(Some(s))` for a string, `None` for anything else.
fn optional_string(value: &Value) -> Option<Option<String>> {
    match value {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => None,
    }
}

/// A person in canonical form.
///
/// People are named in the LEFT side's terms: a left account id (Cloud) or user name (Data
/// Center). A right-side person with no left counterpart (not in the user map, no e-mail
/// match) stays [`Person::Foreign`], so that a change between two unmapped people is still a
/// change, and writing them anywhere falls back to the connection's default user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Person {
    /// Known in the canonical space: the left side's id.
    Known(String),
    /// A person of `side` without a counterpart; `id` is that side's id.
    Foreign { side: Side, id: String },
}

impl Person {
    /// The snapshot value of an optional person (`null` when unassigned).
    pub fn to_value(person: Option<&Person>) -> Value {
        match person {
            None => Value::Null,
            Some(Person::Known(id)) => Value::String(id.clone()),
            Some(Person::Foreign { side, id }) => {
                serde_json::json!({ "side": side.as_str(), "id": id })
            }
        }
    }

    /// Parses a snapshot value: `Some(None)` for `null`, `None` when it is not a person.
    pub fn from_value(value: &Value) -> Option<Option<Person>> {
        if value.is_null() {
            return Some(None);
        }
        serde_json::from_value(value.clone()).ok().map(Some)
    }
}

/// A snapshot value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value {value} does not fit field {field}")]
pub struct FieldValueError {
    pub field: &'static str,
    pub value: String,
}

fn truncate(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}...", &text[..cut])
    } else {
        text
    }
}

/// An ADF document with no content is the same as no description.
fn is_empty_adf(doc: &Value) -> bool {
    doc.get("type").and_then(Value::as_str) == Some("doc")
        && doc
            .get("content")
            .and_then(Value::as_array)
            .is_none_or(|c| c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_round_trips_through_its_snapshot_value() -> Result<(), FieldValueError> {
        let issue = CanonicalIssue {
            summary: "Printer on fire".into(),
            description: Some(
                json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hot"}]}]}),
            ),
            labels: vec!["a".into(), "b".into()],
            priority: Some("High".into()),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 24),
            status: Some("In Progress".into()),
            assignee: Some(Person::Known("acc-1".into())),
            reporter: Some(Person::Foreign {
                side: Side::Right,
                id: "acc-9".into(),
            }),
            components: vec!["api".into()],
            fix_versions: vec!["1.0".into(), "2.0".into()],
        };
        let mut copy = CanonicalIssue::default();
        for field in Field::ALL {
            copy.set(field, &issue.get(field))?;
        }
        assert_eq!(copy, issue);
        Ok(())
    }

    #[test]
    fn wrong_shapes_are_rejected_with_the_field_named() {
        let mut issue = CanonicalIssue::default();
        let err = issue.set(Field::DueDate, &json!("24.12.2026"));
        assert_eq!(err.map_err(|e| e.field), Err("due_date"));
        assert!(issue.set(Field::Labels, &json!([1])).is_err());
        assert!(issue.set(Field::Summary, &Value::Null).is_err());
        assert!(issue.set(Field::Assignee, &json!(7)).is_err());
    }

    #[test]
    fn people_are_plain_ids_when_known_and_tagged_with_their_side_when_foreign() {
        let known = Person::Known("acc-1".into());
        let foreign = Person::Foreign {
            side: Side::Right,
            id: "acc-9".into(),
        };
        assert_eq!(Person::to_value(Some(&known)), json!("acc-1"));
        assert_eq!(
            Person::to_value(Some(&foreign)),
            json!({"side": "right", "id": "acc-9"})
        );
        assert_eq!(Person::from_value(&json!("acc-1")), Some(Some(known)));
        assert_eq!(Person::from_value(&Value::Null), Some(None));
    }

    #[test]
    fn normalization_sorts_labels_and_drops_empty_descriptions() {
        let issue = CanonicalIssue {
            labels: vec!["b".into(), "a".into(), "b".into()],
            description: Some(json!({"type":"doc","version":1,"content":[]})),
            ..Default::default()
        }
        .normalized();
        assert_eq!(issue.labels, vec!["a", "b"]);
        assert_eq!(issue.description, None);
    }
}
