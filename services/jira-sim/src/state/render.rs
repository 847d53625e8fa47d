//! JSON views of stored issues, shaped as Jira Cloud returns them: REST v3 (ADF rich text,
//! `/rest/api/3/` links, users with e-mail) or webhook (plain-text rich text, `/rest/api/2/`
//! links, users without e-mail, as Jira's admin webhooks send them). A Data Center site's
//! webhooks keep the ADF here, for `crate::dialect` to write it as wiki markup.

use serde_json::{Map, Value, json};

use super::adf;
use super::catalog::Catalog;
use super::field_defs::{SYSTEM_FIELDS, display_name};
use super::model::{ChangeGroup, ChangeItem, Comment, Issue};
use super::selection::{FieldSelection, PropSelection};
use crate::clock::jira_time;
use crate::config::{CustomFieldKind, SimUser};

/// Which representation to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Rest,
    Webhook,
}

impl Flavor {
    fn api(self, cat: &Catalog) -> String {
        match self {
            Self::Rest => format!("{}/rest/api/3", cat.base_url),
            Self::Webhook => format!("{}/rest/api/2", cat.base_url),
        }
    }
}

pub(crate) fn issue_self(cat: &Catalog, id: u64, flavor: Flavor) -> String {
    format!("{}/issue/{id}", flavor.api(cat))
}

fn avatars(cat: &Catalog, seed: &str) -> Value {
    let url = |s: u32| format!("{}/secure/useravatar?size={s}&ownerId={seed}", cat.base_url);
    json!({"48x48": url(48), "24x24": url(24), "16x16": url(16), "32x32": url(32)})
}

/// A user object (`UserDetails`); unknown accounts render with their id as name.
pub(crate) fn user(cat: &Catalog, account: &str, flavor: Flavor) -> Value {
    let (name, email) = cat.user(account).map_or((account, None), |u: &SimUser| {
        (&u.display_name, u.email_visible.then_some(&u.email))
    });
    let mut v = json!({
        "self": format!("{}/user?accountId={account}", flavor.api(cat)),
        "accountId": account,
        "avatarUrls": avatars(cat, account),
        "displayName": name,
        "active": true,
        "timeZone": "UTC",
        "accountType": if cat.is_bot(account) { "app" } else { "atlassian" },
    });
    if let (Flavor::Rest, Some(email)) = (flavor, email) {
        v["emailAddress"] = json!(email);
    }
    v
}

fn opt_user(cat: &Catalog, account: Option<&str>, flavor: Flavor) -> Value {
    account.map_or(Value::Null, |a| user(cat, a, flavor))
}

/// `GET /myself`: the `User` shape with groups and application roles.
pub(crate) fn myself(cat: &Catalog, account: &str) -> Value {
    let mut v = user(cat, account, Flavor::Rest);
    v["locale"] = json!("en_US");
    v["groups"] = json!({"size": 1, "items": []});
    v["applicationRoles"] = json!({"size": 1, "items": []});
    v["expand"] = json!("groups,applicationRoles");
    v
}

/// A status (`StatusDetails`).
pub(crate) fn status(cat: &Catalog, idx: usize, flavor: Flavor) -> Value {
    let st = &cat.workflow.statuses[idx];
    let api = flavor.api(cat);
    json!({
        "self": format!("{api}/status/{}", st.id),
        "description": "",
        "iconUrl": format!("{}/images/icons/statuses/generic.png", cat.base_url),
        "name": st.name,
        "id": st.id,
        "statusCategory": {
            "self": format!("{api}/statuscategory/{}", st.category.id()),
            "id": st.category.id(),
            "key": st.category.key(),
            "colorName": st.category.color(),
            "name": st.category.name(),
        },
    })
}

fn named(cat: &Catalog, flavor: Flavor, kind: &str, id: String, name: &str) -> Value {
    json!({"self": format!("{}/{kind}/{id}", flavor.api(cat)), "id": id, "name": name})
}

