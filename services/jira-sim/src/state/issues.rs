//! Issue operations: create, edit, delete and transition, each all-or-nothing, each reporting
//! what happened for webhooks.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::apply::{apply, set_resolution, set_status};
use super::catalog::Catalog;
use super::events::{Event, Happened, edit_type_name};
use super::fields::parse;
use super::model::{ChangeGroup, ChangeItem, Issue};
use super::properties::check_property;
use super::{Store, catalog::id_of};
use crate::error::ApiError;
use crate::workflow::StatusCategory;

/// Who is writing, when, on which site.
pub(crate) struct Ctx<'a> {
    pub cat: &'a Catalog,
    pub actor: &'a str,
    pub now: i64,
}

impl Ctx<'_> {
    fn happened(&self, what: Event) -> Happened {
        Happened {
            actor: self.actor.to_owned(),
            at: self.now,
            what,
        }
    }
}

fn object<'a>(body: &'a Value, name: &str) -> Result<&'a Map<String, Value>, ApiError> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match body.get(name) {
        None | Some(Value::Null) => Ok(EMPTY.get_or_init(Map::new)),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(ApiError::bad_request(format!(
            "'{name}' must be a JSON object."
        ))),
    }
}

/// `properties: [{key, value}]` of a create or edit body.
fn properties(body: &Value) -> Result<Vec<(String, Value)>, ApiError> {
    let Some(list) = body.get("properties") else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| ApiError::bad_request("'properties' must be an array."))?;
    list.iter()
        .map(|p| {
            let key = p.get("key").and_then(Value::as_str).unwrap_or_default();
            let value = p.get("value").cloned().unwrap_or(Value::Null);
            check_property(key, &value)?;
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// `POST /issue`: returns the new issue's id.
pub(crate) fn create(
    store: &mut Store,
    ctx: &Ctx,
    body: &Value,
) -> Result<(u64, Vec<Happened>), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let (fields, update) = (object(body, "fields")?, object(body, "update")?);
    let props = properties(body)?;
    let mut errors = BTreeMap::new();
    let project = match fields.get("project") {
        Some(v) => ctx.cat.find_project(v),
        None => None,
    };
    if project.is_none() {
        errors.insert(
            "project".to_owned(),
            "Specify a valid project ID or key".to_owned(),
        );
    }
    let issue_type = match fields.get("issuetype") {
        Some(v) => ctx
            .cat
            .find_issue_type(v)
            .ok_or("Specify a valid issue type"),
        None => Err("Specify an issue type"),
    };
    if let Err(msg) = issue_type {
        errors.insert("issuetype".to_owned(), msg.to_owned());
    }
    if !fields.contains_key("summary") && !update.contains_key("summary") {
        errors.insert(
            "summary".to_owned(),
            "You must specify a summary of the issue.".to_owned(),
        );
    }
    let edits = parse(
        ctx.cat,
        &store.registry,
        None,
        fields,
        update,
        &["project", "issuetype"],
    );
    if let Err(e) = &edits {
        errors.extend(e.errors.clone());
    }
    let (Some(project), Ok(issue_type), Ok(edits), true) =
        (project, issue_type, edits, errors.is_empty())
    else {
        return Err(ApiError::fields(errors));
    };
    let (id, number, key) = store.allocate(project, &ctx.cat.projects[project]);
    let initial = ctx
        .cat
        .workflow
        .status_index(&ctx.cat.workflow.initial_status)
        .unwrap_or(0);
    let mut issue = Issue {
        id,
        project,
        number,
        key,
        summary: String::new(),
        description: None,
        issue_type,
        status: initial,
        priority: ctx.cat.default_priority,
        resolution: None,
        resolution_date: None,
        labels: Vec::new(),
        components: Vec::new(),
        fix_versions: Vec::new(),
        due_date: None,
        assignee: None,
        reporter: Some(ctx.actor.to_owned()),
        creator: Some(ctx.actor.to_owned()),
        custom: BTreeMap::new(),
        created: ctx.now,
        updated: ctx.now,
        status_changed: ctx.now,
        comments: Vec::new(),
        properties: BTreeMap::new(),
        history: Vec::new(),
    };
    let items = apply(ctx.cat, &mut store.registry, &mut issue, edits, ctx.now);
    let mut events = vec![ctx.happened(Event::IssueCreated {
        issue_id: id,
        change_id: store.next_change_id(),
        items,
    })];
    for (key, value) in props {
        issue.properties.insert(key.clone(), value.clone());
        events.push(ctx.happened(Event::Property {
            issue_id: id,
            key,
            value: Some(value),
        }));
    }
    store.insert(issue);
    Ok((id, events))
}

/// `PUT /issue/{id}`: `fields`, `update` and `properties`.
pub(crate) fn edit(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    body: &Value,
) -> Result<Vec<Happened>, ApiError> {
    let (fields, update) = (object(body, "fields")?, object(body, "update")?);
    let props = properties(body)?;
    let issue = store.get(id).ok_or_else(ApiError::issue_not_found)?;
    let edits = parse(ctx.cat, &store.registry, Some(issue), fields, update, &[])?;
    let change_id = store.next_change_id();
    let (issue, registry) = store
        .issue_and_registry(id)
        .ok_or_else(ApiError::issue_not_found)?;
    let items = apply(ctx.cat, registry, issue, edits, ctx.now);
    let mut events = Vec::new();
    if let Some(group) = record(issue, ctx, change_id, items) {
        let type_name = edit_type_name(&group.items);
        events.push(ctx.happened(Event::IssueUpdated {
            issue_id: id,
            type_name,
            group,
        }));
    }
    for (key, value) in props {
        issue.properties.insert(key.clone(), value.clone());
        events.push(ctx.happened(Event::Property {
            issue_id: id,
            key,
            value: Some(value),
        }));
    }
    Ok(events)
}

/// Appends a changelog entry and bumps `updated` when something changed.
fn record(
    issue: &mut Issue,
    ctx: &Ctx,
    change_id: u64,
    items: Vec<ChangeItem>,
) -> Option<ChangeGroup> {
    if items.is_empty() {
        return None;
    }
    issue.touch(ctx.now);
    let group = ChangeGroup {
        id: change_id,
        author: ctx.actor.to_owned(),
        created: issue.updated,
        items,
    };
    issue.history.push(group.clone());
    Some(group)
}

/// `DELETE /issue/{id}`.
pub(crate) fn delete(store: &mut Store, ctx: &Ctx, id: u64) -> Result<Vec<Happened>, ApiError> {
    let issue = store.remove(id).ok_or_else(ApiError::issue_not_found)?;
    Ok(vec![ctx.happened(Event::IssueDeleted {
        issue: Box::new(issue),
    })])
}

/// `POST /issue/{id}/transitions`.
pub(crate) fn transition(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    body: &Value,
) -> Result<Vec<Happened>, ApiError> {
    let issue = store.get(id).ok_or_else(ApiError::issue_not_found)?;
    let wanted = body.get("transition").and_then(id_of).unwrap_or_default();
    let wf = &ctx.cat.workflow;
    let Some(def) = wf
        .available_from(issue.status)
        .find(|t| t.id == wanted)
        .cloned()
    else {
        return Err(ApiError::bad_request(format!(
            "Transition id '{wanted}' is not valid for this issue."
        )));
    };
    let (fields, update) = (object(body, "fields")?, object(body, "update")?);
    let edits = parse(ctx.cat, &store.registry, Some(issue), fields, update, &[])?;
    let given: HashSet<&str> = fields
        .keys()
        .chain(update.keys())
        .map(String::as_str)
        .collect();
    let missing: BTreeMap<String, String> = def
        .required_fields
        .iter()
        .filter(|f| !given.contains(f.as_str()))
        .map(|f| (f.clone(), format!("Field '{f}' is required.")))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::fields(missing));
    }
    let to = wf.status_index(&def.to).unwrap_or(issue.status);
    let change_id = store.next_change_id();
    let (issue, registry) = store
        .issue_and_registry(id)
        .ok_or_else(ApiError::issue_not_found)?;
    let mut items = apply(ctx.cat, registry, issue, edits, ctx.now);
    let done = wf.statuses[to].category == StatusCategory::Done;
    let resolution = match (done, issue.resolution) {
        (true, None) => def
            .default_resolution
            .as_deref()
            .and_then(|r| ctx.cat.resolution_by_name(r)),
        (true, current) => current,
        (false, _) => None,
    };
    items.extend(set_resolution(ctx.cat, issue, resolution, ctx.now));
    items.extend(set_status(ctx.cat, issue, to, ctx.now));
    let events = record(issue, ctx, change_id, items)
        .map(|group| {
            ctx.happened(Event::IssueUpdated {
                issue_id: id,
                type_name: "issue_generic",
                group,
            })
        })
        .into_iter()
        .collect();
    Ok(events)
}
