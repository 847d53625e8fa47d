//! The `[admin]` section: where the operator's admin API listens and the API keys it accepts.
//!
//! The keys are secrets: they never show in `Debug` output, and validation names a bad key by
//! its position (`admin.api_keys[1]`), never by its value. An empty list is valid (the other
//! services do not read it); the admin API then refuses to start rather than serve a door no
//! key opens.

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::SettingsError;

/// The shortest API key accepted: long enough that guessing is hopeless (16 random characters
/// of a URL-safe alphabet are about 95 bits).
pub const MIN_ADMIN_KEY_CHARS: usize = 16;

/// The admin HTTP API (`/api/v1`): manual sync, link state, dead letters, conflicts.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    /// Address of the admin API.
    pub listen: SocketAddr,
    /// Accepted `Authorization: Bearer <key>` values. Kept secret.
    #[serde(default)]
    pub api_keys: Vec<SecretString>,
}

impl AdminSettings {
    /// Whether any key is configured (without one the admin API cannot be used).
    pub fn has_keys(&self) -> bool {
        !self.api_keys.is_empty()
    }

    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        for (index, key) in self.api_keys.iter().enumerate() {
            let key = key.expose_secret();
            let path = format!("admin.api_keys[{index}]");
            if key.chars().count() < MIN_ADMIN_KEY_CHARS {
                return Err(SettingsError::invalid(
                    path,
                    format!("must be at least {MIN_ADMIN_KEY_CHARS} characters long"),
                ));
            }
            if !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(SettingsError::invalid(
                    path,
                    "may contain only visible ASCII characters (no spaces)",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use crate::Settings;

    fn error_of(text: &str) -> String {
        match Settings::from_toml(text) {
            Ok(_) => String::from("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_admin_api_listens_locally_with_no_keys_by_default() -> Result<(), crate::SettingsError> {
        let admin = Settings::from_toml("")?.admin;
        assert_eq!(admin.listen.to_string(), "127.0.0.1:8081");
        assert!(admin.api_keys.is_empty());
        assert!(!admin.has_keys());
        Ok(())
    }

    #[test]
    fn api_keys_are_read_and_kept_out_of_debug_output() -> Result<(), crate::SettingsError> {
        let settings = Settings::from_toml(
            "[admin]\nlisten = \"0.0.0.0:9000\"\napi_keys = [\"k1-0123456789abcdef\", \"k2-0123456789abcdef\"]\n",
        )?;
        assert_eq!(settings.admin.api_keys.len(), 2);
        assert_eq!(
            settings.admin.api_keys[1].expose_secret(),
            "k2-0123456789abcdef"
        );
        let debug = format!("{settings:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        Ok(())
    }

    #[test]
    fn a_short_or_blank_key_is_refused_by_position_without_its_value() {
        let error = error_of("[admin]\napi_keys = [\"k1-0123456789abcdef\", \"short-key\"]\n");
        assert_eq!(
            error,
            "invalid configuration at `admin.api_keys[1]`: must be at least 16 characters long"
        );
        let error = error_of("[admin]\napi_keys = [\"with space 0123456789\"]\n");
        assert!(
            error.contains("admin.api_keys[0]") && !error.contains("with space"),
            "{error}"
        );
    }
}
