//! The linked path: read both sides, check they still exist and are in scope, merge them three
//! ways against the stored base (with each side's observed values for lossy mappings), settle
//! held conflicts (applying operators' resolutions), write the difference (one edit per side, then the status), sync comments,
//! then record the new base.
//!
//! A plan with no writes touches neither Jira nor (unless something else changed) the store:
//! that is what turns our own writes, coming back as webhooks, into no-ops.

use jira_sync_domain::Side;
use jira_sync_domain::merge::{SideState, merge};
use jira_sync_domain::observed::{carry_observed, effective, record_observed};
use jira_sync_store::Link;

use super::{Ctx, Outcome, Reconciler};
use crate::error::ReconcileError;

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
            (None, right) => return self.linked_issue_gone(ctx, link, Side::Left, right).await,
            (left, None) => return self.linked_issue_gone(ctx, link, Side::Right, left).await,
        };
        for (side, issue) in [(Side::Left, &left), (Side::Right, &right)] {
            if !self.in_scope(ctx, side, issue) {
                return self.left_scope(ctx, link, side).await;
            }
        }
        let mapper = self.mapper(ctx);
        let mut rules = ctx.rules.clone();
        let (left_values, unfit_left) = mapper.canonical(&left, Side::Left, rules.keys()).await?;
        let (right_values, unfit_right) =
            mapper.canonical(&right, Side::Right, rules.keys()).await?;
        for (field, reason) in unfit_left.iter().chain(&unfit_right) {
            self.report_unmappable(ctx, field, reason).await;
            rules.remove(field);
        }
        let base = (!link.base.is_empty()).then_some(&link.base);
        let (left_seen, right_seen) = (
            effective(&left_values, base, Side::Left),
            effective(&right_values, base, Side::Right),
        );
        let mut plan = merge(
            &rules,
            SideState {
                values: &left_seen,
                updated: left.updated(),
            },
            SideState {
                values: &right_seen,
                updated: right.updated(),
            },
            base,
            ctx.side,
        );
        let resolved = (self.apply_resolutions(&link, &mut plan, &left_seen, &right_seen)).await?;
        let held = self.settle_conflicts(ctx, &link, &plan, &rules).await?;
        let mut new_base = plan.new_base.clone();
        let mut sent = [Vec::new(), Vec::new()];
        for (i, side, issue, source, current) in [
            (0, Side::Left, &left, &right, &left_values),
            (1, Side::Right, &right, &left, &right_values),
        ] {
            let values = plan.writes_to(side);
            let written = self
                .write(ctx, &mapper, link.id, side, issue, values, current, source)
                .await?;
            carry_observed(&mut new_base, base, side, current, values);
            for (field, shown) in written.shown {
                record_observed(&mut new_base, &field, side, shown);
            }
            sent[i] = written.fields;
        }
        self.audit_resolutions(ctx, &resolved).await?;
        self.sync_comments(ctx, &mapper, &link, &left, &right)
            .await?;
        let keys_changed = link.left_key.as_deref() != Some(left.key.as_str())
            || link.right_key.as_deref() != Some(right.key.as_str());
        // The poller enqueues an issue updated after its link's last sync: a side that changed
        // without changing the base (a comment, our comment copy, an unsynced field) must still
        // record this sync, or the pair is enqueued again on every poll while it stays in the
        // poller's window.
        let changed_since_sync = [left.updated(), right.updated()]
            .into_iter()
            .flatten()
            .any(|updated| link.last_synced_at.is_none_or(|synced| synced < updated));
        if new_base != link.base || keys_changed || link.last_error.is_some() || changed_since_sync
        {
            crate::reconcile::lock::fence().await?;
            (self.store)
                .save_base(link.id, &new_base, Some(&left.key), Some(&right.key))
                .await?;
        }
        let [to_left, to_right] = sent;
        Ok(Outcome::Synced {
            link_id: link.id,
            to_left,
            to_right,
            held,
        })
    }
}