/// The value of one field, `None` for a field the simulator does not model.
pub(crate) fn field(cat: &Catalog, issue: &Issue, name: &str, flavor: Flavor) -> Option<Value> {
    let text = |d: &Option<Value>| match d {
        None => Value::Null,
        Some(doc) => webhook_text(cat, doc, flavor),
    };
    Some(match name {
        "summary" => json!(issue.summary),
        "description" => text(&issue.description),
        "labels" => json!(issue.labels),
        "priority" => issue.priority.map_or(Value::Null, |p| {
            let mut v = named(
                cat,
                flavor,
                "priority",
                Catalog::priority_id(p),
                &cat.priorities[p],
            );
            v["iconUrl"] = json!(format!(
                "{}/images/icons/priorities/{}.svg",
                cat.base_url,
                p + 1
            ));
            v
        }),
        "duedate" => issue.due_date.map_or(Value::Null, |d| json!(d.to_string())),
        "status" => status(cat, issue.status, flavor),
        "issuetype" => {
            let mut v = named(
                cat,
                flavor,
                "issuetype",
                Catalog::issue_type_id(issue.issue_type),
                &cat.issue_types[issue.issue_type],
            );
            v["description"] = json!("");
            v["iconUrl"] = json!(format!("{}/images/icons/issuetypes/task.svg", cat.base_url));
            v["subtask"] = json!(false);
            v["hierarchyLevel"] = json!(0);
            v
        }
        "project" => {
            let key = &cat.projects[issue.project];
            let mut v = named(
                cat,
                flavor,
                "project",
                Catalog::project_id(issue.project),
                key,
            );
            v["key"] = json!(key);
            v["projectTypeKey"] = json!("software");
            v["simplified"] = json!(false);
            v["avatarUrls"] = avatars(cat, key);
            v
        }
        "assignee" => opt_user(cat, issue.assignee.as_deref(), flavor),
        "reporter" => opt_user(cat, issue.reporter.as_deref(), flavor),
        "creator" => opt_user(cat, issue.creator.as_deref(), flavor),
        "created" => json!(jira_time(issue.created)),
        "updated" => json!(jira_time(issue.updated)),
        "statuscategorychangedate" => json!(jira_time(issue.status_changed)),
        "resolutiondate" => issue
            .resolution_date
            .map_or(Value::Null, |t| json!(jira_time(t))),
        "resolution" => issue.resolution.map_or(Value::Null, |r| {
            let mut v = named(
                cat,
                flavor,
                "resolution",
                Catalog::resolution_id(r),
                &cat.resolutions[r],
            );
            v["description"] = json!("");
            v
        }),
        "comment" => comment_page(cat, issue, 0, usize::MAX, false, flavor),
        "components" => json!(
            issue
                .components
                .iter()
                .map(|(id, n)| named(cat, flavor, "component", id.to_string(), n))
                .collect::<Vec<_>>()
        ),
        "fixVersions" => json!(
            issue
                .fix_versions
                .iter()
                .map(|(id, n)| {
                    let mut v = named(cat, flavor, "version", id.to_string(), n);
                    v["archived"] = json!(false);
                    v["released"] = json!(false);
                    v
                })
                .collect::<Vec<_>>()
        ),
        custom => {
            let def = cat.custom_field(custom)?;
            let v = issue.custom.get(&def.id).cloned().unwrap_or(Value::Null);
            match (flavor, adf::is_doc(&v), def.kind) {
                (Flavor::Webhook, true, _) => webhook_text(cat, &v, flavor),
                (_, _, CustomFieldKind::User) => v
                    .get("accountId")
                    .and_then(Value::as_str)
                    .map_or(Value::Null, |a| user(cat, a, flavor)),
                (_, _, CustomFieldKind::Select | CustomFieldKind::Cascading) => {
                    option(cat, &v, flavor)
                }
                (_, _, CustomFieldKind::Multiselect) => Value::Array(
                    (v.as_array().into_iter().flatten())
                        .map(|o| option(cat, o, flavor))
                        .collect(),
                ),
                _ => v,
            }
        }
    })
}

/// Rich text as `flavor` shows it: the ADF document, or in a Cloud webhook its plain text.
fn webhook_text(cat: &Catalog, doc: &Value, flavor: Flavor) -> Value {
    match flavor {
        Flavor::Webhook if !cat.data_center => Value::String(adf::to_text(doc)),
        _ => doc.clone(),
    }
}

/// A stored option (`{"value", "id"}`, maybe with a `child`) as Jira renders it.
fn option(cat: &Catalog, stored: &Value, flavor: Flavor) -> Value {
    if stored.is_null() {
        return Value::Null;
    }
    let id = stored.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut v = json!({
        "self": format!("{}/customFieldOption/{id}", flavor.api(cat)),
        "value": stored.get("value").cloned().unwrap_or(Value::Null),
        "id": id,
    });
    if let Some(child) = stored.get("child") {
        v["child"] = option(cat, child, flavor);
    }
    v
}

/// The `fields` object for a selection.
pub(crate) fn fields(
    cat: &Catalog,
    issue: &Issue,
    sel: &FieldSelection,
    flavor: Flavor,
) -> Map<String, Value> {
    let names = SYSTEM_FIELDS
        .iter()
        .map(|f| f.id)
        .chain(cat.custom_fields.iter().map(|c| c.id.as_str()));
    names
        .filter(|n| sel.wants(n))
        .filter_map(|n| Some((n.to_owned(), field(cat, issue, n, flavor)?)))
        .collect()
}

/// Options of an issue bean beyond fields.
#[derive(Debug, Default)]
pub(crate) struct BeanOptions {
    pub properties: PropSelection,
    pub changelog: bool,
    pub names: bool,
}

