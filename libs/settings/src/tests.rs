use secrecy::ExposeSecret;

use super::*;

const TWO_SITES: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "bot@a.example"
api_token = "token-a-very-secret"
webhook = { method = "hub_signature", secret = "hook-secret-a" }

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "https://b.example.net"
email = "bot@b.example"
api_token = "token-b-very-secret"

[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART", issue_type = "Bug" }
priority_map = [{ left = "High", right = "P1" }]
"#;

#[test]
fn defaults_alone_are_valid() -> Result<(), SettingsError> {
    let settings = Settings::from_toml("")?;
    assert_eq!(settings.amqp.retry_delays.len(), 5);
    assert_eq!(
        settings.amqp.retry_delays[2],
        std::time::Duration::from_secs(60)
    );
    assert!(settings.endpoints.is_empty());
    Ok(())
}

#[test]
fn a_two_site_config_loads_with_default_fields() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_toml(TWO_SITES)?;
    let connection = &settings.connections[&jira_sync_domain::ConnectionId::parse("a-to-b")?];
    assert_eq!(
        connection.synced_fields().len(),
        jira_sync_domain::Field::ALL.len()
    );
    assert_eq!(connection.right.issue_type, "Bug");
    assert_eq!(
        connection.map_priority(jira_sync_domain::Side::Left, "High"),
        "P1"
    );
    assert_eq!(
        connection.map_priority(jira_sync_domain::Side::Right, "P1"),
        "High"
    );
    assert_eq!(
        connection.map_priority(jira_sync_domain::Side::Right, "P9"),
        "P9"
    );
    let a = jira_sync_domain::EndpointId::parse("jira-a")?;
    let found: Vec<_> = settings.connections_of(&a, Some("acme")).collect();
    assert_eq!(found.len(), 1);
    assert_eq!(settings.connections_of(&a, Some("OTHER")).count(), 0);
    Ok(())
}

#[test]
fn secrets_never_appear_in_debug_output() -> Result<(), SettingsError> {
    let settings = Settings::from_toml(TWO_SITES)?;
    let debug = format!("{settings:?}");
    for secret in [
        "token-a-very-secret",
        "token-b-very-secret",
        "hook-secret-a",
        "guest:guest",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug output");
    }
    assert_eq!(
        settings.amqp.url.expose_secret(),
        "amqp://guest:guest@127.0.0.1:5672/%2f"
    );
    Ok(())
}

#[test]
fn an_unknown_endpoint_is_reported_with_its_path() {
    let text = TWO_SITES.replace("endpoint = \"jira-b\"", "endpoint = \"jira-x\"");
    let err = Settings::from_toml(&text)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        err,
        Err("invalid configuration at `connections.a-to-b.right.endpoint`: unknown endpoint `jira-x`".into())
    );
}

#[test]
fn an_unknown_field_and_a_bad_duration_are_reported() {
    let text = format!("{TWO_SITES}\n[connections.a-to-b.fields.colour]\ndirection = \"both\"\n");
    let err = Settings::from_toml(&text)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(
        matches!(&err, Err(m) if m.contains("connections.a-to-b.fields.colour")),
        "{err:?}"
    );
    let err = Settings::from_toml("[amqp]\nconfirm_timeout = \"soon\"\n")
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(matches!(&err, Err(m) if m.contains("soon")), "{err:?}");
}

#[test]
fn the_ingress_client_timeouts_default_and_a_zero_request_timeout_is_refused()
-> Result<(), SettingsError> {
    let settings = Settings::from_toml("")?;
    assert_eq!(
        settings.ingress.client_request_timeout,
        std::time::Duration::from_secs(5)
    );
    assert_eq!(
        settings.ingress.client_disconnect_timeout,
        std::time::Duration::from_secs(1)
    );
    let err = Settings::from_toml("[ingress]\nclient_request_timeout = \"0s\"\n")
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(
        matches!(&err, Err(m) if m.contains("ingress.client_request_timeout")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn the_ingress_in_flight_limit_defaults_to_256_and_zero_is_refused() -> Result<(), SettingsError> {
    assert_eq!(Settings::from_toml("")?.ingress.max_in_flight, 256);
    let err = Settings::from_toml("[ingress]\nmax_in_flight = 0\n")
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(
        matches!(&err, Err(m) if m.contains("ingress.max_in_flight")),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn the_jira_request_budget_is_off_by_default_and_must_be_positive() -> Result<(), SettingsError> {
    let defaults = Settings::from_toml("")?;
    assert_eq!(defaults.jira.requests_per_second, None);
    assert_eq!(defaults.jira.burst, 10);
    let set = Settings::from_toml("[jira]\nrequests_per_second = 90\nburst = 5\n")?;
    assert_eq!(set.jira.requests_per_second, Some(90.0));
    assert_eq!(set.jira.burst, 5);
    for bad in [
        "requests_per_second = 0",
        "requests_per_second = -1",
        "burst = 0",
    ] {
        let err = Settings::from_toml(&format!("[jira]\n{bad}\n"))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.contains("jira.")),
            "{bad}: {err:?}"
        );
    }
    Ok(())
}

#[test]
fn a_bad_endpoint_id_is_refused() {
    let text = TWO_SITES.replace("[endpoints.jira-b]", "[endpoints.\"jira b\"]");
    assert!(Settings::from_toml(&text).is_err());
}

#[test]
fn the_shipped_example_config_is_valid() -> Result<(), SettingsError> {
    let text = include_str!("../../../deploy/examples/two-sims.toml");
    let settings = Settings::from_toml(text)?;
    assert_eq!(settings.endpoints.len(), 2);
    assert_eq!(settings.connections.len(), 1);
    Ok(())
}
