//! The command line as people meet it: help, version, and mistakes answered with exit 2.

use std::process::ExitCode;

async fn run(args: &[&str]) -> (ExitCode, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = args.iter().map(|a| (*a).to_owned());
    let code = jira_sync::run_to(args, &mut out, &mut err).await;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (code, text(out), text(err))
}

#[tokio::test]
async fn help_lists_every_command_and_exits_0() {
    let (code, out, _) = run(&["--help"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    for command in [
        "demo",
        "--exit-after-scenario",
        "serve",
        "ingress",
        "worker",
        "check-config",
        "sync",
        "links",
        "conflicts",
        "dlq",
        "--config FILE",
    ] {
        assert!(out.contains(command), "{command} missing from:\n{out}");
    }
    let (code, out, _) = run(&["--version"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        out.trim(),
        format!("jira-sync {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn an_admin_command_goes_to_the_admin_client_and_its_mistakes_exit_2() {
    let (code, out, _) = run(&["links", "--help"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("conflicts resolve <id>"), "{out}");
    let (code, _, err) = run(&["dlq", "--limit"]).await;
    assert_eq!(code, ExitCode::from(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
}

#[tokio::test]
async fn an_unknown_command_or_a_missing_config_file_exits_2_with_the_reason() {
    let (code, _, err) = run(&["dmeo"]).await;
    assert_eq!(code, ExitCode::from(2));
    assert!(err.starts_with("error: unknown command dmeo\n"), "{err}");
    assert!(err.contains("usage: jira-sync <command>"), "{err}");

    let (code, _, err) = run(&["serve", "--config", "/nonexistent/jira-sync.toml"]).await;
    assert_eq!(code, ExitCode::from(2));
    assert!(err.contains("/nonexistent/jira-sync.toml"), "{err}");
}
