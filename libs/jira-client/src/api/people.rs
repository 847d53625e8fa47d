//! Users: look-ups by account id and by display name or e-mail (for mapping people between
//! sites). On Data Center the account id is the user name (`?username=`).

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
    ///
    /// Data Center: `GET /rest/api/2/user/search?username=`, which matches user names, display
    /// names and e-mail addresses.
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>, JiraError> {
        let name = if self.is_data_center() {
            "username"
        } else {
            "query"
        };
        let call = Call::new(Method::GET, &["user", "search"])
            .query(name, query)
            .query("maxResults", USER_SEARCH_MAX.to_string());
        let answer = self.execute(call).await?;
        self.decode_users(&answer)
    }

    /// `GET /rest/api/3/user?accountId=` (Data Center: `?username=`): one user (404 when
    /// unknown).
    pub async fn user(&self, account_id: &str) -> Result<User, JiraError> {
        let name = if self.is_data_center() {
            "username"
        } else {
            "accountId"
        };
        let call = Call::new(Method::GET, &["user"]).query(name, account_id);
        let answer = self.execute(call).await?;
        self.decode_user(&answer)
    }
}
