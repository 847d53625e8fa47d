//! Conflicts an operator resolved (`left`, `right` or `value:<json>`, see
//! [`jira_sync_store::Resolution`]): applied on the link's next reconcile.
//!
//! A held field whose latest conflict was resolved by an operator, and whose sides still hold
//! the values recorded in that conflict, gets the chosen value: it is written to each side
//! where it differs, becomes the base, and the field is no longer held (so no new conflict is
//! opened for it). A field whose values moved on since is a new disagreement: it stays held
//! and gets a conflict of its own. Resolutions the worker records itself (`converged`,
//! `superseded`) are not choices and apply nothing.

use jira_sync_domain::Side;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::merge::{FieldOutcome, MergePlan};
use jira_sync_store::{Conflict, Link};
use serde_json::{Value, json};
use tracing::info;

use super::{Ctx, Reconciler};
use crate::error::ReconcileError;

/// One operator's resolution applied by a reconcile.
#[derive(Debug)]
pub(super) struct Applied {
    conflict: Conflict,
    resolution: String,
    value: Value,
}

impl Reconciler {
    /// Turns the held fields of `plan` that an operator resolved into writes of the chosen
    /// value (to the sides whose seen value differs) and a new base; returns what was applied,
    /// for [`Reconciler::audit_resolutions`] once the writes succeeded.
    pub(super) async fn apply_resolutions(
        &self,
        link: &Link,
        plan: &mut MergePlan,
        left_seen: &Snapshot,
        right_seen: &Snapshot,
    ) -> Result<Vec<Applied>, ReconcileError> {
        if plan.held_conflicts().next().is_none() {
            return Ok(Vec::new());
        }
        let conflicts = self.store.conflicts_of(link.id).await?;
        let held: Vec<(String, Value, Value)> = (plan.held_conflicts())
            .filter_map(|(field, outcome)| match outcome {
                FieldOutcome::ConflictHeld { left, right, .. } => {
                    Some((field.clone(), left.clone(), right.clone()))
                }
                _ => None,
            })
            .collect();
        let mut applied = Vec::new();
        for (field, left, right) in held {
            // `conflicts_of` lists oldest first: the last one of the field is the latest.
            let Some(latest) = conflicts.iter().rev().find(|c| c.field == field) else {
                continue;
            };
            let Some(resolution) = latest.operator_resolution() else {
                continue;
            };
            if latest.left != left || latest.right != right {
                continue;
            }
            let value = resolution.chosen_value(latest);
            let null = Value::Null;
            for (side, seen) in [(Side::Left, left_seen), (Side::Right, right_seen)] {
                if seen.get(&field).unwrap_or(&null) != &value {
                    let target = match side {
                        Side::Left => &mut plan.to_left,
                        Side::Right => &mut plan.to_right,
                    };
                    target.insert(field.clone(), value.clone());
                }
            }
            plan.new_base.insert(field.clone(), value.clone());
            let winner = match resolution {
                jira_sync_store::Resolution::Take(side) => side,
                jira_sync_store::Resolution::Value(_) if value == right => Side::Right,
                jira_sync_store::Resolution::Value(_) => Side::Left,
            };
            plan.outcomes
                .insert(field.clone(), FieldOutcome::ConflictResolved { winner });
            applied.push(Applied {
                conflict: latest.clone(),
                resolution: resolution.encode(),
                value,
            });
        }
        Ok(applied)
    }

    /// Audits each applied resolution (`conflict_resolved`, filed under the side that
    /// triggered the reconcile).
    pub(super) async fn audit_resolutions(
        &self,
        ctx: &Ctx<'_>,
        applied: &[Applied],
    ) -> Result<(), ReconcileError> {
        for Applied {
            conflict,
            resolution,
            value,
        } in applied
        {
            info!(link = %conflict.link_id, field = %conflict.field, %resolution, "operator's resolution applied");
            let change = json!({
                "conflict": conflict.id,
                "field": conflict.field,
                "resolution": resolution,
                "value": value,
            });
            self.audit_value(
                ctx,
                Some(conflict.link_id),
                "conflict_resolved",
                ctx.side,
                &[&conflict.field],
                change,
            )
            .await?;
        }
        Ok(())
    }
}
