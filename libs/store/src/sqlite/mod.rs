//! The SQLite implementation of [`Store`], for the single-process embedded mode: no server, one
//! database file (or memory, for demos and unit tests).
//!
//! It owns the pool, the embedded migrations (`libs/store/migrations-sqlite`: the PostgreSQL
//! schema in SQLite's types) and the SQL; callers see only the [`Store`] contract. A file is
//! opened in WAL mode, so readers never wait for the writer, with `synchronous = FULL` (a commit
//! survives a power cut: the store remembers create intents, losing one could duplicate a twin)
//! and a `busy_timeout`, so that connections and processes sharing the file wait for each
//! other's short writes instead of failing. Every write is a single statement, which takes
//! SQLite's write lock before reading anything: no write fails with `SQLITE_BUSY_SNAPSHOT`.
//!
//! Entity locks are leased rows of a `locks` table (see the `lock` module): SQLite has no
//! advisory locks. Two `SqliteStore`s on one file behave as two processes would.
//!
//! Stored formats (see `codec`): UUIDs as hyphenated text, times as fixed-width RFC 3339 UTC
//! text with nanoseconds, JSON as text. Cursors compare byte-wise (BINARY collation).

mod codec;
mod error;
mod hashes;
mod links;
mod lock;
mod records;
mod sync_records;
#[cfg(any(test, feature = "conformance"))]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_settings::DatabaseSettings;
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use crate::{
    AuditEntry, CommentLink, Conflict, ConflictStatus, CreateIntent, DetachedLink, EntityLock,
    Link, NewAuditEntry, NewCommentLink, NewConflict, NewLink, Store, StoreError,
};

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations-sqlite");

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Pooled connections (an in-memory database always has exactly one).
    pub max_connections: u32,
    /// How long a statement waits for the write lock held by another connection or process
    /// (SQLite's `busy_timeout`), and how long a caller waits for a pooled connection.
    pub busy_timeout: Duration,
    /// How long an entity lock outlives a holder that stopped renewing it (a crashed process).
    /// Held locks are renewed every third of it. At least 100 ms.
    pub lock_lease: Duration,
}

impl Default for SqliteOptions {
    /// 5 connections, a 5 s busy timeout, 30 s lock leases.
    fn default() -> Self {
        Self {
            max_connections: 5,
            busy_timeout: Duration::from_secs(5),
            lock_lease: Duration::from_secs(30),
        }
    }
}

/// A [`Store`] on SQLite.
///
/// Cheap to clone: clones share the pool and the entity locks.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    locks: lock::Locks,
}

impl SqliteStore {
    /// Opens (creating it if missing) and migrates the database at `path_or_url`: a file path,
    /// or a `sqlite:` URL (`sqlite://data/jira-sync.db`, `sqlite::memory:`).
    pub async fn open(path_or_url: &str) -> Result<Self, StoreError> {
        Self::open_with(path_or_url, &SqliteOptions::default()).await
    }

    /// [`SqliteStore::open`] for the `[database]` section: its `url` is a `sqlite:` URL or a
    /// path, `max_connections` sizes the pool and `acquire_timeout` is the busy timeout.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let options = SqliteOptions {
            max_connections: settings.max_connections,
            busy_timeout: settings.acquire_timeout,
            ..SqliteOptions::default()
        };
        Self::open_with(settings.url.expose_secret(), &options).await
    }

    /// [`SqliteStore::open`] with explicit options.
    #[tracing::instrument(skip_all, fields(max_connections = options.max_connections))]
    pub async fn open_with(path_or_url: &str, options: &SqliteOptions) -> Result<Self, StoreError> {
        if matches!(
            path_or_url,
            ":memory:" | "sqlite::memory:" | "sqlite://:memory:"
        ) {
            return Self::open_in_memory_with(options).await;
        }
        let connect = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url).map_err(|e| {
                StoreError::Unexpected(
                    format!("database.url is not a valid SQLite URL: {e}").into(),
                )
            })?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        }
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(options.busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect)
            .await
            .map_err(error::from_sqlx)?;
        Self::start(pool, options).await
    }

    /// A private in-memory database (lost when the store is dropped): one connection, kept
    /// open for the store's life. Entity locks work within this store only.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        Self::open_in_memory_with(&SqliteOptions::default()).await
    }

    async fn open_in_memory_with(options: &SqliteOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| StoreError::Unexpected(Box::new(e)))?
            .busy_timeout(options.busy_timeout);
        // One connection that never closes: the database lives exactly as long as it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect)
            .await
            .map_err(error::from_sqlx)?;
        Self::start(pool, options).await
    }

    async fn start(pool: SqlitePool, options: &SqliteOptions) -> Result<Self, StoreError> {
        if options.lock_lease < Duration::from_millis(100) {
            return Err(StoreError::Unexpected(
                "the SQLite lock lease must be at least 100 ms".into(),
            ));
        }
        MIGRATOR.run(&pool).await.map_err(error::from_migrate)?;
        let locks = lock::Locks::start(pool.clone(), options.lock_lease);
        Ok(Self { pool, locks })
    }

    /// The pool, for callers that need a raw connection (tests, admin tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, waiting for borrowed connections to come back. Locks still held expire
    /// with their leases.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
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
