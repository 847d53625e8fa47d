//! Bulk seeding: many issues at once, quietly (no webhooks, no stats), with chosen timestamps,
//! for poller and pagination tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalog::Catalog;
use super::model::Issue;
use super::{Store, adf};
use crate::clock::parse_time;
use crate::error::ApiError;

/// Most issues one seeding request may create.
pub const MAX_SEED: u32 = 200_000;

/// A seeding request, as `POST /_sim/issues/bulk` takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BulkSeed {
    /// Project key.
    pub project: String,
    /// How many issues.
    pub count: u32,
    /// Summaries are `"<prefix> <n>"` (default `"Seeded issue"`).
    pub summary_prefix: Option<String>,
    /// `updated` of the first issue (Jira format or RFC 3339); now when absent.
    pub updated_start: Option<String>,
    /// Added to `updated` for each following issue (default 0: all equal).
    pub updated_step_ms: i64,
    /// `created` of every issue; equal to its `updated` when absent.
    pub created: Option<String>,
    /// Labels of every issue.
    pub labels: Vec<String>,
    /// Status name or id (default: the workflow's initial status).
    pub status: Option<String>,
    /// Entity properties set on every issue.
    pub properties: BTreeMap<String, Value>,
    /// Issue type name (default: the site's first).
    pub issue_type: Option<String>,
    /// Plain text turned into a one-paragraph ADF description.
    pub description: Option<String>,
}

/// What was seeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkSeeded {
    /// How many issues were created.
    pub created: u32,
    /// Id of the first one.
    pub first_id: Option<String>,
    /// Id of the last one.
    pub last_id: Option<String>,
    /// Key of the first one.
    pub first_key: Option<String>,
    /// Key of the last one.
    pub last_key: Option<String>,
}

/// Creates `seed.count` issues.
pub(crate) fn seed(
    store: &mut Store,
    cat: &Catalog,
    actor: Option<&str>,
    now: i64,
    seed: &BulkSeed,
) -> Result<BulkSeeded, ApiError> {
    let project = cat.project_by_key(&seed.project).ok_or_else(|| {
        ApiError::field(
            "project",
            format!("Project '{}' does not exist.", seed.project),
        )
    })?;
    if seed.count > MAX_SEED {
        return Err(ApiError::field(
            "count",
            format!("At most {MAX_SEED} issues per request."),
        ));
    }
    let time = |s: &Option<String>, field: &str| match s {
        None => Ok(None),
        Some(s) => parse_time(s)
            .map(Some)
            .ok_or_else(|| ApiError::field(field, format!("Cannot parse time '{s}'."))),
    };
    let start = time(&seed.updated_start, "updated_start")?.unwrap_or(now);
    let created = time(&seed.created, "created")?;
    let status = match &seed.status {
        Some(s) => cat
            .workflow
            .find_status(s)
            .ok_or_else(|| ApiError::field("status", format!("Unknown status '{s}'.")))?,
        None => cat
            .workflow
            .status_index(&cat.workflow.initial_status)
            .unwrap_or(0),
    };
    let issue_type = match &seed.issue_type {
        Some(t) => cat
            .issue_types
            .iter()
            .position(|x| x.eq_ignore_ascii_case(t))
            .ok_or_else(|| ApiError::field("issue_type", format!("Unknown issue type '{t}'.")))?,
        None => 0,
    };
    let prefix = seed.summary_prefix.as_deref().unwrap_or("Seeded issue");
    let mut labels = seed.labels.clone();
    labels.sort();
    labels.dedup();
    let mut out = BulkSeeded {
        created: seed.count,
        first_id: None,
        last_id: None,
        first_key: None,
        last_key: None,
    };
    for i in 0..seed.count {
        let (id, number, key) = store.allocate(project, &cat.projects[project]);
        let updated = start + i64::from(i) * seed.updated_step_ms;
        let issue = Issue {
            id,
            project,
            number,
            key: key.clone(),
            summary: format!("{prefix} {}", i + 1),
            description: seed.description.as_deref().map(adf::paragraph),
            issue_type,
            status,
            priority: cat.default_priority,
            resolution: None,
            resolution_date: None,
            labels: labels.clone(),
            components: Vec::new(),
            fix_versions: Vec::new(),
            due_date: None,
            assignee: None,
            reporter: actor.map(str::to_owned),
            creator: actor.map(str::to_owned),
            custom: BTreeMap::new(),
            created: created.unwrap_or(updated).min(updated),
            updated,
            status_changed: updated,
            comments: Vec::new(),
            properties: seed.properties.clone(),
            history: Vec::new(),
        };
        store.insert(issue);
        if out.first_id.is_none() {
            out.first_id = Some(id.to_string());
            out.first_key = Some(key.clone());
        }
        out.last_id = Some(id.to_string());
        out.last_key = Some(key);
    }
    Ok(out)
}
