//! Reading `fields` and `update` from create, edit and transition bodies into typed edits, with
//! Jira's per-field error messages. Nothing is changed here: every field is checked first, so a
//! request with one bad field changes nothing (`apply` does the writing).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::catalog::{Catalog, id_of};
use super::model::Issue;
use super::registry::Registry;
use super::{adf, custom};
use crate::error::ApiError;

/// One checked field change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Edit {
    Summary(String),
    Description(Option<Value>),
    Labels(Vec<String>),
    Priority(Option<usize>),
    DueDate(Option<NaiveDate>),
    Assignee(Option<String>),
    Reporter(Option<String>),
    Components(Vec<String>),
    FixVersions(Vec<String>),
    Resolution(Option<usize>),
    IssueType(usize),
    Custom(String, Value),
}

/// Jira's message for a field that cannot be edited.
pub(crate) fn cannot_set(name: &str) -> String {
    format!("Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.")
}

/// Checks `fields` and `update` (skipping the names in `skip`) against the site and the issue's
/// current values; all errors are reported together, keyed by field.
pub(crate) fn parse(
    cat: &Catalog,
    registry: &Registry,
    current: Option<&Issue>,
    fields: &Map<String, Value>,
    update: &Map<String, Value>,
    skip: &[&str],
) -> Result<Vec<Edit>, ApiError> {
    let mut edits = Vec::new();
    let mut errors = BTreeMap::new();
    for (name, value) in fields.iter().filter(|(n, _)| !skip.contains(&n.as_str())) {
        if update.contains_key(name) {
            errors.insert(
                name.clone(),
                format!("Field '{name}' cannot be set in both fields and update."),
            );
            continue;
        }
        match parse_field(cat, registry, name, value) {
            Ok(edit) => edits.push(edit),
            Err(msg) => drop(errors.insert(name.clone(), msg)),
        }
    }
    for (name, ops) in update.iter().filter(|(n, _)| !skip.contains(&n.as_str())) {
        let value =
            resolve_ops(name, ops, current).and_then(|v| parse_field(cat, registry, name, &v));
        match value {
            Ok(edit) => edits.push(edit),
            Err(msg) => drop(errors.insert(name.clone(), msg)),
        }
    }
    if errors.is_empty() {
        Ok(edits)
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Folds `[{"set": v}, {"add": v}, {"remove": v}]` into the field's final value.
fn resolve_ops(name: &str, ops: &Value, current: Option<&Issue>) -> Result<Value, String> {
    let ops = ops
        .as_array()
        .ok_or_else(|| format!("Update operations for '{name}' must be an array."))?;
    let list = matches!(name, "labels" | "components" | "fixVersions");
    let mut value = match (name, current) {
        ("labels", Some(i)) => Value::from(i.labels.clone()),
        ("components", Some(i)) => named(&i.components),
        ("fixVersions", Some(i)) => named(&i.fix_versions),
        (_, _) if list => Value::Array(Vec::new()),
        _ => Value::Null,
    };
    for op in ops {
        let Some((verb, arg)) = op.as_object().and_then(|o| o.iter().next()) else {
            return Err(format!("Update operations for '{name}' must be objects."));
        };
        match (verb.as_str(), value.as_array_mut()) {
            ("set", _) => value = arg.clone(),
            ("add", Some(items)) if list => {
                if !items.iter().any(|x| same_item(x, arg)) {
                    items.push(arg.clone());
                }
            }
            ("remove", Some(items)) if list => items.retain(|x| !same_item(x, arg)),
            (verb, _) => {
                return Err(format!(
                    "Operation '{verb}' is not supported for field '{name}'."
                ));
            }
        }
    }
    Ok(value)
}

fn named(items: &[(u64, String)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(id, n)| serde_json::json!({"id": id.to_string(), "name": n}))
            .collect(),
    )
}

fn same_item(a: &Value, b: &Value) -> bool {
    if a.is_string() || b.is_string() {
        return a == b;
    }
    let name = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_owned);
    (name(a).is_some() && name(a) == name(b)) || (id_of(a).is_some() && id_of(a) == id_of(b))
}

