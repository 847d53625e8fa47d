//! Tasks and issues as canonical snapshots, and people across PeopleForce and Jira.
//!
//! Keys: `summary` (task title), `description` (plain text; ADF on Jira through
//! `richtext::text`), `due_date` (`yyyy-mm-dd`), `assignee` (the PeopleForce employee id; a Jira
//! account without an employee reads as `jira:<account id>`), `completed` (a bool; on Jira the
//! status category `done`). Each takes its merge rule from the connection's `fields` entry of
//! the same name (`completed` from `status`).
//!
//! People: the connection's `users` table (`left`/`right` = employee id / account id, by side)
//! first, then, if `match_users_by_email`, the employee's work e-mail against Jira's user
//! search (exact, case-insensitive), and back from a Jira user's e-mail to the employee with
//! that work e-mail. No match: the side's `default_user`, or nobody.

use std::collections::BTreeMap;

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::merge::FieldRule;
use jira_sync_domain::richtext::text;
use jira_sync_domain::{EndpointId, Side};
use jira_sync_settings::ConnectionSettings;
use serde_json::{Map, Value, json};

use super::super::Ctx;
use crate::error::ReconcileError;
use crate::jira::{Issue, JiraClient};
use crate::peopleforce::{PeopleForceClient, Task};

pub(super) const SUMMARY: &str = "summary";
pub(super) const DESCRIPTION: &str = "description";
pub(super) const DUE_DATE: &str = "due_date";
pub(super) const ASSIGNEE: &str = "assignee";
pub(super) const COMPLETED: &str = "completed";

/// The Jira fields a PeopleForce link reads (status, project and type for transitions).
pub(super) const JIRA_FIELDS: [&str; 10] = [
    "summary",
    "description",
    "duedate",
    "assignee",
    "status",
    "project",
    "issuetype",
    "labels",
    "created",
    "updated",
];

/// The synced keys and their rules, from the connection's `fields`.
pub(super) fn rules(connection: &ConnectionSettings) -> BTreeMap<String, FieldRule> {
    [
        (SUMMARY, "summary"),
        (DESCRIPTION, "description"),
        (DUE_DATE, "due_date"),
        (ASSIGNEE, "assignee"),
        (COMPLETED, "status"),
    ]
    .into_iter()
    .filter_map(|(key, source)| (connection.fields.get(source)).map(|r| (key.to_owned(), *r)))
    .collect()
}

/// Plain text as both sides hold it after a round trip through ADF; empty is `null`.
fn plain(text_value: Option<&str>) -> Value {
    match text_value.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            let round = text::from_adf(&text::to_adf(t));
            Value::String(round.trim().to_owned())
        }
        None => Value::Null,
    }
}

fn date(value: Option<&str>) -> Value {
    value
        .map(str::trim)
        .filter(|d| d.len() >= 10)
        .map_or(Value::Null, |d| Value::String(d[..10].to_owned()))
}

/// A task's canonical values.
pub(super) fn task_snapshot(task: &Task) -> Snapshot {
    Snapshot::from_iter([
        (SUMMARY.to_owned(), json!(task.title.trim())),
        (DESCRIPTION.to_owned(), plain(task.description.as_deref())),
        (DUE_DATE.to_owned(), date(task.due_date.as_deref())),
        (
            ASSIGNEE.to_owned(),
            task.assignee_id.clone().map_or(Value::Null, Value::String),
        ),
        (COMPLETED.to_owned(), json!(task.completed)),
    ])
}

/// Whether the issue's status is in the done category.
pub(super) fn is_done(issue: &Issue) -> bool {
    issue
        .fields
        .get("status")
        .and_then(|s| s.pointer("/statusCategory/key"))
        == Some(&json!("done"))
}

/// The people resolver of one PeopleForce <-> Jira reconcile.
pub(super) struct Directory<'a> {
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) pf: &'a PeopleForceClient,
    pub(super) pf_side: Side,
}

