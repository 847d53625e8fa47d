//! Writing merged values to one side: every field edit in one `PUT` (Jira allows about 20
//! writes per issue in 2 s, and each write is a webhook), fields the side already shows left
//! out; then the status through the workflow. Returns what the side shows afterwards, for the
//! observed values of the new base, and audits each write.

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{Field, Side};
use jira_sync_settings::map_name;
use serde_json::{Value, json};
use tracing::info;
use uuid::Uuid;

use super::jira_map::{MapError, Mapper, edit_fields, status_of};
use super::{Ctx, Reconciler};
use crate::error::ReconcileError;
use crate::jira::Issue;

/// What a write did.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// The fields sent to Jira (edits and the status).
    pub fields: Vec<String>,
    /// What the side shows afterwards, by field, for every field of the write.
    pub shown: Snapshot,
}

impl Reconciler {
    /// Maps a mapper failure on `issue` of `side`.
    pub(super) fn map_error(
        ctx: &Ctx<'_>,
        side: Side,
        issue: &str,
        error: MapError,
    ) -> ReconcileError {
        match error {
            MapError::Unfit(source) => ReconcileError::Mapping {
                endpoint: ctx.endpoint(side).clone(),
                issue: issue.to_owned(),
                source,
            },
            MapError::Failed(e) => e,
        }
    }

    /// Writes `values` to `issue` on `side`; `current` is what it shows now (canonical) and
    /// `source` the issue the values come from (its status category guides status fallbacks).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        link_id: Uuid,
        side: Side,
        issue: &Issue,
        values: &Snapshot,
        current: &Snapshot,
        source: &Issue,
    ) -> Result<Written, ReconcileError> {
        let mut written = Written::default();
        if values.is_empty() {
            return Ok(written);
        }
        crate::reconcile::lock::fence().await?;
        let planned = (mapper.plan(values, side, current).await)
            .map_err(|e| Self::map_error(ctx, side, &issue.key, e))?;
        let edit = edit_fields(&planned);
        if !edit.is_empty() {
            (ctx.client(side).edit_issue(&issue.id, &edit).await).map_err(|e| {
                ReconcileError::jira(ctx.endpoint(side), "edit", issue.key.clone(), e)
            })?;
            let sent: Snapshot = (planned.iter())
                .filter(|p| p.raw.is_some())
                .filter_map(|p| values.get(&p.key).map(|v| (p.key.clone(), v.clone())))
                .collect();
            info!(link = %link_id, %side, key = %issue.key, fields = ?sent.keys().collect::<Vec<_>>(), "wrote changes");
            self.audit(ctx, Some(link_id), "update", side, &sent)
                .await?;
            written.fields.extend(sent.into_keys());
        }
        written
            .shown
            .extend(planned.into_iter().map(|p| (p.key, p.shown)));
        let status_key = Field::Status.as_str();
        if let Some(Value::String(status)) = values.get(status_key) {
            let shown = self
                .write_status(ctx, link_id, side, issue, status, current, source)
                .await?;
            if shown.1 {
                written.fields.push(status_key.to_owned());
            }
            written.shown.insert(status_key.to_owned(), shown.0);
        }
        written.fields.sort();
        Ok(written)
    }

    /// Moves `issue` to canonical status `status`; returns what it shows afterwards and whether
    /// it moved.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_status(
        &self,
        ctx: &Ctx<'_>,
        link_id: Uuid,
        side: Side,
        issue: &Issue,
        status: &str,
        current: &Snapshot,
        source: &Issue,
    ) -> Result<(Value, bool), ReconcileError> {
        let now = current
            .get(Field::Status.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        if now.as_str() == Some(status) {
            return Ok((now, false));
        }
        let pairs = &ctx.connection.sync.status_map;
        let target = match side {
            Side::Left => status.to_owned(),
            Side::Right => map_name(pairs, Side::Left, status),
        };
        let (_, category) = status_of(&source.fields);
        let reached = self.move_to(ctx, side, issue, &target, category).await?;
        let shown = match side {
            Side::Left => reached.name.clone(),
            Side::Right => map_name(pairs, Side::Right, &reached.name),
        };
        let moved = !reached.path.is_empty();
        if moved {
            info!(link = %link_id, %side, key = %issue.key, status = %reached.name, path = ?reached.path, "moved the status");
            let change = json!({ "status": status, "reached": reached.name, "path": reached.path });
            self.audit_value(
                ctx,
                Some(link_id),
                "transition",
                side,
                &[Field::Status.as_str()],
                change,
            )
            .await?;
        }
        Ok((json!(shown), moved))
    }
}
