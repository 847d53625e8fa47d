//! A linked task and issue: read both, merge three ways against the base, write what each side
//! can take, report what PeopleForce cannot, save the new base.

use jira_sync_domain::Side;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::merge::{SideState, merge};
use jira_sync_domain::observed::{carry_observed, effective, record_observed};
use jira_sync_settings::OnDelete;
use jira_sync_store::Link;
use serde_json::Value;
use tracing::warn;

use super::super::{Ctx, Outcome, Reconciler};
use super::Pf;
use super::map::{self, COMPLETED};
use crate::error::ReconcileError;

impl Reconciler {
    /// Merges a linked pair and writes the difference.
    pub(super) async fn pf_linked(
        &self,
        ctx: &Ctx<'_>,
        pf: &Pf<'_>,
        link: Link,
    ) -> Result<Outcome, ReconcileError> {
        let jira = pf.jira();
        let task = self.read_task(ctx, pf, link.id_on(pf.side)).await?;
        let issue = self.read_pf_issue(ctx, pf, link.id_on(jira)).await?;
        let (task, issue) = match (task, issue) {
            (Some(task), Some(issue)) => (task, issue),
            // The task is gone: `on_delete` applies to the issue as between Jira sites.
            (None, issue) => return self.linked_issue_gone(ctx, link, pf.side, issue).await,
            // The issue is gone: PeopleForce can neither delete a task nor take a comment, so
            // whatever the policy the pair is detached (and the audit entry says which).
            (Some(_), None) => {
                if ctx.connection.sync.on_delete != OnDelete::Unlink {
                    warn!(link = %link.id, policy = ?ctx.connection.sync.on_delete, "a linked issue is gone; PeopleForce cannot delete or comment on its task, so the pair is only detached");
                }
                return self.linked_issue_gone(ctx, link, jira, None).await;
            }
        };
        if !self.in_scope(ctx, jira, &issue) {
            return self.left_scope(ctx, link, jira).await;
        }
        let directory = self.directory(ctx, pf);
        let raw_pf = map::task_snapshot(&task);
        let raw_jira = directory.issue_snapshot(&issue).await?;
        let base = Some(&link.base);
        let pf_values = effective(&raw_pf, base, pf.side);
        let jira_values = effective(&raw_jira, base, jira);
        let pf_state = SideState {
            values: &pf_values,
            updated: task.updated_at,
        };
        let jira_state = SideState {
            values: &jira_values,
            updated: issue.updated(),
        };
        let (left, right) = match pf.side {
            Side::Left => (pf_state, jira_state),
            Side::Right => (jira_state, pf_state),
        };
        let (left_seen, right_seen) = (left.values, right.values);
        let mut plan = merge(&ctx.rules, left, right, base, ctx.side);
        // Held conflicts as between Jira sites: stored for a person, resolved through the admin
        // API, the rest of the pair syncing meanwhile.
        let resolved = (self.apply_resolutions(&link, &mut plan, left_seen, right_seen)).await?;
        let held = self.settle_conflicts(ctx, &link, &plan, &ctx.rules).await?;
        let mut new_base = plan.new_base.clone();
        let to_jira = plan.writes_to(jira).clone();
        let to_pf = plan.writes_to(pf.side).clone();
        carry_observed(&mut new_base, base, pf.side, &raw_pf, &to_pf);
        carry_observed(&mut new_base, base, jira, &raw_jira, &to_jira);

        // PeopleForce takes completion only; the rest is reported, and the base keeps the
        // task's value as agreed with Jira's recorded as what Jira shows.
        let mut applied_pf = Snapshot::new();
        let mut not_applicable = Snapshot::new();
        for (key, value) in &to_pf {
            if key == COMPLETED {
                let completed = value.as_bool().unwrap_or(false);
                self.set_completed(ctx, pf, &task.id, completed).await?;
                applied_pf.insert(key.clone(), value.clone());
            } else {
                not_applicable.insert(key.clone(), value.clone());
                let agreed = raw_pf.get(key).cloned().unwrap_or(Value::Null);
                new_base.insert(key.clone(), agreed);
                record_observed(&mut new_base, key, jira, value.clone());
            }
        }
        if !not_applicable.is_empty() {
            let fields: Vec<&str> = not_applicable.keys().map(String::as_str).collect();
            warn!(
                task = %task.id,
                issue = %issue.key,
                ?fields,
                "PeopleForce cannot edit a task: Jira changes not applied"
            );
            let changes = Value::Object(not_applicable.clone().into_iter().collect());
            (self.audit_value(
                ctx,
                Some(link.id),
                "not_applicable",
                pf.side,
                &fields,
                changes,
            ))
            .await?;
        }

        if !to_jira.is_empty() {
            let fields = directory.jira_fields(&to_jira).await?;
            if !fields.is_empty() {
                crate::reconcile::lock::fence().await?;
                (ctx.client(jira).edit_issue(&issue.id, &fields).await).map_err(|e| {
                    ReconcileError::jira(ctx.endpoint(jira), "update", issue.key.clone(), e)
                })?;
            }
            if let Some(done) = to_jira.get(COMPLETED).and_then(Value::as_bool) {
                self.set_done(ctx, pf, &issue, done).await?;
            }
            // What Jira now shows where the mapping is lossy (a fallback assignee).
            if let Some(after) = self.read_pf_issue(ctx, pf, &issue.id).await? {
                let shown = directory.issue_snapshot(&after).await?;
                for key in to_jira.keys() {
                    if let Some(value) = shown.get(key) {
                        record_observed(&mut new_base, key, jira, value.clone());
                    }
                }
            }
            self.audit(ctx, Some(link.id), "update", jira, &to_jira)
                .await?;
        }
        if !applied_pf.is_empty() {
            self.audit(ctx, Some(link.id), "update", pf.side, &applied_pf)
                .await?;
        }
        let (left_key, right_key) = match pf.side {
            Side::Left => (None, Some(issue.key.as_str())),
            Side::Right => (Some(issue.key.as_str()), None),
        };
        crate::reconcile::lock::fence().await?;
        (self.store)
            .save_base(link.id, &new_base, left_key, right_key)
            .await?;
        self.audit_resolutions(ctx, &resolved).await?;
        let written = |s: &Snapshot| s.keys().cloned().collect::<Vec<_>>();
        let (to_left, to_right) = match pf.side {
            Side::Left => (written(&applied_pf), written(&to_jira)),
            Side::Right => (written(&to_jira), written(&applied_pf)),
        };
        Ok(Outcome::Synced {
            link_id: link.id,
            to_left,
            to_right,
            held,
        })
    }
}
