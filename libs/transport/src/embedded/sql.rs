//! Every statement of the embedded queue. Each write is either one statement (which takes
//! SQLite's write lock before reading anything) or an `IMMEDIATE` transaction (which takes it
//! at `BEGIN`), so no write can fail half-way with `SQLITE_BUSY_SNAPSHOT`, and a message is
//! always in exactly one place: ready, leased, delayed or dead.

use sqlx::SqlitePool;

use super::codec::{self, MessageRow};
use super::error::from_sqlx;
use super::queue::Held;
use crate::{Envelope, Failure, TransportError};

const ROW: &str = "seq, message_id, payload, attempt, first_seen, failure_class, \
                   failure_message, trace_context, labels";

/// Appends a message, deliverable from `available_at` (Unix ms).
pub(crate) async fn insert(
    pool: &SqlitePool,
    envelope: &Envelope,
    available_at: i64,
) -> Result<(), TransportError> {
    sqlx::query(
        "INSERT INTO queue_messages (message_id, payload, attempt, first_seen, failure_class, \
         failure_message, trace_context, labels, enqueued_at, available_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .bind(&envelope.message_id)
    .bind(&envelope.payload)
    .bind(i64::from(envelope.attempt))
    .bind(codec::time(envelope.first_seen))
    .bind(envelope.failure.as_ref().map(|f| &f.class))
    .bind(envelope.failure.as_ref().map(|f| &f.message))
    .bind(codec::json(&envelope.trace_context))
    .bind(codec::json(&envelope.labels))
    .bind(codec::now())
    .bind(available_at)
    .execute(pool)
    .await
    .map_err(|e| from_sqlx("cannot store the message", e))?;
    Ok(())
}

/// Leases the first due message that nobody holds (or whose lease ran out) to `owner`'s
/// delivery `token`, until `leased_until`.
pub(crate) async fn lease(
    pool: &SqlitePool,
    owner: &str,
    token: &str,
    leased_until: i64,
    now: i64,
) -> Result<Option<MessageRow>, TransportError> {
    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE queue_messages SET lease_owner = ?1, lease_token = ?2, leased_until = ?3 \
         WHERE seq = (SELECT seq FROM queue_messages WHERE available_at <= ?4 \
           AND (leased_until IS NULL OR leased_until <= ?4) \
           ORDER BY available_at, seq LIMIT 1) \
         RETURNING {ROW}"
    )))
    .bind(owner)
    .bind(token)
    .bind(leased_until)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(|e| from_sqlx("cannot lease a message", e))
}

/// The earliest time (Unix ms) after `now` at which a message becomes due, if any.
pub(crate) async fn next_due(pool: &SqlitePool, now: i64) -> Result<Option<i64>, TransportError> {
    sqlx::query_scalar("SELECT MIN(available_at) FROM queue_messages WHERE available_at > ?1")
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(|e| from_sqlx("cannot read the next due time", e))
}

/// Extends the leases of the given deliveries until `leased_until`.
pub(crate) async fn renew(
    pool: &SqlitePool,
    tokens: &[String],
    leased_until: i64,
) -> Result<u64, TransportError> {
    let done = sqlx::query(
        "UPDATE queue_messages SET leased_until = ?1 \
         WHERE lease_token IN (SELECT value FROM json_each(?2))",
    )
    .bind(leased_until)
    .bind(serde_json::Value::from(tokens.to_vec()).to_string())
    .execute(pool)
    .await
    .map_err(|e| from_sqlx("cannot renew leases", e))?;
    Ok(done.rows_affected())
}

/// Makes leased messages deliverable again at once (their place in the queue is kept).
pub(crate) async fn release(pool: &SqlitePool, held: &Held) -> Result<u64, TransportError> {
    let (filter, value) = match held {
        Held::Token(token) => ("lease_token = ?1", token),
        Held::Owner(owner) => ("lease_owner = ?1", owner),
    };
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE queue_messages SET lease_owner = NULL, lease_token = NULL, leased_until = NULL \
         WHERE {filter}"
    )))
    .bind(value)
    .execute(pool)
    .await
    .map_err(|e| from_sqlx("cannot release leases", e))?;
    Ok(done.rows_affected())
}

/// Removes an acknowledged message. `Ok(false)`: the lease is no longer `token`'s.
pub(crate) async fn ack(pool: &SqlitePool, seq: i64, token: &str) -> Result<bool, TransportError> {
    let done = sqlx::query("DELETE FROM queue_messages WHERE seq = ?1 AND lease_token = ?2")
        .bind(seq)
        .bind(token)
        .execute(pool)
        .await
        .map_err(|e| from_sqlx("cannot acknowledge", e))?;
    Ok(done.rows_affected() > 0)
}

