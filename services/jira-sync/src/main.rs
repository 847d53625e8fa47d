//! The `jira-sync` binary: everything lives in the library ([`jira_sync::run`]).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned());
    jira_sync::run(args).await
}