impl Directory<'_> {
    fn jira_side(&self) -> Side {
        self.pf_side.other()
    }

    fn jira(&self) -> &JiraClient {
        self.ctx.client(self.jira_side())
    }

    fn jira_endpoint(&self) -> &EndpointId {
        self.ctx.endpoint(self.jira_side())
    }

    /// The Jira account of an employee, if there is one.
    pub(super) async fn account_of(
        &self,
        employee: &str,
    ) -> Result<Option<String>, ReconcileError> {
        let sync = &self.ctx.connection.sync;
        if let Some(account) = sync.user_map().counterpart(self.pf_side, employee) {
            return Ok(Some(account.to_owned()));
        }
        if !sync.match_users_by_email {
            return Ok(None);
        }
        let found = match self.pf.get_employee(employee).await {
            Ok(found) => found,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => {
                let endpoint = self.ctx.endpoint(self.pf_side);
                return Err(ReconcileError::peopleforce(endpoint, "read", employee, e));
            }
        };
        let Some(email) = found.email.filter(|e| !e.trim().is_empty()) else {
            return Ok(None);
        };
        let users = (self.jira().search_users(email.trim()).await).map_err(|e| {
            ReconcileError::jira(self.jira_endpoint(), "search users for", "an employee", e)
        })?;
        Ok(users
            .into_iter()
            .find(|u| {
                (u.email_address.as_deref()).is_some_and(|a| a.eq_ignore_ascii_case(email.trim()))
            })
            .map(|u| u.account_id))
    }

    /// The Jira account an employee's work is assigned to: theirs, else the Jira side's
    /// `default_user`, else nobody.
    pub(super) async fn assignee_for(
        &self,
        employee: Option<&str>,
    ) -> Result<Option<String>, ReconcileError> {
        if let Some(employee) = employee
            && let Some(account) = self.account_of(employee).await?
        {
            return Ok(Some(account));
        }
        let config = self.ctx.config(self.jira_side());
        Ok(config
            .options
            .default_user
            .as_ref()
            .map(|u| u.id().to_owned()))
    }

    /// The employee of a Jira account, or `jira:<account id>` when there is none.
    pub(super) async fn employee_of(&self, account: &str) -> Result<String, ReconcileError> {
        let sync = &self.ctx.connection.sync;
        if let Some(employee) = sync.user_map().counterpart(self.jira_side(), account) {
            return Ok(employee.to_owned());
        }
        let unmapped = format!("jira:{account}");
        if !sync.match_users_by_email {
            return Ok(unmapped);
        }
        let email = match self.jira().user(account).await {
            Ok(user) => user.email_address,
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                return Err(ReconcileError::jira(
                    self.jira_endpoint(),
                    "read user",
                    account.to_owned(),
                    e,
                ));
            }
        };
        let Some(email) = email else {
            return Ok(unmapped);
        };
        let employees = (self.pf.list_employees().await).map_err(|e| {
            ReconcileError::peopleforce(self.ctx.endpoint(self.pf_side), "list", "employees", e)
        })?;
        Ok(employees
            .into_iter()
            .find(|e| (e.email.as_deref()).is_some_and(|m| m.eq_ignore_ascii_case(&email)))
            .map_or(unmapped, |e| e.id))
    }

    /// An issue's canonical values.
    pub(super) async fn issue_snapshot(&self, issue: &Issue) -> Result<Snapshot, ReconcileError> {
        let description = issue
            .fields
            .get("description")
            .filter(|d| !d.is_null())
            .map(text::from_adf);
        let account = (issue.fields.get("assignee"))
            .and_then(|a| a.get("accountId"))
            .and_then(Value::as_str);
        let assignee = match account {
            Some(account) => Value::String(self.employee_of(account).await?),
            None => Value::Null,
        };
        let due = issue.fields.get("duedate").and_then(Value::as_str);
        Ok(Snapshot::from_iter([
            (
                SUMMARY.to_owned(),
                json!(issue.summary().unwrap_or_default().trim()),
            ),
            (DESCRIPTION.to_owned(), plain(description.as_deref())),
            (DUE_DATE.to_owned(), date(due)),
            (ASSIGNEE.to_owned(), assignee),
            (COMPLETED.to_owned(), json!(is_done(issue))),
        ]))
    }

    /// The Jira edit body for canonical `values` (the text and people keys among them).
    pub(super) async fn jira_fields(
        &self,
        values: &Snapshot,
    ) -> Result<Map<String, Value>, ReconcileError> {
        let mut fields = Map::new();
        for (key, value) in values {
            match key.as_str() {
                SUMMARY => {
                    fields.insert("summary".into(), value.clone());
                }
                DESCRIPTION => {
                    let doc = value.as_str().map_or(Value::Null, text::to_adf);
                    fields.insert("description".into(), doc);
                }
                DUE_DATE => {
                    fields.insert("duedate".into(), value.clone());
                }
                ASSIGNEE => {
                    let account = self.assignee_for(value.as_str()).await?;
                    let assignee = account.map_or(Value::Null, |a| json!({ "accountId": a }));
                    fields.insert("assignee".into(), assignee);
                }
                _ => {}
            }
        }
        Ok(fields)
    }
}
