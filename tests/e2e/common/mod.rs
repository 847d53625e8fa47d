//! Helpers shared by the end-to-end test files.

#![allow(dead_code)]

pub mod check;

use std::future::Future;
use std::time::Duration;

use jira_sync_jira_client::{Issue, SearchRequest};
use jira_sync_tests::TestEnv;
pub use jira_sync_tests::eventually as eventually_within;
use serde_json::{Value, json};

/// Generous: the whole suite shares two cores, and a slow run must not read as a lost event.
pub const WAIT: Duration = Duration::from_secs(60);
pub const SECRET_A: &str = "whsec-a-0123456789";
pub const SECRET_B: &str = "whsec-b-0123456789";

/// [`jira_sync_tests::eventually`] with the default wait.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(timeout, what, check).await
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

/// The synced fields of an issue, as compared across sites.
#[derive(Debug, Clone, PartialEq)]
pub struct Synced {
    pub summary: Value,
    pub description: Value,
    pub labels: Vec<String>,
    pub priority: Value,
    pub duedate: Value,
}

impl Synced {
    pub fn with_priority(mut self, name: &str) -> Self {
        self.priority = json!(name);
        self
    }
}

pub fn synced_fields(issue: &Issue) -> Synced {
    let field = |name: &str| issue.field(name).cloned().unwrap_or(Value::Null);
    let mut labels: Vec<String> = field("labels")
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    Synced {
        summary: field("summary"),
        description: field("description"),
        labels,
        priority: field("priority")
            .get("name")
            .cloned()
            .unwrap_or(Value::Null),
        duedate: field("duedate"),
    }
}

/// Issues in site B carrying the origin marker of A's issue `source_id`.
pub async fn twins_in_b(env: &TestEnv, source_id: &str) -> Vec<Issue> {
    let b = env.actor("b");
    let mut twins = Vec::new();
    let mut token = None;
    loop {
        let page = b
            .client
            .search_jql(&SearchRequest {
                jql: format!("project = {}", b.project),
                fields: vec!["summary".into()],
                properties: vec!["jira-sync.origin".into()],
                max_results: 100,
                next_page_token: token.take(),
            })
            .await
            .unwrap_or_else(|e| panic!("search B: {e}"));
        twins.extend(page.issues.into_iter().filter(|i| {
            i.property("jira-sync.origin")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                == Some(source_id)
        }));
        if page.is_last || page.next_page_token.is_none() {
            return twins;
        }
        token = page.next_page_token;
    }
}

/// Waits for the twin of A's issue in B.
pub async fn wait_for_twin(env: &TestEnv, source_id: &str) -> Issue {
    eventually(WAIT, "the twin to appear in B", || async {
        twins_in_b(env, source_id).await.into_iter().next()
    })
    .await
}

/// A minimal Jira Cloud webhook body for an issue of site A.
pub fn webhook_body(event: &str, id: &str, key: &str) -> Vec<u8> {
    json!({
        "timestamp": 1_764_000_000_000_i64,
        "webhookEvent": event,
        "issue_event_type_name": "issue_updated",
        "user": {"accountId": "a-admin-0001", "accountType": "atlassian"},
        "issue": {"id": id, "key": key, "fields": {"project": {"key": "A"}}},
    })
    .to_string()
    .into_bytes()
}

/// Posts a webhook signed with the endpoint's secret; returns the status.
pub async fn post_signed(
    http: &reqwest::Client,
    ingress_url: &str,
    endpoint: &str,
    body: &[u8],
    identifier: &str,
) -> u16 {
    let secret = if endpoint == "jira-a" {
        SECRET_A
    } else {
        SECRET_B
    };
    http.post(format!("{ingress_url}/webhooks/jira/{endpoint}"))
        .header("content-type", "application/json")
        .header("x-hub-signature", jira_sync_tests::sign(secret, body))
        .header("x-atlassian-webhook-identifier", identifier)
        .body(body.to_vec())
        .send()
        .await
        .unwrap_or_else(|e| panic!("post the webhook: {e}"))
        .status()
        .as_u16()
}

/// Runs futures concurrently and collects their outputs in order.
pub async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap_or_else(|e| panic!("task failed: {e}")));
    }
    out
}
