//! The `[poller]` section: how often the poller searches, scans and sweeps, and how replicas
//! share the schedules.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::{SettingsError, duration};

/// The poller: scheduled JQL increments, full passes, retry sweeps and PeopleForce scans.
#[derive(Debug, Clone, Deserialize)]
pub struct PollerSettings {
    /// Address of the poller's /healthz, /readyz and /metrics.
    pub listen: SocketAddr,
    /// How often each Jira side of a connection is searched for recent changes.
    #[serde(with = "duration")]
    pub jira_interval: Duration,
    /// How far before its cursor an incremental search starts (JQL dates have minute grain, and
    /// search is eventually consistent).
    #[serde(with = "duration")]
    pub jira_overlap: Duration,
    /// Issues per search page.
    pub jira_page_size: u32,
    /// How often every linked pair and every issue in scope is compared with the store.
    #[serde(with = "duration")]
    pub full_pass_interval: Duration,
    /// How often links whose last sync failed are enqueued again.
    #[serde(with = "duration")]
    pub retry_sweep_interval: Duration,
    /// How often the tasks of each PeopleForce side are read in full and compared.
    #[serde(with = "duration")]
    pub peopleforce_interval: Duration,
    /// Tasks per PeopleForce page.
    pub peopleforce_page_size: u32,
    /// How often a replica that does not lead a schedule tries to take it over (capped by the
    /// schedule's own interval).
    #[serde(with = "duration")]
    pub leader_lock_retry: Duration,
}

impl PollerSettings {
    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        for (key, value) in [
            ("jira_interval", self.jira_interval),
            ("full_pass_interval", self.full_pass_interval),
            ("retry_sweep_interval", self.retry_sweep_interval),
            ("peopleforce_interval", self.peopleforce_interval),
            ("leader_lock_retry", self.leader_lock_retry),
        ] {
            if value.is_zero() {
                return Err(SettingsError::invalid(
                    format!("poller.{key}"),
                    "must be longer than zero",
                ));
            }
        }
        if !(1..=5000).contains(&self.jira_page_size) {
            return Err(SettingsError::invalid(
                "poller.jira_page_size",
                "must be between 1 and 5000",
            ));
        }
        if !(1..=100).contains(&self.peopleforce_page_size) {
            return Err(SettingsError::invalid(
                "poller.peopleforce_page_size",
                "must be between 1 and 100 (PeopleForce's largest page)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jira_sync_domain::{ConnectionId, EndpointId};
    use secrecy::ExposeSecret;

    use crate::{EndpointKind, Settings};

    const JIRA_AND_PEOPLEFORCE: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "bot@a.example"
api_token = "token-a"

[endpoints.pf]
kind = "peopleforce"
base_url = "https://app.peopleforce.io"
api_key = "pf-key-very-secret"
webhook = { method = "hub_signature", secret = "pf-hook-secret" }

[connections.onboarding]
left = { endpoint = "jira-a", project = "HR" }
right = { endpoint = "pf" }
poll_interval = "30s"
"#;

    fn error_of(text: &str) -> String {
        match Settings::from_toml(text) {
            Ok(_) => String::from("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_poller_defaults_are_loaded() -> Result<(), crate::SettingsError> {
        let poller = Settings::from_toml("")?.poller;
        assert_eq!(poller.jira_interval, Duration::from_secs(60));
        assert_eq!(poller.jira_overlap, Duration::from_secs(120));
        assert_eq!(poller.full_pass_interval, Duration::from_secs(24 * 3600));
        assert_eq!(poller.retry_sweep_interval, Duration::from_secs(300));
        assert_eq!(poller.peopleforce_interval, Duration::from_secs(300));
        assert_eq!(poller.jira_page_size, 100);
        assert_eq!(poller.leader_lock_retry, Duration::from_secs(30));
        Ok(())
    }

    #[test]
    fn a_peopleforce_endpoint_takes_an_api_key_and_needs_no_project()
    -> Result<(), Box<dyn std::error::Error>> {
        let settings = Settings::from_toml(JIRA_AND_PEOPLEFORCE)?;
        let pf = &settings.endpoints[&EndpointId::parse("pf")?];
        assert_eq!(pf.kind, EndpointKind::Peopleforce);
        assert_eq!(pf.api_token.expose_secret(), "pf-key-very-secret");
        let connection = &settings.connections[&ConnectionId::parse("onboarding")?];
        assert_eq!(connection.poll_interval, Some(Duration::from_secs(30)));
        assert!(connection.right.project.is_empty());
        let debug = format!("{settings:?}");
        assert!(!debug.contains("pf-key-very-secret"), "{debug}");
        assert!(!debug.contains("pf-hook-secret"), "{debug}");
        Ok(())
    }

    #[test]
    fn a_connection_without_poll_interval_has_none() -> Result<(), Box<dyn std::error::Error>> {
        let text = JIRA_AND_PEOPLEFORCE.replace("poll_interval = \"30s\"\n", "");
        let settings = Settings::from_toml(&text)?;
        let connection = &settings.connections[&ConnectionId::parse("onboarding")?];
        assert_eq!(connection.poll_interval, None);
        Ok(())
    }

    #[test]
    fn bad_poller_values_are_reported_with_their_path() {
        assert_eq!(
            error_of("[poller]\njira_interval = \"0s\"\n"),
            "invalid configuration at `poller.jira_interval`: must be longer than zero"
        );
        assert!(
            error_of("[poller]\npeopleforce_page_size = 500\n")
                .contains("poller.peopleforce_page_size"),
        );
        assert!(error_of("[poller]\njira_page_size = 0\n").contains("poller.jira_page_size"));
        assert!(error_of("[poller]\nleader_lock_retry = \"later\"\n").contains("later"));
        let zero = JIRA_AND_PEOPLEFORCE.replace("\"30s\"", "\"0ms\"");
        assert!(
            error_of(&zero).contains("connections.onboarding.poll_interval"),
            "{}",
            error_of(&zero)
        );
    }

    #[test]
    fn a_jira_side_still_needs_a_project_and_a_jira_endpoint_an_email() {
        let text = JIRA_AND_PEOPLEFORCE.replace(", project = \"HR\"", "");
        assert_eq!(
            error_of(&text),
            "invalid configuration at `connections.onboarding.left.project`: is empty"
        );
        let text = JIRA_AND_PEOPLEFORCE.replace("email = \"bot@a.example\"\n", "");
        assert!(
            error_of(&text).contains("endpoints.jira-a.email"),
            "{}",
            error_of(&text)
        );
        let text = JIRA_AND_PEOPLEFORCE.replace("\"pf-key-very-secret\"", "\"\"");
        assert_eq!(
            error_of(&text),
            "invalid configuration at `endpoints.pf.api_key`: is empty"
        );
    }
}
