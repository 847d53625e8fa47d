//! Durable state of the sync: links between entities with their base snapshot, create intents
//! (so a twin is never created twice), the audit log, poller cursors and content hashes, and the
//! records of a full sync: comment links, held conflicts and detached links (see `sync_model`).
//!
//! [`Store`] is the contract; [`postgres::PgStore`] implements it for the distributed deployment,
//! and `sqlite::SqliteStore` (feature `sqlite`) for the single-process embedded mode.
//! The `conformance` suite runs against every implementation, and `testing` hands other
//! crates' tests a fresh PostgreSQL database (both behind the `conformance` feature).

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod model;
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod sync_model;
#[cfg(any(test, feature = "conformance"))]
pub mod testing;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use uuid::Uuid;

pub use model::*;
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};
pub use sync_model::*;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is unreachable or timed out: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was violated (for example a second link for one entity).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Anything else (a bug, a schema mismatch, corrupt data): the source is kept.
    #[error(transparent)]
    Unexpected(Box<dyn std::error::Error + Send + Sync>),
}

/// An exclusive lock on one entity key, held until released or dropped. Across processes: a
/// second `try_lock` of the same key anywhere fails while this one is held.
#[async_trait]
pub trait EntityLock: Send {
    async fn release(self: Box<Self>) -> Result<(), StoreError>;

    /// Whether the lock is still this guard's. `Ok(false)` once it may be someone else's:
    /// on PostgreSQL the session holding it is gone, on SQLite its lease ran out (the holder
    /// stalled longer than the lease) or its row changed hands. A lock held for long (a
    /// poller's leadership) asks before each step that must not run twice at once. `Err` when
    /// the answer cannot be had (the database is unavailable): treat the lock as lost. The
    /// default answers `true`, for locks that cannot be lost while their guard lives.
    async fn is_held(&mut self) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// The repository of sync state.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Takes the lock on `key`, waiting up to `wait`; `Ok(None)` if it is still held elsewhere.
    async fn lock(
        &self,
        key: &str,
        wait: Duration,
    ) -> Result<Option<Box<dyn EntityLock>>, StoreError>;

    /// The link of an entity on one side of a connection.
    async fn find_link(
        &self,
        connection: &ConnectionId,
        side: Side,
        entity_id: &str,
    ) -> Result<Option<Link>, StoreError>;

    /// Stores a new link; `Conflict` if either entity is already linked in that connection.
    async fn insert_link(&self, link: NewLink) -> Result<Link, StoreError>;

