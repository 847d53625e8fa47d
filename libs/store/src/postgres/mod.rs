//! The PostgreSQL implementation of [`Store`], for the distributed deployment.
//!
//! It owns the connection pools, the embedded migrations (`libs/store/migrations`) and the SQL;
//! callers see only the [`Store`] contract. Entity locks are session advisory locks held on
//! connections of a second, dedicated pool (see the `lock` module), so that workers holding
//! locks can never starve the queries they run while holding them.
//!
//! Queries are built at run time (`sqlx::query` with binds), not with the compile-time checked
//! macros, so the crate builds without a database; the conformance suite checks them instead.

mod error;
mod hashes;
mod links;
mod lock;
mod records;
mod sync_records;

use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_settings::DatabaseSettings;
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use uuid::Uuid;

use crate::{
    AuditEntry, CommentLink, Conflict, ConflictStatus, CreateIntent, DetachedLink, EntityLock,
    Link, NewAuditEntry, NewCommentLink, NewConflict, NewLink, Store, StoreError,
};
pub use lock::lock_id;

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A [`Store`] on PostgreSQL.
///
/// Cheap to clone: clones share the pools.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    locks: lock::LockPool,
}

impl PgStore {
    /// Connects (failing fast with [`StoreError::Unavailable`] when PostgreSQL is unreachable)
    /// and runs the migrations.
    ///
    /// Opens up to `max_connections` connections for queries plus up to `max_connections` for
    /// entity locks (one per lock held or being waited for).
    #[tracing::instrument(skip_all, fields(max_connections = settings.max_connections))]
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = connect_options(settings)?;
        let pool = pool_options(settings)
            .connect_with(options)
            .await
            .map_err(error::from_sqlx)?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Builds the store without connecting: start-up succeeds while PostgreSQL is down, and
    /// each operation reports [`StoreError::Unavailable`] until it is back. Does not migrate:
    /// call [`PgStore::migrate`] once the database answers.
    pub fn connect_lazy(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = connect_options(settings)?;
        Ok(Self::from_pool(
            pool_options(settings).connect_lazy_with(options),
        ))
    }

    /// Wraps an existing pool (not migrated: see [`PgStore::migrate`]). The lock pool gets the
    /// same connect options and size limit.
    pub fn from_pool(pool: PgPool) -> Self {
        let locks = lock::LockPool::for_pool(&pool);
        Self { pool, locks }
    }

    /// Applies the embedded migrations that are not applied yet. Safe to run from several
    /// processes at once: sqlx serializes them with an advisory lock.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(error::from_migrate)
    }

    /// The query pool, for callers that need a raw connection (tests, admin tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes both pools, waiting for borrowed connections to come back. Locks still held are
    /// released as their sessions end.
    pub async fn close(&self) {
        self.pool.close().await;
        self.locks.close().await;
    }
}

fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, StoreError> {
    settings
        .url
        .expose_secret()
        .parse::<PgConnectOptions>()
        // The URL may hold a password: neither it nor the parser's text goes into the error.
        .map_err(|_| StoreError::Unexpected("database.url is not a valid PostgreSQL URL".into()))
}

fn pool_options(settings: &DatabaseSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
}

#[async_trait]
impl Store for PgStore {
    #[tracing::instrument(skip_all, fields(%key, wait = ?wait))]
    async fn lock(
        &self,
        key: &str,
        wait: Duration,
    ) -> Result<Option<Box<dyn EntityLock>>, StoreError> {
        let guard = self.locks.lock(key, wait).await?;
        Ok(guard.map(|g| Box::new(g) as Box<dyn EntityLock>))
    }

    #[tracing::instrument(skip_all, fields(%connection, %side, %entity_id))]
    async fn find_link(
        &self,
        connection: &ConnectionId,
        side: Side,
        entity_id: &str,
    ) -> Result<Option<Link>, StoreError> {
        links::find(&self.pool, connection, side, entity_id).await
    }

