//! `check-config` against two live simulated sites: every planted mistake is reported with
//! its config path and the exit status is non-zero; a correct config exits 0 with an OK summary.

mod support;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use support::Scratch;

/// Runs `jira-sync check-config --config FILE` in-process; returns (exit, stdout, stderr).
async fn check(file: &Path) -> (ExitCode, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = ["check-config", "--config", &file.to_string_lossy()].map(str::to_owned);
    let code = jira_sync::run_to(args, &mut out, &mut err).await;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (code, text(out), text(err))
}

fn write_config(scratch: &Scratch, text: &str) -> std::path::PathBuf {
    let file = scratch.path().join("jira-sync.toml");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    file
}

/// The problem lines of a report (`path: message`), without the "(it has ...)" lists that
/// name the site's vocabulary.
fn problems(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("endpoints.") || l.starts_with("connections."))
        .map(|l| l.split(" (it has ").next().unwrap_or(l))
        .collect()
}

#[tokio::test]
async fn a_correct_config_passes_every_live_check_and_exits_0() {
    let sim = support::two_sites(Duration::from_millis(100), 0).await;
    let scratch = Scratch::new("check-ok");
    let extra = r#"
status_map = [{ left = "In Progress", right = "In Progress" }]
custom_fields = [{ left = "customfield_10010", right = "customfield_10010" }]
"#;
    let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "").replace(
        "priority_map = [{ left = \"High\", right = \"Highest\" }]\n",
        &format!("priority_map = [{{ left = \"High\", right = \"Highest\" }}]\n{extra}"),
    );
    let (code, out, err) = check(&write_config(&scratch, &text)).await;
    assert_eq!(code, ExitCode::SUCCESS, "stdout:\n{out}\nstderr:\n{err}");
    assert!(problems(&out).is_empty(), "{out}");
    assert!(
        out.contains("endpoints.jira-a: authenticated as jira-sync bot"),
        "{out}"
    );
    assert!(
        out.contains("OK: 2 endpoints and 1 connection checked against the live sites"),
        "{out}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn three_planted_mistakes_are_each_reported_with_their_path_and_the_exit_is_non_zero() {
    let sim = support::two_sites(Duration::from_millis(100), 0).await;
    let scratch = Scratch::new("check-bad");
    let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "")
        // 1. A wrong token on site A.
        .replace("api_token = \"a-bot-token\"", "api_token = \"not-the-token\"")
        // 2. A priority that site B does not have.
        .replace("right = \"Highest\" }]", "right = \"P9\" }]\ncustom_fields = [{ left = \"customfield_10010\", right = \"customfield_99999\" }]");
    // 3. A custom field that site B does not have (planted above, with the priority map).
    let (code, out, err) = check(&write_config(&scratch, &text)).await;
    assert_ne!(code, ExitCode::SUCCESS, "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(
        problems(&out),
        [
            "endpoints.jira-a.api_token: authentication failed (401): the site refused this e-mail and API token",
            "connections.a-to-b.custom_fields[0].right: custom field \"customfield_99999\" does not exist on jira-b",
            "connections.a-to-b.priority_map[0].right: priority \"P9\" does not exist on jira-b",
        ],
        "{out}"
    );
    assert!(
        out.contains("(it has High, Highest, Low, Lowest, Medium)"),
        "{out}"
    );
    assert!(out.contains("FAILED: 3 problems"), "{out}");
    assert!(
        out.contains("connections.a-to-b.left: not checked (endpoint jira-a could not be used)"),
        "{out}"
    );
    assert!(
        !out.contains("not-the-token"),
        "the token is never printed: {out}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_missing_project_issue_type_and_status_are_reported_on_their_side() {
    let sim = support::two_sites(Duration::from_millis(100), 0).await;
    let scratch = Scratch::new("check-project");
    let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "")
        .replace(
            "left = { endpoint = \"jira-a\", project = \"A\" }",
            "left = { endpoint = \"jira-a\", project = \"NOPE\" }",
        )
        .replace(
            "right = { endpoint = \"jira-b\", project = \"B\" }",
            "right = { endpoint = \"jira-b\", project = \"B\", issue_type = \"Saga\" }\nstatus_map = [{ left = \"Done\", right = \"Closed\" }]",
        );
    let (code, out, _) = check(&write_config(&scratch, &text)).await;
    assert_eq!(code, ExitCode::from(1));
    assert_eq!(
        problems(&out),
        [
            "connections.a-to-b.left.project: project \"NOPE\" does not exist on jira-a (or the account cannot browse it)",
            "connections.a-to-b.right.issue_type: issue type \"Saga\" does not exist in project B on jira-b",
            "connections.a-to-b.status_map[0].right: status \"Closed\" does not exist on jira-b",
        ],
        "{out}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_binary_exits_non_zero_on_problems_and_2_on_an_invalid_config() {
    let sim = support::two_sites(Duration::from_millis(100), 0).await;
    let scratch = Scratch::new("check-binary");
    let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "")
        .replace("api_token = \"b-bot-token\"", "api_token = \"wrong\"");
    let file = write_config(&scratch, &text);
    let binary = env!("CARGO_BIN_EXE_jira-sync");
    let output = tokio::process::Command::new(binary)
        .args(["check-config", "--config"])
        .arg(&file)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {binary}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("endpoints.jira-b.api_token: authentication failed (401)"),
        "{stdout}"
    );

    let invalid = write_config(
        &scratch,
        "[connections.x]\nleft = { endpoint = \"nowhere\", project = \"A\" }\n\
         right = { endpoint = \"elsewhere\", project = \"B\" }\n",
    );
    let output = tokio::process::Command::new(binary)
        .args(["check-config", "--config"])
        .arg(&invalid)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {binary}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid configuration at `connections.x.left.endpoint`"),
        "{stderr}"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_data_center_endpoint_is_checked_live_with_its_user_name_and_password() {
    let mut b = jira_sync_jira_sim::SiteConfig::named("b");
    b.data_center = true;
    let config = jira_sync_jira_sim::SimConfig {
        sites: vec![jira_sync_jira_sim::SiteConfig::named("a"), b],
        ..jira_sync_jira_sim::SimConfig::default()
    };
    let sim = jira_sync_jira_sim::Simulator::start(config)
        .await
        .unwrap_or_else(|e| panic!("start the Jira simulator: {e}"));
    let scratch = Scratch::new("check-dc");
    let cloud_b = "kind = \"jira_cloud\"\nbase_url = \"{b}\"\nemail = \"bot@b.example.com\"\n\
                   api_token = \"b-bot-token\"";
    let dc_b = "kind = \"jira_data_center\"\nbase_url = \"{b}\"\nusername = \"b-bot-0001\"\n\
                password = \"{password}\"";
    let base_url = support::site(&sim, "b").base_url();
    let config = |password: &str| {
        let from = cloud_b.replace("{b}", &base_url);
        let to = dc_b
            .replace("{b}", &base_url)
            .replace("{password}", password);
        let text = support::embedded_config(&sim, 0, &scratch.path().join("data"), "");
        assert!(
            text.contains(&from),
            "the support config names jira-b as expected"
        );
        write_config(&scratch, &text.replace(&from, &to))
    };

    let (code, out, err) = check(&config("b-bot-token")).await;
    assert_eq!(code, ExitCode::SUCCESS, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("endpoints.jira-b: authenticated as jira-sync bot"),
        "{out}"
    );
    let (code, out, _) = check(&config("wrong")).await;
    assert_ne!(code, ExitCode::SUCCESS, "{out}");
    assert_eq!(
        problems(&out),
        [
            "endpoints.jira-b.password: authentication failed (401): the site refused this user name and password"
        ]
    );
    sim.stop().await;
}
