//! The stored shape of issues, comments and change history. Compact on purpose: 10,000 seeded
//! issues cost a few megabytes. JSON is produced from it by `render`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

/// One issue as the simulator stores it.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub id: u64,
    pub project: usize,
    pub number: u64,
    pub key: String,
    pub summary: String,
    /// ADF document.
    pub description: Option<Value>,
    pub issue_type: usize,
    pub status: usize,
    pub priority: Option<usize>,
    pub resolution: Option<usize>,
    pub resolution_date: Option<i64>,
    pub labels: Vec<String>,
    /// (id, name) pairs.
    pub components: Vec<(u64, String)>,
    /// (id, name) pairs.
    pub fix_versions: Vec<(u64, String)>,
    pub due_date: Option<NaiveDate>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub creator: Option<String>,
    pub custom: BTreeMap<String, Value>,
    pub created: i64,
    pub updated: i64,
    pub status_changed: i64,
    pub comments: Vec<Comment>,
    pub properties: BTreeMap<String, Value>,
    pub history: Vec<ChangeGroup>,
}

impl Issue {
    /// Moves `updated` to `now`, and at least one millisecond forward, so every write is visible
    /// to `updated > x` queries even with a frozen clock.
    pub fn touch(&mut self, now: i64) {
        self.updated = now.max(self.updated + 1);
    }

    pub fn comment(&self, id: u64) -> Option<&Comment> {
        self.comments.iter().find(|c| c.id == id)
    }
}

/// One comment.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub id: u64,
    pub author: String,
    pub update_author: String,
    /// ADF document.
    pub body: Value,
    pub created: i64,
    pub updated: i64,
    pub visibility: Option<Value>,
    pub properties: BTreeMap<String, Value>,
}

/// One entry of an issue's changelog.
#[derive(Debug, Clone)]
pub(crate) struct ChangeGroup {
    pub id: u64,
    pub author: String,
    pub created: i64,
    pub items: Vec<ChangeItem>,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChangeItem {
    /// Display name (`summary`, `status`, `Component`, a custom field's name).
    pub field: String,
    pub field_id: String,
    /// `jira` or `custom`.
    pub fieldtype: &'static str,
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

impl ChangeItem {
    /// A system-field change.
    pub fn jira(
        field: &str,
        from: (Option<String>, Option<String>),
        to: (Option<String>, Option<String>),
    ) -> Self {
        Self {
            field: field.to_owned(),
            field_id: field.to_owned(),
            fieldtype: "jira",
            from: from.0,
            from_string: from.1,
            to: to.0,
            to_string: to.1,
        }
    }
}
