//! The command line of the admin commands, parsed by hand (a parser crate would cost more
//! compile time than these few flags are worth).

use jira_sync_domain::Side;
use serde_json::Value;

use super::CliError;

/// What to ask the admin API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    Help,
    Sync {
        connection: String,
        side: Side,
        issue: String,
    },
    Links {
        connection: Option<String>,
        limit: Option<String>,
    },
    Link {
        connection: String,
        issue: String,
    },
    Conflicts {
        status: Option<String>,
        connection: Option<String>,
        limit: Option<String>,
    },
    Resolve {
        id: String,
        take: Option<Side>,
        value: Option<Value>,
    },
    DeadLetters {
        limit: Option<String>,
    },
    Replay {
        /// `None`: all (`--all`).
        ids: Option<Vec<String>>,
    },
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invocation {
    pub command: Command,
    pub url: Option<String>,
    pub key: Option<String>,
    pub json: bool,
}

/// Flags that take a value.
const VALUE_FLAGS: [&str; 7] = [
    "--url",
    "--key",
    "--connection",
    "--limit",
    "--status",
    "--take",
    "--value",
];

/// Flags and positional words, split.
#[derive(Default)]
struct Words {
    positional: Vec<String>,
    values: Vec<(&'static str, String)>,
    json: bool,
    all: bool,
    help: bool,
}

impl Words {
    fn take(&mut self, flag: &str) -> Option<String> {
        let at = self.values.iter().position(|(f, _)| *f == flag)?;
        Some(self.values.remove(at).1)
    }
}

fn usage(text: impl Into<String>) -> CliError {
    CliError::Usage(text.into())
}

fn split(args: &[String]) -> Result<Words, CliError> {
    let mut words = Words::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        match flag {
            "-h" | "--help" => words.help = true,
            "--json" => words.json = true,
            "--all" => words.all = true,
            _ => {
                if let Some(known) = VALUE_FLAGS.iter().find(|f| **f == flag) {
                    let value = match inline {
                        Some(value) => value,
                        None => args
                            .next()
                            .cloned()
                            .ok_or_else(|| usage(format!("{flag} needs a value")))?,
                    };
                    if words.values.iter().any(|(f, _)| f == known) {
                        return Err(usage(format!("{flag} is given twice")));
                    }
                    words.values.push((known, value));
                } else if flag.starts_with('-') && flag.len() > 1 {
                    return Err(usage(format!("unknown option {flag}")));
                } else {
                    words.positional.push(arg.clone());
                }
            }
        }
    }
    Ok(words)
}

fn side(text: &str) -> Result<Side, CliError> {
    match text {
        "left" => Ok(Side::Left),
        "right" => Ok(Side::Right),
        other => Err(usage(format!("side must be left or right, not {other}"))),
    }
}

/// Parses the arguments, starting with the command word (`sync`, `links`, `conflicts`, `dlq`).
pub(crate) fn parse(args: &[String]) -> Result<Invocation, CliError> {
    let mut words = split(args)?;
    let url = words.take("--url");
    let key = words.take("--key");
    let json = words.json;
    if words.help {
        return Ok(Invocation {
            command: Command::Help,
            url,
            key,
            json,
        });
    }
    let owned = std::mem::take(&mut words.positional);
    let positional: Vec<&str> = owned.iter().map(String::as_str).collect();
    let command = match positional.as_slice() {
        [] => return Err(usage("a command is needed")),
        ["help"] => Command::Help,
        ["sync", connection, side_word, issue] => Command::Sync {
            connection: (*connection).to_owned(),
            side: side(side_word)?,
            issue: (*issue).to_owned(),
        },
        ["sync", ..] => return Err(usage("usage: sync <connection> <left|right> <issue>")),
        ["links"] => Command::Links {
            connection: words.take("--connection"),
            limit: words.take("--limit"),
        },
        ["links", connection, issue] => Command::Link {
            connection: (*connection).to_owned(),
            issue: (*issue).to_owned(),
        },
        ["links", ..] => return Err(usage("usage: links [<connection> <issue>]")),
        ["conflicts"] => Command::Conflicts {
            status: words.take("--status"),
            connection: words.take("--connection"),
            limit: words.take("--limit"),
        },
        ["conflicts", "resolve", id] => resolve(&mut words, id)?,
        ["conflicts", ..] => {
            return Err(usage(
                "usage: conflicts [--status S] | conflicts resolve <id> --take SIDE|--value JSON",
            ));
        }
        ["dlq"] | ["dlq", "list"] => Command::DeadLetters {
            limit: words.take("--limit"),
        },
        ["dlq", "replay", ids @ ..] => match (words.all, ids.is_empty()) {
            (true, true) => Command::Replay { ids: None },
            (false, false) => Command::Replay {
                ids: Some(ids.iter().map(|id| (*id).to_owned()).collect()),
            },
            (true, false) => return Err(usage("give --all or message ids, not both")),
            (false, true) => return Err(usage("give message ids to replay, or --all")),
        },
        ["dlq", ..] => return Err(usage("usage: dlq [list] | dlq replay (--all | <id>...)")),
        [other, ..] => return Err(usage(format!("unknown command {other}"))),
    };
    if let Some((flag, _)) = words.values.first() {
        return Err(usage(format!("{flag} does not apply to this command")));
    }
    if words.all && !matches!(command, Command::Replay { .. }) {
        return Err(usage("--all applies to dlq replay only"));
    }
    Ok(Invocation {
        command,
        url,
        key,
        json,
    })
}

