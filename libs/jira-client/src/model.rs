//! The Jira REST v3 resources this client reads and writes, parsed tolerantly: unknown fields
//! are ignored and missing optional ones take their defaults, so a newer Jira (or a simulator
//! that leaves things out) does not break decoding. Issue fields stay raw JSON; mapping them to
//! the canonical document is the domain's job.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Parses Jira's timestamp format, `2026-11-24T05:46:33.123+0000`; RFC 3339 is accepted too.
pub fn parse_jira_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Deserializes an optional Jira timestamp; an unreadable one becomes `None`.
fn lenient_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    Ok(text.as_deref().and_then(parse_jira_timestamp))
}

/// Deserializes `null` as the type's default (Jira sends `null` for absent maps and lists).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A Jira user as `myself`, comment authors and user fields show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    pub account_id: String,
    pub display_name: String,
    /// Hidden unless the user's profile visibility allows it.
    pub email_address: Option<String>,
    pub active: bool,
}

/// An issue as get-issue and search return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    /// The numeric id: stable across moves, use it as the sync identity.
    pub id: String,
    /// The current key (changes when the issue moves).
    pub key: String,
    /// Raw field values by field id.
    #[serde(deserialize_with = "null_as_default")]
    pub fields: Map<String, Value>,
    /// Requested entity properties by key.
    #[serde(deserialize_with = "null_as_default")]
    pub properties: Map<String, Value>,
}

impl Issue {
    /// A raw field value; `None` when absent or `null`.
    pub fn field(&self, id: &str) -> Option<&Value> {
        self.fields.get(id).filter(|v| !v.is_null())
    }

    /// A requested entity property.
    pub fn property(&self, key: &str) -> Option<&Value> {
        self.properties.get(key).filter(|v| !v.is_null())
    }

    /// The `updated` field as a UTC time.
    pub fn updated(&self) -> Option<DateTime<Utc>> {
        self.timestamp("updated")
    }

    /// The `created` field as a UTC time.
    pub fn created(&self) -> Option<DateTime<Utc>> {
        self.timestamp("created")
    }

    /// The `summary` field.
    pub fn summary(&self) -> Option<&str> {
        self.field("summary").and_then(Value::as_str)
    }

    /// The status name (`fields.status.name`).
    pub fn status_name(&self) -> Option<&str> {
        self.field("status")?.get("name")?.as_str()
    }

    fn timestamp(&self, id: &str) -> Option<DateTime<Utc>> {
        self.field(id)
            .and_then(Value::as_str)
            .and_then(parse_jira_timestamp)
    }
}

/// An entity property (issue or comment), as set atomically at create time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityProperty {
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// The body of `POST /rest/api/3/issue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateIssue {
    pub fields: Map<String, Value>,
    /// Set in the same request, so the sync marker exists as soon as the issue does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<EntityProperty>,
}

/// What `POST /rest/api/3/issue` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CreatedIssue {
    pub id: String,
    pub key: String,
}

/// A workflow status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "RawStatus")]
pub struct Status {
    pub id: String,
    pub name: String,
    /// `new`, `indeterminate` or `done` (from `statusCategory.key`).
    pub category_key: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawStatus {
    id: String,
    name: String,
    status_category: Option<RawStatusCategory>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawStatusCategory {
    key: Option<String>,
}

impl Status {
    /// A status with the given id, name and category key.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        category_key: Option<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            category_key,
        }
    }
}

impl From<RawStatus> for Status {
    fn from(raw: RawStatus) -> Self {
        Self {
            id: raw.id,
            name: raw.name,
            category_key: raw.status_category.and_then(|c| c.key),
        }
    }
}

/// A transition available on an issue now.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Transition {
    pub id: String,
    pub name: String,
    pub to: Status,
    pub has_screen: bool,
    /// Screen fields (`expand=transitions.fields`), raw by field id.
    #[serde(deserialize_with = "null_as_default")]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Transitions {
    pub transitions: Vec<Transition>,
}

/// An issue comment.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    /// The body in Atlassian Document Format.
    pub body: Value,
    pub author: Option<User>,
    pub update_author: Option<User>,
    #[serde(deserialize_with = "lenient_timestamp")]
    pub created: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_timestamp")]
    pub updated: Option<DateTime<Utc>>,
    /// Comment entity properties, when Jira includes them.
    #[serde(deserialize_with = "null_as_default")]
    pub properties: Vec<EntityProperty>,
    /// The group or role the comment is restricted to (`{"type": "role", "value": ...}`).
    pub visibility: Option<Value>,
    /// `false` for an internal note on a service-desk project (customers do not see it).
    pub jsd_public: Option<bool>,
}

impl Comment {
    /// A comment property included in the answer.
    pub fn property(&self, key: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|p| p.key == key)
            .map(|p| &p.value)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PageOfComments {
    pub comments: Vec<Comment>,
    pub start_at: u64,
    pub total: Option<u64>,
}

/// The body of `POST /rest/api/3/search/jql` (enhanced search: token paging, no `total`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// Must be bounded (Jira rejects an unrestricted query).
    pub jql: String,
    /// Defaults to `id` only when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Up to 5 issue properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    pub max_results: u32,
    /// `None` on the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchPage {
    pub issues: Vec<Issue>,
    /// Pass it back to get the next page; `None` on the last page.
    pub next_page_token: Option<String>,
    pub is_last: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RawSearchPage {
    #[serde(deserialize_with = "null_as_default")]
    issues: Vec<Issue>,
    next_page_token: Option<String>,
    is_last: Option<bool>,
}

impl From<RawSearchPage> for SearchPage {
    fn from(raw: RawSearchPage) -> Self {
        let next_page_token = raw.next_page_token.filter(|t| !t.is_empty());
        // Trust the token over the flag: without a token there is no way to go on.
        let is_last = next_page_token.is_none() || raw.is_last.unwrap_or(false);
        Self {
            issues: raw.issues,
            next_page_token: if is_last { None } else { next_page_token },
            is_last,
        }
    }
}

/// A field as `GET /rest/api/3/field` lists it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FieldMeta {
    /// `summary`, `customfield_10010`, ...: per site for custom fields.
    pub id: String,
    pub key: Option<String>,
    pub name: String,
    pub custom: bool,
    pub schema: Option<FieldSchema>,
    pub clause_names: Vec<String>,
}

/// The data type of a field.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FieldSchema {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub items: Option<String>,
    pub system: Option<String>,
    pub custom: Option<String>,
    pub custom_id: Option<i64>,
}

/// A project as `GET /rest/api/3/project/{key}` returns it (the parts jira-sync reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    /// The issue types issues of this project can have.
    pub issue_types: Vec<IssueType>,
}

/// An issue type as a project lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IssueType {
    pub id: String,
    pub name: String,
    pub subtask: bool,
}

/// An issue priority as `GET /rest/api/3/priority` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Priority {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PropertyBody {
    pub value: Value,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Panicking on a broken fixture is the point of a test.
mod tests;