/// Puts a leased message back as `attempt` with `failure`, due at `available_at`: one update,
/// so the retried copy is durable at the very moment the delivery is settled. `Ok(false)`: the
/// lease is no longer `token`'s.
pub(crate) async fn retry(
    pool: &SqlitePool,
    seq: i64,
    token: &str,
    attempt: u32,
    failure: &Failure,
    available_at: i64,
) -> Result<bool, TransportError> {
    let done = sqlx::query(
        "UPDATE queue_messages SET attempt = ?3, failure_class = ?4, failure_message = ?5, \
         enqueued_at = ?6, available_at = ?7, \
         lease_owner = NULL, lease_token = NULL, leased_until = NULL \
         WHERE seq = ?1 AND lease_token = ?2",
    )
    .bind(seq)
    .bind(token)
    .bind(i64::from(attempt))
    .bind(&failure.class)
    .bind(&failure.message)
    .bind(codec::now())
    .bind(available_at)
    .execute(pool)
    .await
    .map_err(|e| from_sqlx("cannot schedule the retry", e))?;
    Ok(done.rows_affected() > 0)
}

/// Moves a leased message to the dead letters with `failure`, in one transaction. `Ok(false)`:
/// the lease is no longer `token`'s.
pub(crate) async fn dead_letter(
    pool: &SqlitePool,
    seq: i64,
    token: &str,
    failure: &Failure,
) -> Result<bool, TransportError> {
    let context = "cannot dead-letter the message";
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| from_sqlx(context, e))?;
    let copied = sqlx::query(
        "INSERT INTO queue_dead_letters (message_id, payload, attempt, first_seen, \
         failure_class, failure_message, trace_context, labels, dead_at) \
         SELECT message_id, payload, attempt, first_seen, ?3, ?4, trace_context, labels, ?5 \
         FROM queue_messages WHERE seq = ?1 AND lease_token = ?2",
    )
    .bind(seq)
    .bind(token)
    .bind(&failure.class)
    .bind(&failure.message)
    .bind(codec::now())
    .execute(&mut *tx)
    .await
    .map_err(|e| from_sqlx(context, e))?;
    if copied.rows_affected() == 0 {
        // Dropping `tx` rolls it back (it changed nothing anyway).
        return Ok(false);
    }
    sqlx::query("DELETE FROM queue_messages WHERE seq = ?1")
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(|e| from_sqlx(context, e))?;
    tx.commit().await.map_err(|e| from_sqlx(context, e))?;
    Ok(true)
}

/// Up to `limit` dead letters, oldest first, without consuming them.
pub(crate) async fn peek(pool: &SqlitePool, limit: usize) -> Result<Vec<Envelope>, TransportError> {
    let rows = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ROW} FROM queue_dead_letters ORDER BY seq LIMIT ?1"
    )))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(|e| from_sqlx("cannot read the dead letters", e))?;
    Ok(rows.into_iter().map(MessageRow::into_envelope).collect())
}

/// Moves the dead letters with one of `ids` (all when `None`) back to the work queue as first
/// attempts without failure, keeping what they were parked with in the `replayed_*` columns.
pub(crate) async fn replay(
    pool: &SqlitePool,
    ids: Option<&[String]>,
    now: i64,
) -> Result<u64, TransportError> {
    let context = "cannot replay dead letters";
    let selected = ids.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
    let filter = "?1 IS NULL OR message_id IN (SELECT value FROM json_each(?1))";
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| from_sqlx(context, e))?;
    let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO queue_messages (message_id, payload, attempt, first_seen, trace_context, \
         labels, enqueued_at, available_at, replayed_at, replayed_from_attempt, \
         replayed_from_class, replayed_from_message) \
         SELECT message_id, payload, 1, first_seen, trace_context, labels, ?2, ?3, ?2, \
         attempt, failure_class, failure_message \
         FROM queue_dead_letters WHERE {filter} ORDER BY seq"
    )))
    .bind(&selected)
    .bind(codec::now())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| from_sqlx(context, e))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM queue_dead_letters WHERE {filter}"
    )))
    .bind(&selected)
    .execute(&mut *tx)
    .await
    .map_err(|e| from_sqlx(context, e))?;
    tx.commit().await.map_err(|e| from_sqlx(context, e))?;
    Ok(moved.rows_affected())
}

/// Counts (ready, delayed, in flight, dead) at `now`.
pub(crate) async fn depths(
    pool: &SqlitePool,
    now: i64,
) -> Result<(i64, i64, i64, i64), TransportError> {
    // A message is free when nobody holds a live lease on it.
    sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN (leased_until IS NULL OR leased_until <= ?1) \
             AND available_at <= ?1 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN (leased_until IS NULL OR leased_until <= ?1) \
             AND available_at > ?1 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN leased_until > ?1 THEN 1 ELSE 0 END), 0), \
           (SELECT COUNT(*) FROM queue_dead_letters) \
         FROM queue_messages",
    )
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(|e| from_sqlx("cannot count the messages", e))
}