fn resolve(words: &mut Words, id: &str) -> Result<Command, CliError> {
    let take = words.take("--take").map(|t| side(&t)).transpose()?;
    let value = words
        .take("--value")
        .map(|v| {
            serde_json::from_str::<Value>(&v).map_err(|e| {
                usage(format!(
                    "--value must be JSON (quote strings: '\"text\"'): {e}"
                ))
            })
        })
        .transpose()?;
    if take.is_some() == value.is_some() {
        return Err(usage("give either --take left|right or --value JSON"));
    }
    Ok(Command::Resolve {
        id: id.to_owned(),
        take,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Invocation, CliError> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        parse(&args)
    }

    fn command(line: &str) -> Command {
        match parsed(line) {
            Ok(invocation) => invocation.command,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    fn refused(line: &str) -> String {
        match parsed(line) {
            Err(CliError::Usage(why)) => why,
            other => panic!("{line} was not refused: {other:?}"),
        }
    }

    #[test]
    fn each_command_reads_its_words_and_flags() {
        assert_eq!(
            command("sync a-to-b left ACME-1 --json"),
            Command::Sync {
                connection: "a-to-b".into(),
                side: Side::Left,
                issue: "ACME-1".into()
            }
        );
        assert_eq!(
            command("links --connection=a-to-b --limit 5"),
            Command::Links {
                connection: Some("a-to-b".into()),
                limit: Some("5".into())
            }
        );
        assert_eq!(
            command("links a-to-b 10001"),
            Command::Link {
                connection: "a-to-b".into(),
                issue: "10001".into()
            }
        );
        assert_eq!(
            command("conflicts resolve 0190 --value [\"x\"]"),
            Command::Resolve {
                id: "0190".into(),
                take: None,
                value: Some(serde_json::json!(["x"]))
            }
        );
        assert_eq!(command("dlq"), Command::DeadLetters { limit: None });
        assert_eq!(command("dlq replay --all"), Command::Replay { ids: None });
        assert_eq!(
            command("dlq replay m-1 m-2"),
            Command::Replay {
                ids: Some(vec!["m-1".into(), "m-2".into()])
            }
        );
        let with_globals = parsed("--url http://h:1 dlq --key k --json").ok();
        assert_eq!(
            with_globals.map(|i| (i.url, i.key, i.json)),
            Some((Some("http://h:1".into()), Some("k".into()), true))
        );
        assert_eq!(command("links --help"), Command::Help);
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        assert_eq!(refused(""), "a command is needed");
        assert_eq!(refused("purge"), "unknown command purge");
        assert_eq!(
            refused("sync a-to-b up ACME-1"),
            "side must be left or right, not up"
        );
        assert_eq!(refused("links --colour red"), "unknown option --colour");
        assert_eq!(refused("links --limit"), "--limit needs a value");
        assert_eq!(
            refused("dlq replay"),
            "give message ids to replay, or --all"
        );
        assert_eq!(
            refused("dlq --status open"),
            "--status does not apply to this command"
        );
        assert_eq!(refused("links --all"), "--all applies to dlq replay only");
        assert_eq!(
            refused("conflicts resolve x --take left --value 1"),
            "give either --take left|right or --value JSON"
        );
        assert!(refused("conflicts resolve x --value summary").starts_with("--value must be JSON"));
        assert_eq!(refused("dlq --limit 1 --limit 2"), "--limit is given twice");
    }
}
