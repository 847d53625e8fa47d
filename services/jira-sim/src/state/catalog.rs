//! The fixed vocabulary of a site, built once from its `SiteConfig`: projects, users, issue
//! types, priorities, resolutions, custom fields and the workflow, with lookups by id or name
//! and the ids Jira would give them.

use serde_json::Value;

use crate::config::{CustomFieldDef, SimUser, SiteConfig};
use crate::workflow::Workflow;

/// The immutable part of a site.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// Base of every `self` link.
    pub base_url: String,
    /// A Data Center site: REST v2, wiki markup, users by name (the account id) and key.
    pub data_center: bool,
    pub projects: Vec<String>,
    pub users: Vec<SimUser>,
    pub bot: Option<String>,
    pub issue_types: Vec<String>,
    pub priorities: Vec<String>,
    pub default_priority: Option<usize>,
    pub resolutions: Vec<String>,
    pub custom_fields: Vec<CustomFieldDef>,
    pub workflow: Workflow,
}

impl Catalog {
    pub fn new(cfg: &SiteConfig, base_url: String) -> Self {
        let default_priority = cfg
            .default_priority
            .as_ref()
            .and_then(|p| cfg.priorities.iter().position(|x| x == p));
        Self {
            base_url,
            data_center: cfg.data_center,
            projects: cfg.projects.clone(),
            users: cfg.users.clone(),
            bot: cfg.bot_account_id.clone(),
            issue_types: cfg.issue_types.clone(),
            priorities: cfg.priorities.clone(),
            default_priority,
            resolutions: cfg.resolutions.clone(),
            custom_fields: cfg.custom_fields.clone(),
            workflow: cfg.workflow.clone(),
        }
    }

    pub fn project_id(idx: usize) -> String {
        (10_000 + idx).to_string()
    }

    pub fn project_by_key(&self, key: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.eq_ignore_ascii_case(key))
    }

    /// A project given as `{"key": ..}`, `{"id": ..}` or a bare key string.
    pub fn find_project(&self, v: &Value) -> Option<usize> {
        if let Some(key) = v.get("key").and_then(Value::as_str).or_else(|| v.as_str()) {
            return self.project_by_key(key);
        }
        let id = id_of(v)?;
        (0..self.projects.len()).find(|i| Self::project_id(*i) == id)
    }

    pub fn user(&self, account_id: &str) -> Option<&SimUser> {
        self.users.iter().find(|u| u.account_id == account_id)
    }

    /// The user whose `email:api_token` these are (on Data Center, `name:password`, the
    /// password being the user's `api_token`).
    pub fn authenticate(&self, login: &str, token: &str) -> Option<&SimUser> {
        self.users.iter().find(|u| {
            let who = if self.data_center {
                &u.account_id
            } else {
                &u.email
            };
            who.eq_ignore_ascii_case(login) && u.api_token == token
        })
    }

    /// Data Center: the owner of a personal access token (the user's `api_token`).
    pub fn authenticate_token(&self, token: &str) -> Option<&SimUser> {
        (self.data_center)
            .then(|| self.users.iter().find(|u| u.api_token == token))
            .flatten()
    }

    /// Data Center: the user key of an account, `JIRAUSER<n>` as Jira 8.4+ gives new users;
    /// an account the site does not know keeps its name as key.
    pub fn user_key(&self, account_id: &str) -> String {
        match self.users.iter().position(|u| u.account_id == account_id) {
            Some(i) => format!("JIRAUSER{}", 10_000 + i),
            None => account_id.to_owned(),
        }
    }

    /// Data Center: the account of a user key.
    pub fn user_by_key(&self, key: &str) -> Option<&SimUser> {
        (self.users.iter().enumerate())
            .find(|(i, _)| format!("JIRAUSER{}", 10_000 + i) == key)
            .map(|(_, u)| u)
    }

    pub fn is_bot(&self, account_id: &str) -> bool {
        self.bot.as_deref() == Some(account_id)
    }

    pub fn issue_type_id(idx: usize) -> String {
        (10_001 + idx).to_string()
    }

    /// An issue type given as `{"id": ..}` or `{"name": ..}`.
    pub fn find_issue_type(&self, v: &Value) -> Option<usize> {
        by_id_or_name(v, &self.issue_types, Self::issue_type_id)
    }

    pub fn priority_id(idx: usize) -> String {
        (idx + 1).to_string()
    }

    /// A priority given as `{"id": ..}` or `{"name": ..}`.
    pub fn find_priority(&self, v: &Value) -> Option<usize> {
        by_id_or_name(v, &self.priorities, Self::priority_id)
    }

    pub fn resolution_id(idx: usize) -> String {
        (10_000 + idx).to_string()
    }

    /// A resolution given as `{"id": ..}` or `{"name": ..}`.
    pub fn find_resolution(&self, v: &Value) -> Option<usize> {
        by_id_or_name(v, &self.resolutions, Self::resolution_id)
    }

    pub fn resolution_by_name(&self, name: &str) -> Option<usize> {
        self.resolutions.iter().position(|r| r == name)
    }

    pub fn custom_field(&self, id: &str) -> Option<&CustomFieldDef> {
        self.custom_fields.iter().find(|f| f.id == id)
    }
}

/// The `id` of `{"id": "3"}` or `{"id": 3}`.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn by_id_or_name(v: &Value, names: &[String], id: fn(usize) -> String) -> Option<usize> {
    if let Some(want) = id_of(v) {
        return (0..names.len()).find(|i| id(*i) == want);
    }
    let name = v.get("name").and_then(Value::as_str)?;
    names.iter().position(|n| n.eq_ignore_ascii_case(name))
}
