//! The records of a full sync on PostgreSQL: detached links, comment links and conflicts.

use chrono::{DateTime, Utc};
use jira_sync_domain::{ConnectionId, Side};
use serde_json::Value;
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::error::{corrupt, from_sqlx};
use crate::{
    CommentLink, Conflict, ConflictStatus, DetachedLink, NewCommentLink, NewConflict, StoreError,
};

fn parse_side(text: &str) -> Result<Side, StoreError> {
    match text {
        "left" => Ok(Side::Left),
        "right" => Ok(Side::Right),
        other => Err(corrupt("side", format!("{other:?}"))),
    }
}

fn parse_connection(text: String) -> Result<ConnectionId, StoreError> {
    ConnectionId::parse(text).map_err(|e| corrupt("connection", e))
}

const DETACHED: &str =
    "id, connection, left_id, right_id, left_key, right_key, reason, linked_at, detached_at";

#[derive(sqlx::FromRow)]
struct DetachedRow {
    id: Uuid,
    connection: String,
    left_id: String,
    right_id: String,
    left_key: Option<String>,
    right_key: Option<String>,
    reason: String,
    linked_at: DateTime<Utc>,
    detached_at: DateTime<Utc>,
}

impl TryFrom<DetachedRow> for DetachedLink {
    type Error = StoreError;

    fn try_from(row: DetachedRow) -> Result<Self, Self::Error> {
        Ok(DetachedLink {
            id: row.id,
            connection: parse_connection(row.connection)?,
            left_id: row.left_id,
            right_id: row.right_id,
            left_key: row.left_key,
            right_key: row.right_key,
            reason: row.reason,
            linked_at: row.linked_at,
            detached_at: row.detached_at,
        })
    }
}

/// One statement: the link is moved (deleted and inserted) atomically. Its comment links go
/// with the deletion (foreign key cascade).
pub(super) async fn detach_link(
    pool: &PgPool,
    link_id: Uuid,
    reason: &str,
) -> Result<DetachedLink, StoreError> {
    let moved = sqlx::query_as::<_, DetachedRow>(sqlx::AssertSqlSafe(format!(
        "WITH gone AS (DELETE FROM links WHERE id = $1 \
           RETURNING id, connection, left_id, right_id, left_key, right_key, created_at) \
         INSERT INTO detached_links (id, connection, left_id, right_id, left_key, right_key, \
           reason, linked_at) \
         SELECT id, connection, left_id, right_id, left_key, right_key, $2, created_at FROM gone \
         ON CONFLICT (id) DO NOTHING RETURNING {DETACHED}"
    )))
    .bind(link_id)
    .bind(reason)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    if let Some(row) = moved {
        return DetachedLink::try_from(row);
    }
    let earlier = sqlx::query_as::<_, DetachedRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DETACHED} FROM detached_links WHERE id = $1"
    )))
    .bind(link_id)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    earlier
        .map(DetachedLink::try_from)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("link {link_id}")))
}

pub(super) async fn find_detached(
    pool: &PgPool,
    connection: &ConnectionId,
    side: Side,
    entity_id: &str,
) -> Result<Option<DetachedLink>, StoreError> {
    let column = match side {
        Side::Left => "left_id",
        Side::Right => "right_id",
    };
    sqlx::query_as::<_, DetachedRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DETACHED} FROM detached_links WHERE connection = $1 AND {column} = $2 \
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
    id: Uuid,
    link_id: Uuid,
    connection: String,
    left_id: String,
    right_id: String,
    origin: String,
    left_hash: String,
    right_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CommentRow> for CommentLink {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> Result<Self, Self::Error> {
        Ok(CommentLink {
            id: row.id,
            link_id: row.link_id,
            connection: parse_connection(row.connection)?,
            left_id: row.left_id,
            right_id: row.right_id,
            origin: parse_side(&row.origin)?,
            left_hash: row.left_hash,
            right_hash: row.right_hash,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(super) async fn insert_comment_link(
    pool: &PgPool,
    link: NewCommentLink,
) -> Result<CommentLink, StoreError> {
    let row = sqlx::query_as::<_, CommentRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO comment_links (id, link_id, connection, left_id, right_id, origin, \
         left_hash, right_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COMMENT}"
    )))
    .bind(Uuid::now_v7())
    .bind(link.link_id)
    .bind(link.connection.as_str())
    .bind(&link.left_id)
    .bind(&link.right_id)
    .bind(link.origin.as_str())
    .bind(&link.left_hash)
    .bind(&link.right_hash)
    .fetch_one(pool)
    .await
    .map_err(|e| missing_link(e, link.link_id))?;
    CommentLink::try_from(row)
}

/// A foreign-key violation here means the issue link is gone.
fn missing_link(error: sqlx::Error, link_id: Uuid) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound(format!("link {link_id}"))
        }
        _ => from_sqlx(error),
    }
}