    #[tracing::instrument(skip_all, fields(connection = %link.connection, left_id = %link.left_id, right_id = %link.right_id))]
    async fn insert_link(&self, link: NewLink) -> Result<Link, StoreError> {
        links::insert(&self.pool, link).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn save_base(
        &self,
        link_id: Uuid,
        base: &Snapshot,
        left_key: Option<&str>,
        right_key: Option<&str>,
    ) -> Result<(), StoreError> {
        links::save_base(&self.pool, link_id, base, left_key, right_key).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn record_error(&self, link_id: Uuid, error: &str) -> Result<(), StoreError> {
        links::record_error(&self.pool, link_id, error).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn delete_link(&self, link_id: Uuid) -> Result<(), StoreError> {
        links::delete(&self.pool, link_id).await
    }

    #[tracing::instrument(skip_all, fields(connection = connection.map(|c| c.as_str()), limit = limit))]
    async fn list_links(
        &self,
        connection: Option<&ConnectionId>,
        limit: i64,
    ) -> Result<Vec<Link>, StoreError> {
        links::list(&self.pool, connection, limit).await
    }

    #[tracing::instrument(skip_all, fields(%connection, %source_side, %source_id))]
    async fn begin_intent(
        &self,
        connection: &ConnectionId,
        source_side: Side,
        source_id: &str,
    ) -> Result<CreateIntent, StoreError> {
        records::begin_intent(&self.pool, connection, source_side, source_id).await
    }

    #[tracing::instrument(skip_all, fields(%connection, %source_side))]
    async fn open_intents(
        &self,
        connection: &ConnectionId,
        source_side: Side,
        limit: i64,
    ) -> Result<Vec<CreateIntent>, StoreError> {
        records::open_intents(&self.pool, connection, source_side, limit).await
    }

    #[tracing::instrument(skip_all, fields(%intent_id, %target_id))]
    async fn complete_intent(&self, intent_id: Uuid, target_id: &str) -> Result<(), StoreError> {
        records::complete_intent(&self.pool, intent_id, target_id).await
    }

    #[tracing::instrument(skip_all, fields(connection = %entry.connection, action = %entry.action, link_id = ?entry.link_id))]
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError> {
        records::append_audit(&self.pool, entry).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn audit_of(&self, link_id: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
        records::audit_of(&self.pool, link_id).await
    }

    #[tracing::instrument(skip_all, fields(%name))]
    async fn cursor(&self, name: &str) -> Result<Option<String>, StoreError> {
        records::cursor(&self.pool, name).await
    }

    #[tracing::instrument(skip_all, fields(%name, %value))]
    async fn advance_cursor(&self, name: &str, value: &str) -> Result<(), StoreError> {
        records::advance_cursor(&self.pool, name, value).await
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(error::from_sqlx)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%link_id, %reason))]
    async fn detach_link(&self, link_id: Uuid, reason: &str) -> Result<DetachedLink, StoreError> {
        sync_records::detach_link(&self.pool, link_id, reason).await
    }

    #[tracing::instrument(skip_all, fields(%connection, %side, %entity_id))]
    async fn find_detached(
        &self,
        connection: &ConnectionId,
        side: Side,
        entity_id: &str,
    ) -> Result<Option<DetachedLink>, StoreError> {
        sync_records::find_detached(&self.pool, connection, side, entity_id).await
    }

    #[tracing::instrument(skip_all, fields(link_id = %link.link_id, left_id = %link.left_id, right_id = %link.right_id))]
    async fn insert_comment_link(&self, link: NewCommentLink) -> Result<CommentLink, StoreError> {
        sync_records::insert_comment_link(&self.pool, link).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn comment_links(&self, link_id: Uuid) -> Result<Vec<CommentLink>, StoreError> {
        sync_records::comment_links(&self.pool, link_id).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn update_comment_link(
        &self,
        id: Uuid,
        left_hash: &str,
        right_hash: &str,
    ) -> Result<(), StoreError> {
        sync_records::update_comment_link(&self.pool, id, left_hash, right_hash).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn delete_comment_link(&self, id: Uuid) -> Result<(), StoreError> {
        sync_records::delete_comment_link(&self.pool, id).await
    }

    #[tracing::instrument(skip_all, fields(link_id = %conflict.link_id, field = %conflict.field))]
    async fn open_conflict(&self, conflict: NewConflict) -> Result<Conflict, StoreError> {
        sync_records::open_conflict(&self.pool, conflict).await
    }

    #[tracing::instrument(skip_all, fields(%link_id))]
    async fn conflicts_of(&self, link_id: Uuid) -> Result<Vec<Conflict>, StoreError> {
        sync_records::conflicts_of(&self.pool, link_id).await
    }

    #[tracing::instrument(skip_all, fields(connection = connection.map(|c| c.as_str()), limit = limit))]
    async fn list_conflicts(
        &self,
        connection: Option<&ConnectionId>,
        status: Option<ConflictStatus>,
        limit: i64,
    ) -> Result<Vec<Conflict>, StoreError> {
        sync_records::list_conflicts(&self.pool, connection, status, limit).await
    }

    #[tracing::instrument(skip_all, fields(%id))]
    async fn resolve_conflict(&self, id: Uuid, resolution: &str) -> Result<Conflict, StoreError> {
        sync_records::resolve_conflict(&self.pool, id, resolution).await
    }

    #[tracing::instrument(skip_all, fields(%scope))]
    async fn content_hashes(
        &self,
        scope: &str,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        hashes::load(&self.pool, scope).await
    }

    #[tracing::instrument(skip_all, fields(%scope, entries = entries.len()))]
    async fn set_content_hashes(
        &self,
        scope: &str,
        entries: &[(String, String)],
    ) -> Result<(), StoreError> {
        hashes::save(&self.pool, scope, entries).await
    }

    #[tracing::instrument(skip_all, fields(%scope, ids = ids.len()))]
    async fn forget_content_hashes(&self, scope: &str, ids: &[String]) -> Result<(), StoreError> {
        hashes::forget(&self.pool, scope, ids).await
    }
}