/// An `IssueBean` as `GET /issue/{id}` and search return it.
pub(crate) fn bean(
    cat: &Catalog,
    issue: &Issue,
    sel: &FieldSelection,
    opts: &BeanOptions,
) -> Value {
    let fields = fields(cat, issue, sel, Flavor::Rest);
    let mut v = json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue.id.to_string(),
        "self": issue_self(cat, issue.id, Flavor::Rest),
        "key": issue.key,
    });
    if opts.names {
        let names: Map<String, Value> = fields
            .keys()
            .map(|k| (k.clone(), json!(display_name(k, &cat.custom_fields))))
            .collect();
        v["names"] = Value::Object(names);
    }
    v["fields"] = Value::Object(fields);
    if !opts.properties.is_empty() {
        let props: Map<String, Value> = issue
            .properties
            .iter()
            .filter(|(k, _)| opts.properties.wants(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v["properties"] = Value::Object(props);
    }
    if opts.changelog {
        let histories: Vec<Value> = issue
            .history
            .iter()
            .rev()
            .map(|g| change_group(cat, g))
            .collect();
        let n = histories.len();
        v["changelog"] = json!({"startAt": 0, "maxResults": n, "total": n, "histories": histories});
    }
    v
}

/// A comment (`Comment`).
pub(crate) fn comment(cat: &Catalog, issue_id: u64, c: &Comment, flavor: Flavor) -> Value {
    let body = webhook_text(cat, &c.body, flavor);
    let mut v = json!({
        "self": format!("{}/comment/{}", issue_self(cat, issue_id, flavor), c.id),
        "id": c.id.to_string(),
        "author": user(cat, &c.author, flavor),
        "body": body,
        "updateAuthor": user(cat, &c.update_author, flavor),
        "created": jira_time(c.created),
        "updated": jira_time(c.updated),
        // An internal service-desk note: what the Service Desk API marks with this property.
        "jsdPublic": c.properties.get("sd.public.comment").and_then(|p| p.get("internal")) != Some(&json!(true)),
    });
    if let Some(vis) = &c.visibility {
        v["visibility"] = vis.clone();
    }
    if flavor == Flavor::Rest && !c.properties.is_empty() {
        v["properties"] = json!(
            c.properties
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect::<Vec<_>>()
        );
    }
    v
}

/// A page of comments (`PageOfComments`), oldest first unless `newest_first`.
pub(crate) fn comment_page(
    cat: &Catalog,
    issue: &Issue,
    start: usize,
    max: usize,
    newest_first: bool,
    flavor: Flavor,
) -> Value {
    let ordered: Box<dyn Iterator<Item = &Comment>> = if newest_first {
        Box::new(issue.comments.iter().rev())
    } else {
        Box::new(issue.comments.iter())
    };
    let page: Vec<Value> = ordered
        .skip(start)
        .take(max)
        .map(|c| comment(cat, issue.id, c, flavor))
        .collect();
    let max_results = if max == usize::MAX { page.len() } else { max };
    json!({
        "self": format!("{}/comment", issue_self(cat, issue.id, flavor)),
        "comments": page,
        "maxResults": max_results,
        "total": issue.comments.len(),
        "startAt": start,
    })
}

/// A changelog entry (`Changelog`) as REST returns it; null item values are left out, as the
/// spec types them as plain strings.
pub(crate) fn change_group(cat: &Catalog, g: &ChangeGroup) -> Value {
    let items: Vec<Value> = g
        .items
        .iter()
        .map(|i| {
            let mut v = json!({"field": i.field, "fieldtype": i.fieldtype, "fieldId": i.field_id});
            for (k, val) in [
                ("from", &i.from),
                ("fromString", &i.from_string),
                ("to", &i.to),
                ("toString", &i.to_string),
            ] {
                if let Some(s) = val {
                    v[k] = json!(s);
                }
            }
            v
        })
        .collect();
    json!({
        "id": g.id.to_string(),
        "author": user(cat, &g.author, Flavor::Rest),
        "created": jira_time(g.created),
        "items": items,
    })
}

/// Changelog items as webhooks carry them (explicit nulls).
pub(crate) fn webhook_items(items: &[ChangeItem]) -> Value {
    json!(
        items
            .iter()
            .map(|i| json!({
                "field": i.field, "fieldtype": i.fieldtype, "fieldId": i.field_id,
                "from": i.from, "fromString": i.from_string, "to": i.to, "toString": i.to_string,
            }))
            .collect::<Vec<_>>()
    )
}

/// The issue object of a webhook: id, self, key and every field but comments.
pub(crate) fn webhook_issue(cat: &Catalog, issue: &Issue) -> Value {
    let sel = FieldSelection::parse(["*all,-comment"], FieldSelection::all());
    json!({
        "id": issue.id.to_string(),
        "self": issue_self(cat, issue.id, Flavor::Webhook),
        "key": issue.key,
        "fields": fields(cat, issue, &sel, Flavor::Webhook),
    })
}
