//! The `links` table on SQLite: one row per pair of linked entities, with their merge base.

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, Side};
use sqlx::SqlitePool;
use sqlx::types::Json;
use uuid::Uuid;

use super::codec;
use super::error::from_sqlx;
use crate::{Link, NewLink, StoreError};

const COLUMNS: &str = "id, connection, left_id, right_id, left_key, right_key, base, created_at, \
                       last_synced_at, last_error";

/// A `links` row as stored.
#[derive(sqlx::FromRow)]
struct LinkRow {
    id: String,
    connection: String,
    left_id: String,
    right_id: String,
    left_key: Option<String>,
    right_key: Option<String>,
    base: Json<Snapshot>,
    created_at: String,
    last_synced_at: Option<String>,
    last_error: Option<String>,
}

impl TryFrom<LinkRow> for Link {
    type Error = StoreError;

    fn try_from(row: LinkRow) -> Result<Self, Self::Error> {
        Ok(Link {
            id: codec::parse_uuid(&row.id)?,
            connection: codec::parse_connection(row.connection)?,
            left_id: row.left_id,
            right_id: row.right_id,
            left_key: row.left_key,
            right_key: row.right_key,
            base: row.base.0,
            created_at: codec::parse_time(&row.created_at)?,
            last_synced_at: codec::parse_optional_time(row.last_synced_at)?,
            last_error: row.last_error,
        })
    }
}

fn select(filter_and_order: &str) -> sqlx::AssertSqlSafe<String> {
    // Only ever called with constant SQL from this module: no input reaches the text.
    sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM links {filter_and_order}"))
}

pub(super) async fn find(
    pool: &SqlitePool,
    connection: &ConnectionId,
    side: Side,
    entity_id: &str,
) -> Result<Option<Link>, StoreError> {
    let filter = match side {
        Side::Left => "WHERE connection = ?1 AND left_id = ?2",
        Side::Right => "WHERE connection = ?1 AND right_id = ?2",
    };
    sqlx::query_as::<_, LinkRow>(select(filter))
        .bind(connection.as_str())
        .bind(entity_id)
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?
        .map(Link::try_from)
        .transpose()
}

pub(super) async fn insert(pool: &SqlitePool, link: NewLink) -> Result<Link, StoreError> {
    // UUIDv7: ids sort by creation time, a tie-breaker for rows created in the same instant.
    let now = codec::now();
    let row = sqlx::query_as::<_, LinkRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO links (id, connection, left_id, right_id, left_key, right_key, base, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING {COLUMNS}"
    )))
    .bind(codec::uuid(Uuid::now_v7()))
    .bind(link.connection.as_str())
    .bind(&link.left_id)
    .bind(&link.right_id)
    .bind(&link.left_key)
    .bind(&link.right_key)
    .bind(Json(&link.base))
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    Link::try_from(row)
}

/// A key passed as `None` keeps the stored one: callers do not always know both keys, and
/// Jira keys are never removed, only changed.
pub(super) async fn save_base(
    pool: &SqlitePool,
    link_id: Uuid,
    base: &Snapshot,
    left_key: Option<&str>,
    right_key: Option<&str>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE links SET base = ?2, left_key = COALESCE(?3, left_key), \
         right_key = COALESCE(?4, right_key), last_synced_at = ?5, last_error = NULL, \
         updated_at = ?5 WHERE id = ?1",
    )
    .bind(codec::uuid(link_id))
    .bind(Json(base))
    .bind(left_key)
    .bind(right_key)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    found(done.rows_affected(), link_id)
}

pub(super) async fn record_error(
    pool: &SqlitePool,
    link_id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE links SET last_error = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(codec::uuid(link_id))
        .bind(error)
        .bind(codec::now())
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    found(done.rows_affected(), link_id)
}

/// Idempotent: deleting a link that is already gone succeeds (deliveries are at-least-once).
pub(super) async fn delete(pool: &SqlitePool, link_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM links WHERE id = ?1")
        .bind(codec::uuid(link_id))
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    connection: Option<&ConnectionId>,
    limit: i64,
) -> Result<Vec<Link>, StoreError> {
    // Two statements rather than `?1 IS NULL OR ...`, so each can use its index.
    let rows = match connection {
        Some(connection) => {
            sqlx::query_as::<_, LinkRow>(select(
                "WHERE connection = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            ))
            .bind(connection.as_str())
            .bind(limit.max(0))
            .fetch_all(pool)
            .await
        }
        None => {
            sqlx::query_as::<_, LinkRow>(select("ORDER BY created_at DESC, id DESC LIMIT ?1"))
                .bind(limit.max(0))
                .fetch_all(pool)
                .await
        }
    }
    .map_err(from_sqlx)?;
    rows.into_iter().map(Link::try_from).collect()
}

fn found(rows: u64, link_id: Uuid) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound(format!("link {link_id}")))
    } else {
        Ok(())
    }
}
