//! An employee changed (a PeopleForce `employee_*` webhook): their e-mail, and with it the Jira
//! user their work maps to, may have. Each linked task assigned to them is brought up to date:
//!
//! 1. re-mapped: when the pair last agreed that the task is the employee's, and the issue's
//!    assignee now maps to no employee (it was the employee's old Jira identity), the issue is
//!    assigned to the employee's current Jira user (or the fallback). Without this step the old
//!    account would read as a change made in Jira, which PeopleForce cannot take;
//! 2. reconciled as a request of its own would be, for everything else.

use jira_sync_domain::ReconcileRequest;
use jira_sync_domain::document::Snapshot;
use jira_sync_store::Link;
use serde_json::{Value, json};
use tracing::{debug, info, warn};

use super::super::lock::lock_key;
use super::super::{Ctx, Outcome, Reconciler};
use super::Pf;
use super::map::ASSIGNEE;
use crate::error::{ReconcileError, chain};

impl Reconciler {
    /// Brings the linked tasks of `employee` up to date. Fails with the first error, after
    /// trying every task; a retry repeats the harmless ones.
    pub(super) async fn refresh_employee(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        employee: &str,
    ) -> Result<Outcome, ReconcileError> {
        if ctx.side != pf.side {
            return Err(ReconcileError::EndpointNotInConnection {
                connection: ctx.id().clone(),
                endpoint: ctx.request.endpoint.clone(),
            });
        }
        let tasks = (pf.client.list_tasks().await)
            .map_err(|e| ReconcileError::peopleforce(ctx.endpoint(pf.side), "list", "tasks", e))?;
        let (mut reconciled, mut wrote, mut first_error) = (0, false, None);
        for task in tasks
            .iter()
            .filter(|t| t.assignee_id.as_deref() == Some(employee))
        {
            let Some(link) = self.store.find_link(ctx.id(), pf.side, &task.id).await? else {
                continue;
            };
            let request = ReconcileRequest {
                entity_id: task.id.clone(),
                ..ctx.request.clone()
            };
            let result = match self.remap_locked(ctx, pf, &link, employee).await {
                Ok(remapped) => (Box::pin(self.reconcile(&request, ctx.trace_id)).await)
                    .map(|outcome| remapped || outcome.wrote()),
                Err(e) => Err(e),
            };
            match result {
                Ok(written) => {
                    reconciled += 1;
                    wrote |= written;
                }
                Err(e) => {
                    warn!(task = %task.id, error = %chain(&e), "bringing a task of a changed employee up to date failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        debug!(
            employee,
            reconciled, "brought the linked tasks of a changed employee up to date"
        );
        match first_error {
            Some(e) => Err(e),
            None => Ok(Outcome::Refreshed { reconciled, wrote }),
        }
    }

    /// Step 1 under the link's lock; `true` when it wrote.
    async fn remap_locked(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        link: &Link,
        employee: &str,
    ) -> Result<bool, ReconcileError> {
        let key = lock_key(ctx.id(), pf.side, link.id_on(pf.side), Some(link));
        self.under_lock(&key, Box::pin(self.remap(ctx, pf, link, employee)))
            .await
    }

    async fn remap(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        link: &Link,
        employee: &str,
    ) -> Result<bool, ReconcileError> {
        // Re-read under the lock: the pair may have changed or gone meanwhile.
        let Some(link) = self
            .store
            .find_link(ctx.id(), pf.side, link.id_on(pf.side))
            .await?
        else {
            return Ok(false);
        };
        if link.base.get(ASSIGNEE).and_then(Value::as_str) != Some(employee) {
            return Ok(false);
        }
        let jira = pf.jira();
        let Some(issue) = self.read_pf_issue(ctx, pf, link.id_on(jira)).await? else {
            return Ok(false);
        };
        let directory = self.directory(ctx, pf);
        let shown = directory.issue_snapshot(&issue).await?;
        let now = shown.get(ASSIGNEE).and_then(Value::as_str);
        // Still the employee's (nothing to do), or someone else's who maps to an employee (a
        // reassignment in Jira, which the merge reports): left alone.
        if now.is_none_or(|a| a == employee || !a.starts_with("jira:")) {
            return Ok(false);
        }
        let wanted = Snapshot::from([(ASSIGNEE.to_owned(), json!(employee))]);
        let fields = directory.jira_fields(&wanted).await?;
        if fields.is_empty() {
            return Ok(false);
        }
        crate::reconcile::lock::fence().await?;
        (ctx.client(jira).edit_issue(&issue.id, &fields).await).map_err(|e| {
            ReconcileError::jira(ctx.endpoint(jira), "update", issue.key.clone(), e)
        })?;
        info!(employee, issue = %issue.key, "assigned the issue to the changed employee's Jira user");
        let change =
            json!({ "assignee": fields.get("assignee"), "employee": employee, "was": now });
        self.audit_value(ctx, Some(link.id), "remap", jira, &[ASSIGNEE], change)
            .await?;
        Ok(true)
    }
}
