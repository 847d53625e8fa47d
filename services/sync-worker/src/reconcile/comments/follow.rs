//! Linked comment pairs: an edit on one side is copied over (the original wins when both
//! moved), a deletion on one side deletes the other, as `comment_direction` allows.

use jira_sync_domain::Side;
use jira_sync_store::CommentLink;
use serde_json::json;

use super::super::jira_map::Mapper;
use super::super::{Ctx, Reconciler};
use super::{CommentMarker, CommentStats, Pair, author_name, body, ix};
use crate::error::ReconcileError;
use crate::jira::Comment;

impl Reconciler {
    /// Brings one linked comment pair up to date: an edit on one side is copied over, a
    /// deletion on one side deletes the other.
    pub(super) async fn follow(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        pair: &Pair<'_>,
        cl: &CommentLink,
        stats: &mut CommentStats,
    ) -> Result<(), ReconcileError> {
        let direction = ctx.connection.sync.comment_direction;
        let found = |side: Side| pair.comments[ix(side)].get(cl.id_on(side));
        let (left, right) = (found(Side::Left), found(Side::Right));
        let (gone, survivor) = match (left, right) {
            (Some(l), Some(r)) => {
                return self.follow_edit(ctx, mapper, pair, cl, [l, r], stats).await;
            }
            (None, None) => return Ok(self.store.delete_comment_link(cl.id).await?),
            (None, Some(_)) => (Side::Left, Side::Right),
            (Some(_), None) => (Side::Right, Side::Left),
        };
        if direction.allows_from(gone) {
            let issue = pair.issues[ix(survivor)];
            let id = cl.id_on(survivor);
            crate::reconcile::lock::fence().await?;
            match ctx.client(survivor).delete_comment(&issue.id, id).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(ReconcileError::jira(
                        ctx.endpoint(survivor),
                        "delete a comment of",
                        issue.key.clone(),
                        e,
                    ));
                }
            }
            stats.deleted += 1;
            let change =
                json!({ "comment": id, "deleted_on": gone.as_str(), "source": cl.id_on(gone) });
            self.audit_value(
                ctx,
                Some(pair.link.id),
                "comment_delete",
                survivor,
                &["comment"],
                change,
            )
            .await?;
        }
        Ok(self.store.delete_comment_link(cl.id).await?)
    }

    /// Deletes copies whose original is gone although no link joins them: the copy was posted,
    /// the attempt failed before linking it (a lost answer, a timeout, a crash), and the
    /// original was deleted before the retry. The delete follows, as it would for a linked pair.
    pub(super) async fn remove_unlinked_copies(
        &self,
        ctx: &Ctx<'_>,
        pair: &mut Pair<'_>,
        stats: &mut CommentStats,
    ) -> Result<(), ReconcileError> {
        for side in [Side::Left, Side::Right] {
            let origin = side.other();
            if !ctx.connection.sync.comment_direction.allows_from(origin) {
                continue;
            }
            let (issue, origin_issue) = (pair.issues[ix(side)], pair.issues[ix(origin)]);
            let stale: Vec<String> = (pair.comments[ix(side)].values())
                .filter(|c| !pair.linked[ix(side)].contains(&c.id))
                .filter(|c| {
                    CommentMarker::of(c).is_some_and(|m| {
                        m.connection == ctx.id().as_str()
                            && m.endpoint == ctx.endpoint(origin).as_str()
                            && m.issue == origin_issue.id
                            && !pair.comments[ix(origin)].contains_key(&m.comment)
                    })
                })
                .map(|c| c.id.clone())
                .collect();
            for id in stale {
                crate::reconcile::lock::fence().await?;
                match ctx.client(side).delete_comment(&issue.id, &id).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(ReconcileError::jira(
                            ctx.endpoint(side),
                            "delete a comment of",
                            issue.key.clone(),
                            e,
                        ));
                    }
                }
                pair.comments[ix(side)].remove(&id);
                stats.deleted += 1;
                let change =
                    json!({ "comment": id, "deleted_on": origin.as_str(), "unlinked_copy": true });
                self.audit_value(
                    ctx,
                    Some(pair.link.id),
                    "comment_delete",
                    side,
                    &["comment"],
                    change,
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn follow_edit(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        pair: &Pair<'_>,
        cl: &CommentLink,
        comments: [&Comment; 2],
        stats: &mut CommentStats,
    ) -> Result<(), ReconcileError> {
        let mut contents = Vec::with_capacity(2);
        for side in [Side::Left, Side::Right] {
            let copy = cl.origin != side;
            contents.push(
                self.content(ctx, mapper, side, comments[ix(side)], copy)
                    .await?,
            );
        }
        let changed = |side: Side| contents[ix(side)].1 != cl.hash_on(side);
        let from = match (changed(Side::Left), changed(Side::Right)) {
            (true, true) => cl.origin,
            (true, false) => Side::Left,
            (false, true) => Side::Right,
            (false, false) => return Ok(()),
        };
        if !ctx.connection.sync.comment_direction.allows_from(from) {
            return Ok(());
        }
        let to = from.other();
        let source = comments[ix(from)];
        let content = &contents[ix(from)].0;
        let new_body = if cl.origin == from {
            let author = author_name(source);
            body::copy_body(
                &mapper.people,
                content,
                to,
                &author,
                &self.site(ctx.endpoint(from)),
            )
            .await?
        } else {
            mapper.people.mentions_for(content, to).await?
        };
        let issue = pair.issues[ix(to)];
        crate::reconcile::lock::fence().await?;
        let updated = (ctx
            .client(to)
            .update_comment(&issue.id, cl.id_on(to), &new_body)
            .await)
            .map_err(|e| {
                ReconcileError::jira(ctx.endpoint(to), "edit a comment of", issue.key.clone(), e)
            })?;
        let (_, to_digest) = self
            .content(ctx, mapper, to, &updated, cl.origin != to)
            .await?;
        let mut digests = [cl.left_hash.clone(), cl.right_hash.clone()];
        digests[ix(from)] = contents[ix(from)].1.clone();
        digests[ix(to)] = to_digest;
        self.store
            .update_comment_link(cl.id, &digests[0], &digests[1])
            .await?;
        stats.updated += 1;
        let change = json!({ "comment": cl.id_on(to), "source": cl.id_on(from) });
        self.audit_value(
            ctx,
            Some(pair.link.id),
            "comment_update",
            to,
            &["comment"],
            change,
        )
        .await
    }
}
