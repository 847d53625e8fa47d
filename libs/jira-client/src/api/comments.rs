//! Issue comments (bodies in Atlassian Document Format; wiki markup on the wire to Data
//! Center) and comment entity properties.

use std::borrow::Cow;

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::issues::names_a_property;
use crate::client::{Call, JiraClient, path_arg};
use crate::dc::{comment_from_dc, wiki_of};
use crate::error::JiraError;
use crate::model::{Comment, EntityProperty, PageOfComments, PropertyBody};

const ISSUE: &str = "issue id or key";
const COMMENT: &str = "comment id";
/// Guard against a server that never ends the listing.
const MAX_PAGES: usize = 1000;

#[derive(Serialize)]
struct NewComment<'a> {
    body: Cow<'a, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[EntityProperty]>::is_empty")]
    properties: &'a [EntityProperty],
}

impl JiraClient {
    /// All comments of an issue, oldest first, read page by page
    /// (`GET /rest/api/3/issue/{idOrKey}/comment?orderBy=created&expand=properties`).
    #[tracing::instrument(skip_all, fields(issue = id_or_key, pages))]
    pub async fn comments(&self, id_or_key: &str) -> Result<Vec<Comment>, JiraError> {
        let issue = path_arg(ISSUE, id_or_key)?;
        let page_size = self.inner.policy.comment_page_size.max(1);
        let mut all = Vec::new();
        for page_number in 1..=MAX_PAGES {
            let call = Call::new(Method::GET, &["issue", issue, "comment"])
                .query("startAt", all.len().to_string())
                .query("maxResults", page_size.to_string())
                .query("orderBy", "created")
                .query("expand", "properties");
            let answer = self.execute(call).await?;
            let page: PageOfComments = if self.is_data_center() {
                answer.json_with(|v| {
                    if let Some(Value::Array(comments)) = v.get_mut("comments") {
                        comments.iter_mut().for_each(comment_from_dc);
                    }
                })?
            } else {
                answer.json()?
            };
            let got = page.comments.len();
            all.extend(page.comments);
            let done = match page.total {
                Some(total) => all.len() as u64 >= total,
                None => got < page_size as usize,
            };
            if got == 0 || done {
                tracing::Span::current().record("pages", page_number);
                break;
            }
        }
        Ok(all)
    }

    /// `POST /rest/api/3/issue/{idOrKey}/comment`, with comment properties (a sync marker) set
    /// atomically. Like create, not replayed after an unknown outcome (it would duplicate).
    pub async fn add_comment(
        &self,
        id_or_key: &str,
        body: &Value,
        properties: &[EntityProperty],
    ) -> Result<Comment, JiraError> {
        self.add_comment_restricted(id_or_key, body, None, properties)
            .await
    }

    /// Like [`JiraClient::add_comment`], restricted to `visibility` (`{"type": "group" | "role",
    /// "value": name}`) when given.
    pub async fn add_comment_restricted(
        &self,
        id_or_key: &str,
        body: &Value,
        visibility: Option<&Value>,
        properties: &[EntityProperty],
    ) -> Result<Comment, JiraError> {
        let call = Call::new(
            Method::POST,
            &["issue", path_arg(ISSUE, id_or_key)?, "comment"],
        )
        .writes(id_or_key)
        .json(&NewComment {
            body: self.body_for_site(body),
            visibility,
            properties,
        })?;
        let answer = self.execute(call).await?;
        self.decode_comment(&answer)
    }

    /// `PUT /rest/api/3/issue/{idOrKey}/comment/{id}?notifyUsers=false`.
    pub async fn update_comment(
        &self,
        id_or_key: &str,
        comment_id: &str,
        body: &Value,
    ) -> Result<Comment, JiraError> {
        let call = Call::new(
            Method::PUT,
            &[
                "issue",
                path_arg(ISSUE, id_or_key)?,
                "comment",
                path_arg(COMMENT, comment_id)?,
            ],
        )
        .query("notifyUsers", "false")
        .writes(id_or_key)
        .json(&json!({ "body": self.body_for_site(body) }))?;
        let answer = self.execute(call).await?;
        self.decode_comment(&answer)
    }

    /// `DELETE /rest/api/3/issue/{idOrKey}/comment/{id}`. A 404 on a retry counts as done.
    pub async fn delete_comment(&self, id_or_key: &str, comment_id: &str) -> Result<(), JiraError> {
        let call = Call::new(
            Method::DELETE,
            &[
                "issue",
                path_arg(ISSUE, id_or_key)?,
                "comment",
                path_arg(COMMENT, comment_id)?,
            ],
        )
        .writes(id_or_key);
        self.execute(call).await.map(drop)
    }

    /// `GET /rest/api/3/comment/{id}/properties/{key}`: `None` when Jira says the property does
    /// not exist; a 404 for the comment itself stays an error.
    pub async fn comment_property(
        &self,
        comment_id: &str,
        key: &str,
    ) -> Result<Option<Value>, JiraError> {
        let call = Call::new(
            Method::GET,
            &[
                "comment",
                path_arg(COMMENT, comment_id)?,
                "properties",
                path_arg("property key", key)?,
            ],
        );
        match self.execute(call).await {
            Ok(answer) => Ok(Some(answer.json::<PropertyBody>()?.value)),
            Err(e) if e.is_not_found() && names_a_property(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl JiraClient {
    /// A comment body as this site takes it: ADF, or wiki markup on Data Center.
    fn body_for_site<'b>(&self, body: &'b Value) -> Cow<'b, Value> {
        if self.is_data_center() && body.is_object() {
            Cow::Owned(Value::String(wiki_of(body)))
        } else {
            Cow::Borrowed(body)
        }
    }
}
