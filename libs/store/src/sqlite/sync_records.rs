//! The records of a full sync on SQLite: detached links, comment links and conflicts.

use jira_sync_domain::{ConnectionId, Side};
use serde_json::Value;
use sqlx::SqlitePool;
use sqlx::types::Json;
use uuid::Uuid;

use super::codec;
use super::error::{corrupt, from_sqlx};
use crate::{
    CommentLink, Conflict, ConflictStatus, DetachedLink, NewCommentLink, NewConflict, StoreError,
};

const DETACHED: &str =
    "id, connection, left_id, right_id, left_key, right_key, reason, linked_at, detached_at";

#[derive(sqlx::FromRow)]
struct DetachedRow {
    id: String,
    connection: String,
    left_id: String,
    right_id: String,
    left_key: Option<String>,
    right_key: Option<String>,
    reason: String,
    linked_at: String,
    detached_at: String,
}

impl TryFrom<DetachedRow> for DetachedLink {
    type Error = StoreError;

    fn try_from(row: DetachedRow) -> Result<Self, Self::Error> {
        Ok(DetachedLink {
            id: codec::parse_uuid(&row.id)?,
            connection: codec::parse_connection(row.connection)?,
            left_id: row.left_id,
            right_id: row.right_id,
            left_key: row.left_key,
            right_key: row.right_key,
            reason: row.reason,
            linked_at: codec::parse_time(&row.linked_at)?,
            detached_at: codec::parse_time(&row.detached_at)?,
        })
    }
}

/// Copy, then delete: two single statements. A crash between them leaves the link active
/// and already copied; detaching again finishes the move. The delete takes the comment links
/// with it (foreign key cascade).
pub(super) async fn detach_link(
    pool: &SqlitePool,
    link_id: Uuid,
    reason: &str,
) -> Result<DetachedLink, StoreError> {
    let id = codec::uuid(link_id);
    sqlx::query(
        "INSERT INTO detached_links (id, connection, left_id, right_id, left_key, right_key, \
         reason, linked_at, detached_at) \
         SELECT id, connection, left_id, right_id, left_key, right_key, ?2, created_at, ?3 \
         FROM links WHERE id = ?1 ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(reason)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    sqlx::query("DELETE FROM links WHERE id = ?1")
        .bind(&id)
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    sqlx::query_as::<_, DetachedRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DETACHED} FROM detached_links WHERE id = ?1"
    )))
    .bind(&id)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?
    .map(DetachedLink::try_from)
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("link {link_id}")))
}

pub(super) async fn find_detached(
    pool: &SqlitePool,
    connection: &ConnectionId,
    side: Side,
    entity_id: &str,
) -> Result<Option<DetachedLink>, StoreError> {
    let column = match side {
        Side::Left => "left_id",
        Side::Right => "right_id",
    };
    sqlx::query_as::<_, DetachedRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DETACHED} FROM detached_links WHERE connection = ?1 AND {column} = ?2 \
         ORDER BY detached_at DESC LIMIT 1"
    )))
    .bind(connection.as_str())
    .bind(entity_id)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?
    .map(DetachedLink::try_from)
    .transpose()
}

const COMMENT: &str = "id, link_id, connection, left_id, right_id, origin, left_hash, \
                       right_hash, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: String,
    link_id: String,
    connection: String,
    left_id: String,
    right_id: String,
    origin: String,
    left_hash: String,
    right_hash: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<CommentRow> for CommentLink {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, Self::Error> {
        Ok(CommentLink {
            id: codec::parse_uuid(&row.id)?,
            link_id: codec::parse_uuid(&row.link_id)?,
            connection: codec::parse_connection(row.connection)?,
            left_id: row.left_id,
            right_id: row.right_id,
            origin: codec::parse_side(&row.origin)?,
            left_hash: row.left_hash,
            right_hash: row.right_hash,
            created_at: codec::parse_time(&row.created_at)?,
            updated_at: codec::parse_time(&row.updated_at)?,
        })
    }
}

pub(super) async fn insert_comment_link(
    pool: &SqlitePool,
    link: NewCommentLink,
) -> Result<CommentLink, StoreError> {
    let now = codec::now();
    let row = sqlx::query_as::<_, CommentRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO comment_links (id, link_id, connection, left_id, right_id, origin, \
         left_hash, right_hash, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING {COMMENT}"
    )))
    .bind(codec::uuid(Uuid::now_v7()))
    .bind(codec::uuid(link.link_id))
    .bind(link.connection.as_str())
    .bind(&link.left_id)
    .bind(&link.right_id)
    .bind(link.origin.as_str())
    .bind(&link.left_hash)
    .bind(&link.right_hash)
    .bind(&now)
    .fetch_one(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound(format!("link {}", link.link_id))
        }
        _ => from_sqlx(e),
    })?;
    CommentLink::try_from(row)
}

