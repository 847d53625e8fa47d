//! Creating the twin of an unlinked task or issue, once.
//!
//! As for Jira <-> Jira: an intent row (unique per connection, side and entity) is written
//! first; an intent that already names its twin is used; otherwise a previous attempt may have
//! created the twin without storing it, so it is searched for before creating.
//!
//! - A Jira twin of a task carries the origin marker property, set in the create request, and
//!   is found by the marker search of issues created since the intent.
//! - A PeopleForce task has no properties to mark. Its twin is found as a task with the issue's
//!   title and assignee created since shortly before the intent; only a crashed attempt leaves
//!   such a task unlinked, and adopting a same-titled task of the same person created in that
//!   window is the right outcome even in the rare case it was made by hand.
//!
//! Creations of one connection are serialised under `<connection>/peopleforce-create`, so a
//! task we just created cannot be mistaken by a concurrent PeopleForce scan for a new task
//! (it would wait, then find the link).

use chrono::Duration as ChronoDuration;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::observed::record_observed;
use jira_sync_store::{CreateIntent, NewLink};
use serde_json::{Value, json};
use tracing::info;

use super::super::jira_map::{ORIGIN_PROPERTY, OriginMarker};
use super::super::lock::lock_key;
use super::super::{Ctx, Outcome, Reconciler, Step};
use super::Pf;
use super::map::{self, ASSIGNEE, COMPLETED, DESCRIPTION, DUE_DATE, SUMMARY};
use crate::error::ReconcileError;
use crate::jira::{CreateIssue, EntityProperty, Issue};
use crate::peopleforce::{NewTask, Task};

/// How long before its intent a task twin may have been created (clock skew).
const TASK_SEARCH_MARGIN_MINUTES: i64 = 2;
/// How many open creates from Jira a new task is compared with (the newest).
const OPEN_CREATES_CHECKED: i64 = 50;

impl Reconciler {
    /// An entity without a link: create its twin if the connection creates from its side.
    pub(super) async fn pf_unlinked(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        held: &str,
    ) -> Result<Step, ReconcileError> {
        let id = ctx.request.entity_id.as_str();
        if let Some(detached) = self.store.find_detached(ctx.id(), ctx.side, id).await? {
            info!(link = %detached.id, reason = %detached.reason, "the pair of this entity stopped syncing; nothing to do");
            return Ok(Step::Done(Outcome::Skipped { reason: "detached" }));
        }
        if ctx.side == pf.side {
            let Some(task) = self.read_task(ctx, pf, id).await? else {
                return Ok(Step::Done(Outcome::Deleted {
                    side: ctx.side,
                    link_id: None,
                }));
            };
            if !self.creates_from(ctx, pf) {
                return Ok(Step::Done(Outcome::Skipped {
                    reason: "create_from",
                }));
            }
            return self.serialised(ctx, self.jira_twin(ctx, pf, &task)).await;
        }
        let Some(issue) = self.read_pf_issue(ctx, pf, id).await? else {
            return Ok(Step::Done(Outcome::Deleted {
                side: ctx.side,
                link_id: None,
            }));
        };
        let pf_endpoint = ctx.endpoint(pf.side);
        if let Some(marker) =
            (OriginMarker::of(&issue.properties)).filter(|m| m.is_from(ctx.id(), pf_endpoint))
        {
            // Our twin of a task: wait for its creator under the task's key. If the creator
            // died, the task's next scan adopts this issue through the marker search.
            let origin = lock_key(ctx.id(), pf.side, &marker.id, None);
            if origin != held {
                return Ok(Step::Relock(origin));
            }
            return Ok(Step::Done(Outcome::Skipped {
                reason: "twin_pending",
            }));
        }
        if !self.in_scope(ctx, pf.jira(), &issue) {
            return Ok(Step::Done(Outcome::Skipped {
                reason: "out_of_scope",
            }));
        }
        if !self.creates_from(ctx, pf) {
            return Ok(Step::Done(Outcome::Skipped {
                reason: "create_from",
            }));
        }
        self.serialised(ctx, self.task_twin(ctx, pf, &issue)).await
    }

