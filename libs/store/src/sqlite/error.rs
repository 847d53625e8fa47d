//! Maps sqlx errors from SQLite onto [`StoreError`]: a database that is locked by another
//! process for longer than the busy timeout, unreadable or full is `Unavailable` (retry later),
//! a uniqueness rule is a `Conflict`, everything else `Unexpected` with its source kept.

use sqlx::migrate::MigrateError;

use crate::StoreError;

/// Primary SQLite result codes (the low byte of an extended code) meaning "the database
/// cannot serve us right now": BUSY (5), LOCKED (6), READONLY (8), IOERR (10), FULL (13),
/// CANTOPEN (14).
pub(crate) fn is_unavailable_code(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

/// Classifies a sqlx error.
pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            // SQLite names the columns (`UNIQUE constraint failed: links.connection,
            // links.left_id`), not the constraint; no values, so nothing secret.
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(is_unavailable_code) =>
        {
            StoreError::Unavailable(db.message().to_owned())
        }
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// Classifies a migration error: a database that cannot be reached or written is
/// `Unavailable`; a schema that does not match the embedded migrations is `Unexpected`.
pub(crate) fn from_migrate(error: MigrateError) -> StoreError {
    match error {
        MigrateError::Execute(inner) => from_sqlx(inner),
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// A row that does not decode into the model.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(format!("stored {what} is invalid: {detail}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_locked_and_io_codes_are_unavailable_with_or_without_extension() {
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED, SQLITE_IOERR_WRITE (778).
        for code in [5, 517, 6, 778, 13, 14, 8] {
            assert!(is_unavailable_code(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_ERROR, SQLITE_CORRUPT.
        for code in [2067, 1, 11] {
            assert!(!is_unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn pool_timeouts_are_unavailable_and_other_errors_keep_their_source() {
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        let StoreError::Unexpected(source) = from_sqlx(sqlx::Error::RowNotFound) else {
            panic!("expected Unexpected");
        };
        assert!(source.downcast_ref::<sqlx::Error>().is_some());
    }
}
