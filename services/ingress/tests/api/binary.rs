//! The `jira-sync-ingress` binary itself: configured from the environment, logs JSON when asked,
//! serves, and exits cleanly on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use jira_sync_store::testing::fresh_postgres;
use jira_sync_transport::amqp::AmqpTransport;
use tokio::io::AsyncReadExt;

use crate::helpers::{eventually, test_settings};

#[tokio::test]
async fn the_binary_serves_until_sigterm_and_then_exits_cleanly() {
    let db = fresh_postgres().await;
    let prefix = format!("ingress-bin-{}", uuid::Uuid::new_v4().simple());
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("address").port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jira-sync-ingress"))
        .env("JIRA_SYNC__INGRESS__LISTEN", format!("127.0.0.1:{port}"))
        .env("JIRA_SYNC__DATABASE__URL", &db.url)
        .env("JIRA_SYNC__AMQP__PREFIX", &prefix)
        .env("JIRA_SYNC__TELEMETRY__LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("JIRA_SYNC_CONFIG")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let ready = eventually(Duration::from_secs(20), || {
        let request = client.get(&url).send();
        async move { request.await.ok().filter(|r| r.status() == 200).map(|_| ()) }
    })
    .await;
    assert!(
        ready.is_some(),
        "the binary never became ready on port {port}"
    );

    let pid = child.id().expect("a running child").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the binary exits after SIGTERM")
        .expect("exit status");
    assert!(exit.success(), "exit status {exit:?}");

    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).await.expect("stdout");
    }
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("logs are not JSON ({e}): {stdout}"));
    assert_eq!(first["fields"]["service"], "jira-sync-ingress", "{stdout}");
    assert!(stdout.contains("shutting down"), "{stdout}");

    let mut amqp = test_settings().amqp;
    amqp.prefix = prefix;
    AmqpTransport::new(&amqp)
        .expect("transport")
        .delete_topology()
        .await
        .expect("topology deleted");
    db.cleanup().await;
}
