//! Maps sqlx errors onto [`StoreError`]: what a caller can act on (retry later, conflict) is
//! told apart; everything else is `Unexpected` with its source kept.

use sqlx::migrate::MigrateError;

use crate::StoreError;

/// SQLSTATE classes and codes that mean "the server cannot serve us right now".
fn is_unavailable_code(code: &str) -> bool {
    // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now;
    // 53300: too many connections.
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// Classifies a sqlx error.
pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            // The constraint name says which rule was hit (e.g. `links_left_unique`); the
            // message may quote row values, which are entity ids, not secrets.
            let rule = db.constraint().unwrap_or("unique constraint").to_owned();
            StoreError::Conflict(format!("{rule}: {}", db.message()))
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|c| is_unavailable_code(&c)) => {
            StoreError::Unavailable(db.message().to_owned())
        }
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// Classifies a migration error: a database that cannot be reached is `Unavailable`; a schema
/// that does not match the embedded migrations is `Unexpected`.
pub(crate) fn from_migrate(error: MigrateError) -> StoreError {
    match error {
        MigrateError::Execute(inner) => from_sqlx(inner),
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// A row that does not decode into the model (a value the schema allows but the types refuse).
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Unexpected(format!("stored {what} is invalid: {detail}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_and_io_errors_are_unavailable() {
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            from_sqlx(sqlx::Error::PoolClosed),
            StoreError::Unavailable(_)
        ));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(
            from_sqlx(sqlx::Error::Io(io)),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn other_errors_are_unexpected_with_their_source() {
        let error = from_sqlx(sqlx::Error::RowNotFound);
        let StoreError::Unexpected(source) = error else {
            panic!("expected Unexpected, got {error:?}");
        };
        assert!(source.downcast_ref::<sqlx::Error>().is_some());
    }

    #[test]
    fn connection_exception_codes_count_as_unavailable() {
        assert!(is_unavailable_code("08006"));
        assert!(is_unavailable_code("57P01"));
        assert!(is_unavailable_code("53300"));
        assert!(!is_unavailable_code("23505"));
        assert!(!is_unavailable_code("42P01"));
    }
}
