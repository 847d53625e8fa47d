//! Data Center request bodies turned into the Cloud ones the handlers take: rich text from wiki
//! markup to ADF, users from `{"name": ..}` / `{"key": ..}` to `{"accountId": ..}`. What Data
//! Center would refuse (an ADF document where it takes a string, a user by `accountId`) is
//! answered with a 400 naming the field, so that a client speaking Cloud to a Data Center site
//! is caught.

use std::collections::BTreeMap;

use jira_sync_domain::richtext::wiki;
use serde_json::{Map, Value, json};

use crate::config::CustomFieldKind;
use crate::error::ApiError;
use crate::state::catalog::Catalog;

/// Which kind of body a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// Create, edit, transition: `fields` and `update`.
    Issue,
    /// Add or update a comment: `body`.
    Comment,
    /// Anything else: passed through.
    Other,
}

impl Body {
    /// The body kind of `method` on `path` (under `/rest/api/2`).
    pub fn of(method: &str, path: &str) -> Self {
        let segments: Vec<&str> = path
            .trim_start_matches("/rest/api/2/")
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        match (method, segments.as_slice()) {
            ("POST", ["issue"]) | ("PUT", ["issue", _]) | ("POST", ["issue", _, "transitions"]) => {
                Self::Issue
            }
            ("POST", ["issue", _, "comment"]) | ("PUT", ["issue", _, "comment", _]) => {
                Self::Comment
            }
            _ => Self::Other,
        }
    }
}

/// The Cloud body of a Data Center request body; a body that is not a JSON object is left for
/// the handler to refuse.
pub(crate) fn to_cloud(cat: &Catalog, kind: Body, body: &[u8]) -> Result<Option<Value>, ApiError> {
    if kind == Body::Other {
        return Ok(None);
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let mut errors = BTreeMap::new();
    match kind {
        Body::Issue => {
            if let Some(Value::Object(fields)) = obj.get_mut("fields") {
                for (name, value) in fields.iter_mut() {
                    convert_field(cat, name, value, &mut errors);
                }
            }
            if let Some(Value::Object(update)) = obj.get_mut("update") {
                convert_update(cat, update, &mut errors);
            }
        }
        Body::Comment => {
            if let Some(body) = obj.get_mut("body") {
                match body {
                    Value::String(text) => *body = wiki::to_adf(text),
                    _ => drop(
                        errors.insert("body".into(), "The comment body must be a string.".into()),
                    ),
                }
            }
        }
        Body::Other => {}
    }
    if errors.is_empty() {
        Ok(Some(Value::Object(obj)))
    } else {
        Err(ApiError::fields(errors))
    }
}

fn convert_update(
    cat: &Catalog,
    update: &mut Map<String, Value>,
    errors: &mut BTreeMap<String, String>,
) {
    for (name, ops) in update.iter_mut() {
        let Value::Array(ops) = ops else { continue };
        for op in ops {
            if let Value::Object(op) = op {
                for arg in op.values_mut() {
                    convert_field(cat, name, arg, errors);
                }
            }
        }
    }
}

/// What a field holds, where Data Center and Cloud differ.
enum Kind {
    RichText,
    User,
    Same,
}

fn kind(cat: &Catalog, name: &str) -> Kind {
    match name {
        "description" | "environment" => Kind::RichText,
        "assignee" | "reporter" => Kind::User,
        _ => match cat.custom_field(name).map(|f| f.kind) {
            Some(CustomFieldKind::Textarea) => Kind::RichText,
            Some(CustomFieldKind::User) => Kind::User,
            _ => Kind::Same,
        },
    }
}

fn convert_field(
    cat: &Catalog,
    name: &str,
    value: &mut Value,
    errors: &mut BTreeMap<String, String>,
) {
    match (kind(cat, name), &*value) {
        (_, Value::Null) | (Kind::Same, _) => {}
        (Kind::RichText, Value::String(text)) => {
            *value = if text.trim().is_empty() {
                Value::Null
            } else {
                wiki::to_adf(text)
            };
        }
        (Kind::RichText, _) => {
            errors.insert(name.to_owned(), "Operation value must be a string".into());
        }
        (Kind::User, v) => match user(cat, v) {
            Some(account) => *value = json!({ "accountId": account }),
            None => {
                errors.insert(name.to_owned(), "Specify the user by name or key.".into());
            }
        },
    }
}

/// The account of a Data Center user reference; an unknown name or key passes through for the
/// handler's "user does not exist".
fn user(cat: &Catalog, v: &Value) -> Option<String> {
    if let Some(name) = v.get("name").and_then(Value::as_str) {
        return Some(name.to_owned());
    }
    let key = v.get("key").and_then(Value::as_str)?;
    Some(
        cat.user_by_key(key)
            .map_or_else(|| key.to_owned(), |u| u.account_id.clone()),
    )
}
