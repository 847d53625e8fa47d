//! Outgoing webhooks: registrations (URL, optional secret, events, optional JQL filter), the
//! planning of one delivery job per matching registration for everything that happened, and
//! (in `delivery`) the asynchronous sender with Jira's headers, signature and retry policy.
//!
//! Every change fires, whoever made it: echo suppression is the receiver's problem, as with
//! real Jira.

pub(crate) mod delivery;
pub(crate) mod faults;
mod payload;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::jql::{self, Query};
use crate::state::Store;
use crate::state::catalog::Catalog;
use crate::state::events::{Event, Happened};
use crate::state::model::Issue;

/// The events a registration gets when it names none: issue and comment families.
pub const DEFAULT_EVENTS: &[&str] = &[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
];

/// A registration request, as `POST /_sim/webhooks` takes it.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct WebhookSpec {
    /// Target URL; `{issue.key}`, `{issue.id}`, `{project.key}`, `{project.id}` (also with `$`)
    /// are substituted.
    pub url: String,
    /// Signs deliveries with `X-Hub-Signature: sha256=<hex>` when set.
    #[serde(default)]
    pub secret: Option<String>,
    /// `webhookEvent` names; `*` for all. Empty: [`DEFAULT_EVENTS`].
    #[serde(default)]
    pub events: Vec<String>,
    /// Optional JQL filter, e.g. `project = ALPHA`.
    #[serde(default)]
    pub jql: Option<String>,
}

impl std::fmt::Debug for WebhookSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSpec")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("events", &self.events)
            .field("jql", &self.jql)
            .finish()
    }
}

/// A registration as listed by `GET /_sim/webhooks` (the secret is never returned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookInfo {
    /// Registration id.
    pub id: u64,
    /// Target URL as registered.
    pub url: String,
    /// Subscribed `webhookEvent` names.
    pub events: Vec<String>,
    /// JQL filter, if any.
    pub jql: Option<String>,
    /// Whether deliveries carry `X-Hub-Signature`.
    #[serde(rename = "isSigned")]
    pub is_signed: bool,
}

struct Registration {
    info: WebhookInfo,
    secret: Option<String>,
    filter: Option<Query>,
}

/// The registrations of a site.
#[derive(Default)]
pub(crate) struct Hooks {
    regs: Vec<Registration>,
    next_id: u64,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.regs.iter().map(|r| &r.info))
            .finish()
    }
}

/// One delivery to make: a serialized payload for one registration.
#[derive(Clone)]
pub(crate) struct Job {
    pub webhook_id: u64,
    pub url: String,
    pub secret: Option<String>,
    pub identifier: String,
    pub event: &'static str,
    pub issue_id: Option<String>,
    pub body: Arc<Vec<u8>>,
}

impl Hooks {
    pub fn register(
        &mut self,
        spec: WebhookSpec,
        cat: &Catalog,
        store: &Store,
    ) -> Result<WebhookInfo, ApiError> {
        let parsed = reqwest::Url::parse(&spec.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        if parsed.is_none() {
            return Err(ApiError::field(
                "url",
                "The URL must be an absolute http(s) URL.",
            ));
        }
        let filter = match spec.jql.as_deref().map(str::trim).filter(|j| !j.is_empty()) {
            Some(j) => {
                let q = jql::parse(j).map_err(|e| ApiError::field("jql", e.0))?;
                jql::resolve(q.clone(), j, cat, store).map_err(|e| ApiError::field("jql", e.0))?;
                Some(q)
            }
            None => None,
        };
        let events = if spec.events.is_empty() {
            DEFAULT_EVENTS.iter().map(|e| (*e).to_owned()).collect()
        } else {
            spec.events
        };
        self.next_id += 1;
        let info = WebhookInfo {
            id: self.next_id,
            url: spec.url,
            events,
            jql: spec.jql,
            is_signed: spec.secret.is_some(),
        };
        self.regs.push(Registration {
            info: info.clone(),
            secret: spec.secret,
            filter,
        });
        Ok(info)
    }

    pub fn list(&self) -> Vec<WebhookInfo> {
        self.regs.iter().map(|r| r.info.clone()).collect()
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.regs.len();
        self.regs.retain(|r| r.info.id != id);
        before != self.regs.len()
    }

    /// The jobs for everything that happened, one per (event, matching registration).
    pub fn plan(&self, cat: &Catalog, store: &Store, now: i64, happened: &[Happened]) -> Vec<Job> {
        if self.regs.is_empty() {
            return Vec::new();
        }
        let mut jobs = Vec::new();
        for h in happened {
            let deleted;
            let issue = match &h.what {
                Event::IssueDeleted { issue } => {
                    deleted = issue.as_ref().clone();
                    &deleted
                }
                what => match store.get(what.issue_id()) {
                    Some(i) => i,
                    None => continue,
                },
            };
            for (event, payload) in payload::expand(cat, issue, h) {
                let payload = if cat.data_center {
                    payload::data_center(cat, event, payload)
                } else {
                    payload
                };
                let targets: Vec<&Registration> = self
                    .regs
                    .iter()
                    .filter(|r| subscribes(r, event) && self.passes(r, cat, store, issue, now))
                    .collect();
                if targets.is_empty() {
                    continue;
                }
                let body = Arc::new(serde_json::to_vec(&payload).unwrap_or_default());
                for r in targets {
                    jobs.push(Job {
                        webhook_id: r.info.id,
                        url: substitute(&r.info.url, cat, issue),
                        secret: r.secret.clone(),
                        identifier: uuid::Uuid::new_v4().to_string(),
                        event,
                        issue_id: Some(issue.id.to_string()),
                        body: Arc::clone(&body),
                    });
                }
            }
        }
        jobs
    }

    fn passes(
        &self,
        r: &Registration,
        cat: &Catalog,
        store: &Store,
        issue: &Issue,
        now: i64,
    ) -> bool {
        let Some(q) = &r.filter else { return true };
        let jql = r.info.jql.as_deref().unwrap_or_default();
        jql::resolve(q.clone(), jql, cat, store).is_ok_and(|res| res.matches(issue, now))
    }
}

fn subscribes(r: &Registration, event: &str) -> bool {
    r.info.events.iter().any(|e| e == "*" || e == event)
}

fn substitute(url: &str, cat: &Catalog, issue: &Issue) -> String {
    let project = &cat.projects[issue.project];
    let mut out = url.to_owned();
    for (name, value) in [
        ("issue.key", issue.key.clone()),
        ("issue.id", issue.id.to_string()),
        ("project.key", project.clone()),
        ("project.id", Catalog::project_id(issue.project)),
    ] {
        out = out
            .replace(&format!("${{{name}}}"), &value)
            .replace(&format!("{{{name}}}"), &value);
    }
    out
}
