//! Conflicts held for a person (policy `hold`): stored with both values and the base, once per
//! link and field while open, so the admin tools can list and resolve them. Both sides keep
//! their value meanwhile and the rest of the issue keeps syncing. A held field that stops
//! conflicting (someone aligned both sides, or one side went back) resolves itself.

use std::collections::BTreeMap;

use jira_sync_domain::merge::{FieldOutcome, FieldRule, MergePlan};
use jira_sync_store::{ConflictStatus, Link, NewConflict};
use serde_json::{Value, json};
use tracing::{info, warn};

use super::{Ctx, Reconciler};
use crate::error::ReconcileError;

impl Reconciler {
    /// Stores the conflicts `plan` holds and resolves stored ones it no longer holds; returns
    /// the held fields.
    pub(super) async fn settle_conflicts(
        &self,
        ctx: &Ctx<'_>,
        link: &Link,
        plan: &MergePlan,
        rules: &BTreeMap<String, FieldRule>,
    ) -> Result<Vec<String>, ReconcileError> {
        let open: Vec<_> = (self.store.conflicts_of(link.id).await?)
            .into_iter()
            .filter(|c| c.status == ConflictStatus::Open)
            .collect();
        let mut held = Vec::new();
        let mut recorded = serde_json::Map::new();
        for (field, outcome) in plan.held_conflicts() {
            let FieldOutcome::ConflictHeld { left, right, base } = outcome else {
                continue;
            };
            held.push(field.clone());
            let known = open
                .iter()
                .any(|c| &c.field == field && &c.left == left && &c.right == right);
            if known {
                continue;
            }
            self.store
                .open_conflict(NewConflict {
                    link_id: link.id,
                    connection: ctx.id().clone(),
                    field: field.clone(),
                    left: left.clone(),
                    right: right.clone(),
                    base: base.clone(),
                })
                .await?;
            let base = base.clone().unwrap_or(Value::Null);
            recorded.insert(
                field.clone(),
                json!({ "left": left, "right": right, "base": base }),
            );
        }
        if !recorded.is_empty() {
            let fields: Vec<&str> = recorded.keys().map(String::as_str).collect();
            warn!(link = %link.id, ?fields, "conflict held for a person to resolve");
            // Nothing is written on either side; the entry is filed under the side that triggered.
            self.audit_value(
                ctx,
                Some(link.id),
                "conflict",
                ctx.side,
                &fields,
                Value::Object(recorded.clone()),
            )
            .await?;
        }
        for conflict in open
            .iter()
            .filter(|c| !held.contains(&c.field) && rules.contains_key(&c.field))
        {
            let resolution = match plan.outcomes.get(&conflict.field) {
                Some(FieldOutcome::InSync) => "converged",
                _ => "superseded",
            };
            self.store.resolve_conflict(conflict.id, resolution).await?;
            info!(link = %link.id, field = %conflict.field, resolution, "held conflict resolved itself");
            let change = json!({ "conflict": conflict.id, "field": conflict.field, "resolution": resolution });
            self.audit_value(
                ctx,
                Some(link.id),
                "conflict_resolved",
                ctx.side,
                &[&conflict.field],
                change,
            )
            .await?;
        }
        Ok(held)
    }
}
