//! The unlinked path: create an entity's twin on the other side exactly once, or recognise an
//! issue as a twin we created and (re)store its link.
//!
//! Exactly once, across crashes and concurrent workers:
//! 1. an intent is recorded before the create call (`begin_intent` is idempotent);
//! 2. the twin carries the origin marker property, set atomically by the create call;
//! 3. a retry that finds an intent without a target searches the other project for a twin
//!    whose marker names the source, before it creates anything;
//! 4. a twin seen before its link is stored waits on its origin's lock (see [`super::lock`]) and
//!    never gets a twin of its own; if its creator died, the twin's reconcile stores the link.

use chrono::{DateTime, Utc};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{Field, Side};
use jira_sync_store::{CreateIntent, Link, NewLink};
use serde_json::json;
use tracing::{info, warn};

use super::jira_map::{self, ORIGIN_PROPERTY, OriginMarker};
use super::lock::lock_key;
use super::{Ctx, Outcome, Reconciler, Step};

mod create;
use crate::error::ReconcileError;
use crate::jira::{Issue, SearchRequest};

/// How far before the intent the twin search looks (clock skew between us and Jira).
const SEARCH_MARGIN_MINUTES: i64 = 2;
/// Page size and page limit of the twin search.
const SEARCH_PAGE: u32 = 100;
const SEARCH_MAX_PAGES: usize = 50;

impl Reconciler {
    /// Reconciles an entity that has no link yet (the caller holds `held`).
    pub(super) async fn reconcile_unlinked(
        &self,
        ctx: &Ctx<'_>,
        held: &str,
    ) -> Result<Step, ReconcileError> {
        let detached = (self.store)
            .find_detached(ctx.id(), ctx.side, &ctx.request.entity_id)
            .await?;
        if let Some(detached) = detached {
            info!(link = %detached.id, reason = %detached.reason, "the pair of this issue stopped syncing; nothing to do");
            return Ok(Step::Done(Outcome::Skipped { reason: "detached" }));
        }
        let Some(source) = self.read(ctx, ctx.side, &ctx.request.entity_id).await? else {
            info!("issue is gone and was never linked; nothing to do");
            return Ok(Step::Done(Outcome::Deleted {
                side: ctx.side,
                link_id: None,
            }));
        };
        if !self.in_scope(ctx, ctx.side, &source) {
            info!(key = %source.key, "issue is outside the connection's scope");
            return Ok(Step::Done(Outcome::Skipped {
                reason: "out_of_scope",
            }));
        }
        // Ids are per site: the origin and its twin may well have the same id. Only when both
        // sides share a site does a marker naming the issue itself make no sense.
        let same_site = ctx.endpoint(ctx.side) == ctx.endpoint(ctx.side.other());
        let marker = OriginMarker::of(&source.properties).filter(|m| {
            m.is_from(ctx.id(), ctx.endpoint(ctx.side.other())) && !(same_site && m.id == source.id)
        });
        match marker {
            Some(marker) => self.adopt_twin(ctx, held, &source, &marker).await,
            None => self.ensure_twin(ctx, held, &source).await,
        }
    }

    /// `twin` carries our marker: it was created from `marker.id` on the other side.
    async fn adopt_twin(
        &self,
        ctx: &Ctx<'_>,
        held: &str,
        twin: &Issue,
        marker: &OriginMarker,
    ) -> Result<Step, ReconcileError> {
        let origin_side = ctx.side.other();
        let origin_key = lock_key(ctx.id(), origin_side, &marker.id, None);
        if origin_key != held {
            // Its creator holds this key until the link is stored: wait for it.
            return Ok(Step::Relock(origin_key));
        }
        // We hold the creator's lock, so the creator finished or died.
        if let Some(link) = (self.store)
            .find_link(ctx.id(), origin_side, &marker.id)
            .await?
        {
            if link.id_on(ctx.side) == twin.id {
                return self.continue_linked(ctx, held, link).await;
            }
            warn!(key = %twin.key, origin = %marker.id, "issue carries the marker of an origin linked elsewhere (a copy?); not syncing it");
            return Ok(Step::Done(Outcome::Skipped {
                reason: "foreign_marker",
            }));
        }
        let intent = (self.store)
            .begin_intent(ctx.id(), origin_side, &marker.id)
            .await?;
        match intent.target_id.as_deref() {
            Some(target) if target != twin.id => {
                warn!(key = %twin.key, origin = %marker.id, twin = target, "origin already has another twin; not syncing this copy");
                return Ok(Step::Done(Outcome::Skipped {
                    reason: "foreign_marker",
                }));
            }
            Some(_) => {}
            None => self.store.complete_intent(intent.id, &twin.id).await?,
        }
        let Some(origin) = self.read(ctx, origin_side, &marker.id).await? else {
            info!(origin = %marker.id, "the origin of this twin is gone; nothing to link");
            return Ok(Step::Done(Outcome::Skipped {
                reason: "origin_deleted",
            }));
        };
        // The creator died between create and link: store the link it could not.
        let base = self.snapshot(ctx, ctx.side, twin).await?;
        let link = self
            .link_pair(ctx, origin_side, &origin, twin, base)
            .await?;
        info!(link = %link.id, origin = %origin.key, twin = %twin.key, "repaired the link of an interrupted create");
        self.continue_linked(ctx, held, link).await
    }

