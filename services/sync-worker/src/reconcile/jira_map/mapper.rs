//! Jira field values <-> canonical snapshot values, field by field, for system and custom
//! fields. Names that differ per site (priorities, statuses, components, versions, options)
//! go through the connection's value maps, people through [`People`], mentions inside rich
//! text through the same resolver.

use jira_sync_domain::document::{FieldValueError, Snapshot};
use jira_sync_domain::richtext::text;
use jira_sync_domain::{Field, Person, Side};
use jira_sync_settings::{ConnectionSettings, CustomFieldType, ValuePair, map_name};
use serde_json::{Value, json};

use super::people::People;
use crate::error::ReconcileError;
use crate::jira::Issue;
use crate::reconcile::catalog::FieldCatalog;

/// Why a value could not be mapped.
pub enum MapError {
    /// The value does not have the field's shape.
    Unfit(FieldValueError),
    /// A look-up failed.
    Failed(ReconcileError),
}

impl From<ReconcileError> for MapError {
    fn from(e: ReconcileError) -> Self {
        MapError::Failed(e)
    }
}

fn unfit(key: &str, value: &Value) -> MapError {
    let mut text = value.to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    MapError::Unfit(FieldValueError {
        field: leak_name(key),
        value: text,
    })
}

/// `FieldValueError::field` is a `&'static str`: system names are static; custom field ids
/// are reported through their own path, so a generic name does here.
fn leak_name(key: &str) -> &'static str {
    Field::parse(key).map_or("custom field", Field::as_str)
}

/// The Jira field id of a system field.
pub fn jira_field(field: Field) -> &'static str {
    match field {
        Field::Summary => "summary",
        Field::Description => "description",
        Field::Labels => "labels",
        Field::Priority => "priority",
        Field::DueDate => "duedate",
        Field::Status => "status",
        Field::Assignee => "assignee",
        Field::Reporter => "reporter",
        Field::Components => "components",
        Field::FixVersions => "fixVersions",
    }
}

/// Maps one connection's fields for one reconcile.
pub struct Mapper<'a> {
    pub connection: &'a ConnectionSettings,
    pub people: People<'a>,
    pub catalog: &'a FieldCatalog,
}

fn names(raw: &Value, key: &str) -> Result<Vec<String>, MapError> {
    match raw {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => (other.get("name").or_else(|| other.get("value")))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| unfit(key, raw)),
            })
            .collect(),
        _ => Err(unfit(key, raw)),
    }
}

fn sorted(mut items: Vec<String>) -> Value {
    items.sort();
    items.dedup();
    json!(items)
}

fn mapped_set(raw: &Value, key: &str, pairs: &[ValuePair], side: Side) -> Result<Value, MapError> {
    let items = names(raw, key)?;
    Ok(sorted(match side {
        Side::Left => items,
        Side::Right => items
            .iter()
            .map(|n| map_name(pairs, Side::Right, n))
            .collect(),
    }))
}

fn to_side(pairs: &[ValuePair], target: Side, name: &str) -> String {
    match target {
        Side::Left => name.to_owned(),
        Side::Right => map_name(pairs, Side::Left, name),
    }
}

fn named(
    raw: &Value,
    key: &str,
    pairs: &[ValuePair],
    side: Side,
    attr: &str,
) -> Result<Value, MapError> {
    match raw {
        Value::Null => Ok(Value::Null),
        Value::Object(_) => match raw.get(attr).and_then(Value::as_str) {
            Some(name) if side == Side::Right => Ok(json!(map_name(pairs, Side::Right, name))),
            Some(name) => Ok(json!(name)),
            None => Err(unfit(key, raw)),
        },
        _ => Err(unfit(key, raw)),
    }
}

