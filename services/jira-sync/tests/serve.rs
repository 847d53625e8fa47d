//! `serve` in embedded mode, in-process: the ingress, the worker and the poller on a SQLite
//! queue and store under a scratch data directory, with RabbitMQ and PostgreSQL URLs pointing at a closed port,
//! sync two simulated Jira sites both ways.

mod support;

use std::time::Duration;

use jira_sync::Serve;
use jira_sync::backends::{QUEUE_FILE, STORE_FILE};
use jira_sync_settings::Settings;
use support::{Person, Scratch, eventually, site, summary_of, twins_by_origin};

#[tokio::test]
async fn serve_syncs_a_new_issue_to_the_other_site_and_an_edit_back_with_no_broker_or_database() {
    let sim = support::two_sites(Duration::from_millis(200), 20).await;
    let scratch = Scratch::new("serve");
    let data_dir = scratch.path().join("data");
    let text = support::embedded_config(&sim, 0, &data_dir, "");
    let settings = Settings::from_toml(&text).unwrap_or_else(|e| panic!("settings: {e}"));
    let serve = Serve::build(settings)
        .await
        .unwrap_or_else(|e| panic!("serve starts without RabbitMQ and PostgreSQL: {e}"));
    let ingress_port = serve
        .ports()
        .ingress
        .unwrap_or_else(|| panic!("no ingress"));
    let worker_port = serve.ports().worker.unwrap_or_else(|| panic!("no worker"));
    let poller_port = serve
        .ports()
        .poller
        .unwrap_or_else(|| panic!("the poller runs on the embedded store too"));
    assert_eq!(serve.ports().admin, None, "no admin key, no admin API");
    let running = serve.spawn();
    support::register_webhooks(&sim, ingress_port);
    let (a, b) = (site(&sim, "a"), site(&sim, "b"));

    let origin = Person::admin_of(a).create("Printer on fire").await;
    let twin = eventually(Duration::from_secs(30), "the twin in site B", || async {
        support::twin_of(b, &origin)
    })
    .await;
    assert_eq!(
        summary_of(b, &twin).as_deref(),
        Some("Printer on fire"),
        "the twin carries the summary"
    );

    Person::admin_of(b)
        .rename(&twin, "Printer on fire (extinguished)")
        .await;
    eventually(
        Duration::from_secs(30),
        "the edit back in site A",
        || async {
            (summary_of(a, &origin).as_deref() == Some("Printer on fire (extinguished)"))
                .then_some(())
        },
    )
    .await;

    let http = reqwest::Client::new();
    for url in [
        format!("http://127.0.0.1:{ingress_port}/readyz"),
        format!("http://127.0.0.1:{worker_port}/readyz"),
        format!("http://127.0.0.1:{poller_port}/readyz"),
    ] {
        assert!(support::answers_ok(&http, &url).await, "{url} is ready");
    }
    for file in [QUEUE_FILE, STORE_FILE] {
        assert!(data_dir.join(file).is_file(), "{file} is in the data dir");
    }
    assert_eq!(b.issues(None).len(), 1, "exactly one issue in B: no echo");
    assert_eq!(twins_by_origin(b).get(&origin), Some(&1));
    running
        .stop()
        .await
        .unwrap_or_else(|e| panic!("serve stops cleanly: {e}"));
    sim.stop().await;
}

#[tokio::test]
async fn serve_refuses_to_start_when_the_data_dir_cannot_be_created() {
    let sim = support::two_sites(Duration::from_millis(200), 0).await;
    let scratch = Scratch::new("serve-bad-dir");
    let file = scratch.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap_or_else(|e| panic!("{e}"));
    // The config leaves `runtime.store` unset (embedded is the binary's default), so the
    // settings do not check the directory: `serve` does, when it opens it.
    let text = support::embedded_config(&sim, 0, &file.join("data"), "");
    let settings = Settings::from_toml(&text).unwrap_or_else(|e| panic!("settings: {e}"));
    let error = match Serve::build(settings).await {
        Ok(_) => panic!("serve started on a data dir below a file"),
        Err(e) => jira_sync::error::chain(&e),
    };
    assert!(error.starts_with("runtime.data_dir: cannot use"), "{error}");
    sim.stop().await;
}

