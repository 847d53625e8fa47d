//! Jira Data Center (and Server) at the client's boundary, so that callers see Cloud's shapes
//! whatever the site is.
//!
//! Data Center speaks REST v2: rich text (`description`, `environment`, multi-line text custom
//! fields, comment bodies) is wiki markup, and people are `name`/`key` instead of `accountId`.
//! Reading, wiki markup becomes ADF (through the domain's converter, so `[~alice]` becomes a
//! mention whose id is `alice`) and a user object gains `accountId` = its `name`; writing, an
//! ADF document becomes wiki markup and `{"accountId": x}` becomes `{"name": x}`. The user
//! *name* stands for the account id because it is what Data Center accepts back when writing
//! a user field and what `[~...]` mentions use; the user *key* is never used as an id.
//!
//! Search (offset paging, `total`) is presented as Cloud's token pages in `crate::api::search`.
//! What this module leaves out: fields it does not know are passed through untouched.

use std::collections::BTreeSet;

use jira_sync_domain::richtext::wiki;
use serde_json::{Map, Value, json};

use crate::model::FieldMeta;

mod read;
#[cfg(test)]
mod tests;

/// System fields holding rich text: ADF on Cloud, wiki markup on Data Center.
const RICH_TEXT_FIELDS: [&str; 2] = ["description", "environment"];

/// Whether a field of `GET /field` is a multi-line text custom field (rich text).
pub(crate) fn is_textarea(meta: &FieldMeta) -> bool {
    (meta.schema.as_ref())
        .and_then(|s| s.custom.as_deref())
        .is_some_and(|c| c.ends_with(":textarea"))
}

/// Whether `v` is an ADF document.
fn is_adf(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
}

/// The ADF document of rich text read from Data Center; an empty text is no value, as Cloud
/// shows an empty description.
pub(crate) fn adf_of(text: &str) -> Value {
    if text.trim().is_empty() {
        Value::Null
    } else {
        wiki::to_adf(text)
    }
}

/// The wiki markup to write for an ADF document.
pub(crate) fn wiki_of(doc: &Value) -> String {
    wiki::from_adf(doc)
}

/// What a Data Center site shows for rich text after `doc` was written to it: the document
/// after its trip through wiki markup (marks and nodes wiki markup cannot hold are lost, a
/// mention's text becomes `@<name>`).
pub(crate) fn round_trip(doc: &Value) -> Value {
    if is_adf(doc) {
        adf_of(&wiki_of(doc))
    } else {
        doc.clone()
    }
}

/// Gives a Data Center user object (`name`, `key`, `displayName`, no `accountId`) Cloud's
/// `accountId`: its name. Other values are left alone; `true` when `v` was such a user.
pub(crate) fn user_from_dc(v: &mut Value) -> bool {
    let Some(obj) = v.as_object_mut() else {
        return false;
    };
    if obj.contains_key("accountId") || !obj.contains_key("key") {
        return false;
    }
    if !obj.contains_key("displayName") && !obj.contains_key("emailAddress") {
        return false;
    }
    let Some(name) = obj.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return false;
    };
    obj.insert("accountId".into(), json!(name));
    true
}

/// A comment read from Data Center in Cloud's shape: the body as ADF, authors with
/// `accountId`.
pub(crate) fn comment_from_dc(v: &mut Value) {
    if let Some(body) = v.get_mut("body")
        && let Value::String(text) = body
    {
        *body = wiki::to_adf(text);
    }
    for who in ["author", "updateAuthor"] {
        if let Some(user) = v.get_mut(who) {
            user_from_dc(user);
        }
    }
}

/// Whether converting `fields` needs the site's multi-line text custom fields: a custom field
/// holds a string, which is wiki markup only if the field is one of them.
pub(crate) fn needs_textareas(fields: &Map<String, Value>) -> bool {
    (fields.iter()).any(|(id, v)| id.starts_with("customfield_") && v.is_string())
}

/// Issue fields read from Data Center in Cloud's shapes: rich text (the system rich-text
/// fields and `textareas`) as ADF, users with `accountId`, embedded comments converted.
pub(crate) fn fields_from_dc(fields: &mut Map<String, Value>, textareas: &BTreeSet<String>) {
    for (id, value) in fields.iter_mut() {
        if RICH_TEXT_FIELDS.contains(&id.as_str()) || textareas.contains(id) {
            if let Value::String(text) = value {
                *value = adf_of(text);
            }
            continue;
        }
        if id == "comment" {
            if let Some(Value::Array(comments)) = value.get_mut("comments") {
                comments.iter_mut().for_each(comment_from_dc);
            }
            continue;
        }
        match value {
            Value::Array(items) => items.iter_mut().for_each(|item| {
                user_from_dc(item);
            }),
            other => {
                user_from_dc(other);
            }
        }
    }
}

/// Issue fields to write to Data Center: ADF documents as wiki markup, user references
/// (`{"accountId": x}`) as `{"name": x}`; everything else as it is.
pub(crate) fn fields_to_dc(fields: &Map<String, Value>) -> Map<String, Value> {
    (fields.iter())
        .map(|(id, v)| (id.clone(), value_to_dc(v)))
        .collect()
}

fn value_to_dc(v: &Value) -> Value {
    match v {
        v if is_adf(v) => Value::String(wiki_of(v)),
        Value::Object(obj) if obj.len() == 1 && obj.contains_key("accountId") => {
            json!({ "name": obj["accountId"] })
        }
        Value::Array(items) => Value::Array(items.iter().map(value_to_dc).collect()),
        other => other.clone(),
    }
}