    fn creates_from(&self, ctx: &Ctx<'_>, pf: &Pf<'_>) -> bool {
        ctx.connection
            .sync
            .create_from
            .creates_from(ctx.side, pf.side)
    }

    /// Runs `create` under the connection's creation lock, unless a link appeared meanwhile.
    async fn serialised(
        &self,
        ctx: &Ctx<'_>,
        create: impl Future<Output = Result<Outcome, ReconcileError>>,
    ) -> Result<Step, ReconcileError> {
        let key = format!("{}/peopleforce-create", ctx.id());
        let work = async {
            let link = (self.store)
                .find_link(ctx.id(), ctx.side, &ctx.request.entity_id)
                .await?;
            // A link that appeared meanwhile is merged under its own key (perhaps this one).
            match link {
                Some(link) => Ok(Step::Relock(lock_key(
                    ctx.id(),
                    ctx.side,
                    &ctx.request.entity_id,
                    Some(&link),
                ))),
                None => create.await.map(Step::Done),
            }
        };
        self.under_lock(&key, Box::pin(work)).await
    }

    /// Creates (or finds) the Jira twin of `task` and links them.
    async fn jira_twin(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        task: &Task,
    ) -> Result<Outcome, ReconcileError> {
        if let Some(issue) = self.creator_of(ctx, pf, task).await? {
            info!(task = %task.id, issue = %issue.key, "the task is the twin of an interrupted create from Jira");
            return self.task_twin(ctx, pf, &issue).await;
        }
        let intent = (self.store)
            .begin_intent(ctx.id(), pf.side, &task.id)
            .await?;
        let twin_id = match &intent.target_id {
            Some(id) => id.clone(),
            None => match self.find_twin(ctx, &intent, &task.id).await? {
                Some(found) => found.id,
                None => match self.create_issue_for(ctx, pf, task).await {
                    Ok(id) => id,
                    Err(error) if error.outcome_unknown() => {
                        let look = || async {
                            let found = self.find_twin(ctx, &intent, &task.id).await?;
                            Ok(found.map(|issue| issue.id))
                        };
                        match self
                            .await_unknown_outcome(&error, "twin create", look)
                            .await?
                        {
                            Some(id) => id,
                            None => return Err(error),
                        }
                    }
                    Err(error) => return Err(error),
                },
            },
        };
        self.store.complete_intent(intent.id, &twin_id).await?;
        let Some(mut issue) = self.read_pf_issue(ctx, pf, &twin_id).await? else {
            return Err(ReconcileError::TwinMissing { twin_id });
        };
        if task.completed && !map::is_done(&issue) {
            self.set_done(ctx, pf, &issue, true).await?;
            issue = (self.read_pf_issue(ctx, pf, &twin_id).await?).ok_or_else(|| {
                ReconcileError::TwinMissing {
                    twin_id: twin_id.clone(),
                }
            })?;
        }
        let written = map::task_snapshot(task);
        let shown = self.directory(ctx, pf).issue_snapshot(&issue).await?;
        let base = observed_base(&written, &shown, pf.jira());
        self.link_pf(ctx, pf, &task.id, &task.id, &issue, base)
            .await
    }

    async fn create_issue_for(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        task: &Task,
    ) -> Result<String, ReconcileError> {
        let jira = pf.jira();
        let values = map::task_snapshot(task);
        let wanted: Snapshot = (values.into_iter())
            .filter(|(k, v)| k != COMPLETED && !v.is_null() && ctx.rules.contains_key(k))
            .collect();
        let mut fields = self.directory(ctx, pf).jira_fields(&wanted).await?;
        let target = ctx.config(jira);
        fields.insert("summary".into(), json!(task.title.trim()));
        fields.insert("project".into(), json!({ "key": target.project }));
        fields.insert("issuetype".into(), json!({ "name": target.issue_type }));
        let marker = OriginMarker::new(ctx.id(), ctx.endpoint(pf.side), &task.id, &task.id);
        let request = CreateIssue {
            fields,
            properties: vec![EntityProperty {
                key: ORIGIN_PROPERTY.to_owned(),
                value: marker.to_value(),
            }],
        };
        crate::reconcile::lock::fence().await?;
        let created = (ctx.client(jira).create_issue(&request).await).map_err(|e| {
            let what = format!("the twin of task {} in {}", task.id, target.project);
            ReconcileError::jira(ctx.endpoint(jira), "create", what, e)
        })?;
        info!(task = %task.id, issue = %created.key, "created the Jira twin of a task");
        Ok(created.id)
    }

