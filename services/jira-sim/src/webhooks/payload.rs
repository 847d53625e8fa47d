//! Webhook bodies, shaped like Jira Cloud's (see tests/fixtures/jira-webhooks): `timestamp`
//! (ms), `webhookEvent`, `issue_event_type_name`, `user` (the actor), `issue`, `changelog` on
//! updates and `comment` on comment events. A comment change also raises `jira:issue_updated`
//! with `issue_commented` (or `issue_comment_edited` / `issue_comment_deleted`), as Jira does.
//! A Data Center site sends the same events in its own shape ([`data_center`]).

use serde_json::{Value, json};

use crate::state::catalog::Catalog;
use crate::state::events::{CommentAction, Event, Happened};
use crate::state::model::Issue;
use crate::state::render::{self, Flavor};

/// The (webhookEvent, body) pairs one happening raises.
pub(super) fn expand(cat: &Catalog, issue: &Issue, h: &Happened) -> Vec<(&'static str, Value)> {
    let name = h.what.webhook_event();
    match &h.what {
        Event::IssueCreated {
            change_id, items, ..
        } => {
            let changelog =
                json!({"id": change_id.to_string(), "items": render::webhook_items(items)});
            vec![(
                name,
                issue_event(cat, issue, h, name, "issue_created", Some(changelog), None),
            )]
        }
        Event::IssueUpdated {
            type_name, group, ..
        } => {
            let changelog =
                json!({"id": group.id.to_string(), "items": render::webhook_items(&group.items)});
            vec![(
                name,
                issue_event(cat, issue, h, name, type_name, Some(changelog), None),
            )]
        }
        Event::IssueDeleted { .. } => vec![(
            name,
            issue_event(cat, issue, h, name, "issue_deleted", None, None),
        )],
        Event::Comment {
            action, comment, ..
        } => {
            let rendered = render::comment(cat, issue.id, comment, Flavor::Webhook);
            let type_name = match action {
                CommentAction::Created => "issue_commented",
                CommentAction::Updated => "issue_comment_edited",
                CommentAction::Deleted => "issue_comment_deleted",
            };
            let own = json!({
                "timestamp": h.at,
                "webhookEvent": name,
                "comment": rendered,
                "issue": brief_issue(cat, issue),
            });
            let updated = issue_event(
                cat,
                issue,
                h,
                "jira:issue_updated",
                type_name,
                None,
                Some(rendered),
            );
            vec![(name, own), ("jira:issue_updated", updated)]
        }
        Event::Property { key, value, .. } => {
            let mut body = json!({
                "timestamp": h.at,
                "webhookEvent": name,
                "user": render::user(cat, &h.actor, Flavor::Webhook),
                "issue": brief_issue(cat, issue),
                "property": {"key": key},
            });
            if let Some(v) = value {
                body["property"]["value"] = v.clone();
            }
            vec![(name, body)]
        }
    }
}

fn issue_event(
    cat: &Catalog,
    issue: &Issue,
    h: &Happened,
    name: &str,
    type_name: &str,
    changelog: Option<Value>,
    comment: Option<Value>,
) -> Value {
    let mut body = json!({
        "timestamp": h.at,
        "webhookEvent": name,
        "issue_event_type_name": type_name,
        "user": render::user(cat, &h.actor, Flavor::Webhook),
        "issue": render::webhook_issue(cat, issue),
    });
    if let Some(c) = changelog {
        body["changelog"] = c;
    }
    if let Some(c) = comment {
        body["comment"] = c;
    }
    body
}

/// The short issue object comment events carry: id, key and a few fields.
fn brief_issue(cat: &Catalog, issue: &Issue) -> Value {
    let mut fields = serde_json::Map::new();
    for name in [
        "summary",
        "issuetype",
        "project",
        "assignee",
        "priority",
        "status",
    ] {
        if let Some(v) = render::field(cat, issue, name, Flavor::Webhook) {
            fields.insert(name.to_owned(), v);
        }
    }
    json!({
        "id": issue.id.to_string(),
        "self": render::issue_self(cat, issue.id, Flavor::Webhook),
        "key": issue.key,
        "fields": fields,
    })
}

/// A body in Jira Data Center's shape (see tests/fixtures/jira-webhooks/*server*): users by
/// `name`/`key`, rich text in wiki markup, and comment events without the `issue` (the comment's
/// `self` link names it).
pub(super) fn data_center(cat: &Catalog, event: &str, body: Value) -> Value {
    let mut body = crate::dialect::to_dc(cat, &body);
    if event.starts_with("comment_")
        && let Value::Object(obj) = &mut body
    {
        obj.remove("issue");
    }
    body
}
