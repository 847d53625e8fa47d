//! The operations: tasks (list by page or all, create, complete, incomplete) and employees
//! (list by page or all, get one).

use reqwest::Method;

use crate::client::{Call, PeopleForceClient, path_arg};
use crate::error::PeopleForceError;
use crate::model::{Employee, NewTask, Page, RawPage, Single, Task};

/// Pages read at most by one "list all", so that a server that always claims one more page
/// cannot keep a caller forever (10 million items at 100 per page).
const MAX_PAGES: u32 = 100_000;

impl PeopleForceClient {
    fn per_page(&self) -> u32 {
        self.inner.config.page_size.clamp(1, 100)
    }

    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
        page: u32,
    ) -> Result<Page<T>, PeopleForceError> {
        let page = page.max(1);
        let call = Call::new(Method::GET, segments)
            .query("page", page)
            .query("per_page", self.per_page());
        let raw: RawPage = self.execute(call).await?.json()?;
        Ok(raw.into_page(page))
    }

    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Vec<T>, PeopleForceError> {
        let mut items = Vec::new();
        for number in 1..=MAX_PAGES {
            let page = self.page::<T>(segments, number).await?;
            let empty = page.items.is_empty() && page.skipped == 0;
            items.extend(page.items);
            if page.page >= page.pages || empty {
                return Ok(items);
            }
        }
        tracing::warn!(max = MAX_PAGES, "stopped listing after the page limit");
        Ok(items)
    }

    /// One page of `GET /tasks` (pages start at 1; the size is the configured `page_size`).
    #[tracing::instrument(skip(self))]
    pub async fn tasks_page(&self, page: u32) -> Result<Page<Task>, PeopleForceError> {
        self.page(&["tasks"], page).await
    }

    /// Every task, reading `GET /tasks` page by page while `page < pages`.
    pub async fn list_tasks(&self) -> Result<Vec<Task>, PeopleForceError> {
        self.all(&["tasks"]).await
    }

    /// `POST /tasks`. Not repeated after a timeout or 5xx (the outcome is unknown).
    #[tracing::instrument(skip_all)]
    pub async fn create_task(&self, task: &NewTask) -> Result<Task, PeopleForceError> {
        let call = Call::new(Method::POST, &["tasks"]).json(task)?;
        Ok(self
            .execute(call)
            .await?
            .json::<Single<Task>>()?
            .into_inner())
    }

    /// `PUT /tasks/{id}`: marks the task completed. Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn complete_task(&self, id: &str) -> Result<Task, PeopleForceError> {
        let id = path_arg("task id", id)?;
        let call = Call::new(Method::PUT, &["tasks", id]);
        Ok(self
            .execute(call)
            .await?
            .json::<Single<Task>>()?
            .into_inner())
    }

    /// `PUT /tasks/{id}/incomplete`: marks the task not completed. Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn incomplete_task(&self, id: &str) -> Result<Task, PeopleForceError> {
        let id = path_arg("task id", id)?;
        let call = Call::new(Method::PUT, &["tasks", id, "incomplete"]);
        Ok(self
            .execute(call)
            .await?
            .json::<Single<Task>>()?
            .into_inner())
    }

    /// One page of `GET /employees`.
    #[tracing::instrument(skip(self))]
    pub async fn employees_page(&self, page: u32) -> Result<Page<Employee>, PeopleForceError> {
        self.page(&["employees"], page).await
    }

    /// Every employee (there is no e-mail filter: match on the client side).
    pub async fn list_employees(&self) -> Result<Vec<Employee>, PeopleForceError> {
        self.all(&["employees"]).await
    }

    /// `GET /employees/{id}`.
    #[tracing::instrument(skip(self))]
    pub async fn get_employee(&self, id: &str) -> Result<Employee, PeopleForceError> {
        let id = path_arg("employee id", id)?;
        let call = Call::new(Method::GET, &["employees", id]);
        Ok(self
            .execute(call)
            .await?
            .json::<Single<Employee>>()?
            .into_inner())
    }
}
