//! Comment operations. A comment write bumps the issue's `updated` (as in Jira) but adds no
//! changelog entry; the webhooks layer raises both the comment event and the
//! `jira:issue_updated` / `issue_commented` event Jira sends alongside.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Store;
use super::adf;
use super::events::{CommentAction, Event, Happened};
use super::issues::Ctx;
use super::model::Comment;
use super::properties::check_property;
use crate::error::ApiError;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Can not find a comment for the id: {id}."))
}

fn body_of(body: &Value) -> Result<Value, ApiError> {
    match body.get("body") {
        None | Some(Value::Null) => {
            Err(ApiError::field("comment", "Comment body can not be empty!"))
        }
        Some(doc) if adf::is_doc(doc) => Ok(doc.clone()),
        Some(_) => Err(ApiError::field(
            "comment",
            "Comment body must be an Atlassian Document (see the Atlassian Document Format)",
        )),
    }
}

fn visibility(body: &Value) -> Result<Option<Value>, ApiError> {
    match body.get("visibility") {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(o))
            if matches!(
                o.get("type").and_then(Value::as_str),
                Some("group" | "role")
            ) =>
        {
            Ok(Some(v.clone()))
        }
        Some(_) => Err(ApiError::field(
            "visibility",
            "Visibility type must be 'group' or 'role'.",
        )),
    }
}

/// Parses a comment id from the path.
pub(crate) fn comment_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| not_found(raw))
}

/// `POST /issue/{id}/comment`: returns the new comment's id.
pub(crate) fn add(
    store: &mut Store,
    ctx: &Ctx,
    issue_id: u64,
    body: &Value,
) -> Result<(u64, Vec<Happened>), ApiError> {
    store.get(issue_id).ok_or_else(ApiError::issue_not_found)?;
    let doc = body_of(body)?;
    let visibility = visibility(body)?;
    let mut properties = BTreeMap::new();
    for p in body
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = p.get("key").and_then(Value::as_str).unwrap_or_default();
        let value = p.get("value").cloned().unwrap_or(Value::Null);
        check_property(key, &value)?;
        properties.insert(key.to_owned(), value);
    }
    let id = store.next_comment_id();
    let issue = store
        .get_mut(issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    issue.touch(ctx.now);
    let at = issue.updated;
    let comment = Comment {
        id,
        author: ctx.actor.to_owned(),
        update_author: ctx.actor.to_owned(),
        body: doc,
        created: at,
        updated: at,
        visibility,
        properties,
    };
    issue.comments.push(comment.clone());
    let what = Event::Comment {
        issue_id,
        action: CommentAction::Created,
        comment,
    };
    Ok((
        id,
        vec![Happened {
            actor: ctx.actor.to_owned(),
            at,
            what,
        }],
    ))
}

/// `PUT /issue/{id}/comment/{commentId}`.
pub(crate) fn update(
    store: &mut Store,
    ctx: &Ctx,
    issue_id: u64,
    raw_id: &str,
    body: &Value,
) -> Result<Vec<Happened>, ApiError> {
    let id = comment_id(raw_id)?;
    let doc = body_of(body)?;
    let visibility = visibility(body)?;
    let issue = store
        .get_mut(issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    if issue.comment(id).is_none() {
        return Err(not_found(raw_id));
    }
    issue.touch(ctx.now);
    let at = issue.updated;
    let comment = issue
        .comments
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| not_found(raw_id))?;
    comment.body = doc;
    comment.update_author = ctx.actor.to_owned();
    comment.updated = at;
    if visibility.is_some() {
        comment.visibility = visibility;
    }
    let what = Event::Comment {
        issue_id,
        action: CommentAction::Updated,
        comment: comment.clone(),
    };
    Ok(vec![Happened {
        actor: ctx.actor.to_owned(),
        at,
        what,
    }])
}

/// `DELETE /issue/{id}/comment/{commentId}`.
pub(crate) fn delete(
    store: &mut Store,
    ctx: &Ctx,
    issue_id: u64,
    raw_id: &str,
) -> Result<Vec<Happened>, ApiError> {
    let id = comment_id(raw_id)?;
    let issue = store
        .get_mut(issue_id)
        .ok_or_else(ApiError::issue_not_found)?;
    let pos = issue
        .comments
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| not_found(raw_id))?;
    let comment = issue.comments.remove(pos);
    issue.touch(ctx.now);
    let what = Event::Comment {
        issue_id,
        action: CommentAction::Deleted,
        comment,
    };
    Ok(vec![Happened {
        actor: ctx.actor.to_owned(),
        at: issue.updated,
        what,
    }])
}
