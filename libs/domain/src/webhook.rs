//! The routing view of a Jira webhook: just what is needed to decide which entity to reconcile.
//!
//! The ingress parses only this; the worker re-reads the issue from Jira rather than trusting the
//! payload, so the rest of the body is never interpreted here. Payloads from Jira Cloud and Data
//! Center, old and new, are accepted (see the fixture tests).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::ids::IssueKey;

/// The event families jira-sync acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookKind {
    IssueCreated,
    IssueUpdated,
    IssueDeleted,
    CommentCreated,
    CommentUpdated,
    CommentDeleted,
    /// Any other event (sprints, versions, worklogs...): accepted, counted, not synced.
    Other(String),
}

impl WebhookKind {
    fn from_event(event: &str) -> Self {
        match event {
            "jira:issue_created" => Self::IssueCreated,
            "jira:issue_updated" => Self::IssueUpdated,
            "jira:issue_deleted" => Self::IssueDeleted,
            "comment_created" => Self::CommentCreated,
            "comment_updated" => Self::CommentUpdated,
            "comment_deleted" => Self::CommentDeleted,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Whether this event names an issue that jira-sync reconciles.
    pub fn is_synced(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

/// Why a body is not a usable Jira webhook. The message is safe to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    #[error("body is not a JSON object")]
    NotAnObject,
    #[error("field `webhookEvent` is missing or not a string")]
    MissingEvent,
    #[error("event `{0}` names no issue: `issue.id` is missing and cannot be derived")]
    MissingIssue(String),
    #[error("`issue.key` {0:?} is not a Jira issue key")]
    BadIssueKey(String),
}

/// The longest piece of a sender's text an error quotes back.
const QUOTED_MAX: usize = 64;

/// `text` as an error quotes it: at most [`QUOTED_MAX`] bytes (cut at a character boundary)
/// and a note of the full length, so that an error answer never echoes a large body.
fn quoted(text: &str) -> String {
    if text.len() <= QUOTED_MAX {
        return text.to_owned();
    }
    let mut end = QUOTED_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// What routing needs from a Jira webhook body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraWebhook {
    pub event: String,
    pub kind: WebhookKind,
    /// When the event happened (Jira's `timestamp`, epoch milliseconds).
    pub timestamp: Option<DateTime<Utc>>,
    /// The issue's stable id; present for every synced event.
    pub issue_id: Option<String>,
    pub issue_key: Option<IssueKey>,
    pub project_key: Option<String>,
    pub comment_id: Option<String>,
    /// The account (Cloud) or user name (Data Center) whose action raised the event.
    pub actor: Option<String>,
    /// A name for the change the event reports, the same in every webhook Jira sends about it
    /// (see [`change_key`]).
    pub change: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "webhookEvent")]
    event: Option<Value>,
    timestamp: Option<Value>,
    issue: Option<RawIssue>,
    comment: Option<RawComment>,
    user: Option<RawUser>,
    #[serde(default, deserialize_with = "changelog_id")]
    changelog: Option<String>,
    issue_event_type_name: Option<Value>,
}

/// `changelog.id`, and `None` whatever else `changelog` holds: the change key only spares
/// work, so a body is never refused for it. The rest of the changelog is skipped unread.
fn changelog_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct Id;
    impl<'de> Visitor<'de> for Id {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a changelog")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == "id" {
                    id = id_string(Some(map.next_value::<Value>()?));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(id)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(Id)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Id)
}

/// The name of the change a webhook reports, the same in each of the webhooks Jira sends about
/// one change: a comment raises `comment_created` and also `jira:issue_updated`
/// (`issue_commented`), both carrying the comment. An edit is named by its changelog id; a
/// comment by its id and `updated` time, or as deleted. `None` when the body names neither.
fn change_key(
    changelog: Option<String>,
    comment: Option<(&str, Option<&str>)>,
    deleted: bool,
) -> Option<String> {
    if let Some(id) = changelog {
        return Some(format!("changelog:{id}"));
    }
    let (id, updated) = comment?;
    if deleted {
        return Some(format!("comment:{id}:deleted"));
    }
    Some(format!("comment:{id}:{}", updated?))
}

#[derive(Deserialize)]
struct RawIssue {
    id: Option<Value>,
    key: Option<String>,
    fields: Option<RawFields>,
}

#[derive(Deserialize)]
struct RawFields {
    project: Option<RawProject>,
}

#[derive(Deserialize)]
struct RawProject {
    key: Option<String>,
}

#[derive(Deserialize)]
struct RawComment {
    id: Option<Value>,
    #[serde(rename = "self")]
    self_url: Option<String>,
    author: Option<RawUser>,
    updated: Option<Value>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    name: Option<String>,
}

impl RawUser {
    fn id(self) -> Option<String> {
        self.account_id.or(self.name)
    }
}

