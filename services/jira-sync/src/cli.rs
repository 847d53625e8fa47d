//! The command line, parsed by hand (a parser crate would cost more compile time than these
//! few flags are worth): a subcommand and an optional `--config FILE`. The admin commands
//! (`sync`, `links`, `conflicts`, `dlq`) take their words as they are: the admin crate's
//! client parses them.

use std::path::PathBuf;

/// The help text.
pub const USAGE: &str = "\
jira-sync: keeps Jira in sync with other systems, in one process or many.

usage: jira-sync <command> [--config FILE]
       jira-sync demo [--data-dir DIR] [--exit-after-scenario]
       jira-sync sync|links|conflicts|dlq [ARGS] [--url URL] [--key KEY] [--json]

commands:
  serve          run the webhook ingress, the sync worker and the poller in one process, and
                 the admin API (on admin.listen) when admin.api_keys has a key. Unless the
                 config's [runtime] says otherwise, messages and sync state live in SQLite
                 files under runtime.data_dir (./.jira-sync-data): no RabbitMQ, no PostgreSQL.
  ingress        run the webhook ingress only (like jira-sync-ingress)
  worker         run the sync worker only (like jira-sync-worker)
  demo           a scripted tour on two simulated Jira sites started in-process: creates,
                 edits, a two-hop status change, comments, a held conflict, a burst of 429s, a
                 dropped webhook repaired by the poller, a poisoned message in the dead-letter
                 queue; a live view, then a summary checked against the sites. Embedded queue
                 and store in a temporary directory (or --data-dir DIR); runs until Ctrl-C, or
                 exits after the summary with --exit-after-scenario (1 when a check fails).
  check-config   load the config and check it against the live endpoints: credentials,
                 projects and issue types, synced and custom fields, priority and status maps.
                 Prints each problem with its config path; exits 1 when there is one.
  sync           admin: enqueue a manual sync of an issue (sync <connection> <side> <issue>)
  links          admin: recent links, or one link with its base and audit
  conflicts      admin: held conflicts; conflicts resolve <id> --take left|right
  dlq            admin: dead letters; dlq replay --all | <id>...
                 The admin commands call a running admin API: --url (or JIRA_SYNC_ADMIN_URL,
                 default http://127.0.0.1:8081) with --key (or, better, JIRA_SYNC_ADMIN_KEY).
                 `jira-sync links --help` prints their options.
  help           print this text

options:
  -c, --config FILE   the TOML config file (default: the file named by JIRA_SYNC_CONFIG;
                      without either, the built-in defaults). Environment variables
                      JIRA_SYNC__<SECTION>__<KEY> override both.
  -h, --help          print this text
  -V, --version       print the version

exit status: 0 success, 1 check-config found problems or a service failed, 2 bad usage or an
invalid configuration.";

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Ingress and worker in one process.
    Serve,
    /// The ingress alone.
    Ingress,
    /// The worker alone.
    Worker,
    /// Check the configuration against the live endpoints.
    CheckConfig,
    /// The scripted demo on simulated sites (options in [`Invocation::demo`]).
    Demo,
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
    /// An admin command (`sync`, `links`, `conflicts`, `dlq`) against a running admin API:
    /// its words are in [`Invocation::admin_args`].
    Admin,
}

/// The words of the admin commands, handed to `jira_sync_admin::cli`.
pub const ADMIN_COMMANDS: [&str; 4] = ["sync", "links", "conflicts", "dlq"];

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    /// `--config FILE`, when given.
    pub config: Option<PathBuf>,
    /// For [`Command::Admin`]: the command word and every word after it, untouched.
    pub admin_args: Vec<String>,
    /// For [`Command::Demo`]: its options.
    pub demo: DemoFlags,
}

/// The options of `demo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoFlags {
    /// `--data-dir DIR`: keep the embedded queue and store there (default: a temporary
    /// directory, removed at the end).
    pub data_dir: Option<PathBuf>,
    /// `--exit-after-scenario`: exit after the summary instead of waiting for Ctrl-C.
    pub exit_after_scenario: bool,
}

/// The command line cannot be used; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Invocation, UsageError> {
    let mut command = None;
    let mut config = None;
    let mut demo = DemoFlags::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if command.is_none() && ADMIN_COMMANDS.contains(&arg.as_str()) {
            let mut admin_args = vec![arg];
            admin_args.extend(args);
            return Ok(Invocation {
                command: Command::Admin,
                config,
                admin_args,
                demo,
            });
        }
        let flag_value = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => Some((flag.to_owned(), value)),
            _ => None,
        };
        match (arg.as_str(), flag_value) {
            ("-h" | "--help", _) => return Ok(invocation(Command::Help, None)),
            ("-V" | "--version", _) => return Ok(invocation(Command::Version, None)),
            (_, Some((flag, value))) if flag == "--config" => {
                config = Some(config_path(config, value)?);
            }
            (_, Some((flag, value))) if flag == "--data-dir" => {
                demo.data_dir = Some(data_dir(demo.data_dir, value)?);
            }
            ("--data-dir", _) => {
                let value = args
                    .next()
                    .ok_or_else(|| UsageError("--data-dir needs a directory".to_owned()))?;
                demo.data_dir = Some(data_dir(demo.data_dir, &value)?);
            }
            ("--exit-after-scenario", _) => demo.exit_after_scenario = true,
            ("-c" | "--config", _) => {
                let value = args
                    .next()
                    .ok_or_else(|| UsageError(format!("{arg} needs a file name")))?;
                config = Some(config_path(config, &value)?);
            }
            (flag, _) if flag.starts_with('-') => {
                return Err(UsageError(format!("unknown option {flag}")));
            }
            (word, _) => {
                if let Some(first) = command {
                    return Err(UsageError(format!(
                        "unexpected argument {word} after the command {}",
                        name(first)
                    )));
                }
                command = Some(match word {
                    "serve" => Command::Serve,
                    "ingress" => Command::Ingress,
                    "worker" => Command::Worker,
                    "check-config" => Command::CheckConfig,
                    "demo" => Command::Demo,
                    "help" => Command::Help,
                    other => return Err(UsageError(format!("unknown command {other}"))),
                });
            }
        }
    }
    let command = command.ok_or_else(|| UsageError("a command is needed".to_owned()))?;
    if command != Command::Demo && demo != DemoFlags::default() {
        return Err(UsageError(format!(
            "--data-dir and --exit-after-scenario belong to demo, not {}",
            name(command)
        )));
    }
    if command == Command::Demo && config.is_some() {
        return Err(UsageError(
            "demo writes its own config (in its data dir): --config is not used".to_owned(),
        ));
    }
    Ok(Invocation {
        demo,
        ..invocation(command, config)
    })
}

