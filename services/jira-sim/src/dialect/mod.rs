//! Jira Data Center's dialect of the REST API and webhooks, over the Cloud-shaped store.
//!
//! A Data Center site keeps what a Cloud site keeps (ADF documents, users by id; the user
//! *name* serves as the id) and is seen through this translation: requests to `/rest/api/2`
//! arrive with rich text in wiki markup and users as `{"name": ..}` or `{"key": ..}` and are
//! turned into the Cloud requests the handlers take ([`middleware`]); answers and webhook
//! bodies leave with every ADF document as wiki markup, every user object in Data Center's
//! shape (`name`, `key`, no `accountId`) and `/rest/api/2` links ([`to_dc`]). Entity property
//! values are the caller's own JSON and are never touched.

mod middleware;
mod request;

pub(crate) use middleware::translate;

use jira_sync_domain::richtext::wiki;
use serde_json::{Map, Value, json};

use crate::state::catalog::Catalog;

/// `value` (an answer or a webhook body, Cloud-shaped) as Data Center shows it.
pub(crate) fn to_dc(cat: &Catalog, value: &Value) -> Value {
    let v3 = format!("{}/rest/api/3", cat.base_url);
    let v2 = format!("{}/rest/api/2", cat.base_url);
    convert(cat, value, (&v3, &v2))
}

fn convert(cat: &Catalog, value: &Value, links: (&str, &str)) -> Value {
    match value {
        Value::Object(obj) if obj.get("type").and_then(Value::as_str) == Some("doc") => {
            Value::String(wiki::from_adf(value))
        }
        Value::Object(obj) if obj.get("accountId").is_some_and(Value::is_string) => {
            user(cat, obj, links)
        }
        Value::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| {
                    let v = if k == "properties" {
                        v.clone()
                    } else {
                        convert(cat, v, links)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| convert(cat, v, links)).collect()),
        Value::String(s) => match s.strip_prefix(links.0) {
            Some(rest) => Value::String(format!("{}{rest}", links.1)),
            None => value.clone(),
        },
        other => other.clone(),
    }
}

/// A Cloud user object in Data Center's shape: `name` (the account id) and `key` instead of
/// `accountId` and `accountType`.
fn user(cat: &Catalog, obj: &Map<String, Value>, links: (&str, &str)) -> Value {
    let name = obj
        .get("accountId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut out = Map::new();
    out.insert(
        "self".into(),
        json!(format!("{}/user?username={name}", links.1)),
    );
    out.insert("key".into(), json!(cat.user_key(&name)));
    out.insert("name".into(), json!(name));
    for (k, v) in obj {
        if !matches!(k.as_str(), "self" | "accountId" | "accountType") {
            out.insert(k.clone(), convert(cat, v, links));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SimUser, SiteConfig};

    fn catalog() -> Catalog {
        let mut cfg = SiteConfig::named("c");
        cfg.data_center = true;
        cfg.users.push(SimUser::new(
            "alice",
            "Alice Example",
            "alice@c.example.com",
            "t",
        ));
        Catalog::new(&cfg, "http://dc.example".to_owned())
    }

    #[test]
    fn answers_show_wiki_markup_users_by_name_and_key_and_v2_links_but_keep_properties() {
        let cat = catalog();
        let cloud = json!({
            "self": "http://dc.example/rest/api/3/issue/10000",
            "fields": {
                "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                    "content": [{"type": "text", "text": "hi", "marks": [{"type": "strong"}]}]}]},
                "assignee": {"self": "http://dc.example/rest/api/3/user?accountId=alice",
                    "accountId": "alice", "displayName": "Alice Example", "accountType": "atlassian",
                    "emailAddress": "alice@c.example.com"},
            },
            "properties": {"p": {"accountId": "kept", "type": "doc"}},
        });
        let dc = to_dc(&cat, &cloud);
        assert_eq!(
            dc["self"],
            json!("http://dc.example/rest/api/2/issue/10000")
        );
        assert_eq!(dc["fields"]["description"], json!("*hi*"));
        let assignee = &dc["fields"]["assignee"];
        assert_eq!(assignee["name"], json!("alice"));
        assert_eq!(assignee["key"], json!("JIRAUSER10002"));
        assert_eq!(
            assignee["self"],
            json!("http://dc.example/rest/api/2/user?username=alice")
        );
        assert!(assignee.get("accountId").is_none());
        assert!(assignee.get("accountType").is_none());
        assert_eq!(dc["properties"], cloud["properties"]);
    }
}