/// A JSON id that Jira sends as a string or as a number.
fn id_string(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why `body` did not deserialize: valid JSON of another shape than an object, or not JSON (or
/// an object whose routing fields have the wrong types).
fn not_a_webhook(body: &[u8], error: serde_json::Error) -> WebhookError {
    let opens_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !opens_object && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        WebhookError::NotAnObject
    } else {
        WebhookError::NotJson(error.to_string())
    }
}

/// `.../rest/api/2/issue/10013/comment/10082` -> `10013`.
fn issue_id_from_comment_url(url: &str) -> Option<String> {
    let mut parts = url.rsplit('/');
    let _comment_id = parts.next()?;
    if parts.next()? != "comment" {
        return None;
    }
    let id = parts.next()?;
    (parts.next()? == "issue" && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.to_owned())
}

impl JiraWebhook {
    /// Parses the routing view of a raw webhook body.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        // Straight into the few fields routing reads: the rest of the body (typically 5-20 KB
        // of issue fields and changelog) is skipped without building a tree of it, which was
        // most of the ingress's allocations per webhook.
        let raw: Raw = serde_json::from_slice(body).map_err(|e| not_a_webhook(body, e))?;
        let event = match raw.event {
            Some(Value::String(e)) if !e.is_empty() => e,
            _ => return Err(WebhookError::MissingEvent),
        };
        let kind = WebhookKind::from_event(&event);
        let timestamp = raw
            .timestamp
            .and_then(|t| t.as_i64())
            .and_then(DateTime::<Utc>::from_timestamp_millis);

        let (mut issue_id, mut issue_key, mut project_key) = (None, None, None);
        if let Some(issue) = raw.issue {
            issue_id = id_string(issue.id);
            if let Some(key) = issue.key {
                let key = IssueKey::parse(key.clone())
                    .map_err(|_| WebhookError::BadIssueKey(quoted(&key)))?;
                project_key = Some(key.project().to_owned());
                issue_key = Some(key);
            }
            if let Some(project) = issue.fields.and_then(|f| f.project).and_then(|p| p.key) {
                project_key = Some(project);
            }
        }
        let (mut comment_id, mut comment_author, mut comment_updated) = (None, None, None);
        if let Some(comment) = raw.comment {
            if issue_id.is_none() {
                issue_id = comment
                    .self_url
                    .as_deref()
                    .and_then(issue_id_from_comment_url);
            }
            comment_id = id_string(comment.id);
            comment_author = comment.author.and_then(RawUser::id);
            comment_updated = match comment.updated {
                Some(Value::String(updated)) => Some(updated),
                _ => None,
            };
        }
        let deleted = event == "comment_deleted"
            || raw.issue_event_type_name.as_ref().and_then(Value::as_str)
                == Some("issue_comment_deleted");
        let change = change_key(
            raw.changelog,
            (comment_id.as_deref()).map(|id| (id, comment_updated.as_deref())),
            deleted,
        );
        if kind.is_synced() && issue_id.is_none() {
            return Err(WebhookError::MissingIssue(quoted(&event)));
        }
        Ok(Self {
            event,
            kind,
            timestamp,
            issue_id,
            issue_key,
            project_key,
            comment_id,
            actor: raw.user.and_then(RawUser::id).or(comment_author),
            change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_quote_at_most_a_short_prefix_of_the_senders_text() {
        let key = format!("{}é", "x".repeat(QUOTED_MAX - 1));
        let body = format!(
            r#"{{"webhookEvent":"jira:issue_updated","issue":{{"id":"1","key":"{key}"}}}}"#
        );
        let Err(WebhookError::BadIssueKey(shown)) = JiraWebhook::parse(body.as_bytes()) else {
            panic!("a bad key must be refused");
        };
        assert_eq!(
            shown,
            format!("{}... (65 bytes)", "x".repeat(QUOTED_MAX - 1))
        );

        let body = br#"{"webhookEvent":"jira:issue_updated","issue":{"key":"A-1"}}"#;
        assert_eq!(
            JiraWebhook::parse(body),
            Err(WebhookError::MissingIssue("jira:issue_updated".into()))
        );
        assert_eq!(
            quoted(&"y".repeat(500)).len(),
            QUOTED_MAX + " (500 bytes)".len() + 3
        );
    }

    #[test]
    fn an_issue_update_yields_its_id_key_and_project() -> Result<(), WebhookError> {
        let body = br#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
            "user":{"accountId":"abc"},
            "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;
        let hook = JiraWebhook::parse(body)?;
        assert_eq!(hook.kind, WebhookKind::IssueUpdated);
        assert_eq!(hook.issue_id.as_deref(), Some("10040"));
        assert_eq!(
            hook.issue_key.as_ref().map(IssueKey::as_str),
            Some("TES-41")
        );
        assert_eq!(hook.project_key.as_deref(), Some("TES"));
        assert_eq!(hook.actor.as_deref(), Some("abc"));
        assert_eq!(
            hook.timestamp.map(|t| t.timestamp_millis()),
            Some(1550286601840)
        );
        Ok(())
    }

    #[test]
    fn a_data_center_comment_event_finds_its_issue_in_the_comment_url() -> Result<(), WebhookError>
    {
        let body = br#"{"webhookEvent":"comment_created","comment":{"id":"10082",
            "self":"http://jira:8080/rest/api/2/issue/10013/comment/10082","author":{"name":"lev"}}}"#;
        let hook = JiraWebhook::parse(body)?;
        assert_eq!(hook.issue_id.as_deref(), Some("10013"));
        assert_eq!(hook.comment_id.as_deref(), Some("10082"));
        assert_eq!(hook.actor.as_deref(), Some("lev"));
        Ok(())
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        assert!(matches!(
            JiraWebhook::parse(b"{"),
            Err(WebhookError::NotJson(_))
        ));
        assert_eq!(JiraWebhook::parse(b"[1]"), Err(WebhookError::NotAnObject));
        assert_eq!(
            JiraWebhook::parse(b" \"jira:issue_updated\""),
            Err(WebhookError::NotAnObject)
        );
        assert!(matches!(
            JiraWebhook::parse(br#"{"webhookEvent":"jira:issue_updated","issue":7}"#),
            Err(WebhookError::NotJson(_))
        ));
        assert_eq!(JiraWebhook::parse(b"{}"), Err(WebhookError::MissingEvent));
        assert_eq!(
            JiraWebhook::parse(br#"{"webhookEvent":"jira:issue_updated"}"#),
            Err(WebhookError::MissingIssue("jira:issue_updated".into()))
        );
    }

    #[test]
    fn unsynced_events_need_no_issue() -> Result<(), WebhookError> {
        let hook = JiraWebhook::parse(br#"{"webhookEvent":"sprint_started","sprint":{"id":1}}"#)?;
        assert!(!hook.kind.is_synced());
        Ok(())
    }

    fn fixture(name: &str) -> Result<JiraWebhook, Box<dyn std::error::Error>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/jira-webhooks")
            .join(name);
        Ok(JiraWebhook::parse(&std::fs::read(path)?)?)
    }

    #[test]
    fn webhooks_name_their_change_by_changelog_or_by_comment()
    -> Result<(), Box<dyn std::error::Error>> {
        let renamed = fixture("mattermost-plugin-jira--webhook-issue-updated-renamed.json")?;
        assert_eq!(renamed.change.as_deref(), Some("changelog:10224"));
        let created = fixture("mattermost-plugin-jira--webhook-cloud-comment-created.json")?;
        assert_eq!(
            created.change.as_deref(),
            Some("comment:10019:2019-02-15T19:11:18.321-0800")
        );
        let deleted = fixture("mattermost-plugin-jira--webhook-cloud-comment-deleted.json")?;
        assert_eq!(deleted.change.as_deref(), Some("comment:10757:deleted"));
        // The issue event Jira sends beside a comment's own names the same change.
        let beside = fixture("jira-trigger-plugin--issue_updated_with_comment.json")?;
        assert_eq!(
            beside.change.as_deref(),
            Some("comment:10000:2015-12-20T19:04:58.421+0000")
        );
        let body = br#"{"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_comment_deleted",
            "issue":{"id":"1"},"comment":{"id":"5","updated":"2026-01-01T00:00:00.000+0000"}}"#;
        assert_eq!(
            JiraWebhook::parse(body)?.change.as_deref(),
            Some("comment:5:deleted")
        );
        Ok(())
    }

    #[test]
    fn a_changelog_of_an_unexpected_shape_names_no_change_and_is_not_refused()
    -> Result<(), WebhookError> {
        for changelog in [
            r#""x""#,
            "[1,{}]",
            "null",
            "7",
            r#"{"items":[{"a":1}]}"#,
            r#"{"id":{}}"#,
        ] {
            let body = format!(
                r#"{{"webhookEvent":"jira:issue_updated","issue":{{"id":"1"}},"changelog":{changelog}}}"#
            );
            assert_eq!(
                JiraWebhook::parse(body.as_bytes())?.change,
                None,
                "{changelog}"
            );
        }
        let body = br#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1"},"changelog":{"items":[],"id":42}}"#;
        assert_eq!(
            JiraWebhook::parse(body)?.change.as_deref(),
            Some("changelog:42")
        );
        Ok(())
    }

    #[test]
    fn every_shared_fixture_parses() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/jira-webhooks");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let body = std::fs::read(&path)?;
            let hook = JiraWebhook::parse(&body).map_err(|e| format!("{}: {e}", path.display()))?;
            assert!(hook.kind.is_synced(), "{} not synced", path.display());
            count += 1;
        }
        assert!(
            count >= 30,
            "only {count} fixtures found in {}",
            dir.display()
        );
        Ok(())
    }
}
