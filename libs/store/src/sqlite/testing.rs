//! Test support for every crate: a fresh, migrated SQLite database file per test under the
//! system temp directory, removed afterwards (with its `-wal` and `-shm` files), so that tests
//! run in parallel and leave nothing behind.
//!
//! ```ignore
//! let db = jira_sync_store::sqlite::testing::fresh_sqlite().await;
//! let store = Arc::new(db.store.clone());
//! let second_process = db.open_another().await?;   // another instance on the same file
//! // ... the test ...
//! db.cleanup().await;
//! ```
//!
//! A `SqliteTestDatabase` dropped without `cleanup` (a failed assertion) still removes its files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use uuid::Uuid;

use super::{SqliteOptions, SqliteStore};
use crate::conformance::TestBackend;
use crate::{Store, StoreError};

/// A fresh database file `jira-sync-test-<uuid>.db` in the temp directory, with a store on it.
pub struct SqliteTestDatabase {
    /// The database file.
    pub path: PathBuf,
    /// A store on the file.
    pub store: SqliteStore,
    cleaned_up: AtomicBool,
}

/// Creates a fresh database; panics when it cannot, so that a test never passes by skipping.
pub async fn fresh_sqlite() -> SqliteTestDatabase {
    match SqliteTestDatabase::create(&SqliteOptions::default()).await {
        Ok(db) => db,
        Err(e) => panic!("cannot create a test SQLite database: {e}"),
    }
}

/// A unique path in the temp directory, not created.
pub fn temp_database_path(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{prefix}-{}.db", Uuid::new_v4().simple()))
}

/// Removes a database file and its WAL companions; missing files are fine.
pub fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("cannot remove {}: {e}", PathBuf::from(file).display()),
        }
    }
}

impl SqliteTestDatabase {
    /// Creates and migrates a fresh database file with `options`.
    pub async fn create(options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = temp_database_path("jira-sync-test");
        let store = match SqliteStore::open_with(&path.to_string_lossy(), options).await {
            Ok(store) => store,
            Err(e) => {
                remove_database_files(&path);
                return Err(e);
            }
        };
        Ok(Self {
            path,
            store,
            cleaned_up: AtomicBool::new(false),
        })
    }

    /// Another store on the same file with its own pool and locks: a second process, as far as
    /// SQLite and the entity locks go.
    pub async fn open_another(&self) -> Result<SqliteStore, StoreError> {
        self.open_another_with(&SqliteOptions::default()).await
    }

    /// [`SqliteTestDatabase::open_another`] with explicit options.
    pub async fn open_another_with(
        &self,
        options: &SqliteOptions,
    ) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(&self.path.to_string_lossy(), options).await
    }

    /// Closes the store and removes the files. Idempotent.
    pub async fn cleanup(&self) {
        if self.cleaned_up.swap(true, Ordering::SeqCst) {
            return;
        }
        self.store.close().await;
        remove_database_files(&self.path);
    }
}

impl std::fmt::Debug for SqliteTestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTestDatabase")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for SqliteTestDatabase {
    fn drop(&mut self) {
        if !self.cleaned_up.swap(true, Ordering::SeqCst) {
            remove_database_files(&self.path);
        }
    }
}

#[async_trait]
impl TestBackend for SqliteTestDatabase {
    fn store(&self) -> Arc<dyn Store> {
        Arc::new(self.store.clone())
    }

    async fn open_another(&self) -> Arc<dyn Store> {
        match SqliteTestDatabase::open_another(self).await {
            Ok(store) => Arc::new(store),
            Err(e) => panic!("cannot open a second store on {}: {e}", self.path.display()),
        }
    }

    async fn cleanup(&self) {
        SqliteTestDatabase::cleanup(self).await;
    }
}
