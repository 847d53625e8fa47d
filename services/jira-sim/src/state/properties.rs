//! Issue entity properties: the JSON values apps (and the sync engine's marker) attach to an
//! issue. As in Jira they change neither `updated` nor the changelog; they raise
//! `issue_property_set` / `issue_property_deleted` events.

use serde_json::Value;

use super::Store;
use super::events::{Event, Happened};
use super::issues::Ctx;
use crate::error::ApiError;

/// Jira's limit on a property value, in characters of its JSON text.
pub(crate) const MAX_VALUE_CHARS: usize = 32_768;

/// Checks a property key and value as Jira does.
pub(crate) fn check_property(key: &str, value: &Value) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "The property key must be between 1 and 255 characters long.",
        ));
    }
    if value.is_null() {
        return Err(ApiError::bad_request("The property value cannot be empty."));
    }
    if value.to_string().chars().count() > MAX_VALUE_CHARS {
        return Err(ApiError::message(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The property value is too long. It must not exceed {MAX_VALUE_CHARS} characters."
            ),
        ));
    }
    Ok(())
}

/// The 404 Jira gives for a missing property.
pub(crate) fn missing(key: &str) -> ApiError {
    ApiError::not_found(format!("The property with key '{key}' does not exist."))
}

/// `PUT /issue/{id}/properties/{key}`: `true` when the property is new.
pub(crate) fn set(
    store: &mut Store,
    ctx: &Ctx,
    issue_id: u64,
    key: &str,
    value: Value,
) -> Result<(bool, Vec<Happened>), ApiError> {
    check_property(key, &value)?;
    let issue = store
        .get_mut(issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let created = issue
        .properties
        .insert(key.to_owned(), value.clone())
        .is_none();
    let what = Event::Property {
        issue_id,
        key: key.to_owned(),
        value: Some(value),
    };
    Ok((
        created,
        vec![Happened {
            actor: ctx.actor.to_owned(),
            at: ctx.now,
            what,
        }],
    ))
}

/// `DELETE /issue/{id}/properties/{key}`.
pub(crate) fn delete(
    store: &mut Store,
    ctx: &Ctx,
    issue_id: u64,
    key: &str,
) -> Result<Vec<Happened>, ApiError> {
    let issue = store
        .get_mut(issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    issue.properties.remove(key).ok_or_else(|| missing(key))?;
    let what = Event::Property {
        issue_id,
        key: key.to_owned(),
        value: None,
    };
    Ok(vec![Happened {
        actor: ctx.actor.to_owned(),
        at: ctx.now,
        what,
    }])
}
