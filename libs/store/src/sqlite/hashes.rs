//! Content hashes of fully scanned entities (`poller_content_hashes`), batched: a scope is
//! read in one query and a page of hashes written or forgotten in one statement (the batch
//! travels as one JSON array, unpacked by `json_each`, so no statement has a bind per row).

use std::collections::HashMap;

use sqlx::SqlitePool;

use super::codec;
use super::error::from_sqlx;
use crate::StoreError;

pub(super) async fn load(
    pool: &SqlitePool,
    scope: &str,
) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT entity_id, hash FROM poller_content_hashes WHERE scope = ?1")
            .bind(scope)
            .fetch_all(pool)
            .await
            .map_err(from_sqlx)?;
    Ok(rows.into_iter().collect())
}

pub(super) async fn save(
    pool: &SqlitePool,
    scope: &str,
    entries: &[(String, String)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let batch = serde_json::to_string(entries).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
    // `WHERE true`: SQLite needs it to parse an upsert whose rows come from a SELECT.
    sqlx::query(
        "INSERT INTO poller_content_hashes (scope, entity_id, hash, updated_at)
         SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?3
         FROM json_each(?2) WHERE true
         ON CONFLICT (scope, entity_id)
         DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
    )
    .bind(scope)
    .bind(batch)
    .bind(codec::now())
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(super) async fn forget(
    pool: &SqlitePool,
    scope: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let batch = serde_json::to_string(ids).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
    sqlx::query(
        "DELETE FROM poller_content_hashes
         WHERE scope = ?1 AND entity_id IN (SELECT value FROM json_each(?2))",
    )
    .bind(scope)
    .bind(batch)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}
