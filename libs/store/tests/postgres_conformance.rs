//! Runs the store conformance suite against PostgreSQL: one fresh database per case, on the
//! server at 127.0.0.1:5432 (or `JIRA_SYNC_TEST_POSTGRES`). Fails, never skips, when the
//! server is down.

use jira_sync_store::testing::{TestDatabase, fresh_postgres};

async fn postgres() -> TestDatabase {
    fresh_postgres().await
}

jira_sync_store::store_conformance_tests!(postgres);
