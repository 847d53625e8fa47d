//! The `jira-sync` command line, exactly as `services/jira-sync/src/main.rs` runs it
//! ([`jira_sync::run`]), built together with the end-to-end tests: `e2e/faults.rs` runs
//! `jira-sync-e2e worker --config FILE` as a real process that it can SIGKILL and restart
//! (`env!("CARGO_BIN_EXE_jira-sync-e2e")` is only defined for binaries of the tests' own
//! package).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned());
    jira_sync::run(args).await
}
