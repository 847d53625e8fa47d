//! What each endpoint of the configuration is, read live: whether its credentials work
//! (`GET /myself`), and its vocabulary (priorities, statuses, fields), once per endpoint, all
//! endpoints in parallel.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jira_sync_domain::EndpointId;
use jira_sync_jira_client::{FieldMeta, JiraClient, JiraClientConfig, JiraError};
use jira_sync_settings::{EndpointKind, EndpointSettings, Settings};
use tokio::task::JoinSet;

use super::{Problem, Report};
use crate::error::chain;

/// A check is interactive: one retry at most, and never more than this in retries.
const MAX_RETRY_BUDGET: Duration = Duration::from_secs(5);

/// A Jira endpoint whose credentials work, with what it holds. A list that could not be read
/// keeps the reason, reported only where a check needs it.
#[derive(Clone)]
pub(crate) struct Site {
    pub client: JiraClient,
    pub priorities: Result<BTreeSet<String>, String>,
    pub statuses: Result<BTreeSet<String>, String>,
    /// Fields by id (`duedate`, `customfield_10010`).
    pub fields: Result<BTreeMap<String, FieldMeta>, String>,
}

/// The usable Jira endpoints by id. An endpoint missing here was reported (or noted) already.
pub(crate) type Sites = BTreeMap<EndpointId, Site>;

/// Inspects every endpoint, adding their problems and notes to `report` in config order.
pub(crate) async fn inspect_all(settings: &Settings, report: &mut Report) -> Sites {
    let mut tasks = JoinSet::new();
    for (id, endpoint) in &settings.endpoints {
        if !endpoint.kind.is_jira() {
            report.notes.push(format!(
                "endpoints.{id}: not checked (live checks of kind {} are not implemented)",
                format!("{:?}", endpoint.kind).to_lowercase()
            ));
            continue;
        }
        let (id, endpoint, jira) = (id.clone(), endpoint.clone(), settings.jira.clone());
        tasks.spawn(async move {
            let mut config = JiraClientConfig::from_endpoint(&id, &endpoint, &jira);
            config.max_retries = config.max_retries.min(1);
            config.retry_budget = config.retry_budget.min(MAX_RETRY_BUDGET);
            let outcome = inspect(&id, &endpoint, config).await;
            (id, outcome)
        });
    }
    let mut outcomes = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((id, outcome)) => {
                outcomes.insert(id, outcome);
            }
            Err(e) => report.problems.push(Problem::new(
                "endpoints",
                format!("a check task failed: {e}"),
            )),
        }
    }
    let mut sites = Sites::new();
    for (id, outcome) in outcomes {
        report.endpoints_checked += 1;
        match outcome {
            Ok((site, account)) => {
                report
                    .notes
                    .push(format!("endpoints.{id}: authenticated as {account}"));
                sites.insert(id, site);
            }
            Err(problem) => report.problems.push(problem),
        }
    }
    sites
}

async fn inspect(
    id: &EndpointId,
    endpoint: &EndpointSettings,
    config: JiraClientConfig,
) -> Result<(Site, String), Problem> {
    let path = format!("endpoints.{id}");
    let client = JiraClient::new(config).map_err(|e| Problem::new(&path, chain(&e)))?;
    let me = client
        .myself()
        .await
        .map_err(|e| credentials_problem(&path, endpoint, &e))?;
    let (priorities, statuses, fields) =
        tokio::join!(client.priorities(), client.statuses(), client.fields());
    let site = Site {
        priorities: listed(priorities, "priorities", |p| p.name),
        statuses: listed(statuses, "statuses", |s| s.name),
        fields: fields
            .map(|list| list.into_iter().map(|f| (f.id.clone(), f)).collect())
            .map_err(|e| format!("cannot list the fields: {}", chain(&e))),
        client,
    };
    let account = if me.display_name.is_empty() {
        me.account_id
    } else {
        me.display_name
    };
    Ok((site, account))
}

/// The names of a listed vocabulary, or why it could not be read.
fn listed<T>(
    answer: Result<Vec<T>, JiraError>,
    what: &str,
    name: impl Fn(T) -> String,
) -> Result<BTreeSet<String>, String> {
    answer
        .map(|items| items.into_iter().map(name).collect())
        .map_err(|e| format!("cannot list the {what}: {}", chain(&e)))
}

/// The problem a failed `/myself` reveals, at the key most likely to be wrong.
fn credentials_problem(path: &str, endpoint: &EndpointSettings, error: &JiraError) -> Problem {
    let base_url = &endpoint.base_url;
    let data_center = endpoint.kind == EndpointKind::JiraDataCenter;
    let (secret, refused, api) = match (data_center, endpoint.pat.is_some()) {
        (false, _) => (
            "api_token",
            "this e-mail and API token",
            "Jira Cloud REST API v3",
        ),
        (true, true) => ("pat", "this personal access token", "Jira REST API v2"),
        (true, false) => (
            "password",
            "this user name and password",
            "Jira REST API v2",
        ),
    };
    match error.status() {
        Some(401) => Problem::new(
            format!("{path}.{secret}"),
            format!("authentication failed (401): the site refused {refused}"),
        ),
        Some(403) => Problem::new(
            format!("{path}.{secret}"),
            "access denied (403): the account may not use the REST API (a CAPTCHA after failed \
             logins, or no Jira access)",
        ),
        Some(404) => Problem::new(
            format!("{path}.base_url"),
            format!("no {api} at {base_url} (404)"),
        ),
        Some(status) => Problem::new(
            path,
            format!("cannot check the credentials: Jira answered {status}"),
        ),
        None => Problem::new(
            format!("{path}.base_url"),
            format!("cannot reach {base_url}: {}", chain(error)),
        ),
    }
}
