//! Comments of a linked pair, both ways: created, edited and deleted.
//!
//! Each comment and its copy are joined by a comment link in the store, which keeps a digest of
//! each side's body (in canonical form) after the last sync: a side whose digest moved was
//! edited there, and the edit is copied over (if both moved, the original wins). A comment
//! whose partner is gone is deleted. Copies are attributed ("Alice Example wrote in Acme
//! Jira:") and carry the comment property `jira-sync.origin`, set atomically when created, so
//! that they are never copied back, and so that a retry after a crash between "created" and
//! "linked" finds the copy instead of posting a second one (a create intent is recorded first,
//! as for twins). Restricted comments (`visibility`) and internal service-desk notes
//! (`jsdPublic = false`) stay on their site unless `sync_internal_comments` is set.

mod body;
mod follow;

use std::collections::{HashMap, HashSet};

use jira_sync_domain::{EndpointId, Side};
use jira_sync_store::{Link, NewCommentLink};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::info;

use super::jira_map::{Mapper, ORIGIN_PROPERTY};
use super::{Ctx, Reconciler};
use crate::error::ReconcileError;
use crate::jira::{Comment, EntityProperty, Issue};

/// The issue field listing an issue's comments; the issue reads ask for it for its `total`.
pub(super) const COMMENT_FIELD: &str = "comment";

/// The comment property a service desk uses to mark an internal note.
const INTERNAL_PROPERTY: &str = "sd.public.comment";

/// The value of [`ORIGIN_PROPERTY`] on a comment copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentMarker {
    pub connection: String,
    /// The endpoint of the original comment.
    pub endpoint: String,
    /// The original comment's id.
    pub comment: String,
    /// The issue it is on.
    pub issue: String,
}

impl CommentMarker {
    fn of(comment: &Comment) -> Option<Self> {
        serde_json::from_value(comment.property(ORIGIN_PROPERTY)?.clone()).ok()
    }
}

/// What a comment sync wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommentStats {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// The comments of both issues of a pair.
struct Pair<'a> {
    link: &'a Link,
    issues: [&'a Issue; 2],
    comments: [HashMap<String, Comment>; 2],
    /// Comment ids that have a link (or got one in this pass), per side.
    linked: [HashSet<String>; 2],
}

fn ix(side: Side) -> usize {
    usize::from(side == Side::Right)
}

/// The number of comments an issue read with [`COMMENT_FIELD`] reports; `None` when the
/// field is missing (then the comments are listed).
fn comment_total(issue: &Issue) -> Option<u64> {
    issue.field(COMMENT_FIELD)?.get("total")?.as_u64()
}

fn is_internal(comment: &Comment) -> bool {
    comment.visibility.as_ref().is_some_and(|v| !v.is_null()) || comment.jsd_public == Some(false)
}

impl Reconciler {
    /// Syncs the comments of a linked pair (the caller holds the pair's lock).
    pub(super) async fn sync_comments(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        link: &Link,
        left: &Issue,
        right: &Issue,
    ) -> Result<CommentStats, ReconcileError> {
        let mut stats = CommentStats::default();
        if !ctx.connection.sync.sync_comments {
            return Ok(stats);
        }
        // Listing comments costs a call per side. When both reads say there is no comment and
        // no comment link is left to clean up, there is nothing to list (most issues).
        if comment_total(left) == Some(0)
            && comment_total(right) == Some(0)
            && self.store.comment_links(link.id).await?.is_empty()
        {
            return Ok(stats);
        }
        let read = |side: Side, issue: &Issue| {
            let (client, endpoint, key) = (
                ctx.client(side),
                ctx.endpoint(side).clone(),
                issue.key.clone(),
            );
            let id = issue.id.clone();
            async move {
                (client.comments(&id).await)
                    .map_err(|e| ReconcileError::jira(&endpoint, "read comments of", key, e))
            }
        };
        let (l, r) = tokio::try_join!(read(Side::Left, left), read(Side::Right, right))?;
        let index = |list: Vec<Comment>| list.into_iter().map(|c| (c.id.clone(), c)).collect();
        let mut pair = Pair {
            link,
            issues: [left, right],
            comments: [index(l), index(r)],
            linked: [HashSet::new(), HashSet::new()],
        };
        for cl in self.store.comment_links(link.id).await? {
            pair.linked[0].insert(cl.left_id.clone());
            pair.linked[1].insert(cl.right_id.clone());
            self.follow(ctx, mapper, &pair, &cl, &mut stats).await?;
        }
        self.adopt_copies(ctx, mapper, &mut pair).await?;
        self.remove_unlinked_copies(ctx, &mut pair, &mut stats)
            .await?;
        for side in [Side::Left, Side::Right] {
            let mut new: Vec<&Comment> = (pair.comments[ix(side)].values())
                .filter(|c| !pair.linked[ix(side)].contains(&c.id))
                .collect();
            new.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
            let new: Vec<Comment> = new.into_iter().cloned().collect();
            for comment in new {
                if self.copy(ctx, mapper, &pair, side, &comment).await? {
                    stats.created += 1;
                }
            }
        }
        if stats != CommentStats::default() {
            info!(link = %link.id, ?stats, "synced comments");
        }
        Ok(stats)
    }

