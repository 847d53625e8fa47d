//! Durable state of the sync: links between entities with their base snapshot, create intents
//! (so a twin is never created twice), the audit log, and poller cursors.
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
#[cfg(any(test, feature = "conformance"))]
pub mod testing;

use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use uuid::Uuid;

pub use model::*;
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

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
}
