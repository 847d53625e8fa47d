//! Maps sqlx errors from SQLite onto [`TransportError`]: a database that is locked by another
//! process for longer than the busy timeout, unwritable, full or gone is `Unavailable` (the
//! embedded counterpart of a broker outage); anything else is `Unexpected`, source kept.

use crate::TransportError;

/// Primary SQLite result codes (the low byte of an extended code) meaning "the database cannot
/// serve us right now": BUSY (5), LOCKED (6), READONLY (8), IOERR (10), FULL (13), CANTOPEN (14).
pub(crate) fn is_unavailable_code(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

/// Classifies a sqlx error, prefixed with what was being done.
pub(crate) fn from_sqlx(context: &str, error: sqlx::Error) -> TransportError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => TransportError::Unavailable(format!("{context}: {error}")),
        sqlx::Error::Database(db)
            if db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(is_unavailable_code) =>
        {
            TransportError::Unavailable(format!("{context}: {}", db.message()))
        }
        other => TransportError::Unexpected(Box::new(other)),
    }
}

/// A settle on a delivery whose lease is no longer ours.
pub(crate) fn lease_lost() -> TransportError {
    TransportError::Unavailable(
        "this delivery's lease is gone (its consumer closed, or the lease ran out): the \
         message will be delivered again"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locked_or_unwritable_database_is_unavailable() {
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY, SQLITE_IOERR_WRITE, SQLITE_FULL.
        for code in [5, 517, 8, 778, 13] {
            assert!(is_unavailable_code(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_ERROR, SQLITE_CORRUPT.
        for code in [2067, 1, 11] {
            assert!(!is_unavailable_code(code), "{code}");
        }
        assert!(matches!(
            from_sqlx("publish", sqlx::Error::PoolTimedOut),
            TransportError::Unavailable(_)
        ));
        assert!(matches!(
            from_sqlx("publish", sqlx::Error::RowNotFound),
            TransportError::Unexpected(_)
        ));
    }
}
