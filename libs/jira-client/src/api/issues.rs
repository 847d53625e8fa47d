//! Issues: the caller (`myself`), get, create, edit, delete, transitions and issue entity
//! properties.

use std::borrow::Cow;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::client::{Call, JiraClient, path_arg};
use crate::dc::fields_to_dc;
use crate::error::JiraError;
use crate::model::{CreateIssue, CreatedIssue, Issue, PropertyBody, Transition, Transitions, User};

const ISSUE: &str = "issue id or key";

impl JiraClient {
    /// `GET /rest/api/3/myself`: the account the token belongs to (also a credentials check).
    pub async fn myself(&self) -> Result<User, JiraError> {
        let answer = self.execute(Call::new(Method::GET, &["myself"])).await?;
        self.decode_user(&answer)
    }

    /// `GET /rest/api/3/issue/{idOrKey}`. Empty `fields` means Jira's default (all fields);
    /// `properties` names the entity properties to include.
    pub async fn get_issue(
        &self,
        id_or_key: &str,
        fields: &[&str],
        properties: &[&str],
    ) -> Result<Issue, JiraError> {
        let mut call = Call::new(Method::GET, &["issue", path_arg(ISSUE, id_or_key)?]);
        if !fields.is_empty() {
            call = call.query("fields", fields.join(","));
        }
        if !properties.is_empty() {
            call = call.query("properties", properties.join(","));
        }
        let issue = self.execute(call).await?.json()?;
        self.cloud_issue(issue).await
    }

    /// `POST /rest/api/3/issue`, with entity properties set atomically.
    ///
    /// Jira has no idempotency key, so this is retried only when the request provably did not
    /// reach Jira (connection error) or was refused unprocessed (429). After a timeout or a 5xx
    /// ([`JiraError::outcome_unknown`]) the issue may exist: look it up by its marker property
    /// before creating again.
    ///
    /// Data Center takes entity properties in the create body as Cloud does (its `IssueUpdate`
    /// schema has `properties` since Jira 7), so the marker is atomic there too.
    pub async fn create_issue(&self, request: &CreateIssue) -> Result<CreatedIssue, JiraError> {
        let call = Call::new(Method::POST, &["issue"]);
        let call = if self.is_data_center() {
            call.json(&CreateIssue {
                fields: fields_to_dc(&request.fields),
                properties: request.properties.clone(),
            })?
        } else {
            call.json(request)?
        };
        self.execute(call).await?.json()
    }

    /// `PUT /rest/api/3/issue/{idOrKey}?notifyUsers=false` with `{"fields": ...}`. (Jira ignores
    /// `notifyUsers=false` without admin rights.)
    pub async fn edit_issue(
        &self,
        id_or_key: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), JiraError> {
        let call = Call::new(Method::PUT, &["issue", path_arg(ISSUE, id_or_key)?])
            .query("notifyUsers", "false")
            .writes(id_or_key)
            .json(&json!({ "fields": self.fields_for_site(fields) }))?;
        self.execute(call).await.map(drop)
    }

    /// `DELETE /rest/api/3/issue/{idOrKey}`. Subtasks are not deleted with it (Jira then answers
    /// 400). A 404 on a retry counts as done: the unanswered first attempt deleted it.
    pub async fn delete_issue(&self, id_or_key: &str) -> Result<(), JiraError> {
        let call =
            Call::new(Method::DELETE, &["issue", path_arg(ISSUE, id_or_key)?]).writes(id_or_key);
        self.execute(call).await.map(drop)
    }

    /// `GET /rest/api/3/issue/{idOrKey}/transitions?expand=transitions.fields`: the transitions
    /// possible now (empty when none are, or without permission).
    pub async fn transitions(&self, id_or_key: &str) -> Result<Vec<Transition>, JiraError> {
        let call = Call::new(
            Method::GET,
            &["issue", path_arg(ISSUE, id_or_key)?, "transitions"],
        )
        .query("expand", "transitions.fields");
        Ok(self.execute(call).await?.json::<Transitions>()?.transitions)
    }

    /// `POST /rest/api/3/issue/{idOrKey}/transitions`. Not replayed after an unknown outcome:
    /// a second transition would start from the new status.
    pub async fn transition(
        &self,
        id_or_key: &str,
        transition_id: &str,
        fields: Option<&Map<String, Value>>,
    ) -> Result<(), JiraError> {
        let mut body = json!({ "transition": { "id": transition_id } });
        if let Some(fields) = fields {
            body["fields"] = Value::Object(self.fields_for_site(fields).into_owned());
        }
        let call = Call::new(
            Method::POST,
            &["issue", path_arg(ISSUE, id_or_key)?, "transitions"],
        )
        .writes(id_or_key)
        .json(&body)?;
        self.execute(call).await.map(drop)
    }

    /// `GET /rest/api/3/issue/{idOrKey}/properties/{key}`: the value, or `None` when the issue
    /// exists but the property does not. Jira answers 404 for both; a 404 that does not name the
    /// property is checked with a cheap get-issue.
    #[tracing::instrument(skip_all, fields(issue = id_or_key, property = key))]
    pub async fn get_property(
        &self,
        id_or_key: &str,
        key: &str,
    ) -> Result<Option<Value>, JiraError> {
        let call = Call::new(
            Method::GET,
            &[
                "issue",
                path_arg(ISSUE, id_or_key)?,
                "properties",
                path_arg("property key", key)?,
            ],
        );
        let missing = match self.execute(call).await {
            Ok(answer) => return Ok(Some(answer.json::<PropertyBody>()?.value)),
            Err(e) if e.is_not_found() => e,
            Err(e) => return Err(e),
        };
        if names_a_property(&missing) {
            return Ok(None);
        }
        match self.get_issue(id_or_key, &["summary"], &[]).await {
            Ok(_) => Ok(None),
            Err(check) if check.is_not_found() => Err(missing),
            Err(check) => Err(check),
        }
    }

    /// `PUT /rest/api/3/issue/{idOrKey}/properties/{key}` (any non-empty JSON up to 32 KB).
    pub async fn set_property(
        &self,
        id_or_key: &str,
        key: &str,
        value: &Value,
    ) -> Result<(), JiraError> {
        let call = Call::new(
            Method::PUT,
            &[
                "issue",
                path_arg(ISSUE, id_or_key)?,
                "properties",
                path_arg("property key", key)?,
            ],
        )
        .writes(id_or_key)
        .json(value)?;
        self.execute(call).await.map(drop)
    }
}

impl JiraClient {
    /// Issue fields as this site takes them (Data Center: wiki markup, users by name).
    fn fields_for_site<'f>(&self, fields: &'f Map<String, Value>) -> Cow<'f, Map<String, Value>> {
        if self.is_data_center() {
            Cow::Owned(fields_to_dc(fields))
        } else {
            Cow::Borrowed(fields)
        }
    }
}

/// Whether a 404 says the property (rather than the issue) is missing: Jira's text is
/// "The property with key 'k' does not exist."
pub(crate) fn names_a_property(error: &JiraError) -> bool {
    match error {
        JiraError::Status { messages, .. } => messages
            .iter()
            .any(|m| m.to_ascii_lowercase().contains("property")),
        _ => false,
    }
}
