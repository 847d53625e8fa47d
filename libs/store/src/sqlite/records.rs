//! The smaller tables on SQLite: create intents, the audit log and poller cursors.

use jira_sync_domain::{ConnectionId, Side};
use sqlx::SqlitePool;
use sqlx::types::Json;
use uuid::Uuid;

use super::codec;
use super::error::from_sqlx;
use crate::{AuditEntry, CreateIntent, NewAuditEntry, StoreError};

#[derive(sqlx::FromRow)]
struct IntentRow {
    id: String,
    connection: String,
    source_side: String,
    source_id: String,
    target_id: Option<String>,
    created_at: String,
}

impl TryFrom<IntentRow> for CreateIntent {
    type Error = StoreError;

    fn try_from(row: IntentRow) -> Result<Self, Self::Error> {
        Ok(CreateIntent {
            id: codec::parse_uuid(&row.id)?,
            connection: codec::parse_connection(row.connection)?,
            source_side: codec::parse_side(&row.source_side)?,
            source_id: row.source_id,
            target_id: row.target_id,
            created_at: codec::parse_time(&row.created_at)?,
        })
    }
}

/// Insert-if-absent, then read. Each statement is its own transaction; SQLite runs writes one
/// at a time, so of concurrent callers exactly one inserts and all read that row.
pub(super) async fn begin_intent(
    pool: &SqlitePool,
    connection: &ConnectionId,
    source_side: Side,
    source_id: &str,
) -> Result<CreateIntent, StoreError> {
    sqlx::query(
        "INSERT INTO create_intents (id, connection, source_side, source_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (connection, source_side, source_id) DO NOTHING",
    )
    .bind(codec::uuid(Uuid::now_v7()))
    .bind(connection.as_str())
    .bind(source_side.as_str())
    .bind(source_id)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    let row = sqlx::query_as::<_, IntentRow>(
        "SELECT id, connection, source_side, source_id, target_id, created_at \
         FROM create_intents WHERE connection = ?1 AND source_side = ?2 AND source_id = ?3",
    )
    .bind(connection.as_str())
    .bind(source_side.as_str())
    .bind(source_id)
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    CreateIntent::try_from(row)
}

/// Intents without a target, newest first.
pub(super) async fn open_intents(
    pool: &SqlitePool,
    connection: &ConnectionId,
    source_side: Side,
    limit: i64,
) -> Result<Vec<CreateIntent>, StoreError> {
    let rows = sqlx::query_as::<_, IntentRow>(
        "SELECT id, connection, source_side, source_id, target_id, created_at \
         FROM create_intents WHERE connection = ?1 AND source_side = ?2 AND target_id IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT ?3",
    )
    .bind(connection.as_str())
    .bind(source_side.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(CreateIntent::try_from).collect()
}

/// Completing twice with the same target is a no-op; with another target it is a `Conflict`
/// (two twins for one source would be a bug worth stopping on).
pub(super) async fn complete_intent(
    pool: &SqlitePool,
    intent_id: Uuid,
    target_id: &str,
) -> Result<(), StoreError> {
    let id = codec::uuid(intent_id);
    let done = sqlx::query(
        "UPDATE create_intents SET target_id = ?2, completed_at = COALESCE(completed_at, ?3) \
         WHERE id = ?1 AND (target_id IS NULL OR target_id = ?2)",
    )
    .bind(&id)
    .bind(target_id)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let existing: Option<Option<String>> =
        sqlx::query_scalar("SELECT target_id FROM create_intents WHERE id = ?1")
            .bind(&id)
            .fetch_optional(pool)
            .await
            .map_err(from_sqlx)?;
    match existing {
        None => Err(StoreError::NotFound(format!("create intent {intent_id}"))),
        Some(other) => Err(StoreError::Conflict(format!(
            "create intent {intent_id} is already completed with target {}",
            other.as_deref().unwrap_or("?")
        ))),
    }
}

pub(super) async fn append_audit(
    pool: &SqlitePool,
    entry: NewAuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, link_id, connection, action, target, fields, changes, \
         \"trigger\", delivery_id, trace_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(codec::now())
    .bind(entry.link_id.map(codec::uuid))
    .bind(entry.connection.as_str())
    .bind(&entry.action)
    .bind(entry.target.as_str())
    .bind(Json(&entry.fields))
    .bind(Json(&entry.changes))
    .bind(&entry.trigger)
    .bind(&entry.delivery_id)
    .bind(&entry.trace_id)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: String,
    link_id: Option<String>,
    connection: String,
    action: String,
    target: String,
    fields: Json<Vec<String>>,
    changes: Json<serde_json::Value>,
    trigger: String,
    delivery_id: Option<String>,
    trace_id: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, Self::Error> {
        Ok(AuditEntry {
            id: row.id,
            at: codec::parse_time(&row.at)?,
            entry: NewAuditEntry {
                link_id: row.link_id.as_deref().map(codec::parse_uuid).transpose()?,
                connection: codec::parse_connection(row.connection)?,
                action: row.action,
                target: codec::parse_side(&row.target)?,
                fields: row.fields.0,
                changes: row.changes.0,
                trigger: row.trigger,
                delivery_id: row.delivery_id,
                trace_id: row.trace_id,
            },
        })
    }
}

pub(super) async fn audit_of(
    pool: &SqlitePool,
    link_id: Uuid,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = sqlx::query_as::<_, AuditRow>(
        "SELECT id, at, link_id, connection, action, target, fields, changes, \"trigger\", \
         delivery_id, trace_id FROM audit_log WHERE link_id = ?1 ORDER BY id",
    )
    .bind(codec::uuid(link_id))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter().map(AuditEntry::try_from).collect()
}

pub(super) async fn cursor(pool: &SqlitePool, name: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT value FROM cursors WHERE name = ?1")
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(from_sqlx)
}

/// Monotonic in byte order (the column's collation is BINARY): values must sort
/// chronologically as strings, e.g. RFC 3339 UTC times of fixed width.
pub(super) async fn advance_cursor(
    pool: &SqlitePool,
    name: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO cursors (name, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
         updated_at = excluded.updated_at WHERE cursors.value < excluded.value",
    )
    .bind(name)
    .bind(value)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}
