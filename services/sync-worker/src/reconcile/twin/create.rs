//! Creating a twin: the source's synced fields mapped for the other side, the origin marker
//! set in the same request, then the twin read back and moved to the source's status, and the
//! link's base (with what the twin shows where a mapping is lossy).

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::observed::record_observed;
use jira_sync_domain::{Field, Side};
use jira_sync_settings::map_name;
use serde_json::{Value, json};

use super::super::jira_map::{self, ORIGIN_PROPERTY, OriginMarker};
use super::super::transitions::Reached;
use super::super::{Ctx, Reconciler};
use crate::error::ReconcileError;
use crate::jira::{CreateIssue, EntityProperty, Issue};

impl Reconciler {
    /// Creates the twin of `source` on the other side, marked with its origin. Returns the
    /// twin (id and key only) and the canonical snapshot written (the new link's agreed base).
    pub(super) async fn create_twin(
        &self,
        ctx: &Ctx<'_>,
        source: &Issue,
    ) -> Result<(Issue, Snapshot), ReconcileError> {
        let other = ctx.side.other();
        let mapper = self.mapper(ctx);
        let allowed: Vec<String> = (ctx.rules.iter())
            .filter(|(_, rule)| rule.direction.allows_from(ctx.side))
            .map(|(key, _)| key.clone())
            .collect();
        let (written, unfit) = mapper.canonical(source, ctx.side, allowed.iter()).await?;
        for (field, reason) in unfit {
            self.report_unmappable(ctx, &field, &reason).await;
        }
        // Empty values are what a new issue has anyway; leave them to Jira's defaults.
        let planned = (mapper.plan(&written, other, &Snapshot::new()).await)
            .map_err(|e| Self::map_error(ctx, ctx.side, &source.key, e))?;
        let mut fields = jira_map::edit_fields(&planned);
        let target = ctx.config(other);
        // Jira requires a summary even when it is not a synced field.
        let summary = source.summary().unwrap_or_default().to_owned();
        fields.entry("summary").or_insert_with(|| json!(summary));
        fields.insert("project".into(), json!({ "key": target.project }));
        fields.insert("issuetype".into(), json!({ "name": target.issue_type }));
        let marker = OriginMarker::new(ctx.id(), ctx.endpoint(ctx.side), &source.id, &source.key);
        let request = CreateIssue {
            fields,
            properties: vec![EntityProperty {
                key: ORIGIN_PROPERTY.to_owned(),
                value: marker.to_value(),
            }],
        };
        crate::reconcile::lock::fence().await?;
        let created = (ctx.client(other).create_issue(&request).await).map_err(|e| {
            ReconcileError::jira(
                ctx.endpoint(other),
                "create",
                format!("the twin of {} in {}", source.key, target.project),
                e,
            )
        })?;
        let twin = Issue {
            id: created.id,
            key: created.key,
            fields: Default::default(),
            properties: Default::default(),
        };
        Ok((twin, written))
    }

    /// After creating a twin: reads it, moves it to the source's status, and returns it with
    /// the link's base (the written values, and what the twin shows where that differs) and
    /// the move, if it took one.
    pub(super) async fn settle_twin(
        &self,
        ctx: &Ctx<'_>,
        source: &Issue,
        twin: Issue,
        written: &Snapshot,
    ) -> Result<(Issue, Snapshot, Option<Reached>), ReconcileError> {
        let other = ctx.side.other();
        let Some(twin) = self.read(ctx, other, &twin.id).await? else {
            return Err(ReconcileError::TwinMissing { twin_id: twin.id });
        };
        let (shown, _) = self
            .mapper(ctx)
            .canonical(&twin, other, written.keys())
            .await?;
        let mut base = written.clone();
        for (key, value) in &shown {
            record_observed(&mut base, key, other, value.clone());
        }
        let status = Field::Status.as_str();
        let (Some(Value::String(wanted)), Some(now)) = (written.get(status), shown.get(status))
        else {
            return Ok((twin, base, None));
        };
        if now.as_str() == Some(wanted.as_str()) {
            return Ok((twin, base, None));
        }
        let pairs = &ctx.connection.sync.status_map;
        let target = match other {
            Side::Left => wanted.clone(),
            Side::Right => map_name(pairs, Side::Left, wanted),
        };
        let (_, category) = jira_map::status_of(&source.fields);
        let reached = self.move_to(ctx, other, &twin, &target, category).await?;
        let now = match other {
            Side::Left => reached.name.clone(),
            Side::Right => map_name(pairs, Side::Right, &reached.name),
        };
        record_observed(&mut base, status, other, json!(now));
        Ok((twin, base, Some(reached)))
    }

    /// The canonical snapshot of an issue read on `side` (custom fields that do not fit left
    /// out, and reported).
    pub(super) async fn snapshot(
        &self,
        ctx: &Ctx<'_>,
        side: Side,
        issue: &Issue,
    ) -> Result<Snapshot, ReconcileError> {
        let (values, unfit) = self
            .mapper(ctx)
            .canonical(issue, side, ctx.rules.keys())
            .await?;
        for (field, reason) in unfit {
            self.report_unmappable(ctx, &field, &reason).await;
        }
        Ok(values)
    }
}