    /// `source` is an original issue without a twin: find or create its twin, then link them.
    async fn ensure_twin(
        &self,
        ctx: &Ctx<'_>,
        held: &str,
        source: &Issue,
    ) -> Result<Step, ReconcileError> {
        let intent = (self.store)
            .begin_intent(ctx.id(), ctx.side, &source.id)
            .await?;
        let other = ctx.side.other();
        let existing = match intent.target_id.as_deref() {
            Some(twin_id) => Some(self.read(ctx, other, twin_id).await?.ok_or_else(|| {
                ReconcileError::TwinMissing {
                    twin_id: twin_id.to_owned(),
                }
            })?),
            None => self.find_twin(ctx, &intent, &source.id).await?,
        };
        if let Some(twin) = existing {
            return self.link_found_twin(ctx, held, &intent, source, twin).await;
        }

        let (twin, written) = match self.create_twin(ctx, source).await {
            Ok(created) => created,
            Err(error) if error.outcome_unknown() => {
                let look = || self.find_twin(ctx, &intent, &source.id);
                return match self
                    .await_unknown_outcome(&error, "twin create", look)
                    .await?
                {
                    Some(twin) => self.link_found_twin(ctx, held, &intent, source, twin).await,
                    None => Err(error),
                };
            }
            Err(error) => return Err(error),
        };
        self.store.complete_intent(intent.id, &twin.id).await?;
        let (twin, base, moved) = self.settle_twin(ctx, source, twin, &written).await?;
        let link = (self.link_pair(ctx, ctx.side, source, &twin, base)).await?;
        self.audit(ctx, Some(link.id), "create", other, &written)
            .await?;
        if let Some(reached) = moved {
            let change = json!({ "status": written.get(Field::Status.as_str()), "reached": reached.name, "path": reached.path });
            self.audit_value(
                ctx,
                Some(link.id),
                "transition",
                other,
                &[Field::Status.as_str()],
                change,
            )
            .await?;
        }
        info!(link = %link.id, twin = %twin.key, "created the twin");
        let (left, right) = match ctx.side {
            Side::Left => (source, &twin),
            Side::Right => (&twin, source),
        };
        // From the moment the link is stored, requests for either issue lock the pair's key.
        // Creating from the right side we hold the source's own key, so the comment copies
        // take the pair's key as well: without it, a comment webhook arriving now would copy
        // the same comments beside us. (Taken in this order only: nothing holding a pair's
        // key waits for an unlinked issue's.)
        let mapper = self.mapper(ctx);
        let comments = Box::pin(self.sync_comments(ctx, &mapper, &link, left, right));
        let pair_key = lock_key(ctx.id(), ctx.side, &ctx.request.entity_id, Some(&link));
        if pair_key == held {
            comments.await?;
        } else {
            self.under_lock(&pair_key, comments).await?;
        }
        Ok(Step::Done(Outcome::Created {
            link_id: link.id,
            twin_id: twin.id,
            twin_key: twin.key,
        }))
    }

    /// Links `source` to `twin`, a twin made by an earlier create whose answer never arrived.
    async fn link_found_twin(
        &self,
        ctx: &Ctx<'_>,
        held: &str,
        intent: &CreateIntent,
        source: &Issue,
        twin: Issue,
    ) -> Result<Step, ReconcileError> {
        if intent.target_id.is_none() {
            self.store.complete_intent(intent.id, &twin.id).await?;
        }
        let base = self.snapshot(ctx, ctx.side.other(), &twin).await?;
        let link = self.link_pair(ctx, ctx.side, source, &twin, base).await?;
        info!(link = %link.id, twin = %twin.key, "found the twin of an interrupted create and linked it");
        self.continue_linked(ctx, held, link).await
    }

