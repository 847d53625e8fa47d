//! A site's admin user working through the site's REST API (v3 paths and payloads, Basic
//! auth), as a person in the browser would: what they do arrives at jira-sync only through
//! the site's webhooks and the poller's searches.

use jira_sync_jira_sim::SiteHandle;
use serde_json::{Value, json};

/// A refused or failed REST call.
#[derive(Debug, thiserror::Error)]
pub enum PersonError {
    /// The request did not get an answer.
    #[error("{action} on site {site}: no answer")]
    Http {
        site: String,
        action: String,
        #[source]
        source: reqwest::Error,
    },
    /// The site answered with an error status.
    #[error("{action} on site {site}: HTTP {status}")]
    Refused {
        site: String,
        action: String,
        status: u16,
    },
}

/// The first user of a site (the simulator's `Admin User`), with a client of its own.
pub struct Person {
    http: reqwest::Client,
    site: String,
    base_url: String,
    email: String,
    token: String,
    /// The project the person works in.
    pub project: String,
}

/// A paragraph of Atlassian Document Format, as the REST v3 API takes rich text.
pub fn adf(text: &str) -> Value {
    json!({
        "type": "doc",
        "version": 1,
        "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }]
    })
}

impl Person {
    /// The admin of `site`.
    pub fn admin_of(site: &SiteHandle) -> Self {
        let user = site.users().first();
        Self {
            http: reqwest::Client::new(),
            site: site.name().to_owned(),
            base_url: site.base_url(),
            email: user.map(|u| u.email.clone()).unwrap_or_default(),
            token: user.map(|u| u.api_token.clone()).unwrap_or_default(),
            project: site.projects().first().cloned().unwrap_or_default(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        action: &str,
    ) -> Result<Value, PersonError> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .basic_auth(&self.email, Some(&self.token))
            .json(&body)
            .send()
            .await
            .map_err(|source| PersonError::Http {
                site: self.site.clone(),
                action: action.to_owned(),
                source,
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(PersonError::Refused {
                site: self.site.clone(),
                action: action.to_owned(),
                status: status.as_u16(),
            });
        }
        Ok(response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a task; returns its id.
    pub async fn create(&self, summary: &str, description: &str) -> Result<String, PersonError> {
        let body = json!({ "fields": {
            "project": { "key": self.project },
            "issuetype": { "name": "Task" },
            "summary": summary,
            "description": adf(description),
        }});
        let action = format!("create {summary:?}");
        let created = self
            .send(reqwest::Method::POST, "/rest/api/3/issue", body, &action)
            .await?;
        Ok(created["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Edits fields of issue `id` (`{"summary": ...}`).
    pub async fn edit(&self, id: &str, fields: Value) -> Result<(), PersonError> {
        let path = format!("/rest/api/3/issue/{id}");
        let action = format!("edit {id}");
        self.send(
            reqwest::Method::PUT,
            &path,
            json!({ "fields": fields }),
            &action,
        )
        .await
        .map(drop)
    }

    /// Moves issue `id` through the transition `transition_id`.
    pub async fn transition(&self, id: &str, transition_id: &str) -> Result<(), PersonError> {
        let path = format!("/rest/api/3/issue/{id}/transitions");
        let body = json!({ "transition": { "id": transition_id } });
        let action = format!("transition {id}");
        self.send(reqwest::Method::POST, &path, body, &action)
            .await
            .map(drop)
    }

    /// Comments on issue `id`.
    pub async fn comment(&self, id: &str, text: &str) -> Result<(), PersonError> {
        let path = format!("/rest/api/3/issue/{id}/comment");
        let action = format!("comment on {id}");
        self.send(
            reqwest::Method::POST,
            &path,
            json!({ "body": adf(text) }),
            &action,
        )
        .await
        .map(drop)
    }
}
