//! PeopleForce <-> Jira connections: a task on the PeopleForce side and an issue on the Jira
//! side are a link. The flow is the Jira <-> Jira one (lock, read both, merge three ways
//! against the base, write the difference, save the base, audit); only reading, mapping and
//! writing differ, so they live here and the Jira <-> Jira engine is left as it is.
//!
//! - `map`: canonical snapshots of tasks and issues, and people across the two systems.
//! - `twin`: creating the twin of an unlinked task or issue (intent, marker search, create).
//! - `linked`: merging a linked pair and writing what each side can take.
//! - `employees`: an employee changed: their linked tasks follow them to their new Jira user.
//!
//! PeopleForce can complete and reopen a task, and nothing else: a change to a task's text,
//! due date or assignee made on the Jira side is reported (`not_applicable` audit entry and a
//! warning) and the pair's base records what Jira shows, so it is reported once and the
//! delivery is acknowledged rather than retried.

mod employees;
mod linked;
mod map;
mod twin;

use jira_sync_domain::{ReconcileRequest, Side};
use jira_sync_settings::EndpointKind;

use super::lock::lock_key;
use super::{Ctx, MAX_RELOCKS, Outcome, Reconciler, Step};
use crate::error::ReconcileError;
use crate::jira::Issue;
use crate::peopleforce::{PeopleForceClient, Task};
use map::{Directory, JIRA_FIELDS};

/// The PeopleForce half of a request's context.
pub(super) struct Pf<'a> {
    client: &'a PeopleForceClient,
    /// The side the PeopleForce endpoint is on.
    side: Side,
}

impl Pf<'_> {
    fn jira(&self) -> Side {
        self.side.other()
    }
}

impl Reconciler {
    /// The PeopleForce side of the request's connection, if it has one.
    pub(super) fn peopleforce_side(&self, request: &ReconcileRequest) -> Option<Side> {
        let connection = self.settings.connections.get(&request.connection)?;
        [Side::Left, Side::Right].into_iter().find(|s| {
            self.settings.endpoint_kind(&connection.side(*s).endpoint)
                == Some(EndpointKind::Peopleforce)
        })
    }

    /// [`Reconciler::reconcile`] for a connection whose `pf_side` is PeopleForce.
    pub(super) async fn reconcile_peopleforce(
        &self,
        request: &ReconcileRequest,
        trace_id: Option<&str>,
        pf_side: Side,
    ) -> Result<Outcome, ReconcileError> {
        let mut ctx = self.context(request, trace_id)?;
        ctx.rules = map::rules(ctx.connection);
        let endpoint = ctx.endpoint(pf_side);
        let client = (self.peopleforce.get(endpoint))
            .ok_or_else(|| ReconcileError::NoClient(endpoint.clone()))?;
        let pf = Pf {
            client,
            side: pf_side,
        };
        if let Some(employee) = request.employee_id() {
            return self.refresh_employee(&ctx, &pf, employee).await;
        }
        let link = (self.store)
            .find_link(ctx.id(), ctx.side, &request.entity_id)
            .await?;
        let mut key = lock_key(ctx.id(), ctx.side, &request.entity_id, link.as_ref());
        for _ in 0..MAX_RELOCKS {
            let step = self.under_lock(&key, Box::pin(self.pf_locked(&ctx, &pf, &key)));
            match step.await? {
                Step::Done(outcome) => return Ok(outcome),
                Step::Relock(next) => key = next,
            }
        }
        Err(ReconcileError::LockUnstable)
    }

    /// One pass under the lock `held`.
    async fn pf_locked(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        held: &str,
    ) -> Result<Step, ReconcileError> {
        let link = (self.store)
            .find_link(ctx.id(), ctx.side, &ctx.request.entity_id)
            .await?;
        match link {
            Some(link) => {
                let needed = lock_key(ctx.id(), ctx.side, &ctx.request.entity_id, Some(&link));
                if needed != held {
                    return Ok(Step::Relock(needed));
                }
                self.pf_linked(ctx, pf, link).await.map(Step::Done)
            }
            None => self.pf_unlinked(ctx, pf, held).await,
        }
    }

    /// The task `id`, or `None` when it is gone. PeopleForce has no "get one task", so this
    /// lists them all.
    async fn read_task(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        id: &str,
    ) -> Result<Option<Task>, ReconcileError> {
        let tasks = (pf.client.list_tasks().await)
            .map_err(|e| ReconcileError::peopleforce(ctx.endpoint(pf.side), "list", "tasks", e))?;
        Ok(tasks.into_iter().find(|t| t.id == id))
    }

    /// The issue `id` with the fields a PeopleForce link needs and the origin marker, or
    /// `None` when it is gone.
    async fn read_pf_issue(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        id: &str,
    ) -> Result<Option<Issue>, ReconcileError> {
        let side = pf.jira();
        let properties = [super::jira_map::ORIGIN_PROPERTY];
        match ctx
            .client(side)
            .get_issue(id, &JIRA_FIELDS, &properties)
            .await
        {
            Ok(issue) => Ok(Some(issue)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(ReconcileError::jira(ctx.endpoint(side), "read", id, e)),
        }
    }

    fn directory<'a>(&self, ctx: &'a Ctx<'a>, pf: &'a Pf<'a>) -> Directory<'a> {
        Directory {
            ctx,
            pf: pf.client,
            pf_side: pf.side,
        }
    }

    /// Completes or reopens the task to match `completed`.
    async fn set_completed(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        task_id: &str,
        completed: bool,
    ) -> Result<(), ReconcileError> {
        crate::reconcile::lock::fence().await?;
        let result = if completed {
            pf.client.complete_task(task_id).await
        } else {
            pf.client.incomplete_task(task_id).await
        };
        let action = if completed { "complete" } else { "reopen" };
        result.map(drop).map_err(|e| {
            ReconcileError::peopleforce(ctx.endpoint(pf.side), action, format!("task {task_id}"), e)
        })
    }

    /// Moves the issue into the done category, or out of it (to the to-do category).
    async fn set_done(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        issue: &Issue,
        done: bool,
    ) -> Result<(), ReconcileError> {
        if map::is_done(issue) == done {
            return Ok(());
        }
        // No status name is wanted, only a category: an empty name exists on no site.
        let category = if done { "done" } else { "new" };
        self.move_to(ctx, pf.jira(), issue, "", Some(category))
            .await
            .map(drop)
    }
}
