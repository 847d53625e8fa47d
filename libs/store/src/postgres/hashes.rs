//! Content hashes of fully scanned entities (`poller_content_hashes`), batched: a scope is
//! read in one query and a page of hashes written or forgotten in one statement.

use std::collections::HashMap;

use sqlx::PgPool;

use super::error::from_sqlx;
use crate::StoreError;

pub(super) async fn load(
    pool: &PgPool,
    scope: &str,
) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT entity_id, hash FROM poller_content_hashes WHERE scope = $1")
            .bind(scope)
            .fetch_all(pool)
            .await
            .map_err(from_sqlx)?;
    Ok(rows.into_iter().collect())
}

pub(super) async fn save(
    pool: &PgPool,
    scope: &str,
    entries: &[(String, String)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (ids, hashes): (Vec<String>, Vec<String>) = entries.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO poller_content_hashes (scope, entity_id, hash)
         SELECT $1, id, hash FROM UNNEST($2::text[], $3::text[]) AS t(id, hash)
         ON CONFLICT (scope, entity_id)
         DO UPDATE SET hash = excluded.hash, updated_at = now()",
    )
    .bind(scope)
    .bind(ids)
    .bind(hashes)
    .execute(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(super) async fn forget(pool: &PgPool, scope: &str, ids: &[String]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM poller_content_hashes WHERE scope = $1 AND entity_id = ANY($2)")
        .bind(scope)
        .bind(ids)
        .execute(pool)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}
