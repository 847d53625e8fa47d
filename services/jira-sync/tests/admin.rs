//! The admin API inside `serve`: mounted on `admin.listen` when a key is configured, in
//! embedded mode too, and the `jira-sync links` command talking to it.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use jira_sync::Serve;
use jira_sync_settings::Settings;
use serde_json::Value;
use support::{Person, Scratch, eventually, site};

const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

/// The links the admin API lists, as JSON, with `key` (or none).
async fn links(http: &reqwest::Client, port: u16, key: Option<&str>) -> (u16, Value) {
    let mut request = http.get(format!("http://127.0.0.1:{port}/api/v1/links"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/v1/links: {e}"));
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn left_ids(body: &Value) -> Vec<String> {
    body["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|l| l["left"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn serve_mounts_the_admin_api_and_the_links_command_lists_a_synced_link() {
    let sim = support::two_sites(Duration::from_millis(200), 20).await;
    let scratch = Scratch::new("serve-admin");
    let extra = format!("\n[admin]\nlisten = \"127.0.0.1:0\"\napi_keys = [\"{ADMIN_KEY}\"]\n");
    // `[admin]` must not land inside the connection's fields table: put it before.
    let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "").replacen(
        "\n[runtime]\n",
        &format!("{extra}\n[runtime]\n"),
        1,
    );
    let settings = Settings::from_toml(&text).unwrap_or_else(|e| panic!("settings: {e}"));
    let serve = Serve::build(settings)
        .await
        .unwrap_or_else(|e| panic!("serve starts: {e}"));
    let ingress_port = serve
        .ports()
        .ingress
        .unwrap_or_else(|| panic!("no ingress"));
    let admin_port = serve
        .ports()
        .admin
        .unwrap_or_else(|| panic!("an admin key starts the admin API"));
    assert!(serve.ports().poller.is_some(), "the poller runs embedded");
    let running = serve.spawn();
    assert_eq!(running.ports().admin, Some(admin_port));
    support::register_webhooks(&sim, ingress_port);

    let origin = Person::admin_of(site(&sim, "a"))
        .create("Listed by the admin API")
        .await;
    let http = reqwest::Client::new();
    let body = eventually(Duration::from_secs(30), "the link in /api/v1/links", || {
        let http = http.clone();
        let origin = origin.clone();
        async move {
            let (status, body) = links(&http, admin_port, Some(ADMIN_KEY)).await;
            (status == 200 && left_ids(&body).contains(&origin)).then_some(body)
        }
    })
    .await;
    assert_eq!(body["links"][0]["connection"], "a-to-b");

    let (status, body) = links(&http, admin_port, None).await;
    assert_eq!(status, 401, "no key: {body}");
    let (status, _) = links(&http, admin_port, Some("not-the-admin-key-at-all")).await;
    assert_eq!(status, 401, "a wrong key");

    let url = format!("http://127.0.0.1:{admin_port}");
    let args = ["links", "--json", "--url", &url, "--key", ADMIN_KEY];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = jira_sync::run_to(args.map(str::to_owned), &mut out, &mut err).await;
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    let printed: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("--json prints JSON ({e}): {out}"));
    assert_eq!(left_ids(&printed), vec![origin.clone()]);

    let args = ["links", "--url", &url, "--key", "not-the-admin-key-at-all"];
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = jira_sync::run_to(args.map(str::to_owned), &mut out, &mut err).await;
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, ExitCode::from(1), "{err}");
    assert!(err.contains("401"), "{err}");

    running
        .stop()
        .await
        .unwrap_or_else(|e| panic!("serve stops cleanly: {e}"));
    sim.stop().await;
}
