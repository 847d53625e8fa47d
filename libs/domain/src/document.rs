//! The canonical issue document: the normalized field values every connector maps to and from,
//! and the snapshot form (field name -> JSON value) that merges and bases are made of.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A synced field. The snapshot key is [`Field::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Summary,
    Description,
    Labels,
    Priority,
    DueDate,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Summary,
        Field::Description,
        Field::Labels,
        Field::Priority,
        Field::DueDate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::Description => "description",
            Field::Labels => "labels",
            Field::Priority => "priority",
            Field::DueDate => "due_date",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The canonical form of an issue's synced fields. Priority is the canonical (mapped) name;
/// description is an ADF document passed through as JSON; labels are sorted and deduplicated.
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
}

/// Field values by field name: what a base, a merge input and a write are made of.
pub type Snapshot = BTreeMap<String, Value>;

impl CanonicalIssue {
    /// Normalizes set-like values so that equal content compares equal.
    pub fn normalized(mut self) -> Self {
        self.labels.sort();
        self.labels.dedup();
        self.description = self.description.filter(|d| !is_empty_adf(d));
        self
    }

    /// The value of one field, as it appears in snapshots.
    pub fn get(&self, field: Field) -> Value {
        match field {
            Field::Summary => Value::String(self.summary.clone()),
            Field::Description => self.description.clone().unwrap_or(Value::Null),
            Field::Labels => Value::Array(
                self.labels
                    .iter()
                    .map(|l| Value::String(l.clone()))
                    .collect(),
            ),
            Field::Priority => self.priority.clone().map_or(Value::Null, Value::String),
            Field::DueDate => self.due_date.map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            }),
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
            Field::Labels => {
                let items = value.as_array().ok_or_else(bad)?;
                self.labels = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                    .collect::<Result<_, _>>()?;
                self.labels.sort();
                self.labels.dedup();
            }
            Field::Priority => {
                self.priority = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(bad()),
                }
            }
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