fn parse_field(cat: &Catalog, registry: &Registry, name: &str, v: &Value) -> Result<Edit, String> {
    match name {
        "summary" => summary(v).map(Edit::Summary),
        "description" => rich_text(v).map(Edit::Description),
        "labels" => labels(v).map(Edit::Labels),
        "priority" => optional(v, |v| {
            cat.find_priority(v)
                .ok_or("The priority selected is invalid.".into())
        })
        .map(Edit::Priority),
        "duedate" => optional(v, |v| {
            let s = v.as_str().unwrap_or_default();
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("Error parsing date string: {v}"))
        })
        .map(Edit::DueDate),
        "assignee" => user(cat, v).map(Edit::Assignee),
        "reporter" => user(cat, v).map(Edit::Reporter),
        "components" => {
            names(v, |id| registry.component_name(id), "Component").map(Edit::Components)
        }
        "fixVersions" => names(v, |id| registry.version_name(id), "Version").map(Edit::FixVersions),
        "resolution" => optional(v, |v| {
            cat.find_resolution(v)
                .ok_or_else(|| format!("Resolution '{}' is not valid.", brief(v)))
        })
        .map(Edit::Resolution),
        "issuetype" => cat
            .find_issue_type(v)
            .map(Edit::IssueType)
            .ok_or_else(|| "Specify a valid issue type".into()),
        _ => match cat.custom_field(name) {
            Some(def) => custom::parse(cat, def, v).map(|v| Edit::Custom(name.to_owned(), v)),
            None => Err(cannot_set(name)),
        },
    }
}

fn summary(v: &Value) -> Result<String, String> {
    let s = v.as_str().ok_or("Operation value must be a string")?.trim();
    if s.is_empty() {
        return Err("You must specify a summary of the issue.".into());
    }
    if s.chars().count() > 255 {
        return Err("Summary must be less than 255 characters.".into());
    }
    Ok(s.to_owned())
}

fn rich_text(v: &Value) -> Result<Option<Value>, String> {
    match v {
        Value::Null => Ok(None),
        v if adf::is_doc(v) => Ok(Some(v.clone())),
        _ => Err(
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                .into(),
        ),
    }
}

fn labels(v: &Value) -> Result<Vec<String>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("Operation value must be an array of strings.".into()),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let label = item
            .as_str()
            .ok_or("Operation value must be an array of strings.")?;
        if label.is_empty() || label.chars().any(char::is_whitespace) {
            return Err(format!(
                "The label '{label}' contains spaces which is invalid."
            ));
        }
        if label.chars().count() > 255 {
            return Err("The label must not exceed 255 characters.".into());
        }
        out.push(label.to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn optional<T>(
    v: &Value,
    f: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if v.is_null() {
        Ok(None)
    } else {
        f(v).map(Some)
    }
}

fn user(cat: &Catalog, v: &Value) -> Result<Option<String>, String> {
    optional(v, |v| {
        let id = v
            .get("accountId")
            .and_then(Value::as_str)
            .ok_or("Specify the user by accountId.")?;
        if id == "-1" {
            return Ok(None);
        }
        cat.user(id)
            .map(|u| Some(u.account_id.clone()))
            .ok_or_else(|| {
                "Specified user does not exist or you do not have required permissions".into()
            })
    })
    .map(Option::flatten)
}

fn names(
    v: &Value,
    by_id: impl Fn(&str) -> Option<String>,
    what: &str,
) -> Result<Vec<String>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("Operation value must be an array of objects.".into()),
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let name = match (item.get("name").and_then(Value::as_str), id_of(item)) {
            (Some(n), _) if !n.trim().is_empty() => n.trim().to_owned(),
            (_, Some(id)) => {
                by_id(&id).ok_or_else(|| format!("{what} with id '{id}' does not exist."))?
            }
            _ => return Err(format!("{what} must be given by name or id.")),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

fn brief(v: &Value) -> String {
    v.get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| id_of(v))
        .unwrap_or_else(|| v.to_string())
}