pub(super) async fn comment_links(
    pool: &SqlitePool,
    link_id: Uuid,
) -> Result<Vec<CommentLink>, StoreError> {
    let rows = sqlx::query_as::<_, CommentRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COMMENT} FROM comment_links WHERE link_id = ?1 ORDER BY created_at, id"
    )))
    .bind(codec::uuid(link_id))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(CommentLink::try_from).collect()
}

pub(super) async fn update_comment_link(
    pool: &SqlitePool,
    id: Uuid,
    left_hash: &str,
    right_hash: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE comment_links SET left_hash = ?2, right_hash = ?3, updated_at = ?4 WHERE id = ?1",
    )
    .bind(codec::uuid(id))
    .bind(left_hash)
    .bind(right_hash)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("comment link {id}")));
    }
    Ok(())
}

pub(super) async fn delete_comment_link(pool: &SqlitePool, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM comment_links WHERE id = ?1")
        .bind(codec::uuid(id))
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

const CONFLICT: &str = "id, link_id, connection, field, left_value, right_value, base_value, \
                        status, resolution, created_at, updated_at, resolved_at";

#[derive(sqlx::FromRow)]
struct ConflictRow {
    id: String,
    link_id: String,
    connection: String,
    field: String,
    left_value: Json<Value>,
    right_value: Json<Value>,
    base_value: Option<Json<Value>>,
    status: String,
    resolution: Option<String>,
    created_at: String,
    updated_at: String,
    resolved_at: Option<String>,
}

impl TryFrom<ConflictRow> for Conflict {
    type Error = StoreError;

    fn try_from(row: ConflictRow) -> Result<Self, Self::Error> {
        Ok(Conflict {
            id: codec::parse_uuid(&row.id)?,
            link_id: codec::parse_uuid(&row.link_id)?,
            connection: codec::parse_connection(row.connection)?,
            field: row.field,
            left: row.left_value.0,
            right: row.right_value.0,
            base: row.base_value.map(|b| b.0),
            status: ConflictStatus::parse(&row.status)
                .ok_or_else(|| corrupt("conflict status", &row.status))?,
            resolution: row.resolution,
            created_at: codec::parse_time(&row.created_at)?,
            updated_at: codec::parse_time(&row.updated_at)?,
            resolved_at: codec::parse_optional_time(row.resolved_at)?,
        })
    }
}

/// An upsert on the partial unique index of open conflicts.
pub(super) async fn open_conflict(
    pool: &SqlitePool,
    conflict: NewConflict,
) -> Result<Conflict, StoreError> {
    let row = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO conflicts (id, link_id, connection, field, left_value, right_value, \
         base_value, status, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?8) \
         ON CONFLICT (link_id, field) WHERE status = 'open' DO UPDATE SET \
         left_value = excluded.left_value, right_value = excluded.right_value, \
         base_value = excluded.base_value, updated_at = excluded.updated_at \
         RETURNING {CONFLICT}"
    )))
    .bind(codec::uuid(Uuid::now_v7()))
    .bind(codec::uuid(conflict.link_id))
    .bind(conflict.connection.as_str())
    .bind(&conflict.field)
    .bind(Json(&conflict.left))
    .bind(Json(&conflict.right))
    .bind(conflict.base.as_ref().map(Json))
    .bind(codec::now())
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    Conflict::try_from(row)
}

pub(super) async fn conflicts_of(
    pool: &SqlitePool,
    link_id: Uuid,
) -> Result<Vec<Conflict>, StoreError> {
    let rows = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflicts WHERE link_id = ?1 ORDER BY created_at, id"
    )))
    .bind(codec::uuid(link_id))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(Conflict::try_from).collect()
}

pub(super) async fn list_conflicts(
    pool: &SqlitePool,
    connection: Option<&ConnectionId>,
    status: Option<ConflictStatus>,
    limit: i64,
) -> Result<Vec<Conflict>, StoreError> {
    let rows = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflicts WHERE (?1 IS NULL OR connection = ?1) \
         AND (?2 IS NULL OR status = ?2) ORDER BY created_at DESC, id DESC LIMIT ?3"
    )))
    .bind(connection.map(ConnectionId::as_str))
    .bind(status.map(ConflictStatus::as_str))
    .bind(limit.max(0))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(Conflict::try_from).collect()
}

pub(super) async fn resolve_conflict(
    pool: &SqlitePool,
    id: Uuid,
    resolution: &str,
) -> Result<Conflict, StoreError> {
    let now = codec::now();
    sqlx::query(
        "UPDATE conflicts SET status = 'resolved', resolution = ?2, resolved_at = ?3, \
         updated_at = ?3 WHERE id = ?1 AND status = 'open'",
    )
    .bind(codec::uuid(id))
    .bind(resolution)
    .bind(&now)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflicts WHERE id = ?1"
    )))
    .bind(codec::uuid(id))
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?
    .map(Conflict::try_from)
    .transpose()?
    .ok_or_else(|| StoreError::NotFound(format!("conflict {id}")))
}