    /// Searches the other side's project for a twin whose marker names `source_id`, among the
    /// issues created since shortly before the intent.
    pub(super) async fn find_twin(
        &self,
        ctx: &Ctx<'_>,
        intent: &CreateIntent,
        source_id: &str,
    ) -> Result<Option<Issue>, ReconcileError> {
        let other = ctx.side.other();
        let project = &ctx.config(other).project;
        let mut request = SearchRequest {
            jql: twin_search_jql(project, intent.created_at, Utc::now()),
            fields: {
                let mapper = self.mapper(ctx);
                jira_map::read_fields(ctx.rules.keys().filter_map(|k| mapper.jira_id(k, other)))
            },
            properties: vec![ORIGIN_PROPERTY.to_owned()],
            max_results: SEARCH_PAGE,
            next_page_token: None,
        };
        // Plain REST properties are not JQL-searchable on real Jira: filter here.
        let source_endpoint = ctx.endpoint(ctx.side);
        for _ in 0..SEARCH_MAX_PAGES {
            let page = (ctx.client(other).search_jql(&request).await).map_err(|e| {
                ReconcileError::jira(
                    ctx.endpoint(other),
                    "search",
                    format!("project {project}"),
                    e,
                )
            })?;
            let found = page.issues.into_iter().find(|issue| {
                OriginMarker::of(&issue.properties)
                    .is_some_and(|m| m.is_from(ctx.id(), source_endpoint) && m.id == source_id)
            });
            if found.is_some() {
                return Ok(found);
            }
            match page.next_page_token {
                Some(token) if !page.is_last => request.next_page_token = Some(token),
                _ => return Ok(None),
            }
        }
        warn!(%project, "twin search stopped after {SEARCH_MAX_PAGES} pages without a match");
        Ok(None)
    }

    /// Stores the link between `source` on `source_side` and its twin.
    async fn link_pair(
        &self,
        ctx: &Ctx<'_>,
        source_side: Side,
        source: &Issue,
        twin: &Issue,
        base: Snapshot,
    ) -> Result<Link, ReconcileError> {
        let (left, right) = match source_side {
            Side::Left => (source, twin),
            Side::Right => (twin, source),
        };
        let link = NewLink {
            connection: ctx.id().clone(),
            left_id: left.id.clone(),
            right_id: right.id.clone(),
            left_key: Some(left.key.clone()),
            right_key: Some(right.key.clone()),
            base,
        };
        Ok(self.store.insert_link(link).await?)
    }

    /// After a link was found or repaired: merge the pair now (their fields may have drifted
    /// since the create) if we hold the pair's lock, else take it.
    async fn continue_linked(
        &self,
        ctx: &Ctx<'_>,
        held: &str,
        link: Link,
    ) -> Result<Step, ReconcileError> {
        let needed = lock_key(ctx.id(), ctx.side, &ctx.request.entity_id, Some(&link));
        if needed == held {
            self.reconcile_linked(ctx, link).await.map(Step::Done)
        } else {
            Ok(Step::Relock(needed))
        }
    }
}

/// The JQL that lists the issues of `project` created since shortly before `since`, newest
/// first. The date is relative to the server's "now" (`-Nm`), because Jira reads absolute JQL
/// dates in the searching user's time zone: a bot west of UTC would otherwise search too late
/// a window and miss the twin. The margin covers clock skew and the minute grain.
pub(crate) fn twin_search_jql(project: &str, since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let elapsed = (now - since).num_seconds().max(0);
    let minutes = (elapsed + 59) / 60 + SEARCH_MARGIN_MINUTES;
    let project = project.replace('\\', "\\\\").replace('"', "\\\"");
    format!("project = \"{project}\" AND created >= \"-{minutes}m\" ORDER BY created DESC")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_twin_search_starts_two_minutes_before_the_intent_relative_to_now() {
        let since = Utc.with_ymd_and_hms(2026, 11, 24, 10, 1, 30).single();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 4, 0).single();
        let jql = since.zip(now).map(|(s, n)| twin_search_jql("PART", s, n));
        assert_eq!(
            jql.as_deref(),
            Some(r#"project = "PART" AND created >= "-5m" ORDER BY created DESC"#),
            "2 min 30 s ago rounds up to 3 minutes, plus the 2-minute margin"
        );
    }

    #[test]
    fn quotes_in_a_project_key_cannot_break_out_of_the_jql_string() {
        let jql = twin_search_jql(r#"A" OR project = "B"#, Utc::now(), Utc::now());
        assert!(jql.starts_with(r#"project = "A\" OR project = \"B" AND"#));
    }
}