    /// Creates (or finds) the PeopleForce twin of `issue` and links them.
    async fn task_twin(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        issue: &Issue,
    ) -> Result<Outcome, ReconcileError> {
        let intent = (self.store)
            .begin_intent(ctx.id(), pf.jira(), &issue.id)
            .await?;
        let values = self.directory(ctx, pf).issue_snapshot(issue).await?;
        let (title, employee) = task_identity(ctx, pf, &values);
        let mut task = match &intent.target_id {
            Some(id) => {
                (self.read_task(ctx, pf, id).await?).ok_or_else(|| ReconcileError::TwinMissing {
                    twin_id: id.clone(),
                })?
            }
            None => match self
                .find_task(ctx, pf, &intent, &title, employee.as_deref())
                .await?
            {
                Some(found) => found,
                None => match (self.create_task_for(ctx, pf, issue, &values, employee.clone()))
                    .await
                {
                    Ok(task) => task,
                    Err(error) if error.outcome_unknown() => {
                        let look = || self.find_task(ctx, pf, &intent, &title, employee.as_deref());
                        match self
                            .await_unknown_outcome(&error, "task create", look)
                            .await?
                        {
                            Some(task) => task,
                            None => return Err(error),
                        }
                    }
                    Err(error) => return Err(error),
                },
            },
        };
        self.store.complete_intent(intent.id, &task.id).await?;
        if map::is_done(issue) && !task.completed {
            self.set_completed(ctx, pf, &task.id, true).await?;
            task.completed = true;
        }
        let shown = map::task_snapshot(&task);
        let base = observed_base(&values, &shown, pf.side);
        self.link_pf(ctx, pf, &task.id, &task.id, issue, base).await
    }

    /// The issue whose create of a task was interrupted (a lost answer, a crash) if `task` is
    /// the task it made. Such a task looks new to a PeopleForce scan; before it gets a Jira
    /// twin of its own, the open creates from Jira are checked for one it would satisfy: an
    /// issue with its title and assignee whose intent was begun before the task was made.
    async fn creator_of(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        task: &Task,
    ) -> Result<Option<Issue>, ReconcileError> {
        let open = (self.store)
            .open_intents(ctx.id(), pf.jira(), OPEN_CREATES_CHECKED)
            .await?;
        for intent in open {
            let begun = intent.created_at - ChronoDuration::minutes(TASK_SEARCH_MARGIN_MINUTES);
            if task.created_at.is_some_and(|at| at < begun) {
                continue;
            }
            let Some(issue) = self.read_pf_issue(ctx, pf, &intent.source_id).await? else {
                continue;
            };
            let values = self.directory(ctx, pf).issue_snapshot(&issue).await?;
            let (title, employee) = task_identity(ctx, pf, &values);
            if task.title.trim() == title && task.assignee_id.as_deref() == employee.as_deref() {
                return Ok(Some(issue));
            }
        }
        Ok(None)
    }

