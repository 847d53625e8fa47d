//! The credentials an endpoint needs, by kind: Jira Cloud takes an e-mail and an API token,
//! Jira Data Center a personal access token or a user name and password, PeopleForce an API
//! key. Checked at start-up so that a missing secret names its key instead of failing at the
//! first request. Also: how a Data Center side of a connection names people.

use jira_sync_domain::Side;
use jira_sync_domain::people::{UserPair, UserRef};
use secrecy::ExposeSecret;

use crate::SettingsError;
use crate::model::{EndpointKind, EndpointSettings};

fn is_set(secret: Option<&secrecy::SecretString>) -> bool {
    secret.is_some_and(|s| !s.expose_secret().is_empty())
}

impl EndpointSettings {
    /// Fails naming the first missing or contradictory credential key under `path`
    /// (`endpoints.<id>`).
    pub(crate) fn validate_credentials(&self, path: &str) -> Result<(), SettingsError> {
        let token = !self.api_token.expose_secret().is_empty();
        match self.kind {
            EndpointKind::JiraCloud => {
                if !token {
                    return Err(SettingsError::invalid(
                        format!("{path}.api_token"),
                        "is empty",
                    ));
                }
                if self.email.is_empty() {
                    return Err(SettingsError::invalid(
                        format!("{path}.email"),
                        "is required for kind = \"jira_cloud\"",
                    ));
                }
            }
            EndpointKind::Peopleforce => {
                if !token {
                    return Err(SettingsError::invalid(
                        format!("{path}.api_key"),
                        "is empty",
                    ));
                }
            }
            EndpointKind::JiraDataCenter => self.validate_data_center(path, token)?,
        }
        Ok(())
    }

    fn validate_data_center(&self, path: &str, token: bool) -> Result<(), SettingsError> {
        if token || !self.email.is_empty() {
            return Err(SettingsError::invalid(
                format!("{path}.api_token"),
                "kind = \"jira_data_center\" takes `pat`, or `username` and `password`, \
                 not an e-mail and API token",
            ));
        }
        let pat = is_set(self.pat.as_ref());
        let password = is_set(self.password.as_ref());
        match (pat, self.username.is_empty(), password) {
            (true, true, false) => Ok(()),
            (true, ..) => Err(SettingsError::invalid(
                format!("{path}.pat"),
                "give either `pat` or `username` and `password`, not both",
            )),
            (false, false, true) => Ok(()),
            (false, true, true) => Err(SettingsError::invalid(
                format!("{path}.username"),
                "is required with `password`",
            )),
            (false, false, false) => Err(SettingsError::invalid(
                format!("{path}.password"),
                "is required with `username`",
            )),
            (false, true, false) => Err(SettingsError::invalid(
                format!("{path}.pat"),
                "kind = \"jira_data_center\" needs a personal access token (`pat`) or \
                 `username` and `password`",
            )),
        }
    }
}

/// On a Data Center side of a connection, people are user names: a configured Cloud account id
/// or Data Center user key there would never match anyone (the client names users by name).
pub(crate) fn validate_data_center_users(
    path: &str,
    side: Side,
    users: &[UserPair],
) -> Result<(), SettingsError> {
    for (i, pair) in users.iter().enumerate() {
        if matches!(
            pair.on(side),
            UserRef::AccountId { .. } | UserRef::Key { .. }
        ) {
            return Err(SettingsError::invalid(
                format!("{path}.users[{i}].{side}"),
                "a Data Center side names people by user name (`\"jdoe\"` or `{ name = \"jdoe\" }`), \
                 not by account id or user key",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{EndpointKind, Settings};

    fn endpoint(credentials: &str) -> String {
        format!(
            r#"
[endpoints.dc]
kind = "jira_data_center"
base_url = "https://jira.example.org/jira"
{credentials}

[endpoints.cloud]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "bot@a.example"
api_token = "token-a-very-secret"

[connections.cloud-to-dc]
left = {{ endpoint = "cloud", project = "ACME" }}
right = {{ endpoint = "dc", project = "OPS" }}
"#
        )
    }

    fn error_of(credentials: &str) -> String {
        match Settings::from_toml(&endpoint(credentials)) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_data_center_endpoint_takes_a_personal_access_token()
    -> Result<(), Box<dyn std::error::Error>> {
        let settings = Settings::from_toml(&endpoint(r#"pat = "pat-very-secret-0123""#))?;
        let dc = &settings.endpoints[&jira_sync_domain::EndpointId::parse("dc")?];
        assert_eq!(dc.kind, EndpointKind::JiraDataCenter);
        assert!(dc.kind.is_jira());
        let debug = format!("{dc:?}");
        assert!(!debug.contains("pat-very-secret"), "{debug}");
        Ok(())
    }

    #[test]
    fn a_data_center_endpoint_takes_a_user_name_and_password()
    -> Result<(), Box<dyn std::error::Error>> {
        let settings = Settings::from_toml(&endpoint(
            "username = \"sync-bot\"\npassword = \"hunter2-very-secret\"",
        ))?;
        let dc = &settings.endpoints[&jira_sync_domain::EndpointId::parse("dc")?];
        assert_eq!(dc.username, "sync-bot");
        assert!(!format!("{settings:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn a_data_center_side_maps_people_by_user_name_not_by_key() {
        let base = endpoint(r#"pat = "p""#);
        let by_name = format!(
            "{base}users = [{{ left = \"acc-alice\", right = \"alice\" }}, \
             {{ left = \"acc-bob\", right = {{ name = \"bob\" }} }}]\n"
        );
        assert!(Settings::from_toml(&by_name).is_ok());
        let by_key = format!(
            "{base}users = [{{ left = \"acc-alice\", right = {{ key = \"JIRAUSER10100\" }} }}]\n"
        );
        let error = Settings::from_toml(&by_key)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(m) if m.contains("connections.cloud-to-dc.users[0].right")),
            "{error:?}"
        );
    }

    #[test]
    fn data_center_credentials_that_are_missing_or_mixed_name_their_key() {
        for (credentials, key) in [
            ("", "endpoints.dc.pat"),
            ("username = \"bot\"", "endpoints.dc.password"),
            ("password = \"x\"", "endpoints.dc.username"),
            (
                "pat = \"p\"\nusername = \"bot\"\npassword = \"x\"",
                "endpoints.dc.pat",
            ),
            (
                "email = \"bot@x\"\napi_token = \"t\"",
                "endpoints.dc.api_token",
            ),
        ] {
            let error = error_of(credentials);
            assert!(error.contains(key), "{credentials:?}: {error}");
        }
    }
}