fn data_dir(previous: Option<PathBuf>, value: &str) -> Result<PathBuf, UsageError> {
    if previous.is_some() {
        return Err(UsageError("--data-dir is given twice".to_owned()));
    }
    if value.is_empty() {
        return Err(UsageError("--data-dir needs a directory".to_owned()));
    }
    Ok(PathBuf::from(value))
}

fn invocation(command: Command, config: Option<PathBuf>) -> Invocation {
    Invocation {
        command,
        config,
        admin_args: Vec::new(),
        demo: DemoFlags::default(),
    }
}

fn config_path(previous: Option<PathBuf>, value: &str) -> Result<PathBuf, UsageError> {
    if previous.is_some() {
        return Err(UsageError("--config is given twice".to_owned()));
    }
    if value.is_empty() {
        return Err(UsageError("--config needs a file name".to_owned()));
    }
    Ok(PathBuf::from(value))
}

/// The command's name on the command line.
pub fn name(command: Command) -> &'static str {
    match command {
        Command::Serve => "serve",
        Command::Ingress => "ingress",
        Command::Worker => "worker",
        Command::CheckConfig => "check-config",
        Command::Demo => "demo",
        Command::Help => "help",
        Command::Version => "--version",
        Command::Admin => "admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Invocation, UsageError> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn a_command_takes_an_optional_config_in_either_spelling() {
        assert_eq!(parsed("serve"), Ok(invocation(Command::Serve, None)));
        for line in [
            "check-config --config a.toml",
            "check-config -c a.toml",
            "--config=a.toml check-config",
        ] {
            assert_eq!(
                parsed(line),
                Ok(invocation(Command::CheckConfig, Some("a.toml".into()))),
                "{line}"
            );
        }
        assert_eq!(parsed("worker").map(|i| i.command), Ok(Command::Worker));
        assert_eq!(parsed("ingress").map(|i| i.command), Ok(Command::Ingress));
    }

    #[test]
    fn help_and_version_win_over_everything_else() {
        assert_eq!(parsed("serve --help").map(|i| i.command), Ok(Command::Help));
        assert_eq!(parsed("help").map(|i| i.command), Ok(Command::Help));
        assert_eq!(parsed("-V").map(|i| i.command), Ok(Command::Version));
    }

    #[test]
    fn admin_commands_keep_their_words_for_the_admin_client() {
        let invocation = parsed("links --json --url http://x:1 --help");
        let Ok(invocation) = invocation else {
            panic!("{invocation:?}");
        };
        assert_eq!(invocation.command, Command::Admin);
        assert_eq!(
            invocation.admin_args,
            ["links", "--json", "--url", "http://x:1", "--help"]
        );
        for word in ADMIN_COMMANDS {
            assert_eq!(
                parsed(word).map(|i| i.command),
                Ok(Command::Admin),
                "{word}"
            );
        }
        assert_eq!(
            parsed("serve links").map_err(|e| e.0),
            Err("unexpected argument links after the command serve".to_owned())
        );
    }

    #[test]
    fn demo_takes_a_data_dir_and_may_exit_after_its_scenario() {
        let plain = parsed("demo");
        assert_eq!(plain, Ok(invocation(Command::Demo, None)));
        let Ok(full) = parsed("demo --data-dir /tmp/d --exit-after-scenario") else {
            panic!("demo with both options was refused");
        };
        assert_eq!(full.command, Command::Demo);
        assert_eq!(
            full.demo,
            DemoFlags {
                data_dir: Some("/tmp/d".into()),
                exit_after_scenario: true,
            }
        );
        let Ok(joined) = parsed("demo --data-dir=/tmp/e") else {
            panic!("--data-dir=DIR was refused");
        };
        assert_eq!(joined.demo.data_dir, Some("/tmp/e".into()));
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        let refused = |line: &str| match parsed(line) {
            Err(UsageError(why)) => why,
            Ok(i) => panic!("{line} was accepted as {i:?}"),
        };
        assert_eq!(refused(""), "a command is needed");
        assert_eq!(refused("dmeo"), "unknown command dmeo");
        assert_eq!(
            refused("serve --exit-after-scenario"),
            "--data-dir and --exit-after-scenario belong to demo, not serve"
        );
        assert_eq!(
            refused("demo -c a.toml"),
            "demo writes its own config (in its data dir): --config is not used"
        );
        assert_eq!(refused("serve --colour"), "unknown option --colour");
        assert_eq!(refused("serve --config"), "--config needs a file name");
        assert_eq!(refused("serve -c a -c b"), "--config is given twice");
        assert_eq!(
            refused("serve worker"),
            "unexpected argument worker after the command serve"
        );
    }
}