    fn site(&self, endpoint: &EndpointId) -> String {
        self.settings.site_name(endpoint)
    }

    /// Canonical content and digest of `comment` on `side` in comment link `cl` (or as a new
    /// original when `cl` is `None`).
    pub(super) async fn content(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        side: Side,
        comment: &Comment,
        copy: bool,
    ) -> Result<(Value, String), ReconcileError> {
        let origin_site = copy.then(|| self.site(ctx.endpoint(side.other())));
        let canonical =
            body::canonical(&mapper.people, &comment.body, side, origin_site.as_deref()).await?;
        let digest = body::digest(&canonical);
        Ok((canonical, digest))
    }

    /// Links copies we made whose link was never stored (a crash after posting them).
    async fn adopt_copies(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        pair: &mut Pair<'_>,
    ) -> Result<(), ReconcileError> {
        for side in [Side::Left, Side::Right] {
            let origin = side.other();
            let orphans: Vec<Comment> = (pair.comments[ix(side)].values())
                .filter(|c| !pair.linked[ix(side)].contains(&c.id))
                .filter(|c| {
                    CommentMarker::of(c).is_some_and(|m| {
                        m.connection == ctx.id().as_str()
                            && m.endpoint == ctx.endpoint(origin).as_str()
                            && pair.comments[ix(origin)].contains_key(&m.comment)
                            && !pair.linked[ix(origin)].contains(&m.comment)
                    })
                })
                .cloned()
                .collect();
            for copy in orphans {
                let Some(marker) = CommentMarker::of(&copy) else {
                    continue;
                };
                let Some(original) = pair.comments[ix(origin)].get(&marker.comment).cloned() else {
                    continue;
                };
                self.link_comments(ctx, mapper, pair, origin, &original, &copy)
                    .await?;
                info!(comment = %original.id, copy = %copy.id, "linked the copy of an interrupted comment sync");
            }
        }
        Ok(())
    }

    async fn link_comments(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        pair: &mut Pair<'_>,
        origin: Side,
        original: &Comment,
        copy: &Comment,
    ) -> Result<(), ReconcileError> {
        let (_, origin_digest) = self.content(ctx, mapper, origin, original, false).await?;
        let (_, copy_digest) = self
            .content(ctx, mapper, origin.other(), copy, true)
            .await?;
        let (ids, digests) = match origin {
            Side::Left => ([&original.id, &copy.id], [origin_digest, copy_digest]),
            Side::Right => ([&copy.id, &original.id], [copy_digest, origin_digest]),
        };
        let intent = self
            .store
            .begin_intent(ctx.id(), origin, &comment_source(&original.id))
            .await?;
        if intent.target_id.is_none() {
            self.store.complete_intent(intent.id, &copy.id).await?;
        }
        self.store
            .insert_comment_link(NewCommentLink {
                link_id: pair.link.id,
                connection: ctx.id().clone(),
                left_id: ids[0].clone(),
                right_id: ids[1].clone(),
                origin,
                left_hash: digests[0].clone(),
                right_hash: digests[1].clone(),
            })
            .await?;
        pair.linked[ix(origin)].insert(original.id.clone());
        pair.linked[ix(origin.other())].insert(copy.id.clone());
        Ok(())
    }

