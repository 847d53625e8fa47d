//! Configuration of every jira-sync service: compiled-in defaults, then an optional TOML file
//! (`JIRA_SYNC_CONFIG`), then environment variables (`JIRA_SYNC__SECTION__KEY`).
//!
//! Secrets are `SecretString`s: they never show in `Debug` output, logs or errors.
//! [`Settings::validate`] checks the cross-references at start-up and names the offending key.

mod admin;
mod duration;
mod endpoint;
mod model;
mod poller;
mod runtime;
mod sync;

use std::path::Path;

pub use admin::{AdminSettings, MIN_ADMIN_KEY_CHARS};
pub use duration::parse_duration;
pub use model::*;
pub use poller::PollerSettings;
pub use runtime::{RuntimeSettings, StoreKind, TransportKind};
pub use sync::*;

/// The compiled-in defaults, with comments: the reference for every key.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// Environment variable naming an optional TOML config file.
pub const CONFIG_FILE_ENV: &str = "JIRA_SYNC_CONFIG";

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot load configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration at `{path}`: {reason}")]
    Invalid { path: String, reason: String },
}

impl SettingsError {
    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl Settings {
    /// Loads defaults, then the file named by `JIRA_SYNC_CONFIG` (if set), then the environment,
    /// and validates the result.
    pub fn load() -> Result<Self, SettingsError> {
        let file = std::env::var_os(CONFIG_FILE_ENV);
        Self::load_from(file.as_deref().map(Path::new))
    }

    /// Like [`Settings::load`] with an explicit file.
    pub fn load_from(file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULTS_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("JIRA_SYNC")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("amqp.retry_delays")
                    .with_list_parse_key("admin.api_keys")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Parses settings from one TOML text layered over the defaults (no environment), and
    /// validates them. For tests and `check-config`.
    pub fn from_toml(text: &str) -> Result<Self, SettingsError> {
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(
                DEFAULTS_TOML,
                config::FileFormat::Toml,
            ))
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests;
