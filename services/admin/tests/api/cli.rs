//! The admin commands against a running admin API: they call the same routes, print tables by
//! default and the API's JSON with `--json`, and map refusals and usage errors to exit codes.

use jira_sync_admin::cli::{CliEnv, CliError, run_cli_with};
use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ReconcileRequest, Side};
use jira_sync_store::NewConflict;
use jira_sync_transport::{Envelope, Failure};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::helpers::{KEY, TestEnv, connection, next};

fn env_for(app: &TestEnv, key: &str) -> CliEnv {
    CliEnv {
        url: Some(app.address.clone()),
        key: Some(SecretString::from(key.to_owned())),
    }
}

/// Runs a command line; its exit status and output.
async fn run(env: &CliEnv, line: &[&str]) -> (Result<i32, CliError>, String) {
    let args: Vec<String> = line.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    let result = run_cli_with(&args, env, &mut out).await;
    (result, String::from_utf8_lossy(&out).into_owned())
}

async fn ok(env: &CliEnv, line: &[&str]) -> String {
    match run(env, line).await {
        (Ok(0), out) => out,
        (other, out) => panic!("{line:?}: {other:?}\n{out}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_sync_list_resolve_and_replay_through_the_api() {
    let app = TestEnv::start().await;
    let cli = env_for(&app, KEY);
    let (left_id, left_key) = app.create_issue(Side::Left, "Printer on fire").await;
    let base = Snapshot::from([("summary".to_owned(), json!("Printer on fire"))]);
    let link = app
        .insert_link((&left_id, Some(&left_key)), ("20001", None), &base)
        .await;
    let mut consumer = app.consumer().await;

    let out = ok(&cli, &["sync", "a-to-b", "left", &left_key]).await;
    assert!(
        out.contains(&format!(
            "enqueued a manual sync of {left_key} ({left_id}) on the left side (jira-a) of a-to-b"
        )),
        "{out}"
    );
    let delivery = next(&mut consumer).await;
    let request: ReconcileRequest =
        serde_json::from_slice(&delivery.envelope().payload).expect("decodes");
    assert_eq!(request.entity_id, left_id);
    assert!(out.contains(&request.delivery_id.to_string()), "{out}");
    delivery.ack().await.expect("ack");

    let table = ok(&cli, &["links", "--connection", "a-to-b"]).await;
    assert!(table.starts_with("CONNECTION  LEFT"), "{table}");
    assert!(
        table.contains(&format!("{left_key} ({left_id})")),
        "{table}"
    );
    let listed: Value = serde_json::from_str(&ok(&cli, &["links", "--json"]).await).expect("JSON");
    assert_eq!(listed["links"][0]["id"], json!(link.id));
    let detail = ok(&cli, &["links", "a-to-b", &left_key]).await;
    assert!(
        detail.contains("base:") && detail.contains("Printer on fire"),
        "{detail}"
    );

    let conflict = app
        .store
        .open_conflict(NewConflict {
            link_id: link.id,
            connection: connection(),
            field: "summary".into(),
            left: json!("Printer on fire"),
            right: json!("Printer is on fire"),
            base: Some(json!("Printer on fire")),
        })
        .await
        .expect("a conflict");
    let table = ok(&cli, &["conflicts"]).await;
    assert!(
        table.contains(&conflict.id.to_string()) && table.contains("open"),
        "{table}"
    );
    let id = conflict.id.to_string();
    let out = ok(
        &cli,
        &[
            "conflicts",
            "resolve",
            &id,
            "--value",
            "\"Printer: on fire\"",
        ],
    )
    .await;
    assert!(
        out.contains("resolved as value:\"Printer: on fire\""),
        "{out}"
    );
    assert!(out.contains("reconcile enqueued"), "{out}");
    next(&mut consumer).await.ack().await.expect("ack");

    assert_eq!(ok(&cli, &["dlq"]).await.trim(), "no dead letters");
    let publisher = app.broker.transport.publisher();
    publisher
        .publish(Envelope::new("dead-1", b"{}".to_vec()).with_label("connection", "a-to-b"))
        .await
        .expect("published");
    let delivery = next(&mut consumer).await;
    delivery
        .dead_letter(Failure::new("undecodable", "missing field `connection`"))
        .await
        .expect("dead-lettered");
    let table = ok(&cli, &["dlq", "list"]).await;
    assert!(
        table.contains("dead-1") && table.contains("undecodable"),
        "{table}"
    );
    assert_eq!(
        ok(&cli, &["dlq", "replay", "--all"]).await.trim(),
        "replayed 1 dead letter"
    );
    assert_eq!(next(&mut consumer).await.envelope().message_id, "dead-1");
    consumer.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_mistakes_come_back_as_errors_with_their_exit_codes() {
    let app = TestEnv::start().await;
    let (result, _) = run(&env_for(&app, "wrong-key-0123456789"), &["links"]).await;
    match result {
        Err(error @ CliError::Api { status: 401, .. }) => assert_eq!(error.exit_code(), 1),
        other => panic!("expected a 401: {other:?}"),
    }
    let cli = env_for(&app, KEY);
    let (result, _) = run(&cli, &["links", "a-to-b", "99999"]).await;
    match result {
        Err(CliError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (404, "unknown_link"))
        }
        other => panic!("expected a 404: {other:?}"),
    }
    let (result, _) = run(&cli, &["sync", "a-to-c", "left", "1"]).await;
    assert!(
        matches!(result, Err(CliError::Api { status: 400, .. })),
        "{result:?}"
    );
    let no_key = CliEnv {
        url: Some(app.address.clone()),
        key: None,
    };
    let (result, _) = run(&no_key, &["links"]).await;
    assert!(
        matches!(&result, Err(e @ CliError::Usage(_)) if e.exit_code() == 2),
        "{result:?}"
    );
    let (result, _) = run(&cli, &["dlq", "purge"]).await;
    assert!(matches!(&result, Err(CliError::Usage(_))), "{result:?}");
    let nowhere = CliEnv {
        url: Some("http://127.0.0.1:9".into()),
        key: Some(SecretString::from(KEY.to_owned())),
    };
    let (result, _) = run(&nowhere, &["links"]).await;
    assert!(
        matches!(&result, Err(e @ CliError::Request(_)) if e.exit_code() == 1),
        "{result:?}"
    );
    let help = ok(&cli, &["--help"]).await;
    assert!(help.contains("dlq replay --all"), "{help}");
    app.stop().await;
}
