//! Runs the store conformance suite against SQLite: one fresh database file per case in the
//! temp directory, removed afterwards; a second `SqliteStore` on the same file stands in for a
//! second process.

use jira_sync_store::sqlite::testing::{SqliteTestDatabase, fresh_sqlite};

async fn sqlite() -> SqliteTestDatabase {
    fresh_sqlite().await
}

jira_sync_store::store_conformance_tests!(sqlite);
