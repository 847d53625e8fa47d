//! [`EmbeddedFactory`]: the conformance suite against the embedded SQLite queue. Each backend is
//! a fresh database file in the temp directory, removed on `cleanup` (or drop).
//!
//! Outages: there is no broker to cut off. What an embedded queue meets instead is a database
//! it cannot write: another process holding SQLite's write lock (a backup, a stuck admin
//! command), a full disk, a file made read-only. `break_broker` reproduces the first, which
//! also covers the others' effect: a separate connection takes the write lock
//! (`BEGIN EXCLUSIVE`) and keeps it until `restore_broker`. Every write then waits its busy
//! timeout (set to the profile's confirm timeout) and fails as `Unavailable`; reads go on
//! (WAL). So both outage cases apply unchanged: a publish fails fast and works again after,
//! and a delivery dropped during the outage comes back once the database is writable. A
//! process restart (close, reopen the same file) is covered by the backend's own tests.
//!
//! The profile's `retry_delays` do not apply: embedded retries wait exactly the delay asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::Mutex;

use super::{Profile, TestBackend, TransportFactory};
use crate::embedded::{EmbeddedQueueSettings, EmbeddedTransport};
use crate::{Consumer, DeadLetters, Publisher};

/// Creates embedded backends on fresh temp files.
#[derive(Debug, Default, Clone)]
pub struct EmbeddedFactory;

impl EmbeddedFactory {
    /// The queue settings for `profile`: its prefetch, its confirm timeout as busy timeout,
    /// a 5 s visibility timeout and the default poll interval.
    pub fn settings(profile: &Profile) -> EmbeddedQueueSettings {
        EmbeddedQueueSettings {
            prefetch: profile.prefetch,
            busy_timeout: profile.confirm_timeout,
            visibility_timeout: Duration::from_secs(5),
            ..EmbeddedQueueSettings::default()
        }
    }

    /// A fresh queue as the concrete type (for tests of what only the embedded queue has).
    /// Panics when the file cannot be created: tests never skip.
    pub async fn backend(&self, profile: Profile) -> EmbeddedBackend {
        EmbeddedBackend::open(temp_database_path("jira-sync-queue-test"), &profile).await
    }
}

#[async_trait]
impl TransportFactory for EmbeddedFactory {
    async fn create(&self, profile: Profile) -> Box<dyn TestBackend> {
        Box::new(self.backend(profile).await)
    }
}

/// A unique path in the temp directory, not created.
pub fn temp_database_path(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{prefix}-{}.db", uuid::Uuid::new_v4().simple()))
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

/// One embedded queue under test. Removes its files on `cleanup`, or when dropped without it
/// (a failed case).
pub struct EmbeddedBackend {
    /// The transport under test.
    pub transport: EmbeddedTransport,
    path: PathBuf,
    /// The connection holding the write lock while the "broker" is down.
    blocker: Mutex<Option<SqliteConnection>>,
    cleaned: bool,
}

impl EmbeddedBackend {
    /// Opens a queue on `path` configured for `profile`; panics when it cannot.
    pub async fn open(path: PathBuf, profile: &Profile) -> Self {
        let settings = EmbeddedFactory::settings(profile);
        let transport = match EmbeddedTransport::open(&path, &settings).await {
            Ok(transport) => transport,
            Err(error) => {
                remove_database_files(&path);
                panic!(
                    "cannot open an embedded queue at {}: {error}",
                    path.display()
                );
            }
        };
        Self {
            transport,
            path,
            blocker: Mutex::new(None),
            cleaned: false,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the transport and removes the files (also done on drop).
    pub async fn cleanup(mut self) {
        self.cleaned = true;
        self.restore().await;
        self.transport.close().await;
        remove_database_files(&self.path);
    }

    async fn restore(&self) {
        if let Some(mut blocker) = self.blocker.lock().await.take() {
            sqlx::query("ROLLBACK")
                .execute(&mut blocker)
                .await
                .expect("give the write lock back");
            if let Err(error) = blocker.close().await {
                eprintln!("the blocking connection did not close cleanly: {error}");
            }
        }
    }
}

#[async_trait]
impl TestBackend for EmbeddedBackend {
    fn publisher(&self) -> Arc<dyn Publisher> {
        self.transport.publisher()
    }

    async fn consumer(&self) -> Box<dyn Consumer> {
        self.transport.consumer()
    }

    fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        self.transport.dead_letters()
    }

    async fn break_broker(&self) {
        let mut blocker = self.blocker.lock().await;
        if blocker.is_some() {
            return;
        }
        let mut connection = SqliteConnectOptions::new()
            .filename(&self.path)
            .busy_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("open a second connection to the queue file");
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut connection)
            .await
            .expect("take the write lock");
        *blocker = Some(connection);
    }

    async fn restore_broker(&self) {
        self.restore().await;
    }

    async fn cleanup(self: Box<Self>) {
        EmbeddedBackend::cleanup(*self).await;
    }
}

impl Drop for EmbeddedBackend {
    fn drop(&mut self) {
        if !self.cleaned {
            remove_database_files(&self.path);
        }
    }
}