impl Mapper<'_> {
    /// The Jira field id of a synced field (system field name or custom field key) on `side`.
    pub fn jira_id(&self, key: &str, side: Side) -> Option<String> {
        match Field::parse(key) {
            Some(f) => Some(jira_field(f).to_owned()),
            None => (self.connection.sync.custom_field(key)).map(|c| c.id(side).to_owned()),
        }
    }

    /// The canonical values of `keys` of an issue read on `side`. Custom fields whose value
    /// does not fit are returned apart, to be reported and left out.
    pub async fn canonical<'k>(
        &self,
        issue: &Issue,
        side: Side,
        keys: impl Iterator<Item = &'k String>,
    ) -> Result<(Snapshot, Vec<(String, String)>), ReconcileError> {
        let mut values = Snapshot::new();
        let mut unfit_custom = Vec::new();
        for key in keys {
            let raw = (self.jira_id(key, side))
                .and_then(|id| issue.fields.get(&id).cloned())
                .unwrap_or(Value::Null);
            match self.value_to_canonical(key, &raw, side).await {
                Ok(v) => {
                    values.insert(key.clone(), v);
                }
                Err(MapError::Unfit(e)) if Field::parse(key).is_none() => {
                    unfit_custom.push((
                        key.clone(),
                        format!("a value on {side} does not fit: {}", e.value),
                    ));
                }
                Err(MapError::Unfit(source)) => {
                    return Err(ReconcileError::Mapping {
                        endpoint: self.people.endpoints[usize::from(side == Side::Right)].clone(),
                        issue: issue.key.clone(),
                        source,
                    });
                }
                Err(MapError::Failed(e)) => return Err(e),
            }
        }
        Ok((values, unfit_custom))
    }

    async fn person(&self, raw: &Value, key: &str, side: Side) -> Result<Value, MapError> {
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let id = raw
            .get("accountId")
            .and_then(Value::as_str)
            .ok_or_else(|| unfit(key, raw))?;
        self.people.learn(side, raw);
        let person = self.people.canonical(side, id).await?;
        Ok(Person::to_value(Some(&person)))
    }

    /// The canonical value of one field's raw Jira value read on `side`.
    pub async fn value_to_canonical(
        &self,
        key: &str,
        raw: &Value,
        side: Side,
    ) -> Result<Value, MapError> {
        let sync = &self.connection.sync;
        let Some(field) = Field::parse(key) else {
            return self.custom_to_canonical(key, raw, side).await;
        };
        match field {
            Field::Summary => match raw {
                Value::Null => Ok(json!("")),
                Value::String(_) => Ok(raw.clone()),
                _ => Err(unfit(key, raw)),
            },
            Field::Description => {
                let doc = match raw {
                    Value::String(t) => text::to_adf(t),
                    Value::Object(_) | Value::Null => raw.clone(),
                    _ => return Err(unfit(key, raw)),
                };
                let empty = doc.is_null()
                    || doc
                        .get("content")
                        .and_then(Value::as_array)
                        .is_none_or(|c| c.is_empty());
                if empty {
                    return Ok(Value::Null);
                }
                Ok(self.people.canonical_mentions(&doc, side).await?)
            }
            Field::Labels => Ok(sorted(names(raw, key)?)),
            Field::Components => mapped_set(raw, key, &sync.component_map, side),
            Field::FixVersions => mapped_set(raw, key, &sync.version_map, side),
            Field::Priority => named(raw, key, &self.connection.priority_map, side, "name"),
            Field::Status => named(raw, key, &sync.status_map, side, "name"),
            Field::DueDate => match raw {
                Value::Null | Value::String(_) => Ok(raw.clone()),
                _ => Err(unfit(key, raw)),
            },
            Field::Assignee | Field::Reporter => self.person(raw, key, side).await,
        }
    }

    async fn custom_to_canonical(
        &self,
        key: &str,
        raw: &Value,
        side: Side,
    ) -> Result<Value, MapError> {
        let (Some(mapping), Some(kind)) = (
            self.connection.sync.custom_field(key),
            self.catalog.types.get(key),
        ) else {
            return Err(unfit(key, raw));
        };
        let ok = match (kind, raw) {
            (_, Value::Null)
                if *kind != CustomFieldType::Multiselect && *kind != CustomFieldType::Labels =>
            {
                return Ok(Value::Null);
            }
            (CustomFieldType::Text | CustomFieldType::Date, Value::String(_)) => true,
            (CustomFieldType::Number, Value::Number(_)) => true,
            (CustomFieldType::Select, _) => {
                return named(raw, key, &mapping.options, side, "value");
            }
            (CustomFieldType::Multiselect, _) => {
                return mapped_set(raw, key, &mapping.options, side);
            }
            (CustomFieldType::Labels, _) => return Ok(sorted(names(raw, key)?)),
            (CustomFieldType::User, _) => return self.person(raw, key, side).await,
            _ => false,
        };
        if ok {
            Ok(raw.clone())
        } else {
            Err(unfit(key, raw))
        }
    }

    async fn account_value(
        &self,
        canon: &Value,
        key: &str,
        target: Side,
        omit_unknown: bool,
    ) -> Result<Option<Value>, MapError> {
        let Some(person) = Person::from_value(canon).ok_or_else(|| unfit(key, canon))? else {
            // Jira refuses an empty reporter: leave it as it is.
            return Ok((!omit_unknown).then_some(Value::Null));
        };
        let account = match self.people.account_on(&person, target).await? {
            Some(a) => Some(a),
            None => self.people.fallback(target).map(str::to_owned),
        };
        Ok(match account {
            Some(a) => Some(json!({ "accountId": a })),
            None if omit_unknown => None,
            None => Some(Value::Null),
        })
    }

    /// The raw Jira value writing canonical `canon` to `target`; `None` when the field is to
    /// be left out of the write (a reporter without a counterpart or fallback).
    pub async fn value_to_jira(
        &self,
        key: &str,
        canon: &Value,
        target: Side,
    ) -> Result<Option<Value>, MapError> {
        let sync = &self.connection.sync;
        let list = |pairs: &[ValuePair]| -> Result<Value, MapError> {
            let items = names(canon, key)?;
            Ok(Value::Array(
                items
                    .iter()
                    .map(|n| json!({ "name": to_side(pairs, target, n) }))
                    .collect(),
            ))
        };
        let name = |pairs: &[ValuePair], attr: &str| -> Result<Value, MapError> {
            match canon {
                Value::Null => Ok(Value::Null),
                Value::String(n) => Ok(json!({ attr: to_side(pairs, target, n) })),
                _ => Err(unfit(key, canon)),
            }
        };
        let Some(field) = Field::parse(key) else {
            let (Some(mapping), Some(kind)) = (sync.custom_field(key), self.catalog.types.get(key))
            else {
                return Err(unfit(key, canon));
            };
            return match kind {
                CustomFieldType::Select => name(&mapping.options, "value").map(Some),
                CustomFieldType::Multiselect => {
                    let items = names(canon, key)?;
                    Ok(Some(Value::Array(
                        items
                            .iter()
                            .map(|n| json!({ "value": to_side(&mapping.options, target, n) }))
                            .collect(),
                    )))
                }
                CustomFieldType::User => self.account_value(canon, key, target, false).await,
                _ => Ok(Some(canon.clone())),
            };
        };
        Ok(Some(match field {
            Field::Description if canon.is_object() => {
                self.people.mentions_for(canon, target).await?
            }
            Field::Components => list(&sync.component_map)?,
            Field::FixVersions => list(&sync.version_map)?,
            Field::Priority => name(&self.connection.priority_map, "name")?,
            Field::Status => name(&sync.status_map, "name")?,
            Field::Assignee => return self.account_value(canon, key, target, false).await,
            Field::Reporter => return self.account_value(canon, key, target, true).await,
            _ => canon.clone(),
        }))
    }
}
