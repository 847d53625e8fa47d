//! The PeopleForce resources this client reads and writes, parsed tolerantly.
//!
//! No public schema of a task exists (see the project's PeopleForce notes, section 5), so a
//! task is read from the names it most likely uses, with the alternatives seen in public
//! clients: `title` or `name`; `due_date` or `due_on`; `assignee_id`, `employee_id` or an
//! `assignee: {id}` object; `completed` or a non-null `completed_at`. Ids may be numbers or
//! strings. Unknown fields are ignored and missing optional ones are `None`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One page of a list, with PeopleForce's pagination metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items that could be read.
    pub items: Vec<T>,
    /// This page's number (from 1).
    pub page: u32,
    /// How many pages there are (`metadata.pagination.pages`; this page when absent).
    pub pages: u32,
    /// `metadata.pagination.count`, when sent (probably the total).
    pub count: Option<u64>,
    /// Items on the page that could not be read (no id, wrong types) and were skipped.
    pub skipped: usize,
}

impl<T> Page<T> {
    /// Whether this is the last page.
    pub fn is_last(&self) -> bool {
        self.page >= self.pages
    }
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTask")]
pub struct Task {
    /// Stable id (a number in PeopleForce, kept as text).
    pub id: String,
    /// Title (empty when absent).
    pub title: String,
    /// Plain-text description.
    pub description: Option<String>,
    /// Due date as sent (`yyyy-mm-dd`).
    pub due_date: Option<String>,
    /// The employee assigned to it.
    pub assignee_id: Option<String>,
    /// Whether it is done.
    pub completed: bool,
    /// When it was done.
    pub completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawTask {
    id: Value,
    title: Option<String>,
    name: Option<String>,
    description: Option<String>,
    due_date: Option<String>,
    due_on: Option<String>,
    assignee_id: Value,
    employee_id: Value,
    assignee: Value,
    completed: Option<bool>,
    #[serde(deserialize_with = "lenient_time")]
    completed_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "lenient_time")]
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawTask> for Task {
    type Error = String;

    fn try_from(raw: RawTask) -> Result<Self, Self::Error> {
        let id = id_text(&raw.id).ok_or("a task without an id")?;
        let assignee_id = id_text(&raw.assignee_id)
            .or_else(|| id_text(&raw.employee_id))
            .or_else(|| raw.assignee.get("id").and_then(id_text));
        Ok(Self {
            id,
            title: raw.title.or(raw.name).unwrap_or_default(),
            description: raw.description,
            due_date: raw.due_date.or(raw.due_on),
            assignee_id,
            completed: raw.completed.unwrap_or(raw.completed_at.is_some()),
            completed_at: raw.completed_at,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
        })
    }
}

/// An employee (the fields jira-sync uses: identity, e-mail, status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEmployee")]
pub struct Employee {
    /// Stable id (kept as text).
    pub id: String,
    /// `full_name`, or first and last name joined.
    pub full_name: String,
    /// Work e-mail, lower-cased (the key to match Jira users).
    pub email: Option<String>,
    /// Personal e-mail, lower-cased.
    pub personal_email: Option<String>,
    /// `employed`, `probation`, `dismissed`, ... when sent.
    pub status: Option<String>,
    /// Whether employed (`active`, or derived from `status`).
    pub active: bool,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RawEmployee {
    id: Value,
    full_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    personal_email: Option<String>,
    status: Option<String>,
    active: Option<bool>,
    #[serde(deserialize_with = "lenient_time")]
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawEmployee> for Employee {
    type Error = String;

    fn try_from(raw: RawEmployee) -> Result<Self, Self::Error> {
        let id = id_text(&raw.id).ok_or("an employee without an id")?;
        let joined = [raw.first_name, raw.last_name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let active = raw.active.unwrap_or_else(|| {
            raw.status
                .as_deref()
                .is_none_or(|s| !s.eq_ignore_ascii_case("dismissed"))
        });
        Ok(Self {
            id,
            full_name: raw.full_name.unwrap_or(joined),
            email: raw.email.map(|e| e.trim().to_lowercase()),
            personal_email: raw.personal_email.map(|e| e.trim().to_lowercase()),
            status: raw.status,
            active,
            updated_at: raw.updated_at,
        })
    }
}

/// The body of `POST /tasks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewTask {
    /// Required.
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `yyyy-mm-dd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// The employee who is to complete it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<u64>,
}

/// An id sent as a number or a non-empty string.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// An RFC 3339 time (PeopleForce sends `2026-11-24T10:00:00.000Z`); anything else is `None`.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// The list envelope, `{"data": [...], "metadata": {"pagination": {...}}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawPage {
    data: Value,
    metadata: Value,
}

impl RawPage {
    /// Reads the items one by one, skipping (and counting) those that cannot be read.
    pub(crate) fn into_page<T: serde::de::DeserializeOwned>(self, asked: u32) -> Page<T> {
        let pagination = &self.metadata["pagination"];
        let number = |key: &str| pagination.get(key).and_then(Value::as_u64);
        let page = number("page").map_or(asked, |p| u32::try_from(p).unwrap_or(asked));
        let pages = number("pages").map_or(page, |p| u32::try_from(p).unwrap_or(page));
        let raw_items = match self.data {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        let total = raw_items.len();
        let items: Vec<T> = raw_items
            .into_iter()
            .filter_map(|item| match serde_json::from_value(item) {
                Ok(parsed) => Some(parsed),
                Err(error) => {
                    tracing::warn!(%error, "skipping an unreadable PeopleForce list item");
                    None
                }
            })
            .collect();
        Page {
            skipped: total - items.len(),
            items,
            page,
            pages,
            count: number("count"),
        }
    }
}

/// A single object, `{"data": {...}}` (or the bare object, as older versions answer).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Single<T> {
    Wrapped { data: T },
    Bare(T),
}

impl<T> Single<T> {
    pub(crate) fn into_inner(self) -> T {
        match self {
            Single::Wrapped { data } | Single::Bare(data) => data,
        }
    }
}

#[cfg(test)]
mod tests;
