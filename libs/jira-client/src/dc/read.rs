//! The client's side of the Data Center conversions: the site's multi-line text custom fields
//! (read once, when first needed), and issues, comments and users decoded into Cloud's shapes.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{comment_from_dc, fields_from_dc, is_textarea, needs_textareas, user_from_dc};
use crate::client::{Answer, JiraClient};
use crate::error::JiraError;
use crate::model::{Comment, Issue, User};

impl JiraClient {
    /// The rich text (an ADF document) this site shows after `doc` was written to it: `doc`
    /// itself on Cloud; on Data Center, what survives the trip through wiki markup. A writer
    /// compares what it will see back against this, not against what it sent, so that a lossy
    /// trip is not taken for a change made on the site.
    pub fn stored_rich_text(&self, doc: &Value) -> Value {
        if self.is_data_center() {
            super::round_trip(doc)
        } else {
            doc.clone()
        }
    }

    /// Data Center: the ids of the site's multi-line text custom fields, read from
    /// `GET /field` on first use and kept for the client's life.
    async fn textareas(&self) -> Result<&BTreeSet<String>, JiraError> {
        (self.inner.textareas)
            .get_or_try_init(|| async {
                let fields = self.fields().await?;
                Ok(fields
                    .into_iter()
                    .filter(is_textarea)
                    .map(|f| f.id)
                    .collect())
            })
            .await
    }

    /// An issue in Cloud's shapes (a no-op on Cloud).
    pub(crate) async fn cloud_issue(&self, mut issue: Issue) -> Result<Issue, JiraError> {
        if !self.is_data_center() {
            return Ok(issue);
        }
        let empty = BTreeSet::new();
        let textareas = if needs_textareas(&issue.fields) {
            self.textareas().await?
        } else {
            &empty
        };
        fields_from_dc(&mut issue.fields, textareas);
        Ok(issue)
    }

    /// Decodes a comment (Data Center: body from wiki markup, authors with `accountId`).
    pub(crate) fn decode_comment(&self, answer: &Answer) -> Result<Comment, JiraError> {
        if self.is_data_center() {
            answer.json_with(comment_from_dc)
        } else {
            answer.json()
        }
    }

    /// Decodes one user (Data Center: `accountId` is the user name).
    pub(crate) fn decode_user(&self, answer: &Answer) -> Result<User, JiraError> {
        if self.is_data_center() {
            answer.json_with(|v| {
                user_from_dc(v);
            })
        } else {
            answer.json()
        }
    }

    /// Decodes a list of users.
    pub(crate) fn decode_users(&self, answer: &Answer) -> Result<Vec<User>, JiraError> {
        if self.is_data_center() {
            answer.json_with(|v| {
                if let Value::Array(users) = v {
                    for user in users {
                        user_from_dc(user);
                    }
                }
            })
        } else {
            answer.json()
        }
    }
}
