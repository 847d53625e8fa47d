//! The `[runtime]` section: which transport and store a process runs on, and where the embedded
//! ones keep their files.
//!
//! Only the all-in-one `jira-sync` binary reads it. Left unset, `transport` and `store` mean
//! "the binary's default": `jira-sync` runs embedded (a SQLite queue and store under
//! `data_dir`, no broker, no database server), while the separate `jira-sync-ingress` and
//! `jira-sync-worker` binaries always run on RabbitMQ and PostgreSQL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::{SettingsError, duration};

/// The shortest `lease_timeout` the embedded queue accepts.
const MIN_LEASE: Duration = Duration::from_millis(300);

/// Where reconcile requests travel between the ingress and the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// RabbitMQ (`[amqp]`): the distributed deployment.
    Amqp,
    /// A durable queue in a SQLite file under `runtime.data_dir`: one machine, no broker.
    Embedded,
}

/// Where links, intents, the audit log and cursors are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// PostgreSQL (`[database]`): the distributed deployment.
    Postgres,
    /// A SQLite file under `runtime.data_dir`: one machine, no database server.
    Sqlite,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Amqp => "amqp",
            Self::Embedded => "embedded",
        })
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        })
    }
}

/// The `[runtime]` section.
#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeSettings {
    /// `None`: the binary's default (see the module documentation).
    #[serde(default)]
    pub transport: Option<TransportKind>,
    /// `None`: the binary's default (see the module documentation).
    #[serde(default)]
    pub store: Option<StoreKind>,
    /// Directory of the embedded queue and store files (created if missing).
    pub data_dir: PathBuf,
    /// Embedded mode: how long the in-flight messages and entity locks of a process that died
    /// stay held before another process (or its own restart) takes them over. Live processes
    /// renew theirs every third of it.
    #[serde(with = "duration")]
    pub lease_timeout: Duration,
}

impl RuntimeSettings {
    /// The configured transport, or `default` when the config leaves it unset.
    pub fn transport_or(&self, default: TransportKind) -> TransportKind {
        self.transport.unwrap_or(default)
    }

    /// The configured store, or `default` when the config leaves it unset.
    pub fn store_or(&self, default: StoreKind) -> StoreKind {
        self.store.unwrap_or(default)
    }

    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        if self.lease_timeout < MIN_LEASE {
            return Err(SettingsError::invalid(
                "runtime.lease_timeout",
                "must be at least 300ms",
            ));
        }
        if self.transport == Some(TransportKind::Embedded) || self.store == Some(StoreKind::Sqlite)
        {
            self.check_data_dir()?;
        }
        Ok(())
    }

    /// Checks, without writing anything, that `data_dir` can hold the embedded files: it is
    /// set, and it is a writable directory or can be created in one. (Called by `validate`
    /// when the config asks for an embedded backend, and by binaries whose default is one.)
    pub fn check_data_dir(&self) -> Result<(), SettingsError> {
        const PATH: &str = "runtime.data_dir";
        if self.data_dir.as_os_str().is_empty() {
            return Err(SettingsError::invalid(
                PATH,
                "is empty; the embedded queue and store need a directory",
            ));
        }
        let Some((existing, metadata)) = nearest_existing(&self.data_dir) else {
            return Err(SettingsError::invalid(
                PATH,
                format!(
                    "`{}` cannot be created: no parent directory exists",
                    self.data_dir.display()
                ),
            ));
        };
        if !metadata.is_dir() {
            return Err(SettingsError::invalid(
                PATH,
                format!("`{}` is not a directory", existing.display()),
            ));
        }
        if metadata.permissions().readonly() {
            return Err(SettingsError::invalid(
                PATH,
                format!("`{}` is not writable", existing.display()),
            ));
        }
        Ok(())
    }
}

/// The path itself or its nearest ancestor that exists, with its metadata.
fn nearest_existing(path: &Path) -> Option<(PathBuf, std::fs::Metadata)> {
    let mut candidate = Some(path);
    while let Some(p) = candidate {
        // A relative path's last parent is "": the current directory.
        let probe = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        if let Ok(metadata) = std::fs::metadata(probe) {
            return Some((probe.to_owned(), metadata));
        }
        candidate = p.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{Settings, SettingsError, StoreKind, TransportKind};

    fn error_of(text: &str) -> String {
        match Settings::from_toml(text) {
            Ok(_) => String::from("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn by_default_the_binary_decides_and_the_data_dir_is_local() -> Result<(), SettingsError> {
        let runtime = Settings::from_toml("")?.runtime;
        assert_eq!(runtime.transport, None);
        assert_eq!(runtime.store, None);
        assert_eq!(
            runtime.transport_or(TransportKind::Amqp),
            TransportKind::Amqp
        );
        assert_eq!(runtime.store_or(StoreKind::Sqlite), StoreKind::Sqlite);
        assert_eq!(runtime.data_dir, std::path::Path::new(".jira-sync-data"));
        assert_eq!(runtime.lease_timeout, Duration::from_secs(30));
        Ok(())
    }

    #[test]
    fn explicit_kinds_are_read_and_win_over_the_default() -> Result<(), SettingsError> {
        let runtime = Settings::from_toml(
            "[runtime]\ntransport = \"embedded\"\nstore = \"postgres\"\nlease_timeout = \"2s\"\n",
        )?
        .runtime;
        assert_eq!(
            runtime.transport_or(TransportKind::Amqp),
            TransportKind::Embedded
        );
        assert_eq!(runtime.store_or(StoreKind::Sqlite), StoreKind::Postgres);
        assert_eq!(runtime.lease_timeout, Duration::from_secs(2));
        Ok(())
    }

    #[test]
    fn an_unknown_kind_and_a_short_lease_are_refused() {
        assert!(error_of("[runtime]\ntransport = \"kafka\"\n").contains("kafka"));
        assert_eq!(
            error_of("[runtime]\nlease_timeout = \"100ms\"\n"),
            "invalid configuration at `runtime.lease_timeout`: must be at least 300ms"
        );
    }

    #[test]
    fn sqlite_needs_a_data_dir_that_is_a_directory() {
        assert_eq!(
            error_of("[runtime]\nstore = \"sqlite\"\ndata_dir = \"\"\n"),
            "invalid configuration at `runtime.data_dir`: is empty; the embedded queue and store \
             need a directory"
        );
        let file = std::env::temp_dir().join(format!("jira-sync-settings-{}", std::process::id()));
        if let Err(e) = std::fs::write(&file, b"not a directory") {
            panic!("write {}: {e}", file.display());
        }
        let text = format!(
            "[runtime]\ntransport = \"embedded\"\ndata_dir = \"{}\"\n",
            file.join("data").display()
        );
        let error = error_of(&text);
        let _ = std::fs::remove_file(&file);
        assert!(
            error.starts_with("invalid configuration at `runtime.data_dir`")
                && error.contains("is not a directory"),
            "{error}"
        );
    }

    #[test]
    fn a_data_dir_that_does_not_exist_yet_is_fine_when_it_can_be_created() {
        let dir = std::env::temp_dir().join("jira-sync-settings-not-yet/data");
        let text = format!(
            "[runtime]\nstore = \"sqlite\"\ndata_dir = \"{}\"\n",
            dir.display()
        );
        assert_eq!(error_of(&text), "accepted");
        assert!(!dir.exists(), "validation writes nothing");
    }
}
