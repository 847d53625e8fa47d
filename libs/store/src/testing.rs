//! Test support for every crate: a fresh, migrated PostgreSQL database per test, dropped
//! afterwards, so that tests run in parallel and leave nothing behind.
//!
//! ```ignore
//! let db = jira_sync_store::testing::fresh_postgres().await; // panics if PG is down
//! let store = Arc::new(db.store.clone());                    // or db.settings() for an app
//! // ... the test ...
//! db.cleanup().await;                                        // DROP DATABASE ... WITH (FORCE)
//! ```
//!
//! The server is `postgres://postgres@127.0.0.1:5432` unless [`SERVER_URL_ENV`] names another
//! (a URL without a database path). A `TestDatabase` dropped without `cleanup` (a failed
//! assertion) still drops its database, from a helper thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jira_sync_settings::DatabaseSettings;
use secrecy::SecretString;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::conformance::TestBackend;
use crate::{PgStore, Store, StoreError};

#[cfg(feature = "sqlite")]
pub use crate::sqlite::testing::{SqliteTestDatabase, fresh_sqlite};

/// The server tests use by default.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";

/// Environment variable overriding [`DEFAULT_SERVER_URL`].
pub const SERVER_URL_ENV: &str = "JIRA_SYNC_TEST_POSTGRES";

/// A fresh database `jira_sync_test_<uuid>`, migrated, with a [`PgStore`] on it.
pub struct TestDatabase {
    /// The database name.
    pub name: String,
    /// The URL of the database (no password with the default server).
    pub url: String,
    /// A store on the database (5 connections; clones share them).
    pub store: PgStore,
    server_url: String,
    cleaned_up: AtomicBool,
}

/// Creates a fresh database; panics with a clear message if PostgreSQL is unreachable, so that
/// a test never passes by skipping.
pub async fn fresh_postgres() -> TestDatabase {
    match TestDatabase::create().await {
        Ok(db) => db,
        Err(e) => panic!(
            "cannot create a test database on {} (is PostgreSQL running? \
             `pg_ctlcluster 15 main start`): {e}",
            server_url()
        ),
    }
}

fn server_url() -> String {
    std::env::var(SERVER_URL_ENV)
        .unwrap_or_else(|_| DEFAULT_SERVER_URL.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

async fn admin(server_url: &str) -> Result<PgConnection, StoreError> {
    PgConnection::connect(&format!("{server_url}/postgres"))
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

async fn drop_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    let mut admin = admin(server_url).await?;
    // The name is ours (`jira_sync_test_` + hex): safe to splice in.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .map_err(|e| StoreError::Unexpected(Box::new(e)))?;
    let _ = admin.close().await;
    Ok(())
}

impl TestDatabase {
    /// Creates and migrates a fresh database.
    pub async fn create() -> Result<Self, StoreError> {
        let server_url = server_url();
        let name = format!("jira_sync_test_{}", Uuid::new_v4().simple());
        let mut admin = admin(&server_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .map_err(|e| StoreError::Unexpected(Box::new(e)))?;
        let _ = admin.close().await;
        let url = format!("{server_url}/{name}");
        let settings = settings_for(&url);
        let store = match PgStore::connect(&settings).await {
            Ok(store) => store,
            Err(e) => {
                let _ = drop_database(&server_url, &name).await;
                return Err(e);
            }
        };
        Ok(Self {
            name,
            url,
            store,
            server_url,
            cleaned_up: AtomicBool::new(false),
        })
    }

    /// Settings pointing at this database, for building an application under test.
    pub fn settings(&self) -> DatabaseSettings {
        settings_for(&self.url)
    }

    /// Another store on the same database with its own pools: a second process, as far as
    /// locks and connections go.
    pub async fn open_another(&self) -> Result<PgStore, StoreError> {
        PgStore::connect(&self.settings()).await
    }

    /// Closes the store and drops the database (terminating any session still on it).
    /// Idempotent. Panics if the database cannot be dropped, so leaks are noticed.
    pub async fn cleanup(&self) {
        if self.cleaned_up.swap(true, Ordering::SeqCst) {
            return;
        }
        self.store.close().await;
        if let Err(e) = drop_database(&self.server_url, &self.name).await {
            panic!("cannot drop test database {}: {e}", self.name);
        }
    }
}

impl std::fmt::Debug for TestDatabase {
    // The URL may hold a password (from SERVER_URL_ENV): left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn settings_for(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: SecretString::from(url.to_owned()),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.cleaned_up.swap(true, Ordering::SeqCst) {
            return;
        }
        // Drop has no async context: drop the database from a thread with its own runtime.
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(drop_database(&server_url, &name)),
                Err(e) => Err(StoreError::Unexpected(Box::new(e))),
            }
        });
        match dropper.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {} was not dropped: {e}", self.name),
            Err(_) => eprintln!("test database {} was not dropped", self.name),
        }
    }
}

#[async_trait]
impl TestBackend for TestDatabase {
    fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    async fn open_another(&self) -> Arc<dyn Store> {
        match TestDatabase::open_another(self).await {
            Ok(store) => Arc::new(store),
            Err(e) => panic!("cannot open a second store on {}: {e}", self.name),
        }
    }

    async fn cleanup(&self) {
        TestDatabase::cleanup(self).await;
    }
}
