//! The linked path: read both sides, merge them three ways against the stored base, write the
//! difference as one edit per side, then record the audit trail and the new base.
//!
//! A plan with no writes touches neither Jira nor (unless something else changed) the store:
//! that is what turns our own writes, coming back as webhooks, into no-ops.

use jira_sync_domain::Side;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::merge::{FieldOutcome, MergePlan, SideState, merge};
use jira_sync_store::Link;
use serde_json::{Value, json};
use tracing::{info, warn};

use super::{Ctx, Outcome, Reconciler, jira_map};
use crate::error::ReconcileError;
use crate::jira::Issue;

impl Reconciler {
    /// Merges and writes a linked pair (the caller holds the pair's lock).
    pub(super) async fn reconcile_linked(
        &self,
        ctx: &Ctx<'_>,
        link: Link,
    ) -> Result<Outcome, ReconcileError> {
        let (left, right) = tokio::try_join!(
            self.read(ctx, Side::Left, &link.left_id),
            self.read(ctx, Side::Right, &link.right_id),
        )?;
        let (left, right) = match (left, right) {
            (Some(left), Some(right)) => (left, right),
            (left, _) => {
                // Delete policies come later: for now the deletion is recorded, nothing written.
                let gone = if left.is_none() {
                    Side::Left
                } else {
                    Side::Right
                };
                info!(link = %link.id, side = %gone, "a linked issue is gone");
                let id = json!(link.id_on(gone));
                let record: Snapshot = [("id".to_owned(), id)].into();
                self.audit(ctx, Some(link.id), "deleted", gone, &record)
                    .await?;
                return Ok(Outcome::Deleted {
                    side: gone,
                    link_id: Some(link.id),
                });
            }
        };
        let left_values = self
            .canonical(ctx, Side::Left, &left)?
            .snapshot(&ctx.fields);
        let right_values = (self.canonical(ctx, Side::Right, &right)?).snapshot(&ctx.fields);
        let base = (!link.base.is_empty()).then_some(&link.base);
        let plan = merge(
            &ctx.connection.fields,
            SideState {
                values: &left_values,
                updated: left.updated(),
            },
            SideState {
                values: &right_values,
                updated: right.updated(),
            },
            base,
            ctx.side,
        );
        let held = self.record_conflicts(ctx, &link, &plan).await?;
        for (side, issue) in [(Side::Left, &left), (Side::Right, &right)] {
            self.write(ctx, &link, side, issue, plan.writes_to(side))
                .await?;
        }
        let keys_changed = link.left_key.as_deref() != Some(left.key.as_str())
            || link.right_key.as_deref() != Some(right.key.as_str());
        if plan.new_base != link.base || keys_changed || link.last_error.is_some() {
            (self.store)
                .save_base(link.id, &plan.new_base, Some(&left.key), Some(&right.key))
                .await?;
        }
        Ok(Outcome::Synced {
            link_id: link.id,
            to_left: plan.to_left.keys().cloned().collect(),
            to_right: plan.to_right.keys().cloned().collect(),
            held,
        })
    }

    /// Writes `values` to `issue` on `side` as one edit, and audits it. Nothing when empty.
    async fn write(
        &self,
        ctx: &Ctx<'_>,
        link: &Link,
        side: Side,
        issue: &Issue,
        values: &Snapshot,
    ) -> Result<(), ReconcileError> {
        if values.is_empty() {
            return Ok(());
        }
        let fields = jira_map::to_jira_fields(values, side, ctx.connection).map_err(|source| {
            ReconcileError::Mapping {
                endpoint: ctx.endpoint(side).clone(),
                issue: issue.key.clone(),
                source,
            }
        })?;
        (ctx.client(side).edit_issue(&issue.id, &fields).await).map_err(|source| {
            ReconcileError::jira(ctx.endpoint(side), "edit", issue.key.clone(), source)
        })?;
        let written: Vec<&String> = values.keys().collect();
        info!(link = %link.id, %side, key = %issue.key, fields = ?written, "wrote changes");
        self.audit(ctx, Some(link.id), "update", side, values)
            .await?;
        Ok(())
    }

    /// Logs and audits the conflicts the plan holds for a person; returns their fields.
    async fn record_conflicts(
        &self,
        ctx: &Ctx<'_>,
        link: &Link,
        plan: &MergePlan,
    ) -> Result<Vec<String>, ReconcileError> {
        let held: Snapshot = plan
            .held_conflicts()
            .filter_map(|(field, outcome)| match outcome {
                FieldOutcome::ConflictHeld { left, right, base } => Some((
                    field.clone(),
                    json!({ "left": left, "right": right, "base": base.clone().unwrap_or(Value::Null) }),
                )),
                _ => None,
            })
            .collect();
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let fields: Vec<String> = held.keys().cloned().collect();
        warn!(link = %link.id, fields = ?fields, "conflict held for a person to resolve");
        // Nothing is written on either side; the entry is filed under the side that triggered.
        self.audit(ctx, Some(link.id), "conflict", ctx.side, &held)
            .await?;
        Ok(fields)
    }
}
