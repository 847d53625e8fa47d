//! JQL search (Cloud: enhanced search with token paging; Data Center: offset paging, presented
//! as token pages) and the field catalogue.

use reqwest::Method;
use serde::Deserialize;

use crate::client::{Call, JiraClient};
use crate::error::JiraError;
use crate::model::{FieldMeta, Issue, RawSearchPage, SearchPage, SearchRequest};

/// One page of Data Center's search.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OffsetPage {
    issues: Vec<Issue>,
    start_at: u64,
    total: Option<u64>,
}

impl JiraClient {
    /// One page of `POST /rest/api/3/search/jql`. Pass `next_page_token` back for the next page
    /// until `is_last`. Results are eventually consistent: a just-written issue may be missing.
    ///
    /// Data Center has no enhanced search: there it is `GET /rest/api/2/search` with
    /// `startAt`, and the token is the offset of the next page (see [`Self::search_offset`]).
    pub async fn search_jql(&self, request: &SearchRequest) -> Result<SearchPage, JiraError> {
        if self.is_data_center() {
            return self.search_offset(request).await;
        }
        // A POST that only reads: safe to repeat.
        let call = Call::new(Method::POST, &["search", "jql"])
            .idempotent()
            .json(request)?;
        Ok(self.execute(call).await?.json::<RawSearchPage>()?.into())
    }

    /// Data Center's offset search behind [`Self::search_jql`]: the page token is the next
    /// `startAt`. It is a GET because the `properties` parameter (the twin search needs the
    /// origin marker) is documented for the GET form; the queries jira-sync sends are short. Offsets shift when issues matching the query are created or deleted between
    /// pages: a page may then repeat an issue or (after a delete) skip one, which the callers
    /// tolerate (the poller overlaps its windows, the twin search runs again on retry).
    async fn search_offset(&self, request: &SearchRequest) -> Result<SearchPage, JiraError> {
        let start_at = match request.next_page_token.as_deref() {
            None => 0,
            Some(token) => token.parse().map_err(|_| JiraError::InvalidInput {
                what: "next page token",
                value: token.to_owned(),
            })?,
        };
        let mut call = Call::new(Method::GET, &["search"])
            .query("jql", request.jql.as_str())
            .query("startAt", start_at.to_string())
            .query("maxResults", request.max_results.to_string());
        if !request.fields.is_empty() {
            call = call.query("fields", request.fields.join(","));
        }
        if !request.properties.is_empty() {
            call = call.query("properties", request.properties.join(","));
        }
        let page: OffsetPage = self.execute(call).await?.json()?;
        let mut issues = Vec::with_capacity(page.issues.len());
        for issue in page.issues {
            issues.push(self.cloud_issue(issue).await?);
        }
        let next = page.start_at + issues.len() as u64;
        let more = !issues.is_empty()
            && match page.total {
                Some(total) => next < total,
                None => issues.len() >= request.max_results as usize,
            };
        Ok(SearchPage {
            issues,
            next_page_token: more.then(|| next.to_string()),
            is_last: !more,
        })
    }

    /// `GET /rest/api/3/field`: every system and custom field the caller can see.
    pub async fn fields(&self) -> Result<Vec<FieldMeta>, JiraError> {
        self.execute(Call::new(Method::GET, &["field"]))
            .await?
            .json()
    }
}