    /// Records a successful sync: the new base, keys as last seen, and clears the last error.
    /// A key given as `None` keeps the stored one. `NotFound` if the link does not exist.
    async fn save_base(
        &self,
        link_id: Uuid,
        base: &Snapshot,
        left_key: Option<&str>,
        right_key: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Records a failed attempt on a link. `NotFound` if the link does not exist.
    async fn record_error(&self, link_id: Uuid, error: &str) -> Result<(), StoreError>;

    /// Removes a link (unlink policy, or both entities deleted). Removing a link that is
    /// already gone succeeds.
    async fn delete_link(&self, link_id: Uuid) -> Result<(), StoreError>;

    /// Lists links of a connection (all connections when `None`), newest first.
    async fn list_links(
        &self,
        connection: Option<&ConnectionId>,
        limit: i64,
    ) -> Result<Vec<Link>, StoreError>;

    /// Records (or returns the existing) intent to create the twin of `source_id`.
    async fn begin_intent(
        &self,
        connection: &ConnectionId,
        source_side: Side,
        source_id: &str,
    ) -> Result<CreateIntent, StoreError>;

    /// The intents of `connection` from `source_side` that name no twin yet (a create in
    /// progress, or one whose outcome was never learned), newest first, at most `limit`.
    async fn open_intents(
        &self,
        connection: &ConnectionId,
        source_side: Side,
        limit: i64,
    ) -> Result<Vec<CreateIntent>, StoreError>;

    /// Marks an intent done, with the id of the twin that now exists. Repeating it with the
    /// same target succeeds; another target is a `Conflict`; an unknown intent `NotFound`.
    async fn complete_intent(&self, intent_id: Uuid, target_id: &str) -> Result<(), StoreError>;

    /// Appends an entry to the audit log.
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError>;

    /// Audit entries of a link, oldest first.
    async fn audit_of(&self, link_id: Uuid) -> Result<Vec<AuditEntry>, StoreError>;

    /// A named cursor (for example a poller's last `updated` time).
    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Advances a cursor; a value that sorts before the stored one is ignored (monotonic).
    /// Values compare as byte strings, so they must sort chronologically as text: RFC 3339 UTC
    /// times of fixed width (`2026-11-24T10:00:00.000Z`), zero-padded numbers.
    async fn advance_cursor(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Whether the database answers (for readiness probes).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stops syncing a pair for good: moves the link (and its comment links' fate with it:
    /// they are removed) to the detached links, with `reason`. Its entities then reconcile to
    /// "detached" instead of getting new twins. Detaching again returns the same record; an
    /// unknown link is `NotFound`.
    async fn detach_link(&self, link_id: Uuid, reason: &str) -> Result<DetachedLink, StoreError>;

    /// The latest detached link of an entity on one side of a connection.
    async fn find_detached(
        &self,
        connection: &ConnectionId,
        side: Side,
        entity_id: &str,
    ) -> Result<Option<DetachedLink>, StoreError>;

    /// Stores a comment link; `Conflict` if either comment is already linked in that
    /// connection, `NotFound` if the issue link does not exist. Removed with its issue link.
    async fn insert_comment_link(&self, link: NewCommentLink) -> Result<CommentLink, StoreError>;

    /// The comment links of an issue link, oldest first.
    async fn comment_links(&self, link_id: Uuid) -> Result<Vec<CommentLink>, StoreError>;

    /// Records both sides' body digests after a sync. `NotFound` if the comment link is gone.
    async fn update_comment_link(
        &self,
        id: Uuid,
        left_hash: &str,
        right_hash: &str,
    ) -> Result<(), StoreError>;

    /// Removes a comment link (one of the comments was deleted). Removing one that is already
    /// gone succeeds.
    async fn delete_comment_link(&self, id: Uuid) -> Result<(), StoreError>;

    /// Records a held conflict. There is at most one open conflict per link and field: if one
    /// is open, its values are updated and it is returned.
    async fn open_conflict(&self, conflict: NewConflict) -> Result<Conflict, StoreError>;

    /// The conflicts of a link, open and resolved, oldest first.
    async fn conflicts_of(&self, link_id: Uuid) -> Result<Vec<Conflict>, StoreError>;

    /// Conflicts of a connection (all when `None`) with a status (any when `None`), newest
    /// first.
    async fn list_conflicts(
        &self,
        connection: Option<&ConnectionId>,
        status: Option<ConflictStatus>,
        limit: i64,
    ) -> Result<Vec<Conflict>, StoreError>;

    /// Marks a conflict resolved with `resolution`. Resolving it again keeps the first
    /// resolution and returns the record; an unknown conflict is `NotFound`.
    async fn resolve_conflict(&self, id: Uuid, resolution: &str) -> Result<Conflict, StoreError>;

    /// The content hashes of a scope (for example the tasks of one PeopleForce side), by
    /// entity id: what a full scan compares against to enqueue only what changed.
    async fn content_hashes(&self, scope: &str) -> Result<HashMap<String, String>, StoreError>;

    /// Stores or replaces `(entity id, hash)` pairs of a scope, all or none.
    async fn set_content_hashes(
        &self,
        scope: &str,
        entries: &[(String, String)],
    ) -> Result<(), StoreError>;

    /// Forgets the hashes of entities of a scope (they no longer exist); unknown ids are
    /// ignored.
    async fn forget_content_hashes(&self, scope: &str, ids: &[String]) -> Result<(), StoreError>;
}
