//! The admin commands of the command line (`jira-sync sync|links|conflicts|dlq`): each calls
//! the admin HTTP API and prints a table, or the API's JSON with `--json`.
//!
//! The binary that registers them passes the arguments from the command word on to
//! [`run_cli`] (or [`run_cli_with`] to choose the output and the environment) and exits with
//! [`CliError::exit_code`] on error. The URL and key come from `--url`/`--key` or the
//! environment ([`URL_ENV`], [`KEY_ENV`]); the environment is the better place for the key (a
//! flag shows in the process list).

mod args;
mod client;
mod print;

use std::io::Write;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use self::args::{Command, Invocation};
use self::client::ApiClient;

/// Environment variable with the admin API's base URL.
pub const URL_ENV: &str = "JIRA_SYNC_ADMIN_URL";
/// Environment variable with the API key.
pub const KEY_ENV: &str = "JIRA_SYNC_ADMIN_KEY";
/// The URL used when none is given (the default `admin.listen`).
pub const DEFAULT_URL: &str = "http://127.0.0.1:8081";

/// The help text of the admin commands.
pub const USAGE: &str = "\
admin commands: talk to a running jira-sync admin API.

usage:
  sync <connection> <left|right> <issue>      enqueue a manual sync of an issue (id or key)
  links [--connection C] [--limit N]          recent links: last sync, lag, last error
  links <connection> <issue>                  one link (issue id on either side, or key):
                                              state, base, recent audit, conflicts
  conflicts [--status open|resolved|all] [--connection C] [--limit N]
                                              held conflicts (open by default)
  conflicts resolve <id> --take left|right    settle a conflict with one side's value,
  conflicts resolve <id> --value JSON         or with a value of your own (JSON: '\"text\"')
  dlq [list] [--limit N]                      dead letters, read without consuming them
  dlq replay --all | dlq replay <id>...       move dead letters back to the work queue

options:
  --url URL     the admin API (default: $JIRA_SYNC_ADMIN_URL, else http://127.0.0.1:8081)
  --key KEY     the API key (default: $JIRA_SYNC_ADMIN_KEY; prefer the variable)
  --json        print the API's JSON instead of a table
  -h, --help    print this text

exit status: 0 success, 1 the API refused or failed the request, 2 bad usage.";

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line cannot be used; the text says why.
    #[error("{0}")]
    Usage(String),
    /// The admin API could not be reached.
    #[error("cannot reach the admin API")]
    Request(#[source] reqwest::Error),
    /// The admin API refused or failed the request.
    #[error("the admin API answered {status} {code}: {detail}")]
    Api {
        status: u16,
        code: String,
        detail: String,
    },
    /// The answer was not what the command expected.
    #[error("unexpected answer from the admin API: {0}")]
    Decode(String),
    /// The output could not be written.
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process exit status: 2 for bad usage, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Where the URL and the key come from when no flag gives them.
#[derive(Debug, Clone, Default)]
pub struct CliEnv {
    pub url: Option<String>,
    pub key: Option<SecretString>,
}

impl CliEnv {
    /// [`URL_ENV`] and [`KEY_ENV`] of this process.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self {
            url: var(URL_ENV),
            key: var(KEY_ENV).map(SecretString::from),
        }
    }
}

/// Runs one admin command (`args` starts with the command word) against the API named by the
/// flags or the environment, printing to stdout. `Ok(0)` on success.
pub async fn run_cli(args: &[String]) -> Result<i32, CliError> {
    let mut out = std::io::stdout();
    run_cli_with(args, &CliEnv::from_env(), &mut out).await
}

/// Like [`run_cli`] with the environment and the output given (tests, embedding binaries).
pub async fn run_cli_with(
    args: &[String],
    env: &CliEnv,
    out: &mut (dyn Write + Send),
) -> Result<i32, CliError> {
    let Invocation {
        command,
        url,
        key,
        json,
    } = args::parse(args)?;
    if command == Command::Help {
        writeln!(out, "{USAGE}")?;
        return Ok(0);
    }
    let key = key
        .map(SecretString::from)
        .or_else(|| env.key.clone())
        .ok_or_else(|| {
            CliError::Usage(format!("an API key is needed: set {KEY_ENV} or give --key"))
        })?;
    let url = url
        .or_else(|| env.url.clone())
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let client = ApiClient::new(&url, key)?;
    let answer = call(&client, &command).await?;
    if json {
        let text =
            serde_json::to_string_pretty(&answer).map_err(|e| CliError::Decode(e.to_string()))?;
        writeln!(out, "{text}")?;
    } else {
        print_table(out, &command, answer)?;
    }
    Ok(0)
}

/// The API call of `command`.
async fn call(client: &ApiClient, command: &Command) -> Result<Value, CliError> {
    match command {
        Command::Help => Ok(Value::Null),
        Command::Sync {
            connection,
            side,
            issue,
        } => {
            let body = json!({ "connection": connection, "side": side, "issue": issue });
            client.post(&["sync"], &body).await
        }
        Command::Links { connection, limit } => {
            client
                .get(
                    &["links"],
                    &query(&[("connection", connection), ("limit", limit)]),
                )
                .await
        }
        Command::Link { connection, issue } => client.get(&["links", connection, issue], &[]).await,
        Command::Conflicts {
            status,
            connection,
            limit,
        } => {
            let pairs = query(&[
                ("status", status),
                ("connection", connection),
                ("limit", limit),
            ]);
            client.get(&["conflicts"], &pairs).await
        }
        Command::Resolve { id, take, value } => {
            let body = match (take, value) {
                (Some(side), _) => json!({ "take": side }),
                (None, value) => json!({ "value": value }),
            };
            client.post(&["conflicts", id, "resolve"], &body).await
        }
        Command::DeadLetters { limit } => {
            client
                .get(&["dead-letters"], &query(&[("limit", limit)]))
                .await
        }
        Command::Replay { ids } => {
            let body = match ids {
                Some(ids) => json!({ "ids": ids }),
                None => json!({}),
            };
            client.post(&["dead-letters", "replay"], &body).await
        }
    }
}

/// The query pairs whose value is given.
fn query(pairs: &[(&'static str, &Option<String>)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| (*name, v.clone())))
        .collect()
}

fn decode<T: DeserializeOwned>(answer: Value) -> Result<T, CliError> {
    serde_json::from_value(answer).map_err(|e| CliError::Decode(e.to_string()))
}

fn print_table(
    out: &mut (dyn Write + Send),
    command: &Command,
    answer: Value,
) -> Result<(), CliError> {
    match command {
        Command::Help => Ok(()),
        Command::Sync { .. } => Ok(print::sync(out, &decode(answer)?)?),
        Command::Links { .. } => Ok(print::links(out, &decode(answer)?)?),
        Command::Link { .. } => Ok(print::link(out, &decode(answer)?)?),
        Command::Conflicts { .. } => Ok(print::conflicts(out, &decode(answer)?)?),
        Command::Resolve { .. } => Ok(print::resolved(out, &decode(answer)?)?),
        Command::DeadLetters { .. } => Ok(print::dead_letters(out, &decode(answer)?)?),
        Command::Replay { .. } => Ok(print::replayed(out, &decode(answer)?)?),
    }
}
