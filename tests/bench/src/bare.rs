//! Bare REST clients: the least a program must send to Jira or PeopleForce, with none of
//! jira-sync's machinery (no retries inside a budget, no breaker, no store). The benchmarks use
//! them to drive changes as a person would and as the baselines that jira-sync is compared with.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// Times a request answered 429 is tried again (after its `Retry-After`) before giving up.
const RETRIES_ON_429: u32 = 20;

/// The answer to one call: its status, the 429s it met first, and the JSON body if any.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub throttled: u32,
    pub body: Value,
}

/// A Jira Cloud REST v3 client authenticated as one account (Basic `email:token`).
#[derive(Clone)]
pub struct Jira {
    http: reqwest::Client,
    base: String,
    email: String,
    token: String,
}

impl Jira {
    pub fn new(http: reqwest::Client, base: &str, email: &str, token: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            email: email.to_owned(),
            token: token.to_owned(),
        }
    }

    /// Sends `method path` with an optional JSON body; a 429 is waited out (its `Retry-After`)
    /// and sent again, as any polite client would.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let mut throttled = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .basic_auth(&self.email, Some(&self.token));
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("{method} {path}"))?;
            let status = response.status().as_u16();
            if status == 429 && throttled < RETRIES_ON_429 {
                throttled += 1;
                tokio::time::sleep(retry_after(&response)).await;
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Ok(Answer {
                status,
                throttled,
                body,
            });
        }
    }

    /// `GET /issue/{id}?fields=...`.
    pub async fn get_issue(&self, id: &str, fields: &str) -> anyhow::Result<Answer> {
        let path = format!("/rest/api/3/issue/{id}?fields={fields}");
        self.call(reqwest::Method::GET, &path, None).await
    }

    /// `PUT /issue/{id}` with `{"fields": fields}`.
    pub async fn edit(&self, id: &str, fields: Value) -> anyhow::Result<Answer> {
        let path = format!("/rest/api/3/issue/{id}");
        let body = json!({ "fields": fields });
        self.call(reqwest::Method::PUT, &path, Some(&body)).await
    }

    /// `POST /issue/{id}/transitions`.
    pub async fn transition(&self, id: &str, transition: &str) -> anyhow::Result<Answer> {
        let path = format!("/rest/api/3/issue/{id}/transitions");
        let body = json!({ "transition": { "id": transition } });
        self.call(reqwest::Method::POST, &path, Some(&body)).await
    }

    /// `POST /issue/{id}/comment` with a one-paragraph ADF body.
    pub async fn comment(&self, id: &str, text: &str) -> anyhow::Result<Answer> {
        let path = format!("/rest/api/3/issue/{id}/comment");
        let body = json!({ "body": {
            "type": "doc", "version": 1,
            "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }],
        }});
        self.call(reqwest::Method::POST, &path, Some(&body)).await
    }

    /// `POST /issue` in `project`; returns the new issue's id.
    pub async fn create(&self, project: &str, summary: &str) -> anyhow::Result<String> {
        let body = json!({ "fields": {
            "project": { "key": project }, "issuetype": { "name": "Task" }, "summary": summary,
        }});
        let answer = self
            .call(reqwest::Method::POST, "/rest/api/3/issue", Some(&body))
            .await?;
        match answer.body.get("id").and_then(Value::as_str) {
            Some(id) if answer.status == 201 => Ok(id.to_owned()),
            _ => bail!("create in {project}: {} {}", answer.status, answer.body),
        }
    }

    /// Pages through `POST /search/jql` as the poller asks it (same JQL, fields and page
    /// size); returns the pages read and the issues found.
    pub async fn search_all(
        &self,
        jql: &str,
        fields: &[&str],
        page_size: u32,
    ) -> anyhow::Result<(u32, usize)> {
        let (mut pages, mut issues, mut token): (u32, usize, Option<String>) = (0, 0, None);
        loop {
            let mut body = json!({ "jql": jql, "fields": fields, "maxResults": page_size });
            if let Some(t) = token.take() {
                body["nextPageToken"] = json!(t);
            }
            let answer = self
                .call(reqwest::Method::POST, "/rest/api/3/search/jql", Some(&body))
                .await?;
            if answer.status != 200 {
                bail!("search: {} {}", answer.status, answer.body);
            }
            pages += 1;
            issues += answer.body["issues"].as_array().map_or(0, Vec::len);
            let last = answer.body["isLast"].as_bool().unwrap_or(true);
            match answer.body["nextPageToken"].as_str() {
                Some(next) if !last => token = Some(next.to_owned()),
                _ => return Ok((pages, issues)),
            }
        }
    }
}

/// Pages through PeopleForce's `GET /tasks?page=N&per_page=M` as the poller's client does
/// (while `page < pages`); returns the pages read and the tasks found.
pub async fn peopleforce_tasks(
    http: &reqwest::Client,
    api_url: &str,
    api_key: &str,
    per_page: u32,
) -> anyhow::Result<(u32, usize)> {
    let (mut page, mut tasks) = (1u32, 0usize);
    loop {
        let url = format!("{api_url}/tasks?page={page}&per_page={per_page}");
        let response = http
            .get(&url)
            .header("X-API-KEY", api_key)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!("GET tasks page {page}: {}", response.status());
        }
        let body: Value = response.json().await.context("a tasks page")?;
        let items = body["data"].as_array().map_or(0, Vec::len);
        tasks += items;
        let pages = body["metadata"]["pagination"]["pages"]
            .as_u64()
            .unwrap_or(0);
        if u64::from(page) >= pages || items == 0 {
            return Ok((page, tasks));
        }
        page += 1;
    }
}

fn retry_after(response: &reqwest::Response) -> Duration {
    let secs = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs.clamp(0.05, 60.0))
}