    /// Copies a comment without a link to the other side; `false` when it is not to be copied.
    async fn copy(
        &self,
        ctx: &Ctx<'_>,
        mapper: &Mapper<'_>,
        pair: &Pair<'_>,
        side: Side,
        comment: &Comment,
    ) -> Result<bool, ReconcileError> {
        let sync = &ctx.connection.sync;
        let ours = CommentMarker::of(comment).is_some_and(|m| m.connection == ctx.id().as_str());
        let internal = is_internal(comment);
        if ours
            || (internal && !sync.sync_internal_comments)
            || !sync.comment_direction.allows_from(side)
        {
            return Ok(false);
        }
        let target = side.other();
        let intent = self
            .store
            .begin_intent(ctx.id(), side, &comment_source(&comment.id))
            .await?;
        if let Some(copy_id) = intent.target_id {
            // Posted before and not linkable now (the copy was deleted there): never again.
            info!(comment = %comment.id, copy = %copy_id, "comment was copied before; not copying it again");
            return Ok(false);
        }
        let (content, digest) = self.content(ctx, mapper, side, comment, false).await?;
        let author = author_name(comment);
        let new_body = body::copy_body(
            &mapper.people,
            &content,
            target,
            &author,
            &self.site(ctx.endpoint(side)),
        )
        .await?;
        let issue = pair.issues[ix(target)];
        let mut properties = vec![EntityProperty {
            key: ORIGIN_PROPERTY.to_owned(),
            value: serde_json::to_value(CommentMarker {
                connection: ctx.id().to_string(),
                endpoint: ctx.endpoint(side).to_string(),
                comment: comment.id.clone(),
                issue: pair.issues[ix(side)].id.clone(),
            })
            .unwrap_or(Value::Null),
        }];
        if comment.jsd_public == Some(false) {
            properties.push(EntityProperty {
                key: INTERNAL_PROPERTY.to_owned(),
                value: json!({"internal": true}),
            });
        }
        let visibility = comment
            .visibility
            .as_ref()
            .filter(|v| internal && !v.is_null());
        crate::reconcile::lock::fence().await?;
        let posted = (ctx
            .client(target)
            .add_comment_restricted(&issue.id, &new_body, visibility, &properties)
            .await)
            .map_err(|e| {
                ReconcileError::jira(
                    ctx.endpoint(target),
                    "copy a comment to",
                    issue.key.clone(),
                    e,
                )
            });
        let created = match posted {
            Ok(created) => created,
            Err(error) if error.outcome_unknown() => {
                let look = || self.find_copy(ctx, side, issue, &comment.id);
                match self
                    .await_unknown_outcome(&error, "comment copy", look)
                    .await?
                {
                    Some(copy) => copy,
                    None => return Err(error),
                }
            }
            Err(error) => return Err(error),
        };
        self.store.complete_intent(intent.id, &created.id).await?;
        let (_, copy_digest) = self.content(ctx, mapper, target, &created, true).await?;
        let (left_id, right_id, left_hash, right_hash) = match side {
            Side::Left => (comment.id.clone(), created.id.clone(), digest, copy_digest),
            Side::Right => (created.id.clone(), comment.id.clone(), copy_digest, digest),
        };
        self.store
            .insert_comment_link(NewCommentLink {
                link_id: pair.link.id,
                connection: ctx.id().clone(),
                left_id,
                right_id,
                origin: side,
                left_hash,
                right_hash,
            })
            .await?;
        let change = json!({ "comment": created.id, "source": comment.id, "author": author });
        self.audit_value(
            ctx,
            Some(pair.link.id),
            "comment_create",
            target,
            &["comment"],
            change,
        )
        .await?;
        Ok(true)
    }
}

impl Reconciler {
    /// The copy of comment `original` (on `side`) on the other side's `issue`, if there is one.
    async fn find_copy(
        &self,
        ctx: &Ctx<'_>,
        side: Side,
        issue: &Issue,
        original: &str,
    ) -> Result<Option<Comment>, ReconcileError> {
        let target = side.other();
        let comments = (ctx.client(target).comments(&issue.id).await).map_err(|e| {
            ReconcileError::jira(
                ctx.endpoint(target),
                "read comments of",
                issue.key.clone(),
                e,
            )
        })?;
        Ok(comments.into_iter().find(|c| {
            CommentMarker::of(c).is_some_and(|m| {
                m.connection == ctx.id().as_str()
                    && m.endpoint == ctx.endpoint(side).as_str()
                    && m.comment == original
            })
        }))
    }
}

/// The intent key of a comment copy (issue intents use bare issue ids, so they never meet).
fn comment_source(comment_id: &str) -> String {
    format!("comment:{comment_id}")
}

fn author_name(comment: &Comment) -> String {
    comment
        .author
        .as_ref()
        .map(|a| a.display_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Someone".to_owned())
}