#[tokio::test]
async fn serve_runs_on_rabbitmq_and_postgresql_when_the_config_says_so() {
    let sim = support::two_sites(Duration::from_millis(200), 20).await;
    let db = jira_sync_store::testing::fresh_postgres().await;
    let amqp_url = std::env::var("JIRA_SYNC_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let broker = url::Url::parse(&amqp_url)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port().unwrap_or(5672))))
        .unwrap_or_else(|| panic!("JIRA_SYNC_TEST_AMQP_URL is not a URL: {amqp_url}"));
    if let Err(e) = tokio::net::TcpStream::connect(&broker).await {
        panic!("RabbitMQ is not reachable at {broker} ({e}): run scripts/test");
    }
    let prefix = format!("jira-sync-serve-{}", uuid::Uuid::new_v4().simple());
    let scratch = Scratch::new("serve-distributed");
    let data_dir = scratch.path().join("data");
    let closed = support::CLOSED_PORT;
    let text = support::embedded_config(&sim, 0, &data_dir, "")
        .replace(
            "[runtime]\n",
            "[admin]\nlisten = \"127.0.0.1:0\"\napi_keys = [\"admin-key-0123456789abcdef\"]\n\n\
             [runtime]\ntransport = \"amqp\"\nstore = \"postgres\"\n",
        )
        .replace(
            &format!("url = \"amqp://guest:guest@127.0.0.1:{closed}/%2f\"\n"),
            &format!("url = \"{amqp_url}\"\nprefix = \"{prefix}\"\n"),
        )
        .replace(
            &format!("url = \"postgres://postgres@127.0.0.1:{closed}/never_used\""),
            &format!("url = \"{}\"", db.url),
        );
    let settings = Settings::from_toml(&text).unwrap_or_else(|e| panic!("settings: {e}"));
    let amqp = settings.amqp.clone();
    let serve = Serve::build(settings)
        .await
        .unwrap_or_else(|e| panic!("serve starts on RabbitMQ and PostgreSQL: {e}"));
    let ingress_port = serve
        .ports()
        .ingress
        .unwrap_or_else(|| panic!("no ingress"));
    assert!(
        serve.ports().poller.is_some(),
        "the poller runs on PostgreSQL"
    );
    let admin_port = serve
        .ports()
        .admin
        .unwrap_or_else(|| panic!("an admin key starts the admin API"));
    let running = serve.spawn();
    support::register_webhooks(&sim, ingress_port);
    let (a, b) = (site(&sim, "a"), site(&sim, "b"));

    let origin = Person::admin_of(a).create("Sent through RabbitMQ").await;
    eventually(Duration::from_secs(30), "the twin in site B", || async {
        support::twin_of(b, &origin)
    })
    .await;
    // The twin exists a moment before its link is stored.
    eventually(
        Duration::from_secs(10),
        "the link in PostgreSQL",
        || async {
            let links = jira_sync_store::Store::list_links(&db.store, None, 10).await;
            links.ok().filter(|l| l.len() == 1).map(drop)
        },
    )
    .await;
    assert!(!data_dir.exists(), "no SQLite file was made");
    let listed = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{admin_port}/api/v1/links"))
        .bearer_auth("admin-key-0123456789abcdef")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /api/v1/links: {e}"));
    assert_eq!(listed.status().as_u16(), 200);
    let body: serde_json::Value = listed.json().await.unwrap_or_default();
    assert_eq!(body["links"][0]["left"]["id"], origin.as_str(), "{body}");

    running
        .stop()
        .await
        .unwrap_or_else(|e| panic!("serve stops cleanly: {e}"));
    match jira_sync_transport::AmqpTransport::new(&amqp) {
        Ok(transport) => {
            if let Err(e) = transport.delete_topology().await {
                eprintln!("could not delete the test queues: {e}");
            }
        }
        Err(e) => eprintln!("could not reach RabbitMQ to clean up: {e}"),
    }
    db.cleanup().await;
    sim.stop().await;
}
