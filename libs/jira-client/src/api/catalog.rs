//! A site's vocabulary, read to check a configuration against it: projects, priorities and
//! workflow statuses. (The field catalogue, `GET /field`, lives with search.)

use reqwest::Method;

use crate::client::{Call, JiraClient, path_arg};
use crate::error::JiraError;
use crate::model::{Priority, Project, Status};

impl JiraClient {
    /// `GET /rest/api/3/project/{projectIdOrKey}`: the project, or a 404
    /// ([`JiraError::is_not_found`]) when it does not exist or the caller cannot browse it.
    pub async fn get_project(&self, id_or_key: &str) -> Result<Project, JiraError> {
        let call = Call::new(
            Method::GET,
            &["project", path_arg("project id or key", id_or_key)?],
        );
        self.execute(call).await?.json()
    }

    /// `GET /rest/api/3/priority`: every priority of the site.
    pub async fn priorities(&self) -> Result<Vec<Priority>, JiraError> {
        self.execute(Call::new(Method::GET, &["priority"]))
            .await?
            .json()
    }

    /// `GET /rest/api/3/status`: every workflow status the caller can see.
    pub async fn statuses(&self) -> Result<Vec<Status>, JiraError> {
        self.execute(Call::new(Method::GET, &["status"]))
            .await?
            .json()
    }
}
