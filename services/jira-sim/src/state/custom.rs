//! Custom field values: checking input per field type and the stored form, as Jira does.
//! Options are stored as `{"value", "id"}` (ids 10100, 10101, ... in the field's option
//! order), users as `{"accountId"}`; `render` turns them back into Jira's shapes.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::adf;
use super::catalog::{Catalog, id_of};
use crate::config::{CustomFieldDef, CustomFieldKind};

/// The stored form of `v` for field `def`, or Jira's message for a bad value.
pub(crate) fn parse(cat: &Catalog, def: &CustomFieldDef, v: &Value) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    match def.kind {
        CustomFieldKind::Text => match v.as_str() {
            Some(s) if s.chars().count() <= 255 => Ok(v.clone()),
            _ => Err("Operation value must be a string of at most 255 characters".into()),
        },
        CustomFieldKind::Number if v.is_number() => Ok(v.clone()),
        CustomFieldKind::Number => Err("Operation value must be a number".into()),
        CustomFieldKind::Textarea if adf::is_doc(v) => Ok(v.clone()),
        CustomFieldKind::Textarea => Err(
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                .into(),
        ),
        CustomFieldKind::Date => {
            let text = v.as_str().unwrap_or_default();
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|_| v.clone())
                .map_err(|_| format!("Error parsing date string: {v}"))
        }
        CustomFieldKind::Select => option(def, v),
        CustomFieldKind::Multiselect => {
            let items = v
                .as_array()
                .ok_or("Operation value must be an array of options.")?;
            let mut out: Vec<Value> = Vec::new();
            for item in items {
                let option = option(def, item)?;
                if !out.contains(&option) {
                    out.push(option);
                }
            }
            Ok(Value::Array(out))
        }
        CustomFieldKind::User => {
            let id = v
                .get("accountId")
                .and_then(Value::as_str)
                .ok_or("Specify the user by accountId.")?;
            cat.user(id)
                .map(|u| json!({"accountId": u.account_id}))
                .ok_or_else(|| {
                    "Specified user does not exist or you do not have required permissions".into()
                })
        }
        CustomFieldKind::Labels => {
            let mut labels = Vec::new();
            for item in v
                .as_array()
                .ok_or("Operation value must be an array of strings.")?
            {
                match item.as_str() {
                    Some(l) if !l.is_empty() && !l.chars().any(char::is_whitespace) => {
                        labels.push(l.to_owned());
                    }
                    _ => return Err(format!("The label '{item}' is invalid.")),
                }
            }
            labels.sort();
            labels.dedup();
            Ok(json!(labels))
        }
        CustomFieldKind::Cascading => {
            let mut parent = option(def, v)?;
            if let Some(child) = v.get("child").filter(|c| !c.is_null()) {
                parent["child"] = option(def, child)?;
            }
            Ok(parent)
        }
    }
}

/// An option given by `value` or `id`, in its stored form.
fn option(def: &CustomFieldDef, v: &Value) -> Result<Value, String> {
    let index = match (v.get("value").and_then(Value::as_str), id_of(v)) {
        (Some(value), _) => def.options.iter().position(|o| o == value),
        (None, Some(id)) => (0..def.options.len()).find(|i| option_id(*i) == id),
        (None, None) => return Err("Specify the option by value or id.".into()),
    };
    index
        .map(|i| json!({"value": def.options[i], "id": option_id(i)}))
        .ok_or_else(|| {
            let shown = v.get("value").or_else(|| v.get("id")).unwrap_or(v);
            format!(
                "Option value '{}' is not valid",
                shown.as_str().unwrap_or(&shown.to_string())
            )
        })
}

/// The id of the option at `index`.
fn option_id(index: usize) -> String {
    (10_100 + index).to_string()
}