pub(super) async fn comment_links(
    pool: &PgPool,
    link_id: Uuid,
) -> Result<Vec<CommentLink>, StoreError> {
    let rows = sqlx::query_as::<_, CommentRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COMMENT} FROM comment_links WHERE link_id = $1 ORDER BY created_at, id"
    )))
    .bind(link_id)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(CommentLink::try_from).collect()
}

pub(super) async fn update_comment_link(
    pool: &PgPool,
    id: Uuid,
    left_hash: &str,
    right_hash: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE comment_links SET left_hash = $2, right_hash = $3, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id)
    .bind(left_hash)
    .bind(right_hash)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("comment link {id}")));
    }
    Ok(())
}

pub(super) async fn delete_comment_link(pool: &PgPool, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM comment_links WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

const CONFLICT: &str = "id, link_id, connection, field, left_value, right_value, base_value, \
                        status, resolution, created_at, updated_at, resolved_at";

#[derive(sqlx::FromRow)]
struct ConflictRow {
    id: Uuid,
    link_id: Uuid,
    connection: String,
    field: String,
    left_value: Json<Value>,
    right_value: Json<Value>,
    base_value: Option<Json<Value>>,
    status: String,
    resolution: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

impl TryFrom<ConflictRow> for Conflict {
    type Error = StoreError;

    fn try_from(row: ConflictRow) -> Result<Self, Self::Error> {
        Ok(Conflict {
            id: row.id,
            link_id: row.link_id,
            connection: parse_connection(row.connection)?,
            field: row.field,
            left: row.left_value.0,
            right: row.right_value.0,
            base: row.base_value.map(|b| b.0),
            status: ConflictStatus::parse(&row.status)
                .ok_or_else(|| corrupt("conflict status", &row.status))?,
            resolution: row.resolution,
            created_at: row.created_at,
            updated_at: row.updated_at,
            resolved_at: row.resolved_at,
        })
    }
}

/// An upsert on the partial unique index of open conflicts.
pub(super) async fn open_conflict(
    pool: &PgPool,
    conflict: NewConflict,
) -> Result<Conflict, StoreError> {
    let row = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO conflicts (id, link_id, connection, field, left_value, right_value, \
         base_value, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') \
         ON CONFLICT (link_id, field) WHERE status = 'open' DO UPDATE SET \
         left_value = EXCLUDED.left_value, right_value = EXCLUDED.right_value, \
         base_value = EXCLUDED.base_value, updated_at = now() RETURNING {CONFLICT}"
    )))
    .bind(Uuid::now_v7())
    .bind(conflict.link_id)
    .bind(conflict.connection.as_str())
    .bind(&conflict.field)
    .bind(Json(&conflict.left))
    .bind(Json(&conflict.right))
    .bind(conflict.base.as_ref().map(Json))
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    Conflict::try_from(row)
}

pub(super) async fn conflicts_of(
    pool: &PgPool,
    link_id: Uuid,
) -> Result<Vec<Conflict>, StoreError> {
    let rows = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflicts WHERE link_id = $1 ORDER BY created_at, id"
    )))
    .bind(link_id)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(Conflict::try_from).collect()
}

pub(super) async fn list_conflicts(
    pool: &PgPool,
    connection: Option<&ConnectionId>,
    status: Option<ConflictStatus>,
    limit: i64,
) -> Result<Vec<Conflict>, StoreError> {
    let rows = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflicts WHERE ($1::text IS NULL OR connection = $1) \
         AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id DESC LIMIT $3"
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
    pool: &PgPool,
    id: Uuid,
    resolution: &str,
) -> Result<Conflict, StoreError> {
    let resolved = sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE conflicts SET status = 'resolved', resolution = $2, resolved_at = now(), \
         updated_at = now() WHERE id = $1 AND status = 'open' RETURNING {CONFLICT}"
    )))
    .bind(id)
    .bind(resolution)
    .fetch_optional(pool)
    .await
    .map_err(from_sqlx)?;
    let row = match resolved {
        Some(row) => Some(row),
        None => sqlx::query_as::<_, ConflictRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CONFLICT} FROM conflicts WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)?,
    };
    row.map(Conflict::try_from)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("conflict {id}")))
}
