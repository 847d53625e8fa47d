//! Users: look-ups by account id and by display name or e-mail (for mapping people between
//! sites).

use reqwest::Method;

use crate::client::{Call, JiraClient};
use crate::error::JiraError;
use crate::model::User;

/// Most users one search returns (Jira's own cap is 1000).
const USER_SEARCH_MAX: u32 = 50;

impl JiraClient {
    /// `GET /rest/api/3/user/search?query=`: active users whose display name or e-mail starts
    /// with `query`. E-mail addresses show only where the users' profile visibility allows.
    #[tracing::instrument(skip_all)]
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>, JiraError> {
        let call = Call::new(Method::GET, &["user", "search"])
            .query("query", query)
            .query("maxResults", USER_SEARCH_MAX.to_string());
        self.execute(call).await?.json()
    }

    /// `GET /rest/api/3/user?accountId=`: one user (404 when unknown).
    pub async fn user(&self, account_id: &str) -> Result<User, JiraError> {
        let call = Call::new(Method::GET, &["user"]).query("accountId", account_id);
        self.execute(call).await?.json()
    }
}