    /// A task with this title and assignee created since shortly before the intent.
    async fn find_task(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        intent: &CreateIntent,
        title: &str,
        employee: Option<&str>,
    ) -> Result<Option<Task>, ReconcileError> {
        let since = intent.created_at - ChronoDuration::minutes(TASK_SEARCH_MARGIN_MINUTES);
        let tasks = (pf.client.list_tasks().await)
            .map_err(|e| ReconcileError::peopleforce(ctx.endpoint(pf.side), "list", "tasks", e))?;
        let linked_elsewhere = |t: &Task| t.created_at.is_none_or(|at| at < since);
        let candidates: Vec<Task> = (tasks.into_iter())
            .filter(|t| t.title.trim() == title && t.assignee_id.as_deref() == employee)
            .filter(|t| !linked_elsewhere(t))
            .collect();
        for task in candidates {
            let taken = (self.store)
                .find_link(ctx.id(), pf.side, &task.id)
                .await?
                .is_some();
            if !taken {
                return Ok(Some(task));
            }
        }
        Ok(None)
    }

    async fn create_task_for(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        issue: &Issue,
        values: &Snapshot,
        employee: Option<String>,
    ) -> Result<Task, ReconcileError> {
        let text = |key: &str| {
            (ctx.rules.contains_key(key))
                .then(|| values.get(key).and_then(Value::as_str).map(str::to_owned))
                .flatten()
        };
        let new = NewTask {
            title: values
                .get(SUMMARY)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            description: text(DESCRIPTION),
            due_date: text(DUE_DATE),
            assignee_id: employee.and_then(|e| e.parse().ok()),
        };
        crate::reconcile::lock::fence().await?;
        let task = (pf.client.create_task(&new).await).map_err(|e| {
            let what = format!("the twin of {}", issue.key);
            ReconcileError::peopleforce(ctx.endpoint(pf.side), "create", what, e)
        })?;
        info!(issue = %issue.key, task = %task.id, "created the PeopleForce twin of an issue");
        Ok(task)
    }

    /// Stores the link of a task and an issue, and audits the creation.
    async fn link_pf(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        task_id: &str,
        task_key: &str,
        issue: &Issue,
        base: Snapshot,
    ) -> Result<Outcome, ReconcileError> {
        let (task, jira) = ((task_id, task_key), (issue.id.as_str(), issue.key.as_str()));
        let (left, right) = if pf.side == jira_sync_domain::Side::Left {
            (task, jira)
        } else {
            (jira, task)
        };
        let link = (self.store)
            .insert_link(NewLink {
                connection: ctx.id().clone(),
                left_id: left.0.to_owned(),
                right_id: right.0.to_owned(),
                left_key: Some(left.1.to_owned()),
                right_key: Some(right.1.to_owned()),
                base: base.clone(),
            })
            .await?;
        let target = ctx.side.other();
        self.audit(ctx, Some(link.id), "create", target, &base)
            .await?;
        let (twin_id, twin_key) = match target == pf.side {
            true => (task_id.to_owned(), task_key.to_owned()),
            false => (issue.id.clone(), issue.key.clone()),
        };
        Ok(Outcome::Created {
            link_id: link.id,
            twin_id,
            twin_key,
        })
    }
}

/// The title and the assignee's employee id of the task twin of an issue with `values`
/// (the connection's default user when the assignee has no employee).
fn task_identity(ctx: &Ctx<'_>, pf: &Pf<'_>, values: &Snapshot) -> (String, Option<String>) {
    let employee = match values.get(ASSIGNEE).and_then(Value::as_str) {
        Some(e) if !e.starts_with("jira:") => Some(e.to_owned()),
        _ => (ctx.config(pf.side).options.default_user.as_ref()).map(|u| u.id().to_owned()),
    };
    let title = values
        .get(SUMMARY)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (title, employee)
}

/// The agreed values `written`, with what `side` shows where that differs (a lossy mapping,
/// such as an employee without a Jira user becoming the default user).
pub(super) fn observed_base(
    written: &Snapshot,
    shown: &Snapshot,
    side: jira_sync_domain::Side,
) -> Snapshot {
    let mut base = written.clone();
    // Not completion: a difference there is a person's change made while the twin was being
    // created (Done right after it appeared), which must sync, not be taken for how the other
    // side shows the agreed value.
    for (key, value) in shown.iter().filter(|(k, _)| k.as_str() != COMPLETED) {
        if written.get(key) != Some(value) {
            record_observed(&mut base, key, side, value.clone());
        }
    }
    base
}
