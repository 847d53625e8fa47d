//! Writing checked edits into an issue and describing each real change as a changelog item,
//! shaped as Jira's changelog and webhooks show it (`fromString`/`toString` display values, raw
//! ids in `from`/`to`). Edits that change nothing produce no item.

use serde_json::Value;

use super::adf;
use super::catalog::Catalog;
use super::fields::Edit;
use super::model::{ChangeItem, Issue};
use super::registry::Registry;

type Side = (Option<String>, Option<String>);

/// Applies `edits` to `issue` and returns the changelog items.
pub(crate) fn apply(
    cat: &Catalog,
    registry: &mut Registry,
    issue: &mut Issue,
    edits: Vec<Edit>,
    now: i64,
) -> Vec<ChangeItem> {
    let mut items = Vec::new();
    for edit in edits {
        match edit {
            Edit::Summary(s) if s != issue.summary => {
                items.push(text_item("summary", &issue.summary, &s));
                issue.summary = s;
            }
            Edit::Description(d) if d != issue.description => {
                let text = |d: &Option<Value>| d.as_ref().map(adf::to_text).unwrap_or_default();
                items.push(text_item(
                    "description",
                    &text(&issue.description),
                    &text(&d),
                ));
                issue.description = d;
            }
            Edit::Labels(l) if l != issue.labels => {
                items.push(text_item("labels", &issue.labels.join(" "), &l.join(" ")));
                issue.labels = l;
            }
            Edit::Priority(p) if p != issue.priority => {
                let side = |p: Option<usize>| {
                    side(p.map(|i| (Catalog::priority_id(i), cat.priorities[i].clone())))
                };
                items.push(ChangeItem::jira("priority", side(issue.priority), side(p)));
                issue.priority = p;
            }
            Edit::DueDate(d) if d != issue.due_date => {
                let side = |d: Option<chrono::NaiveDate>| {
                    side(d.map(|d| (d.to_string(), format!("{d} 00:00:00.0"))))
                };
                items.push(ChangeItem::jira("duedate", side(issue.due_date), side(d)));
                issue.due_date = d;
            }
            Edit::Assignee(a) if a != issue.assignee => {
                items.push(ChangeItem::jira(
                    "assignee",
                    user_side(cat, &issue.assignee),
                    user_side(cat, &a),
                ));
                issue.assignee = a;
            }
            Edit::Reporter(r) if r != issue.reporter => {
                items.push(ChangeItem::jira(
                    "reporter",
                    user_side(cat, &issue.reporter),
                    user_side(cat, &r),
                ));
                issue.reporter = r;
            }
            Edit::Components(names) => {
                let next: Vec<(u64, String)> = names
                    .into_iter()
                    .map(|n| (registry.component_id(&n), n))
                    .collect();
                items.extend(list_items(
                    "Component",
                    "components",
                    &issue.components,
                    &next,
                ));
                issue.components = next;
            }
            Edit::FixVersions(names) => {
                let next: Vec<(u64, String)> = names
                    .into_iter()
                    .map(|n| (registry.version_id(&n), n))
                    .collect();
                items.extend(list_items(
                    "Fix Version",
                    "fixVersions",
                    &issue.fix_versions,
                    &next,
                ));
                issue.fix_versions = next;
            }
            Edit::Resolution(r) => items.extend(set_resolution(cat, issue, r, now)),
            Edit::IssueType(t) if t != issue.issue_type => {
                let side = |t: usize| {
                    side(Some((
                        Catalog::issue_type_id(t),
                        cat.issue_types[t].clone(),
                    )))
                };
                items.push(ChangeItem::jira(
                    "issuetype",
                    side(issue.issue_type),
                    side(t),
                ));
                issue.issue_type = t;
            }
            Edit::Custom(id, v) => {
                let old = issue.custom.get(&id).cloned().unwrap_or(Value::Null);
                if old != v {
                    let name = cat
                        .custom_field(&id)
                        .map_or_else(|| id.clone(), |f| f.name.clone());
                    items.push(ChangeItem {
                        field: name,
                        field_id: id.clone(),
                        fieldtype: "custom",
                        from: None,
                        from_string: display(&old),
                        to: None,
                        to_string: display(&v),
                    });
                    if v.is_null() {
                        issue.custom.remove(&id);
                    } else {
                        issue.custom.insert(id, v);
                    }
                }
            }
            _ => {}
        }
    }
    items
}

/// Sets or clears the resolution (and `resolutiondate`), returning the item when it changed.
pub(crate) fn set_resolution(
    cat: &Catalog,
    issue: &mut Issue,
    r: Option<usize>,
    now: i64,
) -> Option<ChangeItem> {
    if r == issue.resolution {
        return None;
    }
    let side =
        |r: Option<usize>| side(r.map(|i| (Catalog::resolution_id(i), cat.resolutions[i].clone())));
    let item = ChangeItem::jira("resolution", side(issue.resolution), side(r));
    issue.resolution = r;
    issue.resolution_date = r.map(|_| now);
    Some(item)
}

/// Moves the issue to status `to`, returning the item.
pub(crate) fn set_status(
    cat: &Catalog,
    issue: &mut Issue,
    to: usize,
    now: i64,
) -> Option<ChangeItem> {
    if to == issue.status {
        return None;
    }
    let side = |s: usize| {
        let st = &cat.workflow.statuses[s];
        side(Some((st.id.clone(), st.name.clone())))
    };
    let item = ChangeItem::jira("status", side(issue.status), side(to));
    issue.status = to;
    issue.status_changed = now;
    Some(item)
}

fn side(v: Option<(String, String)>) -> Side {
    match v {
        Some((raw, shown)) => (Some(raw), Some(shown)),
        None => (None, None),
    }
}

fn user_side(cat: &Catalog, account: &Option<String>) -> Side {
    let shown = account.as_deref().map(|a| {
        cat.user(a)
            .map_or_else(|| a.to_owned(), |u| u.display_name.clone())
    });
    (account.clone(), shown)
}

fn text_item(field: &str, from: &str, to: &str) -> ChangeItem {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    ChangeItem::jira(field, (None, some(from)), (None, some(to)))
}

fn list_items(
    field: &str,
    field_id: &str,
    old: &[(u64, String)],
    new: &[(u64, String)],
) -> Vec<ChangeItem> {
    let item = |from: Side, to: Side| ChangeItem {
        field: field.to_owned(),
        field_id: field_id.to_owned(),
        fieldtype: "jira",
        from: from.0,
        from_string: from.1,
        to: to.0,
        to_string: to.1,
    };
    let removed = old.iter().filter(|o| !new.contains(o));
    let added = new.iter().filter(|n| !old.contains(n));
    removed
        .map(|(id, n)| item(side(Some((id.to_string(), n.clone()))), (None, None)))
        .chain(added.map(|(id, n)| item((None, None), side(Some((id.to_string(), n.clone()))))))
        .collect()
}

fn display(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        v if adf::is_doc(v) => Some(adf::to_text(v)),
        v => Some(v.to_string()),
    }
}
