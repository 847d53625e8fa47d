//! Enhanced JQL search (token paging) and the field catalogue.

use reqwest::Method;

use crate::client::{Call, JiraClient};
use crate::error::JiraError;
use crate::model::{FieldMeta, RawSearchPage, SearchPage, SearchRequest};

impl JiraClient {
    /// One page of `POST /rest/api/3/search/jql`. Pass `next_page_token` back for the next page
    /// until `is_last`. Results are eventually consistent: a just-written issue may be missing.
    pub async fn search_jql(&self, request: &SearchRequest) -> Result<SearchPage, JiraError> {
        // A POST that only reads: safe to repeat.
        let call = Call::new(Method::POST, &["search", "jql"])
            .idempotent()
            .json(request)?;
        Ok(self.execute(call).await?.json::<RawSearchPage>()?.into())
    }

    /// `GET /rest/api/3/field`: every system and custom field the caller can see.
    pub async fn fields(&self) -> Result<Vec<FieldMeta>, JiraError> {
        self.execute(Call::new(Method::GET, &["field"]))
            .await?
            .json()
    }
}
